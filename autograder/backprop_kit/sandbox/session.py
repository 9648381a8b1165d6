"""Run one notebook's code in a sandboxed worker and call its functions.

A Session owns a throwaway sandbox directory and the worker process inside it
(see worker.py; channel.py starts it and speaks to it). It executes the notebook
cell by cell under a per-cell time limit and a per-submission budget. A cell
that runs too long is interrupted;
a worker that dies, ignores the interrupt or runs out of memory is replaced by
a fresh one that replays the cells that had finished, so the functions the
notebook defined can still be graded. Output is capped in the worker and again
as it is read here.

The grader then calls student functions through `call`. Results come back as
plain data, decoded here with a whitelist (see wire.decode); comparisons
happen in the grader's process, never in the worker.
"""

import os
import signal
import sys
import time
from dataclasses import dataclass

from backprop_lab import config

from . import container, wire
from .channel import FRAME_GRACE_S, Channel, reply_bound
from .errors import BudgetExhausted, CallTimeout, Stuck, StudentError, WorkerLost
from .folders import SANDBOX_PREFIX, claim_uid, fill_sandbox, owned_temp_dir, remove_tree, sweep_stale_dirs
from .limits import Limits, memory_limit_mb
from .output import OutputLog


@dataclass
class CellReport:
    index: int
    status: str = "pending"  # ok | error | timeout | died | skipped
    error: str = ""
    seconds: float = 0.0


class Session(Channel):
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
            fill_sandbox(self.sandbox, self.uid)
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

    # -- requests (the worker and its pipes: see channel.py) ----------------------

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
