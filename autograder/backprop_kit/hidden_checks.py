"""Hidden checks: fresh random inputs on every run, two oracles for every backward.

Each case draws its inputs from the rng it is given (seeded per grading run;
the seed is printed so a run can be replayed), calls the student's functions
through the caller, and compares in this process against
- the hidden reference (solutions/reference.py), and
- centred finite differences of the student's own forward.
Shapes are random: square and non-square, N = 1 and N > 1.
"""

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from backprop_lab import config
from backprop_lab.checking import (
    Case,
    CheckFailure,
    expect_array,
    expect_gradient_fd,
    expect_float,
    expect_tuple,
    fd_gradient_of_projection,
    fd_gradient_of_scalar,
    perturbations,
    centred_gradient,
    rel_error,
)
from backprop_lab.helpers import accuracy, init_params, load_digits_split, load_xor
from backprop_lab.public_checks import worked_example_case, worked_example_step_case

REFERENCE_PATH = Path(__file__).resolve().parents[2] / "solutions" / "reference.py"
ACTIVATIONS = ("sigmoid", "tanh", "relu")
REF = "the reference"
REF_FORWARD = "the reference (a forward bug: your forward disagrees with the reference)"
FD = "finite differences of your {} (your backward disagrees with your own forward)"


def expect_gradient(where, got, want, inputs, fd, mask=None):
    """A backward's output against the reference; on failure, also say which oracle disagreed.

    `fd()` gives centred differences of the student's own forward; `mask` keeps the entries
    where finite differences are valid (off ReLU's kink).
    """
    try:
        expect_array(where, got, want, config.TOL_REFERENCE, inputs, REF)
    except CheckFailure as exc:
        raise CheckFailure(f"{exc}\n  {which_oracle(got, want, fd, mask)}") from None


def which_oracle(got, want, fd, mask=None):
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
    if forward_right:
        return ("Oracles: finite differences of your own forward agree with the reference, your backward does not: "
                "your backward disagrees with your own forward (a gradient bug).")
    if consistent:
        return ("Oracles: your backward agrees with finite differences of your own forward, but your forward "
                "disagrees with the reference (a forward bug): fix the forward.")
    return ("Oracles: your forward disagrees with the reference, and your backward disagrees with your own forward: "
            "fix the forward first, then the backward.")


@lru_cache(maxsize=1)
def reference():
    """The hidden reference module, loaded from its file (it is not an installed package)."""
    spec = importlib.util.spec_from_file_location("backprop_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shapes(rng):
    """(n_out, n_in, N) triples: square with N = 1, and two non-square with N > 1."""
    n = int(rng.integers(2, 6))
    m = n + int(rng.integers(1, 4))
    return [(n, n, 1), (m, n, int(rng.integers(2, 8))), (n, m, int(rng.integers(2, 8)))]


def away_from_kink(Z):
    """Move entries at least RELU_KINK_MARGIN * 10 away from 0, keeping their sign."""
    margin = 10 * config.RELU_KINK_MARGIN
    return np.where(Z >= 0, Z + margin, Z - margin)


# ---------------------------------------------------------------- activations


def activation_cases(kind):
    fwd, bwd = f"{kind}_forward", f"{kind}_backward"

    def sample(rng, rows, cols, zeros=False):
        Z = rng.normal(0.0, 2.0, (rows, cols))
        if kind == "relu":
            Z = away_from_kink(Z)
            if zeros:  # the convention at the kink: derivative 0 where Z == 0
                Z.flat[rng.choice(Z.size, size=max(1, Z.size // 3), replace=False)] = 0.0
        return Z

    def forward_vs_reference(c, rng):
        for rows, _, cols in shapes(rng):
            Z = sample(rng, rows, cols, zeros=True)
            expect_array(f"{fwd} → A", c.call(fwd, Z), getattr(reference(), fwd)(Z), config.TOL_REFERENCE, {"Z": Z}, REF_FORWARD)

    def backward_vs_reference(c, rng):
        for rows, _, cols in shapes(rng):
            Z, dA = sample(rng, rows, cols, zeros=True), rng.normal(size=(rows, cols))
            want = getattr(reference(), bwd)(dA, Z)
            expect_gradient(
                f"{bwd} → dZ", c.call(bwd, dA, Z), want, {"dA": dA, "Z": Z},
                lambda: fd_gradient_of_projection(c, fwd, (Z,), 0, dA), mask=Z != 0,
            )

    def backward_vs_fd(c, rng):
        for rows, _, cols in shapes(rng)[:2]:
            Z, dA = sample(rng, rows, cols), rng.normal(size=(rows, cols))
            numeric = fd_gradient_of_projection(c, fwd, (Z,), 0, dA)
            expect_gradient_fd(f"{bwd} → dZ", c.call(bwd, dA, Z), numeric, {"dA": dA, "Z": Z}, FD.format(fwd))

    def extremes(c, rng):
        Z = rng.uniform(-config.EXTREME_Z, config.EXTREME_Z, (3, 4))
        Z[0, :2] = [-config.EXTREME_Z, config.EXTREME_Z]
        dA = rng.normal(size=Z.shape)
        R = reference()
        expect_array(f"{fwd} → A for |z| up to {config.EXTREME_Z:g}", c.call(fwd, Z), getattr(R, fwd)(Z), config.TOL_REFERENCE, {"Z": Z}, REF)
        expect_array(f"{bwd} → dZ for |z| up to {config.EXTREME_Z:g}", c.call(bwd, dA, Z), getattr(R, bwd)(dA, Z), config.TOL_REFERENCE, {"dA": dA, "Z": Z}, REF)

    cases = [
        Case(f"{fwd} matches the reference on random inputs", forward_vs_reference),
        Case(f"{bwd} matches the reference on random inputs", backward_vs_reference),
        Case(f"{bwd} agrees with finite differences of {fwd}", backward_vs_fd),
        Case(f"{fwd} and {bwd} are finite and right for |z| up to {config.EXTREME_Z:g}", extremes),
    ]
    if kind == "relu":
        cases[1] = Case(f"{bwd} matches the reference, with exact zeros in Z (derivative 0 at 0)", backward_vs_reference)
    return cases


# ---------------------------------------------------------------- dense


def _dense_inputs(rng, n_out, n_in, N):
    return (
        rng.normal(size=(n_out, N)),  # dZ
        rng.normal(size=(n_in, N)),  # A_prev
        rng.normal(size=(n_out, n_in)),  # W
        rng.normal(size=(n_out, 1)),  # b
    )


def _dense_forward(c, rng):
    for shape in shapes(rng):
        _, A_prev, W, b = _dense_inputs(rng, *shape)
        want = reference().dense_forward(A_prev, W, b)
        expect_array("dense_forward → Z", c.call("dense_forward", A_prev, W, b), want, config.TOL_REFERENCE, {"A_prev": A_prev, "W": W, "b": b}, REF_FORWARD)


def _dense_backward_quantity(index, name):
    def run(c, rng):
        for shape in shapes(rng):
            dZ, A_prev, W, b = _dense_inputs(rng, *shape)
            got = expect_tuple("dense_backward", c.call("dense_backward", dZ, A_prev, W), 3)[index]
            want = reference().dense_backward(dZ, A_prev, W)[index]
            expect_gradient(
                f"dense_backward → {name}", got, want, {"dZ": dZ, "A_prev": A_prev, "W": W},
                lambda: fd_gradient_of_projection(c, "dense_forward", (A_prev, W, b), index, dZ),
            )

    return Case(f"dense_backward → {name} matches the reference on random shapes", run)


def _dense_fd(c, rng):
    for shape in shapes(rng)[1:]:
        dZ, A_prev, W, b = _dense_inputs(rng, *shape)
        got = expect_tuple("dense_backward", c.call("dense_backward", dZ, A_prev, W), 3)
        for position, name in enumerate(("dA_prev", "dW", "db")):
            numeric = fd_gradient_of_projection(c, "dense_forward", (A_prev, W, b), position, dZ)
            expect_gradient_fd(f"dense_backward → {name}", got[position], numeric, {"dZ": dZ, "A_prev": A_prev, "W": W}, FD.format("dense_forward"))


# ---------------------------------------------------------------- losses


def _one_hot(rng, k, N):
    Y = np.zeros((k, N))
    Y[rng.integers(0, k, N), np.arange(N)] = 1.0
    return Y


def _loss_inputs(rng, name, scale=1.0):
    k, N = int(rng.integers(2, 6)), int(rng.choice([1, int(rng.integers(2, 9))]))
    if name == "mse_loss":
        return rng.normal(size=(k, N)) * scale, rng.normal(size=(k, N))
    return rng.normal(0.0, 3.0, (k, N)) * scale, _one_hot(rng, k, N)


def loss_cases(name, grad_name, first_arg):
    def values(c, rng):
        for _ in range(3):
            P, Y = _loss_inputs(rng, name)
            J, g = expect_tuple(name, c.call(name, P, Y), 2)
            want_J, want_g = getattr(reference(), name)(P, Y)
            inputs = {first_arg: P, "Y": Y}
            expect_float(f"{name} → J", J, want_J, config.TOL_REFERENCE, inputs, REF)
            expect_array(f"{name} → {grad_name}", g, want_g, config.TOL_REFERENCE, inputs, REF)

    def gradient_vs_fd(c, rng):
        for _ in range(2):
            P, Y = _loss_inputs(rng, name)
            _, g = expect_tuple(name, c.call(name, P, Y), 2)
            numeric = fd_gradient_of_scalar(c, name, (P, Y), 0)
            expect_gradient_fd(f"{name} → {grad_name}", g, numeric, {first_arg: P, "Y": Y}, f"finite differences of your {name}'s J (your gradient disagrees with your own loss)")

    cases = [
        Case(f"{name} matches the reference (J and {grad_name}) on random inputs", values, weight=2.0),
        Case(f"{name} → {grad_name} agrees with finite differences of its J", gradient_vs_fd),
    ]
    if name == "softmax_cross_entropy":

        def extremes(c, rng):
            Z, Y = _loss_inputs(rng, name)
            Z = np.clip(Z * config.EXTREME_Z, -config.EXTREME_Z, config.EXTREME_Z)
            J, g = expect_tuple(name, c.call(name, Z, Y), 2)
            want_J, want_g = reference().softmax_cross_entropy(Z, Y)
            expect_float(f"{name} → J for logits up to ±{config.EXTREME_Z:g}", J, want_J, config.TOL_REFERENCE, {"Z_out": Z, "Y": Y}, REF)
            expect_array(f"{name} → dZ_out for logits up to ±{config.EXTREME_Z:g}", g, want_g, config.TOL_REFERENCE, {"Z_out": Z, "Y": Y}, REF)

        cases.append(Case(f"{name} is finite and right for logits up to ±{config.EXTREME_Z:g}", extremes))
    return cases


# ---------------------------------------------------------------- network


def random_net(rng, deep, equal_widths=False):
    """Random layer sizes, activations (all three in a deep net) and parameters.

    With equal_widths every layer has the same width, so a backward that mixes up layers
    still returns arrays of the right shapes, and the mistake can be recognised.
    """
    if deep and equal_widths:
        sizes = [int(rng.integers(2, 5))] * 5
        acts = [str(a) for a in rng.permutation(ACTIVATIONS)] + ["identity"]
    elif deep:
        sizes = [int(rng.integers(2, 5))] + [int(rng.integers(2, 6)) for _ in range(3)] + [int(rng.integers(1, 4))]
        acts = [str(a) for a in rng.permutation(ACTIVATIONS)] + [str(rng.choice(["sigmoid", "identity"]))]
    else:
        sizes = [2, int(rng.integers(2, 6)), 1]
        acts = [str(rng.choice(ACTIVATIONS)), "sigmoid"]
    params = init_params(sizes, seed=int(rng.integers(2**31)), scale=float(rng.uniform(0.5, 1.5)))
    for key in params:
        if key.startswith("b"):
            params[key] = rng.normal(0.0, 0.5, params[key].shape)
    return sizes, acts, params


def kink_free_net(rng, equal_widths=False):
    """A deep random net and data on which no ReLU pre-activation is near 0."""
    for _ in range(200):
        sizes, acts, params = random_net(rng, True, equal_widths)
        X, Y = _net_data(rng, sizes)
        if _min_relu_preactivation(X, params, acts) > config.RELU_KINK_MARGIN:
            return X, Y, acts, params
    raise RuntimeError("could not draw a network away from the ReLU kink")


def _min_relu_preactivation(X, params, acts):
    _, caches = reference().forward(X, params, acts)
    relu_z = [np.abs(Z).min() for (_, Z), a in zip(caches, acts) if a == "relu"]
    return min(relu_z, default=np.inf)


def _net_data(rng, sizes):
    N = int(rng.choice([1, int(rng.integers(2, 7))]))
    return rng.normal(size=(sizes[0], N)), rng.uniform(0.0, 1.0, (sizes[-1], N))


def _forward_vs_reference(c, rng):
    for deep in (False, True):
        sizes, acts, params = random_net(rng, deep)
        X, _ = _net_data(rng, sizes)
        out = expect_tuple("forward", c.call("forward", X, params, acts), 2)
        want, _ = reference().forward(X, params, acts)
        expect_array("forward → A_out", out[0], want, config.TOL_REFERENCE, {"X": X, "params": params, "activations": acts}, REF_FORWARD)


def _student_grads(c, X, Y, params, acts):
    out = expect_tuple("forward", c.call("forward", X, params, acts), 2)
    dA = (reference().forward(X, params, acts)[0] - Y) / Y.shape[1]
    grads = c.call("backward", dA, out[1], params, acts)
    if not isinstance(grads, dict):
        raise CheckFailure(f"backward: expected a dict of gradients, got {type(grads).__name__}.")
    return dA, out[1], grads


def _backward_vs_reference(c, rng):
    for sizes in (None, "equal"):
        X, Y, acts, params = kink_free_net(rng, equal_widths=sizes == "equal")
        dA, _, grads = _student_grads(c, X, Y, params, acts)
        R = reference()
        want = R.backward(dA, R.forward(X, params, acts)[1], params, acts)
        inputs = {"X": X, "params": params, "activations": acts}
        for key in params:
            expect_gradient(f"backward → grads[{key!r}]", grads.get(key), want[key], inputs, lambda: _fd_param(c, X, Y, params, acts, key))


def _fd_param(c, X, Y, params, acts, key):
    """Centred differences of J(θ) = MSE(student's forward(X; θ), Y) with respect to params[key]."""
    h = config.FD_STEP
    arglists = [(X, dict(params, **{key: xp}), acts) for xp in perturbations(params[key], h)]
    outs = c.call_many("forward", arglists, pick=0)
    values = []
    for o in outs:
        if not isinstance(o, np.ndarray) or o.shape != Y.shape:
            raise CheckFailure(f"forward returned {type(o).__name__} of shape {np.shape(o)}, expected {Y.shape}")
        values.append(reference().mse_loss(o, Y)[0])
    return centred_gradient(values, params[key].shape, h)


def _backward_vs_fd(c, rng):
    X, Y, acts, params = kink_free_net(rng)
    _, _, grads = _student_grads(c, X, Y, params, acts)
    for key in params:
        numeric = _fd_param(c, X, Y, params, acts, key)
        expect_gradient_fd(f"backward → grads[{key!r}]", grads.get(key), numeric, {"X": X, "params": params, "activations": acts}, FD.format("forward"))


def _backward_twice(c, rng):
    sizes, acts, params = random_net(rng, True)
    X, Y = _net_data(rng, sizes)
    out = expect_tuple("forward", c.call("forward", X, params, acts), 2)
    dA = rng.normal(size=Y.shape)
    first = c.call("backward", dA, out[1], params, acts)
    second = c.call("backward", dA, out[1], params, acts)
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise CheckFailure("backward: expected a dict of gradients.")
    for key in params:
        expect_array(
            f"backward → grads[{key!r}] on a second call with the same caches",
            second.get(key),
            np.asarray(first.get(key), dtype=float),
            config.TOL_REFERENCE,
            {"activations": acts},
            "your first call (backward must not modify the caches from forward)",
        )


# ---------------------------------------------------------------- sgd


def _sgd(c, rng):
    sizes = [int(n) for n in rng.integers(1, 6, size=int(rng.integers(2, 5)))]
    params = init_params(sizes, seed=int(rng.integers(2**31)))
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    rates = (float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.5, 2.0)))
    # both calls first: a function that ignores learning_rate gives itself away by answering the same
    answers = [(lr, c.call("sgd_update", params, grads, lr)) for lr in rates]
    for lr, new in answers:
        if not isinstance(new, dict) or set(new) != set(params):
            raise CheckFailure(f"sgd_update: expected a dict with keys {sorted(params)}, got {type(new).__name__} with {sorted(new) if isinstance(new, dict) else '-'}.")
        want = reference().sgd_update(params, grads, lr)
        for key in params:
            expect_array(f"sgd_update → {key}", new[key], want[key], config.TOL_REFERENCE, {"params": params, "grads": grads, "learning_rate": lr}, REF)


# ---------------------------------------------------------------- train


def _trajectory(loss, batch_size):
    def run(c, rng):
        n0, h, N = int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(7, 14))
        if loss == "mse":
            k = int(rng.integers(1, 3))
            acts = [str(rng.choice(ACTIVATIONS)), "sigmoid"]
            Y = rng.uniform(0.0, 1.0, (k, N))
        else:
            k = int(rng.integers(2, 5))
            acts = [str(rng.choice(ACTIVATIONS)), "identity"]
            Y = _one_hot(rng, k, N)
        X = rng.normal(size=(n0, N))
        params = init_params([n0, h, k], seed=int(rng.integers(2**31)))
        lr, epochs, seed = float(rng.uniform(0.05, 0.5)), int(rng.integers(3, 7)), int(rng.integers(2**31))
        bs = None if batch_size is None else int(rng.integers(2, N // 2 + 1))
        args = (X, Y, params, acts, loss, lr, epochs, bs, seed)
        got = expect_tuple("train", c.call("train", *args), 2)
        want_params, want_history = reference().train(*args)
        inputs = {"X": X, "Y": Y, "activations": acts, "batch_size": bs, "epochs": epochs}
        history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
        expect_array("train → history", history, np.asarray(want_history), config.TOL_TRAJECTORY, inputs, "the reference's trajectory")
        if not isinstance(got[0], dict):
            raise CheckFailure(f"train: expected params as a dict, got {type(got[0]).__name__}.")
        for key in params:
            expect_array(f"train → params[{key!r}]", got[0].get(key), want_params[key], config.TOL_TRAJECTORY, inputs, "the reference's trajectory")

    kind = "full-batch" if batch_size is None else "mini-batch"
    return Case(f"train follows the reference's {kind} trajectory exactly ({loss})", run, weight=2.0)


def _train_uses_arguments(c, rng):
    """Two datasets of XOR's shape: a train that reads globals returns the same thing for both."""
    params = init_params([2, 3, 1], seed=int(rng.integers(2**31)))
    acts = [str(rng.choice(ACTIVATIONS)), "sigmoid"]
    datasets = [(rng.normal(size=(2, 4)), rng.uniform(0.0, 1.0, (1, 4))) for _ in range(2)]
    answers = [expect_tuple("train", c.call("train", X, Y, params, acts, "mse", 0.5, 3, None, 0), 2) for X, Y in datasets]
    for (X, Y), got in zip(datasets, answers):
        _, want_history = reference().train(X, Y, params, acts, "mse", 0.5, 3, None, 0)
        history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
        expect_array("train → history", history, np.asarray(want_history), config.TOL_TRAJECTORY, {"X": X, "Y": Y, "activations": acts}, "the reference's trajectory")


def _xor(activation):
    def run(c, rng):
        X, Y = load_xor()
        cfg = config.XOR
        params = init_params([2, cfg["hidden_units"], 1], seed=cfg["seeds"][activation])
        acts = [activation, "sigmoid"]
        got = expect_tuple("train", c.call("train", X, Y, params, acts, "mse", cfg["learning_rate"], cfg["epochs"], None, 0), 2)
        A_out = _predict(got[0], X, acts)
        if accuracy(A_out, Y) < 1.0:
            raise CheckFailure(
                f"train: XOR with a {activation} hidden layer is not solved after {cfg['epochs']} epochs: "
                f"outputs {np.round(A_out.ravel(), 3).tolist()} for targets {Y.ravel().tolist()}."
            )

    return Case(f"train solves XOR with a {activation} hidden layer", run)


def _digits(activation):
    def run(c, rng):
        cfg = config.DIGITS
        X_train, Y_train, X_test, Y_test = _digits_data()
        params = init_params([64, cfg["hidden_units"], 10], seed=cfg["init_seed"])
        acts = [activation, "identity"]
        got = expect_tuple(
            "train",
            c.call("train", X_train, Y_train, params, acts, "softmax_ce", cfg["learning_rate"], cfg["epochs"], cfg["batch_size"], cfg["shuffle_seed"]),
            2,
        )
        acc = accuracy(_predict(got[0], X_test, acts), Y_test)
        if acc < cfg["min_test_accuracy"]:
            raise CheckFailure(
                f"train: digits with a {activation} hidden layer reaches {acc:.1%} test accuracy, "
                f"below the required {cfg['min_test_accuracy']:.0%}."
            )

    return Case(f"train reaches {config.DIGITS['min_test_accuracy']:.0%} test accuracy on digits ({activation})", run, weight=2.0)


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


def diagnose(calls):
    """Name the known mistake behind a failing check, from the calls it made (see hints.py)."""
    from .hints import diagnose as match

    return match(calls, reference())


def hidden_cases():
    return {
        "sigmoid": activation_cases("sigmoid"),
        "tanh": activation_cases("tanh"),
        "relu": activation_cases("relu"),
        "dense": [
            Case("dense_forward matches the reference on random shapes", _dense_forward),
            _dense_backward_quantity(0, "dA_prev"),
            _dense_backward_quantity(1, "dW"),
            _dense_backward_quantity(2, "db"),
            Case("dense_backward agrees with finite differences of dense_forward", _dense_fd),
        ],
        "losses": loss_cases("mse_loss", "dA_out", "A_out") + loss_cases("softmax_cross_entropy", "dZ_out", "Z_out"),
        "network": [
            Case("forward matches the reference on XOR-sized and deeper random nets", _forward_vs_reference),
            Case("backward matches the reference on deep nets mixing activations", _backward_vs_reference, weight=2.0),
            Case("backward agrees with finite differences of forward on a deep mixed net", _backward_vs_fd, weight=2.0),
            Case("backward gives the same gradients when called twice with the same caches", _backward_twice),
            worked_example_case(),
        ],
        "sgd": [Case("sgd_update matches the reference for random nets and learning rates", _sgd)],
        "train": [
            worked_example_step_case(),
            _trajectory("mse", None),
            _trajectory("mse", "mini"),
            _trajectory("softmax_ce", "mini"),
            Case("train trains on the X and Y it is given", _train_uses_arguments),
        ]
        + [_xor(a) for a in ACTIVATIONS]
        + [_digits(a) for a in ACTIVATIONS],
    }
