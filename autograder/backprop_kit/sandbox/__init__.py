"""The grading sandbox: student code runs in a jailed worker process that a Session drives.

The grader's side is `Session` (see session.py); the rest of the kit needs only what is
named here. The worker's side (worker.py and the modules it imports) is copied into each
sandbox and runs there alone, without this package.
"""

from .errors import BudgetExhausted, CallTimeout, SetupError, Stuck, StudentError, WorkerLost
from .folders import SANDBOX_PREFIX, become_subreaper, owned_temp_dir, remove_tree, sweep_stale_dirs
from .guard import die_with_parent
from .limits import Limits, memory_limit_mb, sandbox_fs_mb
from .session import Session
from .standins import substituted

__all__ = [
    "SANDBOX_PREFIX",
    "BudgetExhausted",
    "CallTimeout",
    "Limits",
    "Session",
    "SetupError",
    "Stuck",
    "StudentError",
    "WorkerLost",
    "become_subreaper",
    "die_with_parent",
    "memory_limit_mb",
    "owned_temp_dir",
    "remove_tree",
    "sandbox_fs_mb",
    "substituted",
    "sweep_stale_dirs",
]
