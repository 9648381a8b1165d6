"""Stand-ins: the reference answers the student's process for lower functions, within the contract and the check's own call."""

from functools import lru_cache

import numpy as np

from backprop_lab.callers import LocalCaller

from .loading import recording_reference, reference

STANDIN_MAX_ELEMENTS = 4_000_000  # no array a stand-in takes or makes is larger (the checks' largest is 262 144)


def serve(name, args, kwargs=None, allowed=None):
    """A stand-in's question from the student's process: the reference's answer.

    The inputs come from student code, so they are held to the contract first: 2-D arrays of
    matching shapes, none larger than STANDIN_MAX_ELEMENTS, so that no answer can cost this
    process more than a check's own calls would. With `allowed` (an Allowed), only inputs the
    reference's own run of the check's call would pass are answered.
    """
    from backprop_lab.contract import SIGNATURES

    if name not in SIGNATURES:
        raise LookupError(f"{name} is not a contract function")
    bound = _bind(name, args, kwargs or {})
    _within_contract(name, bound)
    if allowed is not None:
        allowed.check(name, bound)
    with np.errstate(all="ignore"):
        return getattr(reference(), name)(**bound)


class Allowed:
    """The stand-in questions one call may ask: the inputs its lower functions get in the
    reference's own run of the same call (or some of their columns, for code that works a column
    at a time). Before the hidden checks of a lower function have run, the reference must answer
    for it only where the check itself leads, never at points of the student's choosing: a
    student could otherwise tabulate the reference (say its tanh on a fine grid) and replay it.
    """

    def __init__(self, fn, args, names):
        self.calls = _record(fn, args, frozenset(names))
        self.next = {}

    def check(self, name, bound):
        calls = self.calls.get(name, [])
        start = self.next.get(name, 0)
        for k in [*range(start, len(calls)), *range(0, min(start, len(calls)))]:
            if _covers(calls[k], bound):
                self.next[name] = k
                return
        raise LookupError(f"{name}: the reference answers only for inputs this check itself leads to")


def _record(fn, args, names):
    """{name: [bound arguments, ...]}: the calls the reference's `fn(*args)` makes to `names`."""
    import copy
    import inspect

    module = recording_reference()
    calls = {name: [] for name in names}
    saved = {name: getattr(module, name) for name in names if hasattr(module, name)}

    def recorder(name, original):
        signature = inspect.signature(original)

        def record(*a, **k):
            bound = signature.bind(*a, **k)
            bound.apply_defaults()
            calls[name].append(copy.deepcopy(dict(bound.arguments)))
            return original(*a, **k)

        return record

    try:
        for name, original in saved.items():
            setattr(module, name, recorder(name, original))
        with np.errstate(all="ignore"):
            getattr(module, fn)(*copy.deepcopy(tuple(args)))
    except Exception:  # noqa: BLE001 - what was recorded before still stands
        pass
    finally:
        for name, original in saved.items():
            setattr(module, name, original)
    return calls


def _covers(recorded, asked):
    """`asked` is `recorded`, up to rounding, or (for 2-D arrays) some of its columns."""
    if isinstance(recorded, np.ndarray) or isinstance(asked, np.ndarray):
        if not (isinstance(recorded, np.ndarray) and isinstance(asked, np.ndarray)) or recorded.ndim != asked.ndim:
            return False
        if recorded.shape == asked.shape:
            return bool(np.allclose(asked, recorded, rtol=1e-7, atol=1e-12))
        if asked.ndim != 2 or asked.shape[0] != recorded.shape[0] or asked.shape[1] > recorded.shape[1]:
            return False
        close = np.isclose(asked[:, :, None], recorded[:, None, :], rtol=1e-7, atol=1e-12).all(axis=0)
        return bool(close.any(axis=1).all())
    if isinstance(recorded, dict):
        return isinstance(asked, dict) and recorded.keys() == asked.keys() and all(_covers(recorded[k], asked[k]) for k in recorded)
    if isinstance(recorded, (list, tuple)):
        return isinstance(asked, (list, tuple)) and len(recorded) == len(asked) and all(map(_covers, recorded, asked))
    if isinstance(recorded, float) or isinstance(asked, float):
        try:
            return abs(float(asked) - float(recorded)) <= 1e-12 * max(1.0, abs(float(recorded)))
        except (TypeError, ValueError):
            return False
    return type(recorded) is type(asked) and recorded == asked


@lru_cache(maxsize=None)
def _signature(name):
    import inspect

    return inspect.signature(getattr(reference(), name))


def _bind(name, args, kwargs):
    try:
        bound = _signature(name).bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None


def _matrix(name, what, x, rows=None, cols=None):
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.dtype.kind not in "fiu":
        raise ValueError(f"{name}: {what} should be a 2-D array of numbers, got {type(x).__name__} {np.shape(x)}")
    if x.size > STANDIN_MAX_ELEMENTS or (rows is not None and x.shape[0] != rows) or (cols is not None and x.shape[1] != cols):
        raise ValueError(f"{name}: {what} has shape {x.shape}, which does not fit the other arguments")
    return x.shape


def _layers(name, X, params, activations):
    """Check a network's chain of shapes: W{l} (n_l, n_{l-1}), b{l} (n_l, 1), outputs n_l x N."""
    if not isinstance(params, dict) or not isinstance(activations, (list, tuple)) or len(params) != 2 * len(activations):
        raise ValueError(f"{name}: params and activations do not describe the same layers")
    width, N = _matrix(name, "X", X)
    for l in range(1, len(activations) + 1):
        n, _ = _matrix(name, f"W{l}", params.get(f"W{l}"), cols=width)
        _matrix(name, f"b{l}", params.get(f"b{l}"), rows=n, cols=1)
        if n * N > STANDIN_MAX_ELEMENTS:
            raise ValueError(f"{name}: layer {l}'s output would be too large")
        width = n


def _within_contract(name, a):
    if name.endswith("_forward") and name != "dense_forward":
        _matrix(name, "Z", a["Z"])
    elif name.endswith("_backward") and name != "dense_backward":
        _matrix(name, "dA", a["dA"], *_matrix(name, "Z", a["Z"]))
    elif name == "dense_forward":
        rows, cols = _matrix(name, "W", a["W"])
        N = _matrix(name, "A_prev", a["A_prev"], rows=cols)[1]
        _matrix(name, "b", a["b"], rows=rows, cols=1)
        if rows * N > STANDIN_MAX_ELEMENTS:
            raise ValueError(f"{name}: the output would be too large")
    elif name == "dense_backward":
        rows, cols = _matrix(name, "W", a["W"])
        N = _matrix(name, "dZ", a["dZ"], rows=rows)[1]
        _matrix(name, "A_prev", a["A_prev"], rows=cols, cols=N)
    elif name in ("mse_loss", "softmax_cross_entropy"):
        first = "A_out" if name == "mse_loss" else "Z_out"
        _matrix(name, "Y", a["Y"], *_matrix(name, first, a[first]))
    elif name == "forward":
        _layers(name, a["X"], a["params"], a["activations"])
    elif name == "backward":
        caches = a["caches"]
        if not isinstance(caches, (list, tuple)) or not caches or not isinstance(caches[0], (list, tuple)) or not caches[0]:
            raise ValueError(f"{name}: caches are not the reference's (A_prev, Z) per layer")
        _layers(name, caches[0][0], a["params"], a["activations"])
        _matrix(name, "dA_out", a["dA_out"])
    elif name == "sgd_update":
        params, grads = a["params"], a["grads"]
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise ValueError(f"{name}: params and grads should be dicts")
        for key, value in params.items():
            _matrix(name, f"grads[{key!r}]", grads.get(key), *_matrix(name, f"params[{key!r}]", value))


def local_caller(namespace):
    """A caller for student code in this process that substitutes like the autograder (tests, build)."""
    from ..sandbox import substituted

    return LocalCaller(namespace, answer=serve, substitute=substituted)
