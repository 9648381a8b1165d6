"""Shut the student's process in: only the system, Python and its own sandbox stay visible.

The worker calls `enter(spec)` before it runs any student code, while it is still
single-threaded. On Linux it takes the strongest isolation the machine allows:

- "namespace": new mount, network, IPC and PID namespaces (plus a user namespace when
  not root). The process forks: the child, PID 1 of the new PID namespace, can signal no
  process outside it (not the grader, not the instructor's session); the parent only
  passes signals on and mirrors the child's end. The child pivots into a fresh root that
  holds read-only binds of the system directories, of the Python installation and of its
  sandbox, and size-limited private file systems (tmpfs) for /tmp, /dev/shm and the work
  folder, which is all student code can write; nothing else of the grading machine (the
  reference, the hidden checks, other submissions, the instructor's files) exists there,
  and everything it wrote vanishes with it. It then drops its privileges: to the sandbox's
  own unprivileged user when started as root, else all capabilities.
- "user": namespaces are refused (e.g. a container without CAP_SYS_ADMIN, as Docker's
  default is) but we are root: run as the sandbox's own unprivileged user (one per
  concurrent sandbox, so sandboxes cannot read, write or signal each other), under a
  Landlock ruleset that lets it read only the system and Python directories and its
  sandbox, write only its work folder, connect and bind no TCP port and signal no process
  outside itself. Reported as "user" only if Landlock took effect; "user-permissions"
  when the kernel lacks it, and then only file permissions keep hidden files away.
- "none": neither; only the resource limits and the throwaway directory remain.

Like worker.py, this file imports nothing from the kit: it runs alone in the sandbox.
"""

import ctypes
import os

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x10000000, 0x40000000, 0x08000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
DEVICES = ("null", "zero", "full", "random", "urandom")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


class JailError(OSError):
    pass


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise JailError(err, f"{what}: {os.strerror(err)}")


def _mount(libc, source, target, fstype, flags, data=None):
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {source or fstype} on {target}",
    )


def _syscall_number(table):
    return table.get(os.uname().machine)


def _bind(libc, root, path, writable=False):
    """Bind `path` at the same place under `root` (a symlink is recreated as a symlink)."""
    target = root + path
    if os.path.islink(path):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(libc, path, target, None, MS_BIND | MS_REC)
    if not writable:
        _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _namespace_jail(spec):
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID | (0 if uid == 0 else CLONE_NEWUSER)
    _check(libc.unshare(flags), "unshare")
    if uid != 0:  # map ourselves to ourselves: no root inside, only the namespace's capabilities
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    child = os.fork()  # the new PID namespace holds our children, not us
    if child:
        _proxy(child)  # never returns
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)

    sandbox = spec["sandbox"]  # the work folder: the student's working directory
    root = os.path.join(sandbox, ".root")  # removed with the sandbox; invisible inside (non-recursive bind)
    os.makedirs(root, exist_ok=True)
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # private /tmp first: binds below it (a venv or the sandbox under /tmp) must land on top of it
    for path, size in (("/tmp", spec.get("tmp_mb", 64)), ("/dev/shm", 16)):
        os.makedirs(root + path, exist_ok=True)
        _mount(libc, "tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=1777")
    for path in SYSTEM_DIRS:
        if os.path.lexists(path):
            _bind(libc, root, path)
    for path in spec.get("read_only", ()):
        if os.path.exists(path) and not os.path.lexists(root + path):
            _bind(libc, root, path)
    os.makedirs(root + "/dev", exist_ok=True)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            _bind(libc, root, "/dev/" + name, writable=True)
    # the sandbox: a fresh, size-limited copy of its starting files, all student code may write;
    # it vanishes with the jail, so nothing written reaches the grading machine's disk
    os.makedirs(root + sandbox, exist_ok=True)
    _mount(libc, "tmpfs", root + sandbox, "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec.get('disk_mb', 64)}m,mode=0700")
    _copy_tree(sandbox, root + sandbox, spec.get("user") if uid == 0 else None)
    os.makedirs(root + "/proc", exist_ok=True)  # this PID namespace's own: no other process shows
    _mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | 8)  # 8: MS_NOEXEC

    old = root + "/.old-root"
    os.makedirs(old, exist_ok=True)
    number = _syscall_number(SYS_PIVOT_ROOT)
    if number is None:
        raise JailError(0, "pivot_root: unknown machine")
    _check(libc.syscall(number, root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old-root", MNT_DETACH), "umount old root")
    os.rmdir("/.old-root")
    _drop_privileges(spec, in_user_namespace=uid != 0)
    return "namespace"


def _copy_tree(source, target, owner):
    """Copy the work folder's starting files (a few small ones) into its tmpfs, owned by `owner`."""
    import shutil

    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True, ignore=lambda folder, names: [".root"] if folder == source else [])
    if owner is not None:
        for folder, dirs, files in os.walk(target):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(name, owner, owner, follow_symlinks=False)


def _proxy(child):
    """The parent left outside: pass interrupts on, then end as the child ended."""
    import signal

    os.closerange(3, 1 << 16)  # the channel to the grader belongs to the child alone
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda number, frame: os.kill(child, number))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):  # end by the same signal, so the grader sees why (SIGKILL: out of memory?)
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
            pass
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _drop_privileges(spec, in_user_namespace):
    libc = _libc()
    if not in_user_namespace and os.getuid() == 0:
        user = spec.get("user", 65534)
        os.setgroups([])
        os.setresgid(user, user, user)
        os.setresuid(user, user, user)
    elif in_user_namespace:
        # capset(2): empty effective, permitted and inheritable sets
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        number = _syscall_number(SYS_CAPSET)
        if number is not None:
            _check(libc.syscall(number, header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def enter(spec):
    """Isolate this process as well as the machine allows, up to spec["level"]; returns the level reached."""
    level = spec.get("level", "namespace")
    if level == "none" or os.uname().sysname != "Linux":
        return "none"
    if level == "namespace":
        try:
            return _namespace_jail(spec)
        except (OSError, AttributeError):
            pass
    if os.getuid() == 0:
        confined = _landlock(spec)
        _drop_privileges(spec, in_user_namespace=False)
        return "user" if confined else "user-permissions"
    return "none"


# -- Landlock (Linux 5.13+): unprivileged file-system, network and signal confinement ---------

SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
FS_EXECUTE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 2, 1 << 3
FS_FILE_RIGHTS = FS_EXECUTE | (1 << 1) | FS_READ_FILE | (1 << 14) | (1 << 15)  # execute, write, read, truncate, ioctl
FS_ALL = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1}  # by ABI version; 5 and up add ioctl on devices
NET_ALL = (1 << 2) - 1  # bind and connect, TCP (ABI 4)
SCOPE_ALL = (1 << 2) - 1  # abstract unix sockets and signals (ABI 6)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock(spec):
    """Confine this process (and all it starts) to its sandbox; False if the kernel cannot.

    Read and execute: the system directories, the Python installation, the sandbox, a few
    devices and /proc (this process needs its own entries). Write: only the work folder.
    From ABI 4, no TCP; from ABI 6, no signal to and no abstract socket of any process
    outside the ruleset's domain.
    """
    if os.uname().machine not in ("x86_64", "aarch64"):
        return False
    libc = _libc()
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return False
    fs_all = FS_ALL.get(abi, (1 << 16) - 1)
    attr = _RulesetAttr(fs_all, NET_ALL if abi >= 4 else 0, SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        read = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
        sandbox = spec["sandbox"]
        rules = [(p, read) for p in (*SYSTEM_DIRS, *spec.get("read_only", ()), "/proc")]
        rules += [("/dev/" + name, FS_FILE_RIGHTS & ~FS_EXECUTE) for name in DEVICES]
        rules.append((sandbox, fs_all))
        for path, allowed in rules:
            if not os.path.exists(path):
                continue
            flags = os.O_PATH | os.O_CLOEXEC
            fd = os.open(path, flags)
            try:
                if not os.path.isdir(path):
                    allowed &= FS_FILE_RIGHTS
                rule = _PathBeneath(allowed & fs_all, fd)
                _check(libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0), f"landlock rule {path}")
            finally:
                os.close(fd)
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
        return True
    except OSError:
        return False
    finally:
        os.close(ruleset)
