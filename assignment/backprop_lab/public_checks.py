"""Public checks: small fixed cases students run with grader.check("<question>").

Expected values are numbers a student can verify by hand or read in the course
chapter (the worked 2-3-1 example), plus one self-consistency check per
backward: it must agree with centred finite differences of the student's own
forward. No solution code lives here; this file ships with the handout.
"""

import numpy as np

from backprop_lab import config
from backprop_lab.checking import Case, CheckFailure
from backprop_lab.expectations import expect_array, expect_float, expect_tuple
from backprop_lab.finite_differences import centred_gradient, expect_gradient_fd, fd_gradient_of_projection, perturbations
from backprop_lab.feedback import array_text
from backprop_lab.helpers import init_params, load_worked_example

A = np.array  # short literals below

# ---------------------------------------------------------------- activations

SIGMOID_Z = A([[-2.0, -0.5, 0.0], [0.5, 2.0, 0.0]])
SIGMOID_A = A([[0.11920292202211755, 0.3775406687981454, 0.5], [0.6224593312018546, 0.8807970779778823, 0.5]])
SIGMOID_PRIME = A([[0.1049935854035065, 0.2350037122015945, 0.25], [0.2350037122015945, 0.10499358540350662, 0.25]])

TANH_Z = A([[-1.0, 0.0], [0.5, 1.0]])
TANH_A = A([[-0.7615941559557649, 0.0], [0.46211715726000974, 0.7615941559557649]])
TANH_PRIME = A([[0.41997434161402614, 1.0], [0.7864477329659274, 0.41997434161402614]])

RELU_Z = A([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.0]])
RELU_A = A([[0.0, 0.0, 3.0], [1.5, 0.0, 0.0]])
RELU_PRIME = A([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # 0 at z = 0: the course's convention

UPSTREAM = A([[2.0, -1.0, 0.5], [1.0, 3.0, -2.0]])  # dA for the backward checks


def _forward_values(fwd, Z, expected):
    def run(c, rng):
        expect_array(f"{fwd} → A", c.call(fwd, Z), expected, config.TOL_REFERENCE, {"Z": Z}, "the expected values")

    return Case(f"{fwd} gives the right values", run)


def _backward_values(bwd, Z, prime):
    dA = UPSTREAM[: Z.shape[0], : Z.shape[1]]

    def run(c, rng):
        expected = dA * prime
        expect_array(f"{bwd} → dZ", c.call(bwd, dA, Z), expected, config.TOL_REFERENCE, {"dA": dA, "Z": Z}, "the expected values")

    return Case(f"{bwd} gives dA ⊙ f'(Z)", run)


def _backward_matches_fd(fwd, bwd, Z):
    dA = UPSTREAM[: Z.shape[0], : Z.shape[1]]

    def run(c, rng):
        numeric = fd_gradient_of_projection(c, fwd, (Z,), 0, dA)
        expect_gradient_fd(
            f"{bwd} → dZ",
            c.call(bwd, dA, Z),
            numeric,
            {"dA": dA, "Z": Z},
            f"finite differences of your {fwd} (your backward disagrees with your own forward)",
        )

    return Case(f"{bwd} agrees with finite differences of {fwd}", run)


EXTREME_DA = A([[0.7, -1.3]])  # not all ones: a derivative taken at dA must not look like one taken at the output


def _extremes(fwd, bwd, A_limits, prime_limits):
    Z = A([[-config.EXTREME_Z, config.EXTREME_Z]])

    def run(c, rng):
        label = f"at z = ±{config.EXTREME_Z:g}"
        expect_array(f"{fwd} → A {label}", c.call(fwd, Z), A_limits, config.TOL_REFERENCE, {"Z": Z}, "the exact values")
        expect_array(f"{bwd} → dZ {label}", c.call(bwd, EXTREME_DA, Z), EXTREME_DA * prime_limits, config.TOL_REFERENCE, {"dA": EXTREME_DA, "Z": Z}, "the exact values")

    return Case(f"{fwd} and {bwd} are finite and exact at z = ±{config.EXTREME_Z:g}", run)


# ---------------------------------------------------------------- dense layer

DENSE_W = A([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
DENSE_A_PREV = A([[1.0, 2.0], [3.0, -1.0]])
DENSE_B = A([[1.0], [0.0], [-2.0]])
DENSE_Z = A([[8.0, 1.0], [-3.0, 1.0], [4.0, 3.0]])
DENSE_DZ = A([[1.0, 0.0], [2.0, -1.0], [0.0, 1.0]])
DENSE_DA_PREV = A([[1.0, 3.0], [0.0, 2.0]])
DENSE_DW = A([[1.0, 3.0], [0.0, 7.0], [2.0, -1.0]])
DENSE_DB = A([[1.0], [1.0], [1.0]])


def _dense_forward(c, rng):
    inputs = {"A_prev": DENSE_A_PREV, "W": DENSE_W, "b": DENSE_B}
    Z = c.call("dense_forward", DENSE_A_PREV, DENSE_W, DENSE_B)
    expect_array("dense_forward → Z", Z, DENSE_Z, config.TOL_REFERENCE, inputs, "the expected values")


def _dense_backward(c, rng):
    inputs = {"dZ": DENSE_DZ, "A_prev": DENSE_A_PREV, "W": DENSE_W}
    out = expect_tuple("dense_backward", c.call("dense_backward", DENSE_DZ, DENSE_A_PREV, DENSE_W), 3)
    for name, got, want in zip(("dA_prev", "dW", "db"), out, (DENSE_DA_PREV, DENSE_DW, DENSE_DB)):
        expect_array(f"dense_backward → {name}", got, want, config.TOL_REFERENCE, inputs, "the expected values")


def _dense_fd(c, rng):
    args = (DENSE_A_PREV, DENSE_W, DENSE_B)
    out = expect_tuple("dense_backward", c.call("dense_backward", DENSE_DZ, DENSE_A_PREV, DENSE_W), 3)
    for position, name, got in zip(range(3), ("dA_prev", "dW", "db"), out):
        numeric = fd_gradient_of_projection(c, "dense_forward", args, position, DENSE_DZ)
        expect_gradient_fd(
            f"dense_backward → {name}",
            got,
            numeric,
            {"dZ": DENSE_DZ, "A_prev": DENSE_A_PREV, "W": DENSE_W},
            "finite differences of your dense_forward (your backward disagrees with your own forward)",
        )


# ---------------------------------------------------------------- losses

MSE_A = A([[1.0, 2.0]])
MSE_Y = A([[0.0, 0.0]])  # J = (1/2) * (1/2)(1 + 4) = 1.25, dA = (A - Y) / N


def _mse(c, rng):
    J, dA = expect_tuple("mse_loss", c.call("mse_loss", MSE_A, MSE_Y), 2)
    inputs = {"A_out": MSE_A, "Y": MSE_Y}
    expect_float("mse_loss → J", J, 1.25, config.TOL_REFERENCE, inputs, "J = (1/N) Σ ½‖a − y‖²")
    expect_array("mse_loss → dA_out", dA, A([[0.5, 1.0]]), config.TOL_REFERENCE, inputs, "the expected values")


SOFTMAX_Z = np.zeros((3, 2))
SOFTMAX_Y = A([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # uniform softmax: J = log 3


def _softmax_uniform(c, rng):
    J, dZ = expect_tuple("softmax_cross_entropy", c.call("softmax_cross_entropy", SOFTMAX_Z, SOFTMAX_Y), 2)
    inputs = {"Z_out": SOFTMAX_Z, "Y": SOFTMAX_Y}
    expect_float("softmax_cross_entropy → J", J, 1.0986122886681098, config.TOL_REFERENCE, inputs, "log 3")
    expect_array("softmax_cross_entropy → dZ_out", dZ, (1.0 / 3.0 - SOFTMAX_Y) / 2.0, config.TOL_REFERENCE, inputs, "(softmax − Y) / N")


def _softmax_extreme(c, rng):
    Z = A([[config.EXTREME_Z], [0.0], [-config.EXTREME_Z]])
    Y = A([[0.0], [1.0], [0.0]])  # the true class has logit 0, another has 1000: J = 1000
    J, dZ = expect_tuple("softmax_cross_entropy", c.call("softmax_cross_entropy", Z, Y), 2)
    inputs = {"Z_out": Z, "Y": Y}
    expect_float("softmax_cross_entropy → J at logits ±1000", J, config.EXTREME_Z, config.TOL_REFERENCE, inputs, "the exact value")
    expect_array("softmax_cross_entropy → dZ_out at logits ±1000", dZ, A([[1.0], [-1.0], [0.0]]), config.TOL_REFERENCE, inputs, "the exact value")


# ---------------------------------------------------------------- network

CHAPTER = {  # printed in the course chapter, section 16.5
    "a2": A([[0.803158]]),
    "J": 0.314550,
    "dA2": A([[0.793158]]),
    "delta2": A([[0.125394]]),
    "dW2": A([[0.074393, 0.074846, 0.075298]]),
    "db1": A([[0.012103], [0.013577], [0.015041]]),
    "dW1": A([[0.00060516, 0.00121031], [0.00067886, 0.00135772], [0.00075206, 0.00150412]]),
}


def _close_to_chapter(where, got, want, tol):
    try:
        got_arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        got_arr = None
    if got_arr is None or got_arr.shape != np.shape(want) or not np.all(np.abs(got_arr - want) <= tol):
        shown = array_text(got_arr) if got_arr is not None else repr(got)[:80]
        raise CheckFailure(
            f"{where} on the chapter's worked example: the chapter prints "
            f"{array_text(want)}, you get {shown}."
        )


def worked_example_case():
    """The chapter's 2-3-1 example through the student's forward, mse_loss and backward.

    Each number is checked in the order the chapter computes it, so the first mismatch
    names the function at fault.
    """

    def run(c, rng):
        X, Y, params, acts = load_worked_example()
        tol = config.TOL_WORKED_EXAMPLE
        out = expect_tuple("forward", c.call("forward", X, params, acts), 2)
        _close_to_chapter("forward → A_out (the output a^(2))", out[0], CHAPTER["a2"], tol)
        J, dA = expect_tuple("mse_loss", c.call("mse_loss", out[0], Y), 2)
        _close_to_chapter("mse_loss → J", J, CHAPTER["J"], tol)
        _close_to_chapter("mse_loss → dA_out (a^(2) − y)", dA, CHAPTER["dA2"], tol)
        grads = c.call("backward", dA, out[1], params, acts)
        if not isinstance(grads, dict):
            raise CheckFailure(f"backward: expected a dict of gradients, got {type(grads).__name__}.")
        _close_to_chapter("backward → grads['b2'] (δ^(2), BP1 and BP4)", grads.get("b2"), CHAPTER["delta2"], tol)
        _close_to_chapter("backward → grads['W2'] (BP3)", grads.get("W2"), CHAPTER["dW2"], tol)
        _close_to_chapter("backward → grads['b1'] (δ^(1), BP2 and BP4)", grads.get("b1"), CHAPTER["db1"], tol)
        _close_to_chapter("backward → grads['W1'] (BP3)", grads.get("W1"), CHAPTER["dW1"], 5e-9)

    return Case("forward, mse_loss and backward reproduce the chapter's worked example", run, weight=2.0)


def network_fd_case(X, Y, params, activations, title):
    """backward against centred differences of J(θ) = MSE(your forward(X; θ), Y)."""

    def run(c, rng):
        out = expect_tuple("forward", c.call("forward", X, params, activations), 2)
        A_out = out[0]
        if not isinstance(A_out, np.ndarray) or A_out.shape != Y.shape:
            raise CheckFailure(f"forward → A_out: expected shape {Y.shape}, got {np.shape(A_out)}.")
        dA = (A_out - Y) / Y.shape[1]
        grads = c.call("backward", dA, out[1], params, activations)
        if not isinstance(grads, dict):
            raise CheckFailure(f"backward: expected a dict of gradients, got {type(grads).__name__}.")
        for key in params:
            h = config.FD_STEP
            values = []
            for xp in perturbations(params[key], h):
                o = expect_tuple("forward", c.call("forward", X, dict(params, **{key: xp}), activations, quiet=True), 2)[0]
                values.append(0.5 * float(np.sum((np.asarray(o, dtype=float) - Y) ** 2)) / Y.shape[1])
            numeric = centred_gradient(values, params[key].shape, h)
            expect_gradient_fd(
                f"backward → grads[{key!r}]",
                grads.get(key),
                numeric,
                {"X": X, "params": params, "activations": list(activations)},
                "finite differences of your forward (your backward disagrees with your own forward)",
            )

    return Case(title, run)


# ---------------------------------------------------------------- sgd and train


def _sgd(c, rng):
    params = {"W1": A([[1.0, 2.0]]), "b1": A([[3.0]])}
    grads = {"W1": A([[10.0, 20.0]]), "b1": A([[-30.0]])}
    new = c.call("sgd_update", params, grads, 0.1)
    if not isinstance(new, dict) or set(new) != set(params):
        raise CheckFailure(f"sgd_update: expected a dict with keys {sorted(params)}, got {new!r:.200}.")
    if new is params:
        raise CheckFailure("sgd_update returned its input dict; return a new dict.")
    inputs = {"params": params, "grads": grads, "learning_rate": 0.1}
    expect_array("sgd_update → W1", new["W1"], A([[0.0, 0.0]]), config.TOL_REFERENCE, inputs, "W − η dW")
    expect_array("sgd_update → b1", new["b1"], A([[6.0]]), config.TOL_REFERENCE, inputs, "b − η db")


def worked_example_step_case():
    def run(c, rng):
        X, Y, params, acts = load_worked_example()
        lr = config.WORKED_EXAMPLE_LEARNING_RATE
        out = expect_tuple("train", c.call("train", X, Y, params, acts, "mse", lr, 1, None, 0), 2)
        history = list(np.ravel(np.asarray(out[1], dtype=float))) if out[1] is not None else []
        if len(history) != 1:
            raise CheckFailure(f"train: one epoch should give a history of length 1, got {len(history)}.")
        _close_to_chapter(
            f"train → history[0], the loss after one full-batch step with η = {lr},",
            history[0],
            config.WORKED_EXAMPLE_LOSS_AFTER_ONE_STEP,
            config.TOL_WORKED_EXAMPLE,
        )

    return Case("one training step on the worked example gives the chapter's new loss 0.297599", run, weight=2.0)


MINIBATCH_X = A([[0.0, 1.0, 2.0, -1.0, 0.5], [1.0, 0.0, -1.0, 2.0, 1.5]])
MINIBATCH_Y = A([[0.0, 1.0, 0.5, 0.25, 1.0]])
MINIBATCH_HISTORY = A([0.07601415175623252, 0.07495016152366737, 0.07295570493221412])  # batches of 2, seed 7


def _train_minibatches(c, rng):
    params = init_params([2, 3, 1], seed=1)
    args = (MINIBATCH_X, MINIBATCH_Y, params, ["tanh", "sigmoid"], "mse", 0.5, 3, 2, 7)
    out = expect_tuple("train", c.call("train", *args), 2)
    if not isinstance(out[0], dict) or set(out[0]) != set(params):
        raise CheckFailure(f"train: the returned params should be a dict with keys {sorted(params)}.")
    history = np.asarray(out[1], dtype=float) if out[1] is not None else np.array([])
    expect_array(
        "train → history with mini-batches of 2 (3 epochs, seed 7)", history, MINIBATCH_HISTORY, config.TOL_REFERENCE,
        {"X": MINIBATCH_X, "Y": MINIBATCH_Y, "batch_size": 2, "epochs": 3, "seed": 7},
        "the expected losses (one rng = np.random.default_rng(seed), created once; each epoch's order is rng.permutation(N))",
    )


_XOR_NET = init_params([2, 3, 1], seed=3)
_XOR_X = A([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
_XOR_Y = A([[0.0, 1.0, 1.0, 0.0]])

PUBLIC = {
    "sigmoid": [
        _forward_values("sigmoid_forward", SIGMOID_Z, SIGMOID_A),
        _backward_values("sigmoid_backward", SIGMOID_Z, SIGMOID_PRIME),
        _backward_matches_fd("sigmoid_forward", "sigmoid_backward", SIGMOID_Z),
        _extremes("sigmoid_forward", "sigmoid_backward", A([[0.0, 1.0]]), A([[0.0, 0.0]])),
    ],
    "tanh": [
        _forward_values("tanh_forward", TANH_Z, TANH_A),
        _backward_values("tanh_backward", TANH_Z, TANH_PRIME),
        _backward_matches_fd("tanh_forward", "tanh_backward", TANH_Z),
        _extremes("tanh_forward", "tanh_backward", A([[-1.0, 1.0]]), A([[0.0, 0.0]])),
    ],
    "relu": [
        _forward_values("relu_forward", RELU_Z, RELU_A),
        _backward_values("relu_backward", RELU_Z, RELU_PRIME),
        _backward_matches_fd("relu_forward", "relu_backward", A([[-2.0, 0.5, 3.0], [1.5, -0.5, -1.0]])),
    ],
    "dense": [
        Case("dense_forward computes W A_prev + b", _dense_forward),
        Case("dense_backward gives dA_prev, dW and db", _dense_backward),
        Case("dense_backward agrees with finite differences of dense_forward", _dense_fd),
    ],
    "losses": [
        Case("mse_loss gives J and dA_out", _mse),
        Case("softmax_cross_entropy gives log 3 for uniform logits", _softmax_uniform),
        Case("softmax_cross_entropy is exact for logits of ±1000", _softmax_extreme),
    ],
    "network": [
        worked_example_case(),
        network_fd_case(_XOR_X, _XOR_Y, _XOR_NET, ["tanh", "sigmoid"], "backward agrees with finite differences of forward on a 2-3-1 net"),
    ],
    "sgd": [Case("sgd_update takes a step of −η · gradient", _sgd)],
    "train": [
        worked_example_step_case(),
        Case("train with mini-batches: one shuffle per epoch from one rng, one loss per epoch", _train_minibatches),
    ],
}
