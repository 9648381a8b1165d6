"""The dense layer's and the losses' checks: dense_forward, dense_backward, mse_loss and softmax_cross_entropy."""

import numpy as np

from backprop_lab import config
from backprop_lab.checking import Case
from backprop_lab.expectations import expect_array, expect_float, expect_tuple
from backprop_lab.finite_differences import fd_gradient_of_projection

from .inputs import one_hot, shapes
from .loading import reference
from .oracles import REF, REF_FORWARD, expect_gradient


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


def _loss_inputs(rng, name, k, N):
    if name == "mse_loss":
        return rng.normal(size=(k, N)), rng.normal(size=(k, N))
    return rng.normal(0.0, 3.0, (k, N)), one_hot(rng, k, N)


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
        Y = one_hot(rng, k, N)
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
