"""Gradescope's default container, imitated: a cgroup v1 of 768 MB and half a CPU.

`limited(memory_mb, cpus)` makes fresh memory and cpu cgroups below this process's own, and
yields a command prefix that moves a command into them before it starts. Everything started
inside (the grader, its workers) counts against the limits, as in the container. Needs root
and a writable cgroup v1 hierarchy (`available()` says why not). Used by the tests and by
`make bench`.
"""

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path


def _own(controller):
    """This process's cgroup folder for a v1 controller, or None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            folder = Path(f"/sys/fs/cgroup/{controller}{path}")
            return folder if folder.is_dir() else Path(f"/sys/fs/cgroup/{controller}")
    return None


def available():
    """Why the container cannot be imitated here, or '' if it can."""
    if os.getuid() != 0:
        return "needs root"
    for controller in ("memory", "cpu"):
        folder = _own(controller)
        if folder is None or not (folder / "cgroup.procs").exists() or not os.access(folder, os.W_OK):
            return f"no writable cgroup v1 {controller} hierarchy"
    return ""


def oom_kills(folder):
    """How many processes the kernel's OOM killer has killed in this memory cgroup."""
    for line in (folder / "memory.oom_control").read_text().splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


@contextlib.contextmanager
def limited(memory_mb=768, cpus=0.5):
    """Yields (prefix, memory cgroup folder); the cgroups are emptied and removed afterwards."""
    name = f"bpk-test-{uuid.uuid4().hex[:8]}"
    memory, cpu = _own("memory") / name, _own("cpu") / name
    memory.mkdir()
    cpu.mkdir()
    try:
        (memory / "memory.limit_in_bytes").write_text(str(memory_mb << 20))
        swap = memory / "memory.memsw.limit_in_bytes"
        if swap.exists():  # no swap either, as in the container
            swap.write_text(str(memory_mb << 20))
        (cpu / "cpu.cfs_period_us").write_text("100000")
        (cpu / "cpu.cfs_quota_us").write_text(str(int(100000 * cpus)))
        join = f'echo $$ > {memory}/cgroup.procs && echo $$ > {cpu}/cgroup.procs && exec "$@"'
        yield ["sh", "-c", join, "sh"], memory
    finally:
        for folder in (memory, cpu):
            for _ in range(50):
                pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.1)
            with contextlib.suppress(OSError):
                folder.rmdir()
