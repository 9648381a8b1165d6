"""The process that runs student code, and the wire format it speaks.

The grader copies this file alone into the sandbox and starts it as
`python -I _bpk_worker.py SANDBOX REQ_FD RESP_FD`. The worker executes the
notebook's cells one by one, then calls student functions with the inputs the
grader sends. Every call takes the same path, whatever the grader wants it for.
During a call, the grader may name lower functions to be answered by the
reference (follow-through marking): for that call they are stand-ins that send
their inputs to the grader and return its answer (see `substituted`). Only
plain data crosses back: numbers, strings, numeric arrays,
and lists, tuples and dicts of them. Anything else (a student's cache object,
say) stays in the worker and crosses as an opaque handle the grader can pass
back in a later call. Nothing is ever pickled.

Frame: 8-byte little-endian body length, then the body: 4-byte header length,
a JSON header, and the raw bytes of every array, in order.

This file imports nothing from the kit: it must run alone in the sandbox.
"""

import json
import os
import struct
import sys

_LEN = struct.Struct("<Q")
_HLEN = struct.Struct("<I")
_NUMERIC_KINDS = "biufc"


class Handle:
    """An object that stayed in the worker; only its id and type name cross."""

    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name=""):
        self.id = int(id)
        self.type_name = str(type_name)

    def __repr__(self):
        return f"<{self.type_name} object kept in the student's process>"


class ProtocolError(Exception):
    """A frame that breaks the wire format or its limits."""


# -- encoding ---------------------------------------------------------------


def encode(obj, store=None):
    """Return (tree, arrays): a JSON-able tree and the arrays it points to.

    `store(obj) -> id` keeps unencodable objects behind a handle; without it
    they cross as a description of their type only.
    """
    np = sys.modules.get("numpy")
    arrays = []

    def enc(x, depth):
        if depth > 64:
            raise ProtocolError("value nested too deeply")
        if x is None or isinstance(x, (bool, str)):
            return x
        if type(x) is int:
            return x if abs(x) < 2**63 else {"__big__": str(x)}
        if type(x) is float:
            return {"__f__": repr(x)} if x != x or x in (float("inf"), float("-inf")) else x
        if np is not None and isinstance(x, np.ndarray) and x.dtype.kind in _NUMERIC_KINDS:
            arrays.append(np.array(x, dtype=x.dtype.newbyteorder("="), order="C", subok=False))
            return {"__a__": len(arrays) - 1}
        if np is not None and isinstance(x, np.generic) and x.dtype.kind in _NUMERIC_KINDS:
            arrays.append(np.array(x, dtype=x.dtype.newbyteorder("=")).reshape(()))
            return {"__s__": len(arrays) - 1}
        if isinstance(x, Handle):
            return {"__h__": x.id, "t": x.type_name}
        if type(x) is list:
            return [enc(v, depth + 1) for v in x]
        if type(x) is tuple:
            return {"__t__": [enc(v, depth + 1) for v in x]}
        if type(x) is dict and all(type(k) is str for k in x):
            return {"__d__": {k: enc(v, depth + 1) for k, v in x.items()}}
        type_name = type(x).__name__
        if store is None:
            return {"__o__": type_name}
        return {"__h__": store(x), "t": type_name}

    return enc(obj, 0), arrays


def decode(tree, arrays, resolve=None):
    """Inverse of encode. `resolve(id)` turns a handle back into its object."""
    np = sys.modules.get("numpy")

    def dec(x):
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict):
            return x
        if "__a__" in x:
            return arrays[x["__a__"]]
        if "__s__" in x:
            return arrays[x["__s__"]].reshape(())[()]
        if "__f__" in x:
            return float(x["__f__"])
        if "__big__" in x:
            return int(x["__big__"])
        if "__t__" in x:
            return tuple(dec(v) for v in x["__t__"])
        if "__d__" in x:
            return {k: dec(v) for k, v in x["__d__"].items()}
        if "__h__" in x:
            return resolve(x["__h__"]) if resolve else Handle(x["__h__"], x.get("t", ""))
        if "__o__" in x:
            return Handle(-1, x["__o__"])
        raise ProtocolError("a value with an unknown tag")

    if np is None and arrays:
        raise ProtocolError("arrays received but numpy is not loaded")
    return dec(tree)


def pack(header, arrays=()):
    metas = [[a.dtype.str, list(a.shape)] for a in arrays]
    head = json.dumps({"h": header, "m": metas}, allow_nan=False).encode()
    body = [_HLEN.pack(len(head)), head] + [a.tobytes() for a in arrays]
    size = sum(len(b) for b in body)
    return _LEN.pack(size) + b"".join(body)


def unpack(body, max_header=None):
    """Split a frame body into (header, arrays), validating every array.

    Raises ProtocolError, whose message never quotes the frame (the other side may be hostile),
    for anything that breaks the format; a header longer than `max_header` bytes is refused
    before it is parsed, so what parsing costs stays bounded.
    """
    import numpy as np

    if len(body) < _HLEN.size:
        raise ProtocolError("frame too short")
    (hlen,) = _HLEN.unpack_from(body)
    if max_header is not None and hlen > max_header:
        raise ProtocolError(f"a header of {hlen} bytes, over the limit of {max_header}")
    try:
        meta = json.loads(bytes(body[_HLEN.size : _HLEN.size + hlen]))
        header, metas = meta["h"], meta["m"]
        if not isinstance(metas, list):
            raise TypeError("array list")
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ProtocolError("unreadable header") from None
    arrays, offset = [], _HLEN.size + hlen
    for item in metas:
        try:
            dtype_str, shape = item
            dtype = np.dtype(dtype_str) if type(dtype_str) is str else None
        except (TypeError, ValueError):
            raise ProtocolError("unreadable array description") from None
        if dtype is None or dtype.kind not in _NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise ProtocolError("an array of a refused type")
        if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError("bad array shape")
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n
        if offset + nbytes > len(body):
            raise ProtocolError("array runs past the frame")
        arr = np.frombuffer(body, dtype=dtype, count=nbytes // dtype.itemsize if dtype.itemsize else 0, offset=offset)
        arrays.append(arr.reshape(shape).copy())
        offset += nbytes
    return header, arrays


def read_frame(fd, max_bytes):
    size = _LEN.unpack(_read_exact(fd, _LEN.size))[0]
    if size > max_bytes:
        raise ProtocolError(f"reply of {size} bytes is over the limit of {max_bytes}")
    return _read_exact(fd, size)


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
            raise ProtocolError(f"no object behind handle {key}") from None

    def reply(self, header, value=None):
        tree, arrays = encode(value, self.store)
        # output cut in this process is reported, so the grader can say output was cut
        frame = pack(dict(header, value=tree, dropped=_OUTPUT.dropped, id=self.turn), arrays)
        with self.channel:  # a stand-in's question from another thread never interleaves with it
            self.in_call = False
            write_all(self.resp_fd, frame)

    def run(self):
        import numpy  # noqa: F401  (decode needs it loaded)

        self.reply({"ok": True, "pid": os.getpid(), "isolation": self.isolation})
        while True:
            try:
                body = read_frame(self.req_fd, 1 << 40)
            except EOFError:
                return
            header, arrays = unpack(body)
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
        args = decode(request["args"], arrays, self.resolve)
        fn = self.namespace.get(request["fn"])
        if not callable(fn):
            self.reply({"ok": False, "error": {"type": "NameError", "message": f"{request['fn']} is not defined", "missing": True}})
            return
        before = _identities(args)
        self.in_call = True
        raised = []  # the numerical warnings the call raised: the grader gives advice on them
        try:
            with substituted(self.namespace, request.get("standins") or (), self.ask), _interruptible(), _numerical_warnings(raised):
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

        tree, arrays = encode((tuple(args), dict(kwargs)))
        frame = pack({"ask": name, "args": tree, "id": self.turn}, arrays)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            with self.channel:
                if not self.in_call:
                    raise RuntimeError(f"{name}: the grader answers stand-ins only during its call")
                write_all(self.resp_fd, frame)
                header, arrays = unpack(read_frame(self.req_fd, 1 << 40))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if header.get("stop"):
            raise KeyboardInterrupt
        if not header.get("ok"):
            raise ValueError(f"{name}: {header.get('error', 'the call was refused')}")
        return decode(header["value"], arrays)


def _standin(*args, _bpk_name="", _bpk_ask=None, **kwargs):
    return _bpk_ask(_bpk_name, args, kwargs)


_STANDIN_CODES = {0: _standin.__code__}


def _standin_code(free):
    """The stand-in's code with `free` free variables: a closure's code can only be swapped for
    code with as many. The variables are never read."""
    if free not in _STANDIN_CODES:
        names = [f"_bpk_cell{i}" for i in range(free)]
        source = "def _outer():\n" + "".join(f"    {v} = None\n" for v in names)
        source += "    def _standin(*args, _bpk_name='', _bpk_ask=None, **kwargs):\n"
        source += f"        if False:\n            ({', '.join(names)},)\n"
        source += "        return _bpk_ask(_bpk_name, args, kwargs)\n    return _standin\n"
        scope = {}
        exec(source, scope)  # noqa: S102 - our own fixed text
        _STANDIN_CODES[free] = scope["_outer"]().__code__
    return _STANDIN_CODES[free]


class substituted:
    """For the duration, the namespace's functions `names` answer through `ask(name, args, kwargs)`.

    The student's own objects are changed in place, so a dict, a class or a default argument
    that holds them reaches the stand-in too: a function gets the stand-in's code, a
    functools.partial the stand-in as its function, a callable object a class whose __call__
    is the stand-in. Anything else (or a missing name) is replaced by name. Everything is put
    back on exit.
    """

    def __init__(self, namespace, names, ask):
        self.namespace, self.names, self.ask = namespace, tuple(names), ask
        self.saved = []

    def __enter__(self):
        import functools
        import types

        for name in self.names:
            kw = {"_bpk_name": name, "_bpk_ask": self.ask}
            standin = types.FunctionType(_standin.__code__, {}, name)
            standin.__kwdefaults__ = kw
            fn = self.namespace.get(name, _MISSING)
            if type(fn) is types.FunctionType:
                self.saved.append(("code", fn, (fn.__code__, fn.__defaults__, fn.__kwdefaults__)))
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = _standin_code(len(fn.__closure__ or ())), None, kw
                continue
            if type(fn) is functools.partial:
                self.saved.append(("partial", fn, fn.__reduce__()[2]))
                fn.__setstate__((standin, (), {}, None))
                continue
            if callable(fn) and not isinstance(fn, type) and hasattr(fn, "__dict__"):
                try:
                    cls = type(fn)
                    fn.__class__ = type(cls.__name__, (cls,), {"__call__": lambda self, *a, _s=standin, **k: _s(*a, **k)})
                    self.saved.append(("class", fn, cls))
                    continue
                except TypeError:
                    pass
            self.saved.append(("name", name, fn))
            self.namespace[name] = standin
        return self

    def __exit__(self, *exc):
        for kind, target, old in reversed(self.saved):
            if kind == "code":
                target.__code__, target.__defaults__, target.__kwdefaults__ = old
            elif kind == "partial":
                target.__setstate__(old)
            elif kind == "class":
                target.__class__ = old
            elif old is _MISSING:
                self.namespace.pop(target, None)
            else:
                self.namespace[target] = old
        self.saved = []


_MISSING = object()


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


WARNINGS_KEPT, WARNING_TEXT = 3, 160  # per call: distinct warnings, characters of each (session checks both)


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
                        text = " ".join(f"{w.category.__name__}: {w.message}"[: 4 * WARNING_TEXT].split())[:WARNING_TEXT]
                        if text not in found and len(found) < WARNINGS_KEPT:
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


def main(argv):
    sandbox, req_fd, resp_fd = argv[1], int(argv[2]), int(argv[3])
    limits = json.loads(argv[4])
    apply_limits(limits)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # runtime/: the jail module
    import _bpk_jail

    del sys.path[0]
    isolation = _bpk_jail.enter(dict(limits.get("jail", {}), sandbox=sandbox))
    die_with_parent(__import__("signal").SIGKILL)  # a change of user clears the parent-death signal
    _OUTPUT.cap = limits["output_per_cell"]
    sys.stdout, sys.stderr = _CappedStream(sys.stdout), _CappedStream(sys.stderr)
    os.chdir(sandbox)
    # Everything this file needs is loaded before the sandbox joins the import path: a module that
    # student code wrote there (a numpy/ folder, a traceback.py), which a restarted worker would
    # otherwise find first, can never stand in for them. numpy is loaded before student code so
    # that the audit keeps its original functions.
    for name in PRELOADED:
        __import__(name)
    sys.meta_path.insert(0, Unavailable(limits.get("unavailable", ())))

    # entries the jail hid (an editable install's source folder) would only make imports look there
    sys.path[:] = [sandbox] + [p for p in sys.path if p and os.path.isdir(p)]
    python_dirs = limits.get("jail", {}).get("read_only", [])
    audit = Audit(sandbox, [sandbox, *python_dirs, "/usr", "/etc", "/dev", "/tmp", "/proc", "/sys", "/lib"], python_dirs)
    Worker(sandbox, req_fd, resp_fd, isolation, audit).run()


PRELOADED = ("numpy", "numpy.testing", "numpy.linalg", "IPython.core.interactiveshell", "traitlets.config", "traceback",
             "signal", "resource", "threading", "contextlib", "functools", "types", "importlib", "ctypes", "warnings")


if __name__ == "__main__":
    main(sys.argv)
