"""Control groups (cgroup v1, where root may write them): one per worker, and a container.

- `WorkerGroup`: each worker (student code and every process it starts) runs in memory and cpu
  cgroups of its own. Memory that no per-process limit sees (memfd files handed to a child, say)
  is charged to it, so the kernel's OOM killer stops that worker and no other; and all its
  processes together get one share of the CPU, however many it forks.
- `limited(memory_mb, cpus)`: Gradescope's default container (768 MB, half a CPU), imitated for
  the tests and `make bench`: a command prefix that starts a command inside fresh cgroups.

Both need root and a writable cgroup v1 hierarchy (`available()` says why not); without it,
workers run without a group and only their per-process limits hold.
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


GROUP_PREFIX = "bpk-worker-"


class WorkerGroup:
    """Memory and cpu cgroups for one worker, named after the grader's pid (so a sweep finds a
    dead grader's). `prefix` starts a command inside them; `close` kills what is left and removes them."""

    def __init__(self, memory_mb):
        import tempfile

        name = os.path.basename(tempfile.mktemp(prefix=f"{GROUP_PREFIX}{os.getpid()}-"))
        self.folders = [_own("memory") / name, _own("cpu") / name]
        for folder in self.folders:
            folder.mkdir()
        limit = self.folders[0] / "memory.limit_in_bytes"
        limit.write_text(str(memory_mb << 20))
        swap = self.folders[0] / "memory.memsw.limit_in_bytes"
        if swap.exists():
            with contextlib.suppress(OSError):
                swap.write_text(str(memory_mb << 20))
        joins = " && ".join(f"echo $$ > {folder}/cgroup.procs" for folder in self.folders)
        self.prefix = ["sh", "-c", f'{joins} && exec "$@"', "sh"]

    def close(self):
        for folder in self.folders:
            _empty_and_remove(folder)

    @staticmethod
    def sweep():
        """Remove the groups of graders that died without removing theirs."""
        for controller in ("memory", "cpu"):
            own = _own(controller)
            if own is None:
                continue
            for folder in own.glob(GROUP_PREFIX + "*"):
                owner = folder.name[len(GROUP_PREFIX):].split("-", 1)[0]
                if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                    _empty_and_remove(folder)


def _empty_and_remove(folder):
    for _ in range(50):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        folder.rmdir()


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
            _empty_and_remove(folder)
