"""The sandbox on the grading machine: its folders, its user, and the cleanup once its worker is gone.

Each sandbox is a temporary folder named after the grader's pid (so a later sweep knows whether its
owner is alive): runtime/ holds the worker and its modules, work/ what student code may see and
change. As root, each sandbox also claims an unprivileged uid of its own. Orphans of student code
are killed where this process is their subreaper; cleanup never fails, whatever student code left.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import backprop_lab
from backprop_lab import config

WORKER_FILE = "_bpk_worker.py"
# the files of this folder the worker runs, and their names in the sandbox's runtime folder
RUNTIME = {"worker.py": WORKER_FILE, "wire.py": "_bpk_wire.py", "standins.py": "_bpk_standins.py", "guard.py": "_bpk_guard.py", "jail.py": "_bpk_jail.py"}
SANDBOX_PREFIX = "bpk-sandbox-"
OTTER_SHIM = '''"""Stand-in for otter while grading: the grader runs the checks itself."""


class Notebook:
    def __init__(self, *args, **kwargs):
        pass

    def check(self, *args, **kwargs):
        return None

    def check_all(self, *args, **kwargs):
        return None

    def export(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
'''


_SUBREAPER = False


def become_subreaper():
    """Linux: make this process adopt the orphans of student code.

    A subprocess the student started in its own session (setsid) escapes the
    kill of the worker's process group; as a subreaper, this process becomes its
    parent and kills it with the worker. Only for a process that runs nothing
    but graders (gradescope.main): every other child of it is killed too.
    """
    global _SUBREAPER
    try:
        import ctypes

        _SUBREAPER = ctypes.CDLL(None, use_errno=True).prctl(36, 1) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def kill_orphans():
    """Kill and reap every child of this subreaper (called once the worker is dead)."""
    if not _SUBREAPER:
        return
    for _ in range(10):  # an orphan may fork while we look
        children = _children(os.getpid())
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError, PermissionError):
                pass


def _children(parent):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(_stat_fields(entry.name)[1]) == parent:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name: state, parent pid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def owned_temp_dir(prefix):
    """A new folder in the temp dir whose name carries this process's id, so a later sweep knows
    its owner even if the folder was left half-deleted."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def sweep_stale_dirs(prefix, max_age):
    """Remove temp folders (sandboxes, batch folders) whose owner died without cleaning up (e.g. it was SIGKILLed)."""
    for path in Path(tempfile.gettempdir()).glob(prefix + "*"):
        owner = path.name[len(prefix):].split("-", 1)[0]
        if owner.isdigit():
            if _alive(int(owner)):
                continue
        else:  # not named by an owner: judge by age
            try:
                if time.time() - path.stat().st_mtime < max_age:
                    continue
            except OSError:
                continue
        remove_tree(path, attempts=2)


def remove_tree(path, attempts=20):
    """Remove a folder whatever student code left in it; never raises.

    Deep trees (thousands of levels: Python's rmtree recurses, and their paths are longer than
    the system allows), folders without permissions, FIFOs, sockets and files still held open:
    `rm -rf` walks any depth. Tried again while a dying worker may still be creating entries.
    """
    for attempt in range(attempts):
        try:
            shutil.rmtree(path, ignore_errors=True)
        except RecursionError:
            pass
        if not os.path.lexists(path):
            return
        try:
            if os.getuid() != 0:  # folders the student made unreadable: only their owner can open them up
                subprocess.run(["chmod", "-R", "u+rwx", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
            subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        except (OSError, subprocess.SubprocessError):
            pass
        if not os.path.lexists(path):
            return
        time.sleep(0.1)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, and someone else's
    try:  # a zombie (not yet reaped, e.g. its parent was killed) has finished
        return _stat_fields(pid)[0] != "Z"
    except (OSError, IndexError):
        return True


def fill_sandbox(sandbox, uid=None):
    """runtime/: the worker, its modules and the jail, which student code can never write (a
    restarted worker runs them before it is jailed). work/: what student code may see and change:
    the public package and an otter stand-in; it is its working directory and, as root, its user's alone.
    """
    runtime, work = sandbox / "runtime", sandbox / "work"
    runtime.mkdir()
    for name, copy in RUNTIME.items():
        shutil.copy2(Path(__file__).with_name(name), runtime / copy)
    work.mkdir()
    shutil.copytree(Path(backprop_lab.__file__).parent, work / "backprop_lab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (work / "otter").mkdir()
    (work / "otter" / "__init__.py").write_text(OTTER_SHIM)
    if uid is not None:
        sandbox.chmod(0o711)  # the student user may pass through, not list or write
        runtime.chmod(0o755)
        for path in [work, *work.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        work.chmod(0o700)  # no other sandbox's user may look in


def claim_uid(first=config.SANDBOX_UIDS[0], count=config.SANDBOX_UIDS[1]):
    """(uid, fd): an unprivileged uid no other live sandbox on this machine holds, and the locked
    file that holds it (a lock dies with its process, so a killed grader frees its uid).

    Sandboxes with distinct users cannot read, write or signal each other's processes and
    files wherever the jail's namespaces are refused. Uids named in /etc/passwd are skipped.
    """
    import fcntl
    import pwd

    # one folder for the whole machine, as uids are (not the temp dir, which differs between graders)
    folder = Path("/run" if os.path.isdir("/run") else "/tmp") / "backprop-kit-uids"
    folder.mkdir(mode=0o700, exist_ok=True)
    start = os.getpid() % count
    for k in range(count):
        uid = first + (start + k) % count
        try:
            pwd.getpwuid(uid)
            continue  # a real account
        except KeyError:
            pass
        fd = os.open(folder / str(uid), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        if not _uid_idle(uid):  # a worker of a killed grader may still be dying
            os.close(fd)
            continue
        return uid, fd
    raise RuntimeError(f"all {count} sandbox uids from {first} are in use")


def _uid_idle(uid):
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                return False
        except OSError:
            continue
    return True


def python_dirs(python):
    """Folders the worker's Python needs (its installation, the venv, and where the venv's
    site-packages really are), read-only in the jail."""
    import site
    import sysconfig

    real = os.path.realpath(python)
    dirs = {os.path.dirname(os.path.dirname(real)), sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"]}
    dirs.update(os.path.realpath(p) for p in site.getsitepackages())
    if os.path.realpath(sys.executable) != real:  # a different interpreter: its own prefix
        dirs.add(os.path.dirname(os.path.dirname(python)))
    return sorted(d for d in dirs if d and os.path.isdir(d))


def unreadable_to_others(paths):
    """The first of `paths` an unprivileged user could not read (a folder on its way lacks
    search permission for others, or it lacks read permission), else None."""
    import stat

    for path in paths:
        target = Path(path).resolve()
        for folder in [*reversed(target.parents), target]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                return str(folder)
            if not mode & stat.S_IXOTH or (folder == target and not mode & stat.S_IROTH):
                return str(folder)
    return None
