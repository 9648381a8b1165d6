"""The autograder's checks: fresh inputs on every run, answers from the hidden reference.

A check pays only by agreeing with the reference (solutions/reference.py), computed in
this process, on inputs drawn fresh from the run's seed: nothing a student can predict
or look up. Each question has two parts:
- visible: the structure of the notebook's public checks, on fresh values, reported at once;
- hidden: more shapes, deep nets, extremes and training, reported after publication.
The structure each check covers is fixed (shapes, sign patterns, exact zeros at the ReLU
kink, extremes, every activation in every position of a deep net); only the values are
fresh, so a systematic bug fails the same checks under every seed.

Finite differences of the student's own forward never pay: when a backward disagrees with
the reference, they say which oracle disagreed.
"""

import importlib.util
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from backprop_lab import config
from backprop_lab.callers import LocalCaller
from backprop_lab.checking import Case, CheckFailure, TooSlow
from backprop_lab.expectations import expect_array, expect_float, expect_tuple, rel_error
from backprop_lab.finite_differences import centred_gradient, fd_gradient_of_projection, perturbations
from backprop_lab.helpers import WORKED_EXAMPLE_ACTIVATIONS, accuracy, init_params, load_digits_split, load_xor

REFERENCE_PATH = Path(__file__).resolve().parents[2] / "solutions" / "reference.py"
ACTIVATIONS = ("sigmoid", "tanh", "relu")
REF = "the reference"
REF_FORWARD = "the reference (a forward bug: your forward disagrees with the reference)"


def _load_reference(module_name):
    spec = importlib.util.spec_from_file_location(module_name, REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def reference():
    """The hidden reference module, loaded from its file (it is not an installed package)."""
    return _load_reference("backprop_reference")


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


@lru_cache(maxsize=1)
def _recording_reference():
    """A second copy of the reference, whose module globals `_record` may wrap."""
    return _load_reference("backprop_reference_recorder")


def _record(fn, args, names):
    """{name: [bound arguments, ...]}: the calls the reference's `fn(*args)` makes to `names`."""
    import copy
    import inspect

    module = _recording_reference()
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
    from .sandbox import substituted

    return LocalCaller(namespace, answer=serve, substitute=substituted)


# ---------------------------------------------------------------- oracles


def expect_gradient(where, got, want, inputs, fd, mask=None, forward_passed=False):
    """A backward's output against the reference; on failure, also say which oracle disagreed.

    `fd()` gives centred differences of the student's own forward; `mask` keeps the entries
    where finite differences are valid (off ReLU's kink). `forward_passed`: the forward has
    failed none of its checks so far, so the oracles may not blame it.
    """
    try:
        expect_array(where, got, want, config.TOL_REFERENCE, inputs, REF)
    except CheckFailure as exc:
        verdict = which_oracle(got, want, fd, mask, forward_passed)
        raise CheckFailure(f"{exc}\n  {verdict}" if verdict else str(exc)) from None


def which_oracle(got, want, fd, mask=None, forward_passed=False):
    """What finite differences of the student's forward say about a backward that disagrees with
    the reference; None when they say nothing the checks above do not contradict."""
    try:
        numeric = fd()
    except CheckFailure as exc:
        return f"Oracles: finite differences of your forward could not be taken ({exc})."
    keep = np.ones(want.shape, dtype=bool) if mask is None else mask
    noise = getattr(numeric, "atol", 0.0)

    def agree(a, b):
        return rel_error(a, b) <= config.TOL_FINITE_DIFF or np.linalg.norm(a - b) <= noise

    forward_right = agree(numeric[keep], want[keep])
    consistent = isinstance(got, np.ndarray) and got.shape == want.shape and agree(got[keep], numeric[keep])
    if forward_right and consistent:  # finite differences cannot tell the backward from the reference's
        if not keep.all():
            return ("Oracles: away from z = 0 your backward agrees with finite differences of your forward and with the reference; "
                    "it differs where Z is exactly 0, where finite differences cannot judge (the kink) and the course's convention decides.")
        return ("Oracles: finite differences of your forward agree with your backward and with the reference alike: "
                "the difference is too small for them to see.")
    if forward_right:
        return ("Oracles: finite differences of your own forward agree with the reference, your backward does not: "
                "your backward disagrees with your own forward (a gradient bug).")
    if forward_passed:  # the forward passed its checks: finite differences here are no evidence against it
        return None
    if consistent:
        return ("Oracles: your backward agrees with finite differences of your own forward, but your forward "
                "disagrees with the reference (a forward bug): fix the forward.")
    return ("Oracles: your forward disagrees with the reference, and your backward disagrees with your own forward: "
            "fix the forward first, then the backward.")


# ---------------------------------------------------------------- fixed structure, fresh values


def shapes(rng):
    """(n_out, n_in, N): square with N = 1, then two non-square with N > 1 (n >= 5: every sign pattern fits)."""
    n = int(rng.integers(5, 7))
    m = n + int(rng.integers(1, 4))
    return [(n, n, 1), (m, n, int(rng.integers(2, 6))), (n, m, int(rng.integers(2, 6)))]


def signed(rng, shape, phase=0, low=0.1, high=2.5):
    """Fresh magnitudes with a fixed sign pattern: entry k is positive when (k >> phase) is even.

    Z with phase 0 and dA with phase 1 meet in all four sign combinations within four entries.
    """
    k = np.arange(int(np.prod(shape))).reshape(shape)
    return rng.uniform(low, high, shape) * np.where((k >> phase) % 2 == 0, 1.0, -1.0)


def activation_input(rng, kind, shape):
    """Z with both signs; for ReLU, every fifth entry is exactly 0 (the course's relu'(0) = 0)."""
    Z = signed(rng, shape)
    if kind == "relu":
        Z.flat[4::5] = 0.0
    return Z


def extreme_input(rng, shape=(3, 4)):
    """|z| up to EXTREME_Z at fixed places, moderate values elsewhere."""
    Z = signed(rng, shape)
    Z.flat[0::4] = config.EXTREME_Z
    Z.flat[1::4] = -config.EXTREME_Z
    Z.flat[2::8] *= config.EXTREME_Z / 3
    return Z


# ---------------------------------------------------------------- activations


def activation_cases(kind):
    fwd, bwd = f"{kind}_forward", f"{kind}_backward"
    R = reference

    def forward_on(c, Z):
        expect_array(f"{fwd} → A", c.call(fwd, Z), getattr(R(), fwd)(Z), config.TOL_REFERENCE, {"Z": Z}, REF_FORWARD)

    def backward_on(c, Z, dA):
        expect_gradient(
            f"{bwd} → dZ", c.call(bwd, dA, Z), getattr(R(), bwd)(dA, Z), {"dA": dA, "Z": Z},
            lambda: fd_gradient_of_projection(c, fwd, (Z,), 0, dA), mask=Z != 0, forward_passed=fwd not in c.failed,
        )

    def visible_forward(c, rng):
        forward_on(c, activation_input(rng, kind, (2, 3)))

    def visible_backward(c, rng):
        backward_on(c, activation_input(rng, kind, (2, 3)), signed(rng, (2, 3), phase=1))

    def hidden_forward(c, rng):
        for rows, _, cols in shapes(rng):
            forward_on(c, activation_input(rng, kind, (rows, cols)))

    def hidden_backward(c, rng):
        for rows, _, cols in shapes(rng):
            backward_on(c, activation_input(rng, kind, (rows, cols)), signed(rng, (rows, cols), phase=1))

    def extremes(shape):
        def run(c, rng):
            Z, dA = extreme_input(rng, shape), signed(rng, shape, phase=1)
            label = f"for |z| up to {config.EXTREME_Z:g}"
            expect_array(f"{fwd} → A {label}", c.call(fwd, Z), getattr(R(), fwd)(Z), config.TOL_REFERENCE, {"Z": Z}, REF)
            expect_array(f"{bwd} → dZ {label}", c.call(bwd, dA, Z), getattr(R(), bwd)(dA, Z), config.TOL_REFERENCE, {"dA": dA, "Z": Z}, REF)

        return run

    zeros = ", with exact zeros in Z (derivative 0 at 0)" if kind == "relu" else ""
    visible = [
        Case(f"{fwd} matches the reference on fresh inputs", visible_forward, functions=(fwd,)),
        Case(f"{bwd} gives dA ⊙ f'(Z) on fresh inputs{zeros}", visible_backward, functions=(bwd,)),
    ]
    if kind != "relu":
        visible.append(Case(f"{fwd} and {bwd} are finite and right at z = ±{config.EXTREME_Z:g}", extremes((1, 4)), functions=(fwd, bwd)))
    hidden = [
        Case(f"{fwd} matches the reference on square and non-square inputs, N = 1 and N > 1", hidden_forward, functions=(fwd,)),
        Case(f"{bwd} matches the reference on square and non-square inputs{zeros}", hidden_backward, functions=(bwd,)),
        Case(f"{fwd} and {bwd} are finite and right for |z| up to {config.EXTREME_Z:g}", extremes((3, 4)), functions=(fwd, bwd)),
    ]
    return visible, hidden


# ---------------------------------------------------------------- dense


def _dense_inputs(rng, n_out, n_in, N):
    return (
        rng.normal(size=(n_out, N)),  # dZ
        rng.normal(size=(n_in, N)),  # A_prev
        rng.normal(size=(n_out, n_in)),  # W
        rng.normal(size=(n_out, 1)),  # b
    )


def _dense_forward_on(c, shape_list, rng):
    for shape in shape_list:
        _, A_prev, W, b = _dense_inputs(rng, *shape)
        want = reference().dense_forward(A_prev, W, b)
        expect_array("dense_forward → Z", c.call("dense_forward", A_prev, W, b), want, config.TOL_REFERENCE, {"A_prev": A_prev, "W": W, "b": b}, REF_FORWARD)


def _dense_backward_on(c, shape_list, rng, quantities):
    for shape in shape_list:
        dZ, A_prev, W, b = _dense_inputs(rng, *shape)
        got = expect_tuple("dense_backward", c.call("dense_backward", dZ, A_prev, W), 3)
        want = reference().dense_backward(dZ, A_prev, W)
        for index in quantities:
            name = ("dA_prev", "dW", "db")[index]
            expect_gradient(
                f"dense_backward → {name}", got[index], want[index], {"dZ": dZ, "A_prev": A_prev, "W": W},
                lambda: fd_gradient_of_projection(c, "dense_forward", (A_prev, W, b), index, dZ),
                forward_passed="dense_forward" not in c.failed,
            )


def dense_cases():
    public_shape = [(3, 2, 2)]
    visible = [
        Case("dense_forward computes W A_prev + b on fresh inputs", lambda c, rng: _dense_forward_on(c, public_shape, rng), functions=("dense_forward",)),
        Case("dense_backward gives dA_prev, dW and db on fresh inputs", lambda c, rng: _dense_backward_on(c, public_shape, rng, (0, 1, 2)), functions=("dense_backward",)),
    ]
    hidden = [Case("dense_forward matches the reference on square and non-square shapes", lambda c, rng: _dense_forward_on(c, shapes(rng), rng), functions=("dense_forward",))]
    for index, name in enumerate(("dA_prev", "dW", "db")):
        hidden.append(Case(
            f"dense_backward → {name} matches the reference on square and non-square shapes",
            lambda c, rng, index=index: _dense_backward_on(c, shapes(rng), rng, (index,)),
            functions=("dense_backward",),
        ))
    return visible, hidden


# ---------------------------------------------------------------- losses


def _one_hot(rng, k, N):
    Y = np.zeros((k, N))
    Y[rng.integers(0, k, N), np.arange(N)] = 1.0
    return Y


def _loss_inputs(rng, name, k, N):
    if name == "mse_loss":
        return rng.normal(size=(k, N)), rng.normal(size=(k, N))
    return rng.normal(0.0, 3.0, (k, N)), _one_hot(rng, k, N)


def _expect_loss(c, name, grad_name, first_arg, P, Y, label=""):
    J, g = expect_tuple(name, c.call(name, P, Y), 2)
    want_J, want_g = getattr(reference(), name)(P, Y)
    inputs = {first_arg: P, "Y": Y}
    expect_float(f"{name} → J{label}", J, want_J, config.TOL_REFERENCE, inputs, REF)
    expect_array(f"{name} → {grad_name}{label}", g, want_g, config.TOL_REFERENCE, inputs, REF)


def _softmax_extremes(k, N):
    """Logits of ±EXTREME_Z where the true class sits far below another: J is of order EXTREME_Z."""

    def run(c, rng):
        Z = rng.normal(0.0, 3.0, (k, N))
        Y = _one_hot(rng, k, N)
        true = Y.argmax(axis=0)
        Z[(true + 1) % k, np.arange(N)] = config.EXTREME_Z
        Z[(true + 2) % k, np.arange(N)] = -config.EXTREME_Z
        _expect_loss(c, "softmax_cross_entropy", "dZ_out", "Z_out", Z, Y, f" for logits of ±{config.EXTREME_Z:g}")

    return run


def loss_cases():
    def values(name, grad_name, first_arg, sizes):
        def run(c, rng):
            for k, N in sizes(rng):
                _expect_loss(c, name, grad_name, first_arg, *_loss_inputs(rng, name, k, N))

        return run

    def hidden_sizes(rng):
        return [(int(rng.integers(2, 6)), 1), (int(rng.integers(2, 6)), int(rng.integers(2, 9))), (1, int(rng.integers(2, 9)))]

    def mse_sizes(rng):
        return [(1, 2)]

    def softmax_sizes(rng):
        return [(3, 2)]

    def hidden_softmax_sizes(rng):
        return [(k if k > 1 else 3, N) for k, N in hidden_sizes(rng)]

    visible = [
        Case("mse_loss gives J and dA_out on fresh inputs", values("mse_loss", "dA_out", "A_out", mse_sizes), functions=("mse_loss",)),
        Case("softmax_cross_entropy gives J and dZ_out on fresh inputs", values("softmax_cross_entropy", "dZ_out", "Z_out", softmax_sizes), functions=("softmax_cross_entropy",)),
        Case(f"softmax_cross_entropy is exact for logits of ±{config.EXTREME_Z:g}", _softmax_extremes(3, 1), functions=("softmax_cross_entropy",)),
    ]
    hidden = [
        Case("mse_loss matches the reference (J and dA_out), N = 1 and N > 1", values("mse_loss", "dA_out", "A_out", hidden_sizes), weight=2.0, functions=("mse_loss",)),
        Case("softmax_cross_entropy matches the reference (J and dZ_out), N = 1 and N > 1", values("softmax_cross_entropy", "dZ_out", "Z_out", hidden_softmax_sizes), weight=2.0, functions=("softmax_cross_entropy",)),
        Case(f"softmax_cross_entropy is finite and right for logits up to ±{config.EXTREME_Z:g}", _softmax_extremes(4, 5), functions=("softmax_cross_entropy",)),
    ]
    return visible, hidden


# ---------------------------------------------------------------- network


def rotation_nets(rng, equal_widths=False):
    """Three deep nets whose hidden layers hold the three activations in rotation: every
    activation in every hidden position. Outputs alternate sigmoid and identity; the first
    net sees one example, the others several. With equal_widths every layer has the same
    width, so a backward that mixes up layers still returns arrays of the right shapes."""
    nets = []
    for r in range(3):
        acts = [ACTIVATIONS[(r + i) % 3] for i in range(3)] + ["sigmoid" if r % 2 == 0 else "identity"]
        if equal_widths:
            sizes = [int(rng.integers(3, 5))] * 5
        else:
            sizes = [int(rng.integers(2, 5))] + [int(rng.integers(2, 6)) for _ in range(3)] + [int(rng.integers(1, 4))]
        N = 1 if r == 0 else int(rng.integers(2, 7))
        nets.append((sizes, acts, N))
    return nets


def net_params(rng, sizes):
    params = init_params(sizes, seed=int(rng.integers(2**31)), scale=float(rng.uniform(0.5, 1.5)))
    for key in params:
        if key.startswith("b"):
            params[key] = rng.normal(0.0, 0.5, params[key].shape)
    return params


def kink_free(rng, sizes, acts, N):
    """Parameters and data on which no ReLU pre-activation is near 0 (finite differences stay valid)."""
    for _ in range(500):
        params = net_params(rng, sizes)
        X, Y = rng.normal(size=(sizes[0], N)), rng.uniform(0.0, 1.0, (sizes[-1], N))
        _, caches = reference().forward(X, params, acts)
        if min((np.abs(Z).min() for (_, Z), a in zip(caches, acts) if a == "relu"), default=np.inf) > config.RELU_KINK_MARGIN:
            return X, Y, params
    raise RuntimeError("could not draw a network away from the ReLU kink")


def _forward_on(c, X, params, acts):
    out = expect_tuple("forward", c.call("forward", X, params, acts), 2)
    want, _ = reference().forward(X, params, acts)
    expect_array("forward → A_out", out[0], want, config.TOL_REFERENCE, {"X": X, "params": params, "activations": acts}, REF_FORWARD)
    return out


def _backward_on(c, X, Y, params, acts, label=""):
    out = expect_tuple("forward", c.call("forward", X, params, acts), 2)
    R = reference()
    A_ref, caches_ref = R.forward(X, params, acts)
    dA = (A_ref - Y) / Y.shape[1]
    grads = c.call("backward", dA, out[1], params, acts)
    if not isinstance(grads, dict):
        raise CheckFailure(f"backward: expected a dict of gradients, got {type(grads).__name__}.")
    want = R.backward(dA, caches_ref, params, acts)
    inputs = {"X": X, "params": params, "activations": acts}
    for key in params:
        expect_gradient(f"backward → grads[{key!r}]{label}", grads.get(key), want[key], inputs, lambda: _fd_param(c, X, Y, params, acts, key),
                        forward_passed="forward" not in c.failed)
    return out, dA


def _fd_param(c, X, Y, params, acts, key):
    """Centred differences of J(θ) = MSE(student's forward(X; θ), Y) with respect to params[key]."""
    h = config.FD_STEP
    values = []
    for xp in perturbations(params[key], h):
        o = expect_tuple("forward", c.call("forward", X, dict(params, **{key: xp}), acts, quiet=True), 2)[0]
        if not isinstance(o, np.ndarray) or o.shape != Y.shape:
            raise CheckFailure(f"forward returned {type(o).__name__} of shape {np.shape(o)}, expected {Y.shape}")
        values.append(reference().mse_loss(o, Y)[0])
    return centred_gradient(values, params[key].shape, h)


def _worked_example_shape(rng):
    """The chapter's 2-3-1 sigmoid network with fresh weights, input and target."""
    params = net_params(rng, [2, 3, 1])
    return rng.uniform(-1.0, 1.0, (2, 1)), rng.uniform(0.05, 0.95, (1, 1)), params, list(WORKED_EXAMPLE_ACTIVATIONS)


def _visible_forward(c, rng):
    X, _, params, acts = _worked_example_shape(rng)
    _forward_on(c, X, params, acts)


def _visible_backward(c, rng):
    X, Y, params, acts = _worked_example_shape(rng)
    _backward_on(c, X, Y, params, acts)


def _hidden_forward(c, rng):
    for sizes, acts, N in rotation_nets(rng):
        _forward_on(c, rng.normal(size=(sizes[0], N)), net_params(rng, sizes), acts)


def _hidden_backward(equal_widths):
    def run(c, rng):
        for sizes, acts, N in rotation_nets(rng, equal_widths)[: 1 if equal_widths else 3]:
            _backward_on(c, *kink_free(rng, sizes, acts, N), acts)

    return run


def _backward_twice(c, rng):
    sizes, acts, N = rotation_nets(rng)[1]
    X, Y, params = kink_free(rng, sizes, acts, N)
    out, dA = _backward_on(c, X, Y, params, acts)
    grads = c.call("backward", dA, out[1], params, acts)
    want = reference().backward(dA, reference().forward(X, params, acts)[1], params, acts)
    if not isinstance(grads, dict):
        raise CheckFailure("backward: expected a dict of gradients.")
    for key in params:
        expect_array(f"backward → grads[{key!r}] on a second call with the same caches", grads.get(key), want[key],
                     config.TOL_REFERENCE, {"activations": acts}, "the reference (backward must not modify the caches from forward)")


def _backprop_cost(c, rng):
    """On a wide network, forward and backward must give the reference's results, and backward
    must take about one forward's time, not one forward per parameter.

    A gate worth no points: when it fails, no check of backward counts. Its time limit comes
    from the reference's own forward on this machine (a slow forward cannot stretch it).
    """
    cfg = config.BACKPROP_COST
    sizes, N = list(cfg["sizes"]), cfg["examples"]
    # An activation that failed its checks is not used here (the gate runs before the hidden checks,
    # and the reference never stands in for an activation before its hidden checks have run).
    failed = getattr(c, "failed", set()) | set(getattr(c, "blocked", {}))
    acts = [a if a == "identity" or not {f"{a}_forward", f"{a}_backward"} & failed else "identity" for a in cfg["activations"]]
    params = net_params(rng, sizes)
    X = rng.normal(size=(sizes[0], N))
    dA = rng.normal(size=(sizes[-1], N)) / N
    R = reference()
    started = time.perf_counter()
    A_ref, caches_ref = R.forward(X, params, acts)
    limit = cfg["factor"] * (time.perf_counter() - started) + cfg["floor_s"]
    want = R.backward(dA, caches_ref, params, acts)
    out = _forward_on(c, X, params, acts)
    count = sum(v.size for v in params.values())
    advice = (
        f"Backpropagation costs about as much as a forward; one forward per parameter ({count} of them here) is "
        "numerical differentiation. Apply BP1–BP4 layer by layer, from the output back, reusing δ^(l+1) to get δ^(l)."
    )
    try:
        grads = c.call("backward", dA, out[1], params, acts, timeout=limit)
    except TooSlow:
        raise CheckFailure(f"backward: on a network of sizes {sizes} it ran past {limit:.1f} s. {advice}") from None
    if c.last_seconds > limit:
        raise CheckFailure(f"backward took {c.last_seconds:.1f} s on a network of sizes {sizes}, more than {limit:.1f} s. {advice}")
    if not isinstance(grads, dict):
        raise CheckFailure(f"backward: expected a dict of gradients, got {type(grads).__name__}.")
    for key in params:
        expect_array(f"backward → grads[{key!r}] on a wide network", grads.get(key), want[key], config.TOL_REFERENCE, {"X": X, "activations": acts}, REF)


def network_cases():
    visible = [
        Case("forward matches the reference on a fresh 2-3-1 network (the worked example's shape)", _visible_forward, functions=("forward",)),
        Case("forward and backward match the reference on a fresh 2-3-1 network", _visible_backward, weight=2.0, functions=("forward", "backward")),
    ]
    hidden = [
        Case("forward matches the reference on deep nets with every activation in every position", _hidden_forward, functions=("forward",)),
        Case("backward matches the reference on deep nets with every activation in every position", _hidden_backward(False), weight=2.0, functions=("backward",)),
        Case("backward matches the reference on a deep net of equal widths", _hidden_backward(True), functions=("backward",)),
        Case("backward gives the reference's gradients when called twice with the same caches", _backward_twice, functions=("backward",)),
        # last: when it fails, the backward checks that passed do not count (see marking.grade_questions)
        Case("backward is backpropagation: right on a wide network, in about one forward's time", _backprop_cost, weight=0.0, functions=("backward",), gate=True),
    ]
    return visible, hidden


# ---------------------------------------------------------------- sgd


def _sgd_on(c, params, grads, rates):
    # every call first: a function that ignores learning_rate gives itself away by answering the same
    answers = [(lr, c.call("sgd_update", params, grads, lr)) for lr in rates]
    for lr, new in answers:
        if not isinstance(new, dict) or set(new) != set(params):
            raise CheckFailure(f"sgd_update: expected a dict with keys {sorted(params)}, got {type(new).__name__} with {sorted(new) if isinstance(new, dict) else '-'}.")
        want = reference().sgd_update(params, grads, lr)
        for key in params:
            expect_array(f"sgd_update → {key}", new[key], want[key], config.TOL_REFERENCE, {"params": params, "grads": grads, "learning_rate": lr}, REF)


def _sgd_visible(c, rng):
    params = net_params(rng, [2, 1])
    _sgd_on(c, params, {k: rng.normal(size=v.shape) for k, v in params.items()}, (float(rng.uniform(0.05, 0.5)),))


def _sgd_hidden(c, rng):
    params = net_params(rng, [int(rng.integers(2, 5)) for _ in range(4)])
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    _sgd_on(c, params, grads, (float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.5, 2.0))))


# ---------------------------------------------------------------- train


def _expect_trajectory(c, args, inputs, label=""):
    got = expect_tuple("train", c.call("train", *args), 2)
    want_params, want_history = reference().train(*args)
    history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
    expect_array(f"train → history{label}", history, np.asarray(want_history), config.TOL_TRAJECTORY, inputs, "the reference's trajectory")
    if not isinstance(got[0], dict):
        raise CheckFailure(f"train: expected params as a dict, got {type(got[0]).__name__}.")
    for key in want_params:
        expect_array(f"train → params[{key!r}]{label}", got[0].get(key), want_params[key], config.TOL_TRAJECTORY, inputs, "the reference's trajectory")
    return got


def _train_one_step(c, rng):
    X, Y, params, acts = _worked_example_shape(rng)
    lr = config.WORKED_EXAMPLE_LEARNING_RATE
    _expect_trajectory(c, (X, Y, params, acts, "mse", lr, 1, None, 0), {"X": X, "Y": Y, "activations": acts, "epochs": 1}, " after one step")


def _trajectory(loss, mini, act):
    """A small problem trained a few epochs. With mini-batches, the last batch is always shorter
    than the others (N is not a multiple of the batch size), so dropping it never goes unseen."""

    def run(c, rng):
        n0, h = int(rng.integers(2, 5)), int(rng.integers(2, 6))
        bs = int(rng.integers(2, 4))
        N = bs * int(rng.integers(3, 5)) + int(rng.integers(1, bs))
        if loss == "mse":
            k = int(rng.integers(1, 3))
            acts, Y = [act, "sigmoid"], rng.uniform(0.0, 1.0, (k, N))
        else:
            k = int(rng.integers(2, 5))
            acts, Y = [act, "identity"], _one_hot(rng, k, N)
        X = rng.normal(size=(n0, N))
        params = init_params([n0, h, k], seed=int(rng.integers(2**31)))
        lr, epochs, seed = float(rng.uniform(0.05, 0.5)), int(rng.integers(3, 7)), int(rng.integers(2**31))
        bs = bs if mini else None
        _expect_trajectory(c, (X, Y, params, acts, loss, lr, epochs, bs, seed), {"X": X, "Y": Y, "activations": acts, "batch_size": bs, "epochs": epochs})

    kind = "mini-batch" if mini else "full-batch"
    return run, f"train follows the reference's {kind} trajectory ({loss}, {act} hidden layer)"


def _train_uses_arguments(c, rng):
    """Two datasets of XOR's shape: a train that reads globals returns the same thing for both."""
    params = init_params([2, 3, 1], seed=int(rng.integers(2**31)))
    acts = ["tanh", "sigmoid"]
    datasets = [(rng.normal(size=(2, 4)), rng.uniform(0.0, 1.0, (1, 4))) for _ in range(2)]
    answers = [expect_tuple("train", c.call("train", X, Y, params, acts, "mse", 0.5, 3, None, 0), 2) for X, Y in datasets]
    for (X, Y), got in zip(datasets, answers):
        _, want_history = reference().train(X, Y, params, acts, "mse", 0.5, 3, None, 0)
        history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
        expect_array("train → history", history, np.asarray(want_history), config.TOL_TRAJECTORY, {"X": X, "Y": Y, "activations": acts}, "the reference's trajectory")


def _task(task, activation):
    """(args of train, test data) for XOR or digits with one hidden activation, from config."""
    if task == "xor":
        cfg = config.XOR
        X, Y = load_xor()
        params = init_params([2, cfg["hidden_units"], 1], seed=cfg["seeds"][activation])
        return (X, Y, params, [activation, "sigmoid"], "mse", cfg["learning_rate"], cfg["epochs"], None, 0), (X, Y)
    cfg = config.DIGITS
    X_train, Y_train, X_test, Y_test = _digits_data()
    params = init_params([64, cfg["hidden_units"], 10], seed=cfg["init_seed"])
    args = (X_train, Y_train, params, [activation, "identity"], "softmax_ce", cfg["learning_rate"], cfg["epochs"], cfg["batch_size"], cfg["shuffle_seed"])
    return args, (X_test, Y_test)


_RUNS = {}  # (task, activation): the reference's whole training run (calibrate fills one of them)


def _reference_run(task, activation):
    if (task, activation) not in _RUNS:
        args, _ = _task(task, activation)
        _RUNS[task, activation] = reference().train(*args)
    return _RUNS[task, activation]


def _learns(task, activation):
    """The student's train on XOR or digits: its first epochs are the reference's, exactly; its whole
    run follows the reference's losses; and the trained network reaches the accuracy required."""

    def run(c, rng):
        args, (X_test, Y_test) = _task(task, activation)
        first = args[:6] + (config.TRAJECTORY_EPOCHS,) + args[7:]
        _expect_trajectory(c, first, {"activations": args[3], "epochs": config.TRAJECTORY_EPOCHS}, f" over the first {config.TRAJECTORY_EPOCHS} epochs")
        got = expect_tuple("train", c.call("train", *args), 2)
        history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
        want = np.asarray(_reference_run(task, activation)[1])
        expect_array(f"train → history over all {args[6]} epochs", history, want, config.TOL_LONG_TRAJECTORY, {"activations": args[3]}, "the reference's losses")
        acc = accuracy(_predict(got[0], X_test, args[3]), Y_test)
        need = 1.0 if task == "xor" else config.DIGITS["min_test_accuracy"]
        if acc < need:
            raise CheckFailure(f"train: {task} with a {activation} hidden layer reaches {acc:.1%} accuracy, below the required {need:.0%}.")

    if task == "xor":
        return Case(f"train solves XOR with a {activation} hidden layer, along the reference's trajectory", run, functions=("train",))
    return Case(f"train reaches {config.DIGITS['min_test_accuracy']:.0%} test accuracy on digits ({activation}), along the reference's trajectory", run, weight=2.0, functions=("train",))


def calibrate():
    """Seconds the reference takes for a whole digits training (config.DIGITS, sigmoid) on this
    machine, now: the measure of its speed that call and cell limits scale with. The run is
    one the digits check needs anyway: it is kept for it."""
    args, _ = _task("digits", "sigmoid")
    started = time.perf_counter()
    _RUNS["digits", "sigmoid"] = reference().train(*args)
    return time.perf_counter() - started


@lru_cache(maxsize=1)
def _digits_data():
    return load_digits_split()


def _predict(params, X, acts):
    """The reference's forward on the student's trained params."""
    if not isinstance(params, dict):
        raise CheckFailure(f"train: expected params as a dict, got {type(params).__name__}.")
    try:
        clean = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        return reference().forward(X, clean, acts)[0]
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckFailure(f"train: the returned params cannot be used by a network: {exc}") from None


def train_cases():
    visible = [
        Case("one training step on a fresh 2-3-1 network matches the reference", _train_one_step, weight=2.0, functions=("train",)),
        Case("train with mini-batches: one shuffle per epoch from one rng", _trajectory("mse", True, "tanh")[0], functions=("train",)),
    ]
    trajectories = (_trajectory("mse", False, "tanh"), _trajectory("mse", True, "relu"), _trajectory("softmax_ce", True, "sigmoid"))
    hidden = [Case(title, run, weight=2.0, functions=("train",)) for run, title in trajectories]
    hidden.append(Case("train trains on the X and Y it is given", _train_uses_arguments, functions=("train",)))
    hidden += [_learns("xor", a) for a in ACTIVATIONS] + [_learns("digits", a) for a in ACTIVATIONS]
    return visible, hidden


# ---------------------------------------------------------------- all questions


def diagnose(calls):
    """Name the known mistake behind a failing check, from the calls it made (see hints.py)."""
    from .hints import diagnose as match

    return match(calls, reference())


@lru_cache(maxsize=1)
def all_cases():
    """{question: (visible cases, hidden cases)}."""
    return {
        "sigmoid": activation_cases("sigmoid"),
        "tanh": activation_cases("tanh"),
        "relu": activation_cases("relu"),
        "dense": dense_cases(),
        "losses": loss_cases(),
        "network": network_cases(),
        "sgd": ([Case("sgd_update takes a step of −η · gradient on fresh inputs", _sgd_visible, functions=("sgd_update",))],
                [Case("sgd_update matches the reference for deeper nets and two learning rates", _sgd_hidden, functions=("sgd_update",))]),
        "train": train_cases(),
    }
