"""Run one notebook's code in a sandboxed worker and call its functions.

A Session owns a throwaway sandbox directory and the worker process inside it
(see worker.py). It executes the notebook cell by cell under a per-cell time
limit and a per-submission budget. A cell that runs too long is interrupted;
a worker that dies or ignores the interrupt is replaced by a fresh one that
replays the cells that had finished, so the functions the notebook defined
can still be graded. Output is read continuously and capped.

The grader then calls student functions through `call`. Results come back as
plain data, decoded here with a whitelist (see worker.decode); comparisons
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

from . import worker as wire

WORKER_FILE = "_bpk_worker.py"
SANDBOX_PREFIX = "bpk-sandbox-"
OWNER_FILE = ".bpk-owner"
START_TIMEOUT_S = 60.0
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
    memory_mb: int = config.MEMORY_LIMIT_MB
    file_size_mb: int = config.FILE_SIZE_LIMIT_MB
    max_processes: int = config.MAX_PROCESSES
    output_per_cell: int = config.OUTPUT_CAP_PER_CELL
    output_total: int = config.OUTPUT_CAP_TOTAL
    max_message_mb: int = config.MAX_MESSAGE_MB

    @classmethod
    def from_env(cls, environ=os.environ):
        """Defaults, overridden by JSON in BACKPROP_KIT_LIMITS (e.g. '{"cell_timeout": 5}')."""
        raw = environ.get("BACKPROP_KIT_LIMITS")
        if not raw:
            return cls()
        overrides = json.loads(raw)
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown limits in BACKPROP_KIT_LIMITS: {sorted(unknown)}; known: {sorted(known)}")
        return replace(cls(), **overrides)


class StudentError(Exception):
    """Student code raised; carries the exception's type, message and traceback."""

    def __init__(self, info):
        self.type = info.get("type", "Exception")
        self.message = info.get("message", "")
        self.traceback = info.get("traceback", "")
        self.missing = bool(info.get("missing"))
        super().__init__(f"{self.type}: {self.message}")


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
    """Keeps the first characters of each cell's output and of the whole run."""

    per_label: int
    total: int
    label: str = "start"
    kept: dict = field(default_factory=dict)
    kept_total: int = 0
    dropped: dict = field(default_factory=dict)

    def add(self, text):
        label = self.label
        have = len(self.kept.get(label, ""))
        room = max(0, min(self.per_label - have, self.total - self.kept_total))
        if room:
            self.kept[label] = self.kept.get(label, "") + text[:room]
            self.kept_total += min(room, len(text))
        if len(text) > room:
            self.dropped[label] = self.dropped.get(label, 0) + len(text) - room

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
        self.replayable = []  # cells that finished (with or without an exception)
        self.restarts = 0
        self.deaths = []  # human-readable reasons
        self.output = OutputLog(self.limits.output_per_cell, self.limits.output_total)
        self.started = time.monotonic()
        self.sandbox = None
        self.proc = None

    # -- lifecycle ------------------------------------------------------------

    def __enter__(self):
        sweep_stale_sandboxes(max_age=2 * self.limits.budget)
        self.sandbox = Path(tempfile.mkdtemp(prefix=SANDBOX_PREFIX))
        (self.sandbox / OWNER_FILE).write_text(str(os.getpid()))
        _fill_sandbox(self.sandbox)
        self._spawn()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._kill()
        if self.sandbox is not None:
            shutil.rmtree(self.sandbox, ignore_errors=True)
            self.sandbox = None

    def remaining(self):
        return self.limits.budget - (time.monotonic() - self.started)

    def _spawn(self):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        limits = {
            "memory_mb": self.limits.memory_mb,
            "file_size_mb": self.limits.file_size_mb,
            "cpu_s": int(self.limits.budget) + 30,
            "max_processes": self.limits.max_processes,
        }
        env = _worker_env(self.sandbox)
        try:
            self.proc = subprocess.Popen(
                [self.python, "-I", str(self.sandbox / WORKER_FILE), str(self.sandbox), str(req_r), str(resp_w), json.dumps(limits)],
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(req_r, resp_w),
                cwd=self.sandbox,
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
        except (TimeoutError, WorkerLost) as exc:
            self._kill()
            raise WorkerLost(f"the grading process did not start: {exc}") from None
        if not hello.get("ok"):
            raise WorkerLost("the grading process did not start")

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
            except OSError:
                pass
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

    def _receive(self, deadline):
        data = bytearray()
        need = wire._LEN.size
        size = None
        max_bytes = self.limits.max_message_mb << 20
        while len(data) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            readable, _, _ = select.select([self.resp_r], [], [], left)
            if not readable:
                continue
            chunk = os.read(self.resp_r, min(need - len(data), 1 << 20))
            if not chunk:
                raise WorkerLost(self._death_reason())
            data += chunk
            if size is None and len(data) >= wire._LEN.size:
                size = wire._LEN.unpack_from(data)[0]
                if size > max_bytes:
                    raise WorkerLost(f"the process sent {size} bytes, over the limit of {max_bytes}")
                need = wire._LEN.size + size
        return wire.unpack(bytes(data[wire._LEN.size :]))

    def _exchange(self, header, arrays, deadline):
        self._send(wire.pack(header, arrays), deadline)
        return self._receive(deadline)

    def _request(self, header, arrays, timeout):
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
            return self._exchange(header, arrays, time.monotonic() + timeout)
        except WorkerLost as exc:
            self._revive(str(exc))
            raise
        except TimeoutError:
            pass
        try:
            os.kill(self.proc.pid, signal.SIGINT)
            self._receive(time.monotonic() + self.limits.interrupt_grace)
        except (TimeoutError, WorkerLost, ProcessLookupError, wire.ProtocolError):
            reason = f"it ran past {timeout:.0f} s and ignored the interrupt, so the process was restarted"
            self._revive(reason)
            raise Stuck(reason) from None
        raise TimeoutError(f"it ran past {timeout:.0f} s and was interrupted")

    def _revive(self, reason):
        """Replace a dead or stuck worker and replay the cells that had finished.

        A replayed cell that fails again is dropped from the replay list, and the
        worker is replaced once more, up to the restart allowance.
        """
        while True:
            self._kill()
            self.deaths.append(reason)
            self.restarts += 1
            if self.restarts > self.limits.max_restarts:
                raise BudgetExhausted(f"the process had to be restarted more than {self.limits.max_restarts} times")
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
            deaths = len(self.deaths)
            try:
                timeout = min(self.limits.cell_timeout, self.remaining() - self.limits.checks_reserve)
                reply, _ = self._request({"op": "exec", "code": code}, [], timeout)
            except (TimeoutError, Stuck) as exc:
                report.status, report.error = "timeout", f"stopped: {exc}"
            except WorkerLost as exc:
                report.status, report.error = "died", str(exc)
            except BudgetExhausted as exc:
                if len(self.deaths) > deaths:  # it died, and no restart was left
                    report.status, report.error = "died", f"{self.deaths[deaths]}; {exc}"
                else:
                    report.error = f"not run: {exc}"
            else:
                self.replayable.append(report.index)
                report.status = "ok" if reply["ok"] else "error"
                if not reply["ok"]:
                    err = reply.get("error") or {}
                    report.error = f"{err.get('type')}: {err.get('message')}"
            report.seconds = time.monotonic() - start

    # -- calling student functions ---------------------------------------------------

    def call(self, fn, args, *, return_args=False, many=False, pick=None, timeout=None):
        """Call student function `fn` with the tuple `args` (or each tuple of `args` if many).

        Returns the decoded value (its item `pick` if given, for each call), or
        (value, args_after_call) with return_args.
        Raises StudentError, CallTimeout, WorkerLost or BudgetExhausted.
        """
        self.output.label = f"checks ({fn})"
        tree, arrays = wire.encode(list(args) if many else tuple(args))
        header = {"op": "call", "fn": fn, "args": tree, "return_args": return_args, "many": many, "pick": pick}
        try:
            reply, arrays = self._request(header, arrays, timeout or self.limits.call_timeout)
        except TimeoutError as exc:
            raise CallTimeout(str(exc)) from None
        if not reply["ok"]:
            raise StudentError(reply.get("error") or {})
        try:
            value, after = wire.decode(reply["value"], arrays)
        except (wire.ProtocolError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise StudentError({"type": "UnreadableResult", "message": f"the result could not be read: {exc}"}) from None
        return (value, after) if return_args else value

    def defined_names(self):
        reply, arrays = self._request({"op": "names"}, [], self.limits.call_timeout)
        return set(wire.decode(reply["value"], arrays))


def sweep_stale_sandboxes(max_age):
    """Remove sandboxes whose grader died without cleaning up (e.g. it was SIGKILLed)."""
    for path in Path(tempfile.gettempdir()).glob(SANDBOX_PREFIX + "*"):
        try:
            owner = int((path / OWNER_FILE).read_text())
            os.kill(owner, 0)
            continue  # its grader is alive
        except ProcessLookupError:
            pass  # its grader is gone
        except PermissionError:
            continue  # alive, and someone else's
        except (OSError, ValueError):
            try:
                if time.time() - path.stat().st_mtime < max_age:
                    continue
            except OSError:
                continue
        shutil.rmtree(path, ignore_errors=True)


def _pump_output(fd, log):
    with os.fdopen(fd, "rb", buffering=0) as stream:
        while True:
            chunk = stream.read(65536)
            if not chunk:
                return
            log.add(chunk.decode("utf-8", errors="replace"))


def _worker_env(sandbox):
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(sandbox),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(sandbox / ".matplotlib"),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _fill_sandbox(sandbox):
    """Everything student code may see: the public package, the worker, an otter stand-in."""
    shutil.copy2(wire.__file__, sandbox / WORKER_FILE)
    shutil.copytree(
        Path(backprop_lab.__file__).parent,
        sandbox / "backprop_lab",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (sandbox / "otter").mkdir()
    (sandbox / "otter" / "__init__.py").write_text(OTTER_SHIM)
