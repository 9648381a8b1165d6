"""One worker process and the framed pipes to it, from the grader's side: start, send, receive, kill.

Student code runs in the worker and can write into the channel: every reply is bounded before it
is read and checked before it is trusted. Session (session.py) is a Channel that adds the
notebook, the budget and the revival of dead workers.
"""

import json
import os
import select
import signal
import subprocess
import threading
import time

from backprop_lab import config

from . import wire
from .errors import SetupError, WorkerLost
from .folders import WORKER_FILE, kill_orphans, python_dirs, unreadable_to_others
from .output import pump_output

START_TIMEOUT_S = 60.0
FRAME_GRACE_S = 5.0  # once a frame's length has arrived, how long its body may take
SMALL_REPLY = (1 << 20, 2 << 20)  # (header, body) bytes: a cell's result, the names, the audit


class Channel:
    """The worker of a Session and the pipes to it. Session.__init__ sets what these methods use:
    limits, python, sandbox, uid, group, memory_mb, output, proc, reader, req_w, resp_r and turn."""

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
            "read_only": python_dirs(self.python),
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
        reader = threading.Thread(target=pump_output, args=(out_r, self.output), daemon=True)
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
        kill_orphans()
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
