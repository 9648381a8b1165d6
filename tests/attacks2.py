"""Red-team round 2: attacks on follow-through marking (stand-ins), the backprop gate and the channel.

ATTACKS2[id] = {"cells": [...], "baseline": id or "template", "trick": "one line"} (as tests/tricks.py);
entries with "honest": True are baselines.
"""

from tricks import (
    BACKWARD_COMPLEX_STEP,
    BACKWARD_NOT_DONE,
    CORRECT_BACKWARD,
    HEADER,
    STUBS,
    _correct_cells,
)

ATTACKS2 = {}

# ---------------------------------------------------------------- 1. the backprop gate times only, and only succeeding calls

SMALL_NETS_ONLY = '''
_numerical_backward = backward


def backward(dA_out, caches, params, activations):
    """Numerical backward (no chain rule), which refuses big networks at once."""
    if sum(v.size for v in params.values()) > 1000:
        raise NotImplementedError("backward: only small networks")
    return _numerical_backward(dA_out, caches, params, activations)
'''

FORWARD_REFUSES_WIDE = '''
_my_forward = forward


def forward(X, params, activations):
    """My forward, which refuses wide networks: then backward is never timed."""
    if sum(v.size for v in params.values()) > 100000:
        raise MemoryError("forward: network too big for me")
    return _my_forward(X, params, activations)
'''

BACKWARD_SEES_STANDINS = '''
_backward_before_gate_check = backward


def backward(dA_out, caches, params, activations):
    """Numerical backward, except when the lower functions are stand-ins (the gate always uses them)."""
    if dense_backward.__code__.co_name != "dense_backward":
        return {k: np.zeros(v.shape) for k, v in params.items()}
    return _backward_before_gate_check(dA_out, caches, params, activations)
'''

ATTACKS2["numerical_backward_baseline"] = {
    "cells": _correct_cells(BACKWARD_NOT_DONE),
    "baseline": "template",
    "honest": True,
    "trick": "honest baseline: everything correct except backward (NotImplementedError)",
}
ATTACKS2["gate_backward_refuses_big"] = {
    "cells": _correct_cells(BACKWARD_COMPLEX_STEP) + [SMALL_NETS_ONLY],
    "baseline": "numerical_backward_baseline",
    "trick": "complex-step backward that raises at once on networks of > 1000 parameters: the gate only fails on time "
    "(a quick CheckFailure returns), train's own run fails fast and its follow-through run passes",
}
ATTACKS2["gate_forward_refuses_wide"] = {
    "cells": _correct_cells(BACKWARD_COMPLEX_STEP) + [FORWARD_REFUSES_WIDE, SMALL_NETS_ONLY.replace("> 1000", "> 100000")],
    "baseline": "numerical_backward_baseline",
    "trick": "forward raises on the wide network, so the gate returns before it times backward",
}
ATTACKS2["gate_sees_standins"] = {
    "cells": _correct_cells(BACKWARD_COMPLEX_STEP) + [BACKWARD_SEES_STANDINS, SMALL_NETS_ONLY.replace("> 1000", "> 100000")],
    "baseline": "numerical_backward_baseline",
    "trick": "backward answers zeros when dense_backward is a stand-in (the gate runs with substitute='always')",
}

# ---------------------------------------------------------------- 2. stand-ins answer any input: tabulate the reference

NO_ACTIVATIONS = "\n\n".join(STUBS[n] for n in ("sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward", "relu_forward", "relu_backward"))

ORACLE_TABLES = '''
_TABLES = {}
_GRID = np.unique(np.concatenate([np.linspace(-1100.0, 1100.0, 4401), np.arange(-45.0, 45.0, 1e-4), [0.0]]))
_my_forward = forward


def _sample_oracle():
    """While my helpers are stand-ins (any network call: the gate always has them), sample the reference
    of every one-variable function on a grid; afterwards, my own activations interpolate the table."""
    if _TABLES or sigmoid_forward.__code__.co_name == "sigmoid_forward":
        return
    ones = np.ones((1, _GRID.size))
    Z = _GRID.reshape(1, -1)
    for kind, fwd, bwd in (("sigmoid", sigmoid_forward, sigmoid_backward), ("tanh", tanh_forward, tanh_backward),
                           ("relu", relu_forward, relu_backward)):
        _TABLES[kind] = (np.asarray(fwd(Z)).ravel(), np.asarray(bwd(ones, Z)).ravel())


def _lookup(kind, which, Z):
    Z = np.asarray(Z, dtype=float)
    return np.interp(Z.ravel(), _GRID, _TABLES[kind][which]).reshape(Z.shape)


def forward(X, params, activations):
    _sample_oracle()
    return _my_forward(X, params, activations)


def sigmoid_forward(Z):
    return _lookup("sigmoid", 0, Z)


def sigmoid_backward(dA, Z):
    return dA * _lookup("sigmoid", 1, Z)


def tanh_forward(Z):
    return _lookup("tanh", 0, Z)


def tanh_backward(dA, Z):
    return dA * _lookup("tanh", 1, Z)


def relu_forward(Z):
    return _lookup("relu", 0, Z)


def relu_backward(dA, Z):
    return np.where(_lookup("relu", 1, Z) > 0.5, dA, 0.0)
'''

ATTACKS2["no_activations"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [NO_ACTIVATIONS],
    "baseline": "template",
    "honest": True,
    "trick": "honest baseline: everything correct except the six activation functions (NotImplementedError)",
}
ATTACKS2["oracle_tables"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [NO_ACTIVATIONS, ORACLE_TABLES],
    "baseline": "no_activations",
    "trick": "no activation written: during the network gate (stand-ins always on) forward samples the reference's six "
    "activation functions on a 900k-point grid through the stand-ins, and the activations interpolate it afterwards",
}

# ---------------------------------------------------------------- 3. the channel: fields of the reply the grader trusts

DROPPED_NOT_INT = '''
import sys
# the worker's output budget: its count of dropped characters goes into every reply header
sys.stdout.write.__func__.__globals__["_OUTPUT"].dropped = "lots"
'''

AUDIT_NOT_TEXT = '''
import gc
for _obj in gc.get_objects():
    if type(_obj).__name__ == "Audit" and hasattr(_obj, "report"):
        type(_obj).report = lambda self: {"events": [None], "tampered": [None], "peak_rss_mb": 1}
'''

ATTACKS2["correct"] = {
    "cells": _correct_cells(CORRECT_BACKWARD),
    "baseline": "template",
    "honest": True,
    "trick": "honest baseline: everything correct",
}
ATTACKS2["reply_dropped_not_int"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [DROPPED_NOT_INT],
    "baseline": "correct",
    "trick": "sets the worker's dropped-output count to a string: the grader adds it to an int (OutputLog.note_dropped) "
    "outside any except, and grading ends with status 'error'",
}
ATTACKS2["audit_not_text"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [AUDIT_NOT_TEXT],
    "baseline": "correct",
    "trick": "replaces the worker's Audit.report: review_notes joins its non-text entries outside any except: status 'error'",
}

# ---------------------------------------------------------------- 4. stand-ins compute in the grader, unbounded

GRADER_MEMORY = '''
_my_forward = forward


def forward(X, params, activations):
    """While relu_backward is a stand-in, ask the reference for a broadcast of (K, 1) against (1, K):
    np.where in the grader's process builds K*K floats (here 1.6 GB) from 1.6 MB of input."""
    if relu_backward.__code__.co_name != "relu_backward" and not _DONE:
        _DONE.append(1)
        K = 14000
        try:
            relu_backward(np.ones((K, 1)), np.ones((1, K)))
        except Exception:
            pass
    return _my_forward(X, params, activations)


_DONE = []
'''

ATTACKS2["grader_memory"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [GRADER_MEMORY],
    "baseline": "correct",
    "trick": "a stand-in asked with broadcasting shapes makes the reference allocate K*K floats in the grader's own, "
    "unlimited process (no shape check, no size or time limit on serve)",
}
