"""Safeguards the worker sets before student code runs: resource limits, the audit hook, refused packages.

The worker imports the copy of this module in its sandbox's runtime folder (`_bpk_guard.py`);
the grader uses `die_with_parent` from the kit. This module imports nothing from the kit.
"""

import os
import sys


def apply_limits(limits):
    """Resource limits, set before any student code runs (soft = hard: no raising them)."""
    import resource
    import signal

    def cap(which, value):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_AS, limits["memory_mb"] << 20)
    cap(resource.RLIMIT_FSIZE, limits["file_size_mb"] << 20)
    cap(resource.RLIMIT_CPU, limits["cpu_s"])
    cap(resource.RLIMIT_CORE, 0)
    if limits.get("limit_processes"):
        # counts every process and thread of the user: only meaningful for a dedicated user
        cap(resource.RLIMIT_NPROC, limits["max_processes"])
    # an oversized write fails with an OSError instead of killing the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # see _interruptible
    # if the machine runs out of memory anyway, the kernel's OOM killer takes this process, not the grader
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass
    die_with_parent(signal.SIGKILL)


def die_with_parent(sig):
    """Linux: let the kernel send `sig` to this process when the process that started it dies."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class Audit:
    """What student code did that an instructor should review; installed before it runs.

    An audit hook (which Python offers no way to remove) notes opens, listings and deletions
    of paths outside the sandbox and the Python installation, and imports of the grading
    package; `report` also lists grading and numpy functions that were replaced. Student code
    runs in this process, so a determined student could hide from this: it is a record for
    review, not a defence (the defence is that nothing hidden is reachable, and that every
    comparison happens in the grader).
    """

    EVENTS = {"open", "os.listdir", "os.scandir", "os.remove", "os.rmdir", "os.rename", "shutil.rmtree", "os.chmod", "os.truncate"}
    HIDDEN = ("reference", "hidden_checks", "backprop_kit", "/autograder", "solutions")
    MODULE_FILES = (".py", ".pth", ".so", ".pyc")
    FLAGGED_IMPORTS = ("backprop_kit", "reference", "hidden_checks", "solutions", "sklearn", "torch", "tensorflow", "jax", "autograd")
    WATCHED = {
        "numpy": ("allclose", "isclose", "array_equal", "array_equiv"),
        "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_array_almost_equal", "assert_almost_equal", "assert_equal"),
        "numpy.linalg": ("norm",),
        "otter": ("Notebook",),
        "backprop_lab.grader_checks": ("check",), "backprop_lab.checking": ("run_cases",), "backprop_lab.callers": ("LocalCaller",), "backprop_lab.expectations": ("expect_array", "rel_error"),
    }

    def __init__(self, sandbox, allowed, python_dirs=()):
        import importlib

        self.sandbox = sandbox
        self.allowed = tuple(allowed)
        self.python_dirs = tuple(python_dirs) or ("\0",)
        self.events = []
        self.originals = {}
        for module, names in self.WATCHED.items():
            try:
                mod = importlib.import_module(module)
            except Exception:  # noqa: BLE001
                continue
            self.originals.update({(module, name): getattr(mod, name, None) for name in names})
        sys.addaudithook(self.hook)

    def hook(self, event, args):
        if len(self.events) >= 40:
            return
        if event == "import":
            if args and isinstance(args[0], str) and args[0].split(".")[0] in self.FLAGGED_IMPORTS:
                self.events.append(f"import {args[0]}")
            return
        if event not in self.EVENTS or not args or not isinstance(args[0], (str, bytes)):
            return
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(self.python_dirs) and not (event == "open" and "w" in str(args[1:2])):
            return  # the import system reading installed packages (their metadata included)
        if event == "open":  # builtins.open passes a mode string, os.open an int of flags
            mode = args[1] if len(args) > 1 else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        else:
            writes = event not in ("os.listdir", "os.scandir")
        outside = not path.startswith(self.allowed)
        escapes = writes and not path.startswith((self.sandbox, "/tmp"))
        planted = writes and event == "open" and path.endswith(self.MODULE_FILES)
        if any(word in path for word in self.HIDDEN) or outside or escapes or planted:
            self.events.append(f"{'wrote a module: ' if planted else ''}{event} {path}"[:300])

    def report(self):
        tampered = [f"imported {name} from its own folder" for name, module in list(sys.modules.items())
                    if _planted(getattr(module, "__file__", None), self.sandbox)][:10]
        for (module, name), original in self.originals.items():
            mod = sys.modules.get(module)
            if mod is not None and getattr(mod, name, None) is not original:
                tampered.append(f"{module}.{name} was replaced")
        import resource

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        return {"events": list(self.events), "tampered": tampered, "peak_rss_mb": peak_mb}


def _planted(path, sandbox):
    """A module file in the sandbox that the grader did not put there (backprop_lab, the otter stand-in)."""
    if not isinstance(path, str) or not path.startswith(sandbox + os.sep):
        return False
    return path[len(sandbox) + 1 :].split(os.sep)[0] not in ("backprop_lab", "otter")


class Unavailable:
    """A meta path finder: these packages cannot be imported while grading.

    The assignment is numpy only; a library that does the work (scikit-learn's MLP, an autodiff
    package) must not earn points. Installed so early that nothing of theirs is loaded yet.
    """

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is not available while grading: this assignment is written with numpy alone", name=name)
        return None
