"""The process that runs student code: it executes the notebook's cells and calls student functions.

The grader copies this file into the sandbox's runtime folder, beside copies of the modules it
imports (wire, standins, guard, jail: see folders.RUNTIME), and starts it as
`python -I _bpk_worker.py SANDBOX REQ_FD RESP_FD LIMITS`. The worker executes the
notebook's cells one by one, then calls student functions with the inputs the
grader sends. Every call takes the same path, whatever the grader wants it for.
During a call, the grader may name lower functions to be answered by the
reference (follow-through marking): for that call they are stand-ins that send
their inputs to the grader and return its answer (see standins.substituted). Only
plain data crosses back (see wire.py). Nothing is ever pickled.

This file imports nothing from the kit: it must run in the sandbox with its copied modules alone.
"""

import json
import os
import sys

if __package__:  # imported as backprop_kit.sandbox.worker
    from . import guard, jail, standins, wire
else:  # runtime/_bpk_worker.py: its modules are the copies beside it (see folders.RUNTIME)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _bpk_guard as guard
    import _bpk_jail as jail
    import _bpk_standins as standins
    import _bpk_wire as wire

    del sys.path[0]


# -- the worker loop ---------------------------------------------------------


class Worker:
    def __init__(self, sandbox, req_fd, resp_fd, isolation="none", audit=None):
        self.req_fd, self.resp_fd = req_fd, resp_fd
        self.isolation, self.audit = isolation, audit
        self.objects = {}
        self.shell = None
        import threading

        self.channel = threading.Lock()  # one frame exchange at a time, whichever thread asks
        self.in_call = False  # stand-ins answer only while a call runs
        self.turn = None  # the id of the request being served
        self.namespace = {"__name__": "__main__"}

    # handles for objects that cannot cross
    def store(self, obj):
        key = len(self.objects) + 1
        self.objects[key] = obj
        return key

    def resolve(self, key):
        try:
            return self.objects[key]
        except KeyError:
            raise wire.ProtocolError(f"no object behind handle {key}") from None

    def reply(self, header, value=None):
        tree, arrays = wire.encode(value, self.store)
        # output cut in this process is reported, so the grader can say output was cut
        frame = wire.pack(dict(header, value=tree, dropped=_OUTPUT.dropped, id=self.turn), arrays)
        with self.channel:  # a stand-in's question from another thread never interleaves with it
            self.in_call = False
            wire.write_all(self.resp_fd, frame)

    def run(self):
        import numpy  # noqa: F401  (decode needs it loaded)

        self.reply({"ok": True, "pid": os.getpid(), "isolation": self.isolation})
        while True:
            try:
                body = wire.read_frame(self.req_fd, 1 << 40)
            except EOFError:
                return
            header, arrays = wire.unpack(body)
            self.turn = header.get("id")  # every frame sent until the next request carries it
            _OUTPUT.reset()
            try:
                self.handle(header, arrays)
            except Exception as exc:  # noqa: BLE001 - e.g. a result nested too deeply: report it, keep serving
                self.reply({"ok": False, "error": _error_info(exc)})

    def handle(self, request, arrays):
        op = request["op"]
        if op == "exec":
            self.reply(self.exec_cell(request["code"]))
        elif op == "call":
            self.call(request, arrays)
        elif op == "audit":
            self.reply({"ok": True}, self.audit.report() if self.audit else {"events": [], "tampered": []})
        elif op == "names":
            names = sorted(k for k, v in self.namespace.items() if callable(v) and not k.startswith("_"))
            self.reply({"ok": True}, names)
        else:
            self.reply({"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}"}})

    def exec_cell(self, code):
        if self.shell is None:
            import contextlib

            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            class Shell(InteractiveShell):
                @contextlib.contextmanager
                def _tee(self, channel):
                    # IPython 9 keeps a copy of everything printed, in memory, for its history:
                    # a print loop would fill the memory and run four times slower. Not here.
                    yield

            settings = Config()
            settings.HistoryManager.enabled = False
            settings.InteractiveShell.colors = "nocolor"
            self.shell = Shell.instance(config=settings, user_ns=self.namespace)
        try:
            with _interruptible():
                result = self.shell.run_cell(code, store_history=False)
        except BaseException as exc:  # noqa: BLE001 - report anything, keep serving
            return {"ok": False, "error": _error_info(exc)}
        finally:
            _flush()
        exc = result.error_before_exec or result.error_in_exec
        return {"ok": exc is None, "error": _error_info(exc) if exc is not None else None, "memory_mb": _memory_in_use_mb()}

    def call(self, request, arrays):
        args = wire.decode(request["args"], arrays, self.resolve)
        fn = self.namespace.get(request["fn"])
        if not callable(fn):
            self.reply({"ok": False, "error": {"type": "NameError", "message": f"{request['fn']} is not defined", "missing": True}})
            return
        before = _identities(args)
        self.in_call = True
        raised = []  # the numerical warnings the call raised: the grader gives advice on them
        try:
            with standins.substituted(self.namespace, request.get("standins") or (), self.ask), _interruptible(), _numerical_warnings(raised):
                value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - the student's error is a result
            _flush()
            self.reply({"ok": False, "error": _error_info(exc), "warnings": raised})
            return
        _flush()
        # the arguments as they are after the call, so the grader can see mutation, and which
        # entries of a dict argument now hold another object (the dict itself was written into)
        self.reply({"ok": True, "replaced": _replaced(before, args), "warnings": raised}, (value, args))

    def ask(self, name, args, kwargs):
        """A stand-in's call: send the inputs to the grader, return the reference's answer.

        The question and its answer cross whole: an interrupt waits until both have (the
        grader answers every question, with "stop" once the call's time is up), so no part
        of a frame is ever left in a channel. Threads take turns; after the call, none may ask.
        """
        import signal

        tree, arrays = wire.encode((tuple(args), dict(kwargs)))
        frame = wire.pack({"ask": name, "args": tree, "id": self.turn}, arrays)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            with self.channel:
                if not self.in_call:
                    raise RuntimeError(f"{name}: the grader answers stand-ins only during its call")
                wire.write_all(self.resp_fd, frame)
                header, arrays = wire.unpack(wire.read_frame(self.req_fd, 1 << 40))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if header.get("stop"):
            raise KeyboardInterrupt
        if not header.get("ok"):
            raise ValueError(f"{name}: {header.get('error', 'the call was refused')}")
        return wire.decode(header["value"], arrays)


def _identities(args):
    """{path: id} of every value held in a dict argument, before the call."""
    found = {}
    for i, arg in enumerate(args):
        if type(arg) is dict:
            found.update({f"{i}:{key}": id(value) for key, value in arg.items()})
    return found


def _replaced(before, args):
    """Paths (argument index, key) of dict entries that now hold another object."""
    now = _identities(args)
    return sorted(path for path, ident in before.items() if now.get(path) != ident)


def _numerical_warnings(found):
    """A context that appends to `found` the text of each distinct RuntimeWarning raised inside."""
    import contextlib
    import warnings

    @contextlib.contextmanager
    def record():
        with warnings.catch_warnings(record=True) as caught:  # the student's own filters stay as they are
            try:
                yield
            finally:
                for w in caught[:1000]:
                    if isinstance(w.category, type) and issubclass(w.category, RuntimeWarning):
                        text = " ".join(f"{w.category.__name__}: {w.message}"[: 4 * wire.WARNING_TEXT].split())[:wire.WARNING_TEXT]
                        if text not in found and len(found) < wire.WARNINGS_KEPT:
                            found.append(text)

    return record()


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a student may have replaced the stream
            pass


def _error_info(exc):
    """Type, message and traceback of an exception; never raises, whatever the student's __str__ does."""
    import traceback

    def safe(describe):
        try:
            return str(describe())
        except BaseException:  # noqa: BLE001 - a student's exception may break str()
            return "<could not be described>"

    info = {
        "type": safe(lambda: type(exc).__name__)[:200],
        "message": safe(lambda: exc)[:2000],
        "traceback": safe(lambda: "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))[-4000:],
    }
    if isinstance(exc, MemoryError):  # numpy's is a subclass with another name
        info["memory"] = True
        info["memory_mb"] = _memory_in_use_mb()
    return info


def _memory_in_use_mb():
    """This process's address space in MB (what RLIMIT_AS counts), or None if unknown.

    Inside the jail /proc is the PID namespace's own, so /proc/self is still this process.
    """
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") >> 20
    except (OSError, ValueError, IndexError):
        return None


class _OutputBudget:
    """The characters of output one request may still write, shared by stdout and stderr."""

    def __init__(self):
        self.cap = self.room = 0
        self.dropped = 0

    def reset(self):
        self.room, self.dropped = self.cap, 0


_OUTPUT = _OutputBudget()


class _CappedStream:
    """sys.stdout and sys.stderr of the worker: past the cap, text is counted and dropped.

    Dropping here costs no system call, so a print loop of a million lines stays
    cheap. Output that bypasses it (os.write, subprocesses) is capped by the grader.
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        if _OUTPUT.room <= 0 and type(text) is str:  # the usual flood: count, drop, return (kept short: it is hot)
            _OUTPUT.dropped += len(text)
            return len(text)
        if not isinstance(text, str):
            return self._stream.write(text)  # the real stream raises its usual TypeError
        if len(text) <= _OUTPUT.room:
            _OUTPUT.room -= len(text)
            return self._stream.write(text)
        if _OUTPUT.room > 0:
            self._stream.write(text[: _OUTPUT.room])
        _OUTPUT.dropped += len(text) - _OUTPUT.room
        _OUTPUT.room = 0
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _interruptible:
    """SIGINT raises KeyboardInterrupt only while student code runs.

    Outside (waiting for a request, sending a reply) it is ignored, so an interrupt
    that arrives just after a cell finished cannot break the channel.
    """

    def __enter__(self):
        import signal

        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc):
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)


def main(argv):
    sandbox, req_fd, resp_fd = argv[1], int(argv[2]), int(argv[3])
    limits = json.loads(argv[4])
    guard.apply_limits(limits)
    isolation = jail.enter(dict(limits.get("jail", {}), sandbox=sandbox))
    guard.die_with_parent(__import__("signal").SIGKILL)  # a change of user clears the parent-death signal
    _OUTPUT.cap = limits["output_per_cell"]
    sys.stdout, sys.stderr = _CappedStream(sys.stdout), _CappedStream(sys.stderr)
    os.chdir(sandbox)
    # Everything this file needs is loaded before the sandbox joins the import path: a module that
    # student code wrote there (a numpy/ folder, a traceback.py), which a restarted worker would
    # otherwise find first, can never stand in for them. numpy is loaded before student code so
    # that the audit keeps its original functions.
    for name in PRELOADED:
        __import__(name)
    sys.meta_path.insert(0, guard.Unavailable(limits.get("unavailable", ())))

    # entries the jail hid (an editable install's source folder) would only make imports look there
    sys.path[:] = [sandbox] + [p for p in sys.path if p and os.path.isdir(p)]
    python_dirs = limits.get("jail", {}).get("read_only", [])
    audit = guard.Audit(sandbox, [sandbox, *python_dirs, "/usr", "/etc", "/dev", "/tmp", "/proc", "/sys", "/lib"], python_dirs)
    Worker(sandbox, req_fd, resp_fd, isolation, audit).run()


PRELOADED = ("numpy", "numpy.testing", "numpy.linalg", "IPython.core.interactiveshell", "traitlets.config", "traceback",
             "signal", "resource", "threading", "contextlib", "functools", "types", "importlib", "ctypes", "warnings")


if __name__ == "__main__":
    main(sys.argv)
