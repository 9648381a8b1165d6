"""The network and sgd questions' checks: forward, backward (and that it is backpropagation) and sgd_update."""

import time

import numpy as np

from backprop_lab import config
from backprop_lab.checking import Case, CheckFailure, TooSlow
from backprop_lab.expectations import expect_array, expect_tuple
from backprop_lab.finite_differences import centred_gradient, perturbations

from .inputs import kink_free, net_params, rotation_nets, worked_example_shape
from .loading import reference
from .oracles import REF, REF_FORWARD, expect_gradient


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


def _visible_forward(c, rng):
    X, _, params, acts = worked_example_shape(rng)
    _forward_on(c, X, params, acts)


def _visible_backward(c, rng):
    X, Y, params, acts = worked_example_shape(rng)
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


def sgd_cases():
    visible = [Case("sgd_update takes a step of −η · gradient on fresh inputs", _sgd_visible, functions=("sgd_update",))]
    hidden = [Case("sgd_update matches the reference for deeper nets and two learning rates", _sgd_hidden, functions=("sgd_update",))]
    return visible, hidden
