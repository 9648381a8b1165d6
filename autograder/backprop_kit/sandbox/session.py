"""Run one notebook's code in a sandboxed worker and call its functions.

A Session owns a throwaway sandbox directory and the worker process inside it
(see worker.py). It executes the notebook cell by cell under a per-cell time
limit and a per-submission budget. A cell that runs too long is interrupted;
a worker that dies, ignores the interrupt or runs out of memory is replaced by
a fresh one that replays the cells that had finished, so the functions the
notebook defined can still be graded. Output is capped in the worker and again
as it is read here.

The grader then calls student functions through `call`. Results come back as
plain data, decoded here with a whitelist (see wire.decode); comparisons
happen in the grader's process, never in the worker.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import backprop_lab
from backprop_lab import config

from . import container
from . import wire

WORKER_FILE = "_bpk_worker.py"
# the files of this folder the worker runs, and their names in the sandbox's runtime folder
RUNTIME = {"worker.py": WORKER_FILE, "wire.py": "_bpk_wire.py", "standins.py": "_bpk_standins.py", "guard.py": "_bpk_guard.py", "jail.py": "_bpk_jail.py"}
SANDBOX_PREFIX = "bpk-sandbox-"
START_TIMEOUT_S = 60.0
FRAME_GRACE_S = 5.0  # once a frame's length has arrived, how long its body may take
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


@dataclass(frozen=True)
class Limits:
    """Time, memory and output limits for one submission (defaults from config)."""

    cell_timeout: float = config.CELL_TIMEOUT_S
    call_timeout: float = config.CALL_TIMEOUT_S
    budget: float = config.SUBMISSION_BUDGET_S
    checks_reserve: float = config.CHECKS_RESERVE_S
    interrupt_grace: float = config.INTERRUPT_GRACE_S
    max_restarts: int = config.MAX_RESTARTS
    max_check_restarts: int = config.MAX_CHECK_RESTARTS
    memory_mb: int = config.MEMORY_LIMIT_MB  # the most; less where the machine has less (see memory_limit_mb)
    file_size_mb: int = config.FILE_SIZE_LIMIT_MB
    disk_mb: int = config.SANDBOX_DISK_MB
    max_processes: int = config.MAX_PROCESSES
    output_per_cell: int = config.OUTPUT_CAP_PER_CELL
    output_total: int = config.OUTPUT_CAP_TOTAL
    max_message_mb: int = config.MAX_MESSAGE_MB
    isolation: str = config.ISOLATION
    time_factor: float = config.TIME_FACTOR  # see scaled(); 0 keeps the time limits as they are

    @classmethod
    def from_env(cls, environ=os.environ):
        """Defaults, overridden by JSON in BACKPROP_KIT_LIMITS (e.g. '{"cell_timeout": 5}')."""
        raw = environ.get("BACKPROP_KIT_LIMITS")
        return cls.from_json(raw) if raw else cls()

    @classmethod
    def from_json(cls, raw):
        """Defaults overridden by a JSON object; ValueError names what is wrong and what is allowed."""
        try:
            overrides = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc}); give an object, e.g. '{{\"cell_timeout\": 10}}'") from None
        if not isinstance(overrides, dict):
            raise ValueError(f"must be a JSON object such as '{{\"cell_timeout\": 10}}', not {raw!r}")
        types = {f.name: type(f.default) for f in fields(cls)}
        unknown = sorted(set(overrides) - set(types))
        if unknown:
            raise ValueError(f"unknown limit(s) {', '.join(unknown)}; known: {', '.join(sorted(types))}")
        for name, value in overrides.items():
            kind = types[name]
            numeric = kind in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
            if kind is str and not isinstance(value, str) or kind in (int, float) and not numeric or kind is int and value != int(value):
                raise ValueError(f"{name} must be {'a whole number' if kind is int else 'a number' if kind is float else 'a string'}, not {value!r}")
            if numeric and not (value > 0 or name in ZERO_MEANS and value == 0):
                raise ValueError(f"{name} must be {'zero or more' if name in ZERO_MEANS else 'more than zero'}, not {value!r}")
            if numeric and value > LARGEST_LIMIT:
                raise ValueError(f"{name} must be at most {LARGEST_LIMIT:g}, not {value!r}")
            if kind is int:
                overrides[name] = int(value)
        if {"cell_timeout", "call_timeout"} & set(overrides):
            overrides.setdefault("time_factor", 0.0)  # time limits given explicitly are taken as given
        limits = replace(cls(), **overrides)
        if limits.isolation not in ISOLATION_LEVELS:
            raise ValueError(f"isolation must be one of {', '.join(ISOLATION_LEVELS)}, not {limits.isolation!r}")
        if limits.checks_reserve >= limits.budget:
            raise ValueError(f"checks_reserve ({limits.checks_reserve:g} s) must be less than budget ({limits.budget:g} s)")
        return limits

    def scaled(self, reference_s):
        """These limits on a machine where the reference took `reference_s` on config.CALIBRATION:
        call and cell limits grow with the machine's slowness, never below their floors."""
        if not self.time_factor:
            return self
        return replace(
            self,
            call_timeout=round(max(self.call_timeout, self.time_factor * reference_s), 1),
            cell_timeout=round(max(self.cell_timeout, self.time_factor * reference_s), 1),
        )


ISOLATION_LEVELS = ("namespace", "user", "none")
LARGEST_LIMIT = 1e7  # seconds (115 days), megabytes (10 TB), counts: anything larger is a typo
ZERO_MEANS = {"time_factor": "fixed time limits", "max_restarts": "no restart", "max_check_restarts": "no restart"}


def memory_limit_mb(most=config.MEMORY_LIMIT_MB, available=None):
    """The address-space limit for student code: `most`, or what the machine or container can give
    once the grader's reserve and the sandbox's memory-backed file systems are set aside."""
    available = machine_memory_mb() if available is None else available
    spare = available - config.GRADER_RESERVE_MB - sandbox_fs_mb()
    return int(max(128, min(most, spare)))


def sandbox_fs_mb():
    """Memory the sandbox's own file systems may hold: the work folder, /tmp and 16 MB of /dev/shm."""
    return config.SANDBOX_DISK_MB + config.SANDBOX_TMP_MB + 16


def machine_memory_mb():
    """The memory this process may use: the machine's, or its cgroup's limit if lower (v1 or v2)."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                found.append(int(line.split()[1]) >> 10)
    except (OSError, ValueError, IndexError):
        pass
    for line in _read_lines("/proc/self/cgroup"):
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(","):  # v1: the smallest limit of the cgroup and its ancestors
            for base in (f"/sys/fs/cgroup/memory{parts[2]}", "/sys/fs/cgroup/memory"):
                for stat in _read_lines(f"{base.rstrip('/')}/memory.stat"):
                    if stat.startswith("hierarchical_memory_limit "):
                        found.append(int(stat.split()[1]) >> 20)
                        break
                else:
                    continue
                break
        elif parts[1] == "":  # v2: memory.max of the cgroup and each ancestor
            path = Path("/sys/fs/cgroup" + parts[2])
            for folder in (path, *path.parents):
                if not str(folder).startswith("/sys/fs/cgroup"):
                    break
                for value in _read_lines(folder / "memory.max"):
                    if value.strip().isdigit():
                        found.append(int(value) >> 20)
    return min(found) if found else config.MEMORY_LIMIT_MB


def _read_lines(path):
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


class StudentError(Exception):
    """Student code raised; carries the exception's type, message and traceback."""

    def __init__(self, info):
        self.type = info.get("type", "Exception")
        self.message = info.get("message", "")
        self.traceback = info.get("traceback", "")
        self.missing = bool(info.get("missing"))
        super().__init__(f"{self.type}: {self.message}")


class SetupError(Exception):
    """The grading machine cannot run student code as configured (the instructor's to fix)."""


class CallTimeout(Exception):
    """A student function ran past its time limit."""


class WorkerLost(Exception):
    """The process running student code died (or had to be killed)."""


class Stuck(WorkerLost):
    """Student code ignored the interrupt and its process had to be killed."""


class BudgetExhausted(Exception):
    """The submission's time budget or restart allowance is used up."""


@dataclass
class CellReport:
    index: int
    status: str = "pending"  # ok | error | timeout | died | skipped
    error: str = ""
    seconds: float = 0.0


@dataclass
class OutputLog:
    """Keeps the first characters of each cell's output and of the whole run; counts the rest.

    Written by the thread that reads the worker's output and by the main thread
    (output the worker itself dropped), hence the lock.
    """

    per_label: int
    total: int
    label: str = "start"
    kept: dict = field(default_factory=dict)
    kept_total: int = 0
    dropped: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, data):
        with self.lock:
            label = self.label
            have = len(self.kept.get(label, ""))
            room = max(0, min(self.per_label - have, self.total - self.kept_total))
            if not room:  # full: count the bytes without decoding them, so a flood costs little
                self.dropped[label] = self.dropped.get(label, 0) + len(data)
                return
            text = data.decode("utf-8", errors="replace")
            self.kept[label] = self.kept.get(label, "") + text[:room]
            self.kept_total += min(room, len(text))
            if len(text) > room:
                self.dropped[label] = self.dropped.get(label, 0) + len(text) - room

    def note_dropped(self, count):
        """Output the worker dropped itself (see worker._CappedStream)."""
        if count:
            with self.lock:
                self.dropped[self.label] = self.dropped.get(self.label, 0) + count

    @property
    def was_cut(self):
        return bool(self.dropped)


class Session:
    """A sandboxed worker running one notebook; use as a context manager."""

    def __init__(self, cells, limits=None, python=None):
        self.cells = list(cells)
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self.reports = [CellReport(i) for i in range(len(self.cells))]
        self.last_warnings = []  # texts of the numerical warnings the last call raised (see call)
        self.replayable = []  # cells that finished (with or without an exception)
        self.restarts = 0
        self.deaths = []  # human-readable reasons
        self.check_problems = []  # (kind, function, reason): calls that ran too long or lost the process
        self.output = OutputLog(self.limits.output_per_cell, self.limits.output_total)
        self.started = time.monotonic()
        self.sandbox = None
        self.isolation = None  # the isolation level the worker reached (see jail.py)
        self.memory_mb = memory_limit_mb(self.limits.memory_mb)
        self.uid = self.uid_lock = None  # as root: this sandbox's own unprivileged user, held by a lock
        self.group = None  # as root, where cgroups can be made: the worker's own (see container.py)
        self.proc = self.reader = self.req_w = self.resp_r = None
        self.turn = 0  # requests sent: each reply must carry its request's number
        self.checking = False  # the checks have started: they have restarts of their own

    # -- lifecycle ------------------------------------------------------------

    def __enter__(self):
        sweep_stale_dirs(SANDBOX_PREFIX, max_age=2 * self.limits.budget)
        self.sandbox = owned_temp_dir(SANDBOX_PREFIX)
        try:
            if os.getuid() == 0 and self.limits.isolation != "none":
                self.uid, self.uid_lock = claim_uid()
                if not container.available():  # memory and a CPU share for the worker and all it starts
                    container.WorkerGroup.sweep()
                    self.group = container.WorkerGroup(self.memory_mb + self.limits.disk_mb + config.SANDBOX_TMP_MB + 16 + config.GROUP_SLACK_MB)
            _fill_sandbox(self.sandbox, self.uid)
            self._spawn_first()
        except BaseException:  # e.g. SIGTERM while the worker starts: __exit__ would not run
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._kill()
        if self.sandbox is not None:
            remove_tree(self.sandbox)
            self.sandbox = None
        if self.group is not None:
            self.group.close()
            self.group = None
        if self.uid_lock is not None:
            os.close(self.uid_lock)  # the uid is free again once its processes are gone (they are: killed above)
            self.uid_lock = None

    def remaining(self):
        return self.limits.budget - (time.monotonic() - self.started)

    def _spawn_first(self, attempts=3):
        """The first worker; one killed as it starts (the machine short of memory, say) is replaced."""
        for attempt in range(attempts):
            try:
                return self._spawn()
            except WorkerLost as exc:
                if attempt == attempts - 1:
                    raise
                self.deaths.append(str(exc))
                time.sleep(0.5)

    def _spawn(self):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        limits = {
            "memory_mb": self.memory_mb,
            "file_size_mb": self.limits.file_size_mb,
            "cpu_s": int(self.limits.budget) + 30,
            "max_processes": self.limits.max_processes,
            "output_per_cell": self.limits.output_per_cell,
        }
        limits["jail"] = {
            "level": self.limits.isolation,
            "read_only": _python_dirs(self.python),
            "user": self.uid,
            "tmp_mb": config.SANDBOX_TMP_MB,
            "disk_mb": self.limits.disk_mb,
        }
        limits["limit_processes"] = self.uid is not None  # the worker then runs as this sandbox's own user
        if self.limits.isolation == "user" and self.uid is not None:
            blocked = unreadable_to_others(limits["jail"]["read_only"])
            if blocked:
                raise SetupError(
                    f"isolation 'user' runs student code as an unprivileged user, who cannot read {blocked}, "
                    f"part of the Python installation {self.python}: use a Python installed where every user can read it"
                )
        limits["unavailable"] = list(config.UNAVAILABLE_PACKAGES)
        work = self.sandbox / "work"
        env = _worker_env(work)
        try:
            self.proc = subprocess.Popen(
                [*(self.group.prefix if self.group else ()), self.python, "-I", str(self.sandbox / "runtime" / WORKER_FILE), str(work), str(req_r), str(resp_w), json.dumps(limits)],
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(req_r, resp_w),
                cwd=work,
                env=env,
                start_new_session=True,
            )
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        self.req_w, self.resp_r = req_w, resp_r
        os.set_blocking(req_w, False)
        reader = threading.Thread(target=_pump_output, args=(out_r, self.output), daemon=True)
        reader.start()
        self.reader = reader
        try:
            hello, _ = self._receive(time.monotonic() + START_TIMEOUT_S)
        except (TimeoutError, WorkerLost, wire.ProtocolError) as exc:
            self._kill()
            raise WorkerLost(f"the grading process did not start: {exc}") from None
        if not hello.get("ok"):
            self._kill()
            raise WorkerLost("the grading process did not start")
        self.isolation = hello.get("isolation")

    def _kill(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        for fd in (self.req_w, self.resp_r):
            try:
                os.close(fd)
            except (OSError, TypeError):
                pass
        self.req_w = self.resp_r = None  # closed numbers may be reused: never close them twice
        _kill_orphans()
        if self.reader is not None:
            self.reader.join(timeout=5)

    def _death_reason(self):
        proc = self.proc
        if proc is None:
            return "the process was stopped"
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (out of memory?)" if name == "SIGKILL" else ""
            return f"the process was killed by {name}{hint}"
        return f"the process exited with code {code} (os._exit or sys.exit outside a cell?)"

    # -- the channel -----------------------------------------------------------

    def _send(self, frame, deadline):
        view = memoryview(frame)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("sending took too long")
            _, writable, _ = select.select([], [self.req_w], [], left)
            if writable:
                try:
                    view = view[os.write(self.req_w, view[: 1 << 16]) :]
                except (BrokenPipeError, OSError):
                    raise WorkerLost(self._death_reason()) from None

    def _receive(self, deadline, bound=None, turn=None):
        """One frame from the worker, as (header, arrays); raises ProtocolError for any frame
        that breaks the format or `bound` ((header bytes, body bytes): what the request could
        bring back) or that is not an answer to request `turn`. Student code can write into the
        channel: nothing here trusts a frame."""
        header_bytes, body_bytes = bound or SMALL_REPLY
        (size,) = wire._LEN.unpack(self._read(wire._LEN.size, deadline))
        if size > min(body_bytes, self.limits.max_message_mb << 20):
            raise wire.ProtocolError(f"the process sent a reply of {size} bytes, more than this request could return")
        # the body follows its length at once: time running out between the two must not split a frame
        body = self._read(size, max(deadline, time.monotonic() + FRAME_GRACE_S))
        try:
            header, arrays = wire.unpack(body, header_bytes)
            _check_header(header)
            if header.get("id") != turn:
                raise wire.ProtocolError("a reply out of turn")
        except wire.ProtocolError:
            raise
        except Exception as exc:  # noqa: BLE001 - MemoryError, RecursionError, ...: the frame's fault
            raise wire.ProtocolError(f"an unreadable reply ({type(exc).__name__})") from None
        self.output.note_dropped(header.get("dropped", 0))
        return header, arrays

    def _read(self, size, deadline):
        """Exactly `size` bytes from the worker, read straight into one buffer (a big reply is not copied)."""
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            readable, _, _ = select.select([self.resp_r], [], [], left)
            if not readable:
                continue
            count = os.readv(self.resp_r, [view[got:]])
            if not count:
                raise WorkerLost(self._death_reason())
            got += count
        return data

    def _exchange(self, header, arrays, deadline, serve=None, bound=None):
        """Send a request; answer the stand-ins' questions until the reply comes."""
        self.turn += 1
        self._send(wire.pack(dict(header, id=self.turn), arrays), deadline)
        while True:
            reply, arrays = self._receive(deadline, bound, self.turn)
            if "ask" not in reply:
                return reply, arrays
            # every question gets its answer, whole, even as time runs out (see worker.ask)
            self._send(_answer(reply, arrays, serve), max(deadline, time.monotonic() + FRAME_GRACE_S))

    def _request(self, header, arrays, timeout, serve=None, bound=None):
        """Send one request and wait for its answer, interrupting or killing on overrun.

        Raises TimeoutError (interrupted, worker still alive), Stuck (it ignored the
        interrupt and was killed), WorkerLost (the worker died) or BudgetExhausted.
        After Stuck or WorkerLost a fresh worker has already replayed the notebook.
        """
        left = self.remaining()
        if left <= 0:
            raise BudgetExhausted("the submission's time budget is used up")
        if self.proc is None:
            self._revive("an earlier failure")
        timeout = min(timeout, left)
        try:
            return self._exchange(header, arrays, time.monotonic() + timeout, serve, bound)
        except wire.ProtocolError as exc:  # student code wrote into the channel, say
            reason = f"the process sent an unreadable reply ({exc}), so it was restarted"
            self._revive(reason)
            raise WorkerLost(reason) from None
        except WorkerLost as exc:
            self._revive(str(exc))
            raise
        except TimeoutError:
            pass
        try:
            os.kill(self.proc.pid, signal.SIGINT)
            grace = time.monotonic() + self.limits.interrupt_grace
            reply = self._receive(grace, bound, self.turn)
            while "ask" in reply[0]:  # a stand-in's question sent as time ran out: answered "stop"
                self._send(wire.pack({"stop": True}), max(grace, time.monotonic() + FRAME_GRACE_S))
                reply = self._receive(grace, bound, self.turn)
        except (TimeoutError, WorkerLost, ProcessLookupError, wire.ProtocolError):
            reason = f"it ran past {timeout:g} s and ignored the interrupt, so the process was restarted"
            self._revive(reason)
            raise Stuck(reason) from None
        if (reply[0].get("error") or {}).get("type") != "KeyboardInterrupt":
            return reply  # it finished just as its time ran out
        raise TimeoutError(f"it ran past {timeout:g} s and was interrupted")

    def _revive(self, reason):
        """Replace a dead or stuck worker and replay the cells that had finished.

        A replayed cell that fails again is dropped from the replay list, and the
        worker is replaced once more, up to the restart allowance.
        """
        while True:
            self._kill()
            self.deaths.append(reason)
            self.restarts += 1
            allowed = self.limits.max_restarts + (self.limits.max_check_restarts if self.checking else 0)
            if self.restarts > allowed:
                raise BudgetExhausted(f"the process had to be restarted more than {allowed} times")
            if self.remaining() <= 0:
                raise BudgetExhausted("the submission's time budget is used up")
            self._spawn()
            failed = None
            for index in list(self.replayable):
                self.output.label = f"cell {index} (replayed)"
                deadline = time.monotonic() + min(self.limits.cell_timeout, max(self.remaining(), 0.0))
                try:
                    self._exchange({"op": "exec", "code": self.cells[index]}, [], deadline)
                except (TimeoutError, WorkerLost, wire.ProtocolError) as exc:
                    self.replayable.remove(index)
                    failed = f"replaying cell {index} failed ({exc})"
                    break
            if failed is None:
                return
            reason = failed

    # -- the notebook ------------------------------------------------------------

    def run_notebook(self):
        """Execute every cell once, in order; fills self.reports."""
        for report, code in zip(self.reports, self.cells):
            report.status = "skipped"
            if self.remaining() <= self.limits.checks_reserve or self.restarts > self.limits.max_restarts:
                report.error = "not run: the submission's time budget was used up"
                continue
            self.output.label = f"cell {report.index}"
            start = time.monotonic()
            self._run_cell(report, code)
            report.seconds = time.monotonic() - start

    def _run_cell(self, report, code):
        deaths = len(self.deaths)
        try:
            timeout = min(self.limits.cell_timeout, self.remaining() - self.limits.checks_reserve)
            reply, _ = self._request({"op": "exec", "code": code}, [], timeout)
        except (TimeoutError, Stuck) as exc:
            report.status, report.error = "timeout", f"stopped: {exc}"
            return
        except WorkerLost as exc:
            report.status, report.error = "died", str(exc)
            return
        except BudgetExhausted as exc:
            if len(self.deaths) > deaths:  # it died, and no restart was left
                report.status, report.error = "died", f"{self.deaths[deaths]}; {exc}"
            else:
                report.error = f"not run: {exc}"
            return
        err = reply.get("error") or {}
        used = reply.get("memory_mb")
        # a cell that caught its own MemoryError and kept the memory leaves every later call without any
        hog = type(used) is int and used > config.MEMORY_HOG_SHARE * self.memory_mb
        if hog or (err.get("memory") and self._holds_memory(err)):
            # What Jupyter's OOM-killed kernel would do: start afresh, without this cell.
            report.status = "died"
            report.error = f"it ran out of memory (the limit is {self.memory_mb} MB), so the process was restarted"
            try:
                self._revive(report.error)
            except BudgetExhausted as exc:
                report.error += f"; {exc}"
            return
        self.replayable.append(report.index)
        report.status = "ok" if reply["ok"] else "error"
        if not reply["ok"]:
            report.error = f"{err.get('type')}: {err.get('message')}"

    def _holds_memory(self, err):
        """After a MemoryError: is the process still holding much of its memory (a hog, not one failed allocation)?"""
        used = err.get("memory_mb")
        return not isinstance(used, int) or used > config.MEMORY_RESTART_SHARE * self.memory_mb

    # -- calling student functions ---------------------------------------------------

    def call(self, fn, args, *, standins=(), serve=None, timeout=None):
        """Call student function `fn` with the tuple `args`.

        `standins` name lower functions that answer, for this call, through `serve(name, args)`
        in this process (follow-through marking). Returns (value, args after the call, paths of
        dict entries the call replaced). Raises StudentError, CallTimeout, WorkerLost or
        BudgetExhausted.
        """
        self.output.label = f"checks ({fn})"
        self.checking = True
        tree, arrays = wire.encode(tuple(args))
        header = {"op": "call", "fn": fn, "args": tree, "standins": list(standins)}
        allowed = frozenset(standins)

        def answer(name, call_args, call_kwargs):  # only this call's stand-ins are answered, whoever asks
            if serve is None or name not in allowed:
                raise LookupError(f"{name} has no stand-in in this call")
            return serve(name, call_args, call_kwargs)

        self.last_warnings = []
        try:
            reply, arrays = self._request(header, arrays, timeout or self.limits.call_timeout, answer, reply_bound(arrays))
            self.last_warnings = list(reply.get("warnings", []))  # checked by _check_header: a few short texts
            if not reply["ok"]:
                raise StudentError(reply.get("error") or {})
            try:
                value, after = wire.decode(reply["value"], arrays)
            except Exception as exc:  # noqa: BLE001 - the worker encodes what it returns: this reply was forged
                reason = f"the process sent an unreadable result ({type(exc).__name__}), so it was restarted"
                self._revive(reason)
                raise WorkerLost(reason) from None
        except TimeoutError as exc:
            self.check_problems.append(("timeout", fn, str(exc)))
            raise CallTimeout(str(exc)) from None
        except Stuck as exc:
            self.check_problems.append(("timeout", fn, str(exc)))
            raise
        except WorkerLost as exc:
            self.check_problems.append(("died", fn, str(exc)))
            raise
        except BudgetExhausted as exc:
            self.check_problems.append(("budget", fn, str(exc)))
            raise
        replaced = reply.get("replaced")
        return value, after, [str(p) for p in replaced] if isinstance(replaced, list) else []

    def audit(self):
        """{'events': [...], 'tampered': [...]}: what the worker's audit noted, for the instructor.
        Student code can reach the audit: the caller treats this as untrusted."""
        reply, arrays = self._request({"op": "audit"}, [], self.limits.call_timeout)
        return wire.decode(reply["value"], arrays)

    def defined_names(self):
        reply, arrays = self._request({"op": "names"}, [], self.limits.call_timeout)
        names = wire.decode(reply["value"], arrays)
        return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


SMALL_REPLY = (1 << 20, 2 << 20)  # (header, body) bytes: a cell's result, the names, the audit


def reply_bound(arrays):
    """(header bytes, body bytes) a call's reply may take: its value and its arguments come back,
    and this assignment's functions return about as much as they are given."""
    elements = sum(int(a.size) for a in arrays)
    nbytes = sum(int(a.nbytes) for a in arrays)
    header = (256 << 10) + 32 * elements
    return header, header + (16 << 20) + 4 * nbytes


def _check_header(header):
    """A reply's header has the worker's shape, or it is refused: student code can write to the channel."""
    if not isinstance(header, dict):
        raise wire.ProtocolError("the reply is not a mapping")
    dropped = header.get("dropped", 0)
    if type(dropped) is not int or dropped < 0:
        raise wire.ProtocolError("the reply's output count is not a count")
    if "ask" not in header and type(header.get("ok")) is not bool:
        raise wire.ProtocolError("the reply's status is not true or false")
    error = header.get("error")
    if error is not None and not (isinstance(error, dict) and all(type(v) in (str, bool, int) for v in error.values())):
        raise wire.ProtocolError("the reply's error is not a plain description")
    if "ask" in header and type(header["ask"]) is not str:
        raise wire.ProtocolError("a stand-in's question names no function")
    raised = header.get("warnings", [])
    if not (type(raised) is list and len(raised) <= wire.WARNINGS_KEPT and all(type(w) is str and len(w) <= wire.WARNING_TEXT for w in raised)):
        raise wire.ProtocolError("the reply's warnings are not a short list of texts")


def _answer(ask, arrays, serve):
    """The frame answering a stand-in's question: the reference's value, or why there is none."""
    name = ask.get("ask")
    try:
        if serve is None:
            raise LookupError("no stand-ins are answered outside a check's call")
        args, kwargs = wire.decode(ask.get("args"), arrays)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise TypeError("a stand-in's question has no arguments")
        value = serve(str(name), args, kwargs)
        tree, out = wire.encode(value)
        return wire.pack({"ok": True, "value": tree}, out)
    except Exception as exc:  # noqa: BLE001 - the student's inputs may break the reference: say so
        return wire.pack({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]})


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


def _kill_orphans():
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


def _pump_output(fd, log):
    with os.fdopen(fd, "rb", buffering=0) as stream:
        while True:
            chunk = stream.read(65536)
            if not chunk:
                return
            log.add(chunk)


def _worker_env(sandbox):
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(sandbox),
        "TMPDIR": str(sandbox),  # the student's temporary files go when the sandbox goes
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(sandbox / ".matplotlib"),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _fill_sandbox(sandbox, uid=None):
    """runtime/: the worker, its modules and the jail, which student code can never write (a restarted worker
    runs them before it is jailed). work/: what student code may see and change: the public
    package and an otter stand-in; it is its working directory and, as root, its user's alone.
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


def _python_dirs(python):
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
