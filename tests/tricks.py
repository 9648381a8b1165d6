"""Submissions that try to earn points without doing the work, and the honest notebooks they must not beat.

TRICKS[trick_id] = {
    "cells":    the notebook's code cells (strings), in order, written as a student would;
                the first cell imports numpy and otter (the grader stubs otter),
    "baseline": "template" (the untouched handout) or the id of another entry: the
                grader promises that the trick scores no more than this notebook,
    "trick":    one line: what it tries,
}

Entries with "honest": True are baselines, not tricks: notebooks that did some of the
work honestly (their "baseline" is "template", which they are expected to beat). A test
of the promise skips them.

The literal values that the lookup trick ("zeros_lookup") pastes into its notebook are
taken, when this module is imported, from backprop_lab.public_checks, backprop_lab.config
and backprop_lab.helpers.load_worked_example: a student would copy them from the handout,
and taking them from there keeps the trick as strong as the public checks it copies.
"""

import numpy as np

from backprop_lab import config
from backprop_lab import public_checks as P
from backprop_lab.contract import SIGNATURES
from backprop_lab.helpers import load_worked_example

HEADER = 'import numpy as np\nimport otter\ngrader = otter.Notebook("backprop.ipynb")'

NAMES = tuple(SIGNATURES)  # the 14 contract functions, in the handout's order


def _lit(a):
    """Source text of an array literal that round-trips exactly (repr of Python floats)."""
    return f"np.array({np.asarray(a, dtype=float).tolist()!r})"


# ============================================================== stubs (as in the template)

STUBS = {
    name: f'def {name}({args}):\n    raise NotImplementedError("{name}: not done")\n'
    for name, args in (
        ("sigmoid_forward", "Z"),
        ("sigmoid_backward", "dA, Z"),
        ("tanh_forward", "Z"),
        ("tanh_backward", "dA, Z"),
        ("relu_forward", "Z"),
        ("relu_backward", "dA, Z"),
        ("dense_forward", "A_prev, W, b"),
        ("dense_backward", "dZ, A_prev, W"),
        ("mse_loss", "A_out, Y"),
        ("softmax_cross_entropy", "Z_out, Y"),
        ("forward", "X, params, activations"),
        ("backward", "dA_out, caches, params, activations"),
        ("sgd_update", "params, grads, learning_rate"),
        ("train", "X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0"),
    )
}

# ============================================================== zeros

ZEROS_ACTIVATIONS = '''
def sigmoid_forward(Z):
    return np.zeros_like(Z)


def sigmoid_backward(dA, Z):
    return np.zeros_like(Z)


def tanh_forward(Z):
    return np.zeros_like(Z)


def tanh_backward(dA, Z):
    return np.zeros_like(Z)


def relu_forward(Z):
    return np.zeros_like(Z)


def relu_backward(dA, Z):
    return np.zeros_like(Z)
'''

ZEROS_DENSE = '''
def dense_forward(A_prev, W, b):
    return np.zeros((W.shape[0], A_prev.shape[1]))


def dense_backward(dZ, A_prev, W):
    return np.zeros_like(A_prev), np.zeros_like(W), np.zeros((W.shape[0], 1))
'''

ZEROS_LOSSES = '''
def mse_loss(A_out, Y):
    return 0.0, np.zeros_like(A_out)


def softmax_cross_entropy(Z_out, Y):
    return 0.0, np.zeros_like(Z_out)
'''

ZEROS_NETWORK = '''
def forward(X, params, activations):
    A = X
    caches = []
    for l in range(1, len(activations) + 1):
        Z = np.zeros((params[f"W{l}"].shape[0], X.shape[1]))
        caches.append((A, Z))
        A = Z
    return np.zeros((params[f"W{len(activations)}"].shape[0], X.shape[1])), caches


def backward(dA_out, caches, params, activations):
    return {name: np.zeros_like(value) for name, value in params.items()}
'''

ZEROS_TRAINING = '''
def sgd_update(params, grads, learning_rate):
    return {name: value.copy() for name, value in params.items()}


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    return {name: value.copy() for name, value in params.items()}, [0.0] * epochs
'''

ZEROS_CELLS = [HEADER, ZEROS_ACTIVATIONS, ZEROS_DENSE, ZEROS_LOSSES, ZEROS_NETWORK, ZEROS_TRAINING]

# ============================================================== zeros + lookup of the public inputs


def _lookup_cell():
    X, Y, params, acts = load_worked_example()
    C = P.CHAPTER
    softmax_dz = (1.0 / 3.0 - P.SOFTMAX_Y) / 2.0
    extreme = config.EXTREME_Z
    z_ext = np.array([[-extreme, extreme]])
    sm_ext_z = np.array([[extreme], [0.0], [-extreme]])
    sm_ext_y = np.array([[0.0], [1.0], [0.0]])
    return f'''
# The public checks' inputs and the numbers they expect (copied from the handout and the chapter).
# Near a known input the activations and dense_forward answer with the known value plus the known
# derivative times the offset, so finite differences of them agree with the copied derivatives.

_ACT_TABLE = {{  # kind: [(Z, A, derivative at Z)]
    "sigmoid": [
        ({_lit(P.SIGMOID_Z)}, {_lit(P.SIGMOID_A)}, {_lit(P.SIGMOID_PRIME)}),
        ({_lit(z_ext)}, {_lit([[0.0, 1.0]])}, {_lit([[0.0, 0.0]])}),
    ],
    "tanh": [
        ({_lit(P.TANH_Z)}, {_lit(P.TANH_A)}, {_lit(P.TANH_PRIME)}),
        ({_lit(z_ext)}, {_lit([[-1.0, 1.0]])}, {_lit([[0.0, 0.0]])}),
    ],
    "relu": [
        ({_lit(P.RELU_Z)}, {_lit(P.RELU_A)}, {_lit(P.RELU_PRIME)}),
    ],
}}

_DENSE = dict(
    A_prev={_lit(P.DENSE_A_PREV)},
    W={_lit(P.DENSE_W)},
    b={_lit(P.DENSE_B)},
    Z={_lit(P.DENSE_Z)},
    dZ={_lit(P.DENSE_DZ)},
    dA_prev={_lit(P.DENSE_DA_PREV)},
    dW={_lit(P.DENSE_DW)},
    db={_lit(P.DENSE_DB)},
)

_MSE_TABLE = [  # (A_out, Y, J, dA_out)
    ({_lit(P.MSE_A)}, {_lit(P.MSE_Y)}, 1.25, {_lit([[0.5, 1.0]])}),
    ({_lit(C["a2"])}, {_lit(Y)}, {float(C["J"])!r}, {_lit(C["dA2"])}),
]

_SOFTMAX_TABLE = [  # (Z_out, Y, J, dZ_out)
    ({_lit(P.SOFTMAX_Z)}, {_lit(P.SOFTMAX_Y)}, 1.0986122886681098, {_lit(softmax_dz)}),
    ({_lit(sm_ext_z)}, {_lit(sm_ext_y)}, {float(extreme)!r}, {_lit([[1.0], [-1.0], [0.0]])}),
]

_WE_X = {_lit(X)}
_WE_Y = {_lit(Y)}
_WE_PARAMS = {{{", ".join(f"{k!r}: {_lit(v)}" for k, v in params.items())}}}
_WE_ACTS = {list(acts)!r}
_WE_A2 = {_lit(C["a2"])}
_WE_DA2 = {_lit(C["dA2"])}
_WE_GRADS = {{"W1": {_lit(C["dW1"])}, "b1": {_lit(C["db1"])}, "W2": {_lit(C["dW2"])}, "b2": {_lit(C["delta2"])}}}
_WE_LR = {float(config.WORKED_EXAMPLE_LEARNING_RATE)!r}
_WE_LOSS_AFTER_ONE_STEP = {float(config.WORKED_EXAMPLE_LOSS_AFTER_ONE_STEP)!r}

_SGD_PARAMS = {{"W1": {_lit([[1.0, 2.0]])}, "b1": {_lit([[3.0]])}}}
_SGD_GRADS = {{"W1": {_lit([[10.0, 20.0]])}, "b1": {_lit([[-30.0]])}}}
_SGD_LR = 0.1
_SGD_NEW = {{"W1": {_lit([[0.0, 0.0]])}, "b1": {_lit([[6.0]])}}}


def _near(x, y, tol=0.0):
    return isinstance(x, np.ndarray) and x.shape == np.shape(y) and bool(np.all(np.abs(x - y) <= tol))


def _same_params(p, q):
    return isinstance(p, dict) and set(p) == set(q) and all(_near(p[k], q[k]) for k in q)


def _act_forward(kind, Z):
    for Z0, A0, prime in _ACT_TABLE[kind]:
        if _near(Z, Z0, 1e-3):
            return A0 + prime * (Z - Z0)
    return np.zeros_like(Z)


def _act_backward(kind, dA, Z):
    for Z0, A0, prime in _ACT_TABLE[kind]:
        if _near(Z, Z0):
            return dA * prime
    return np.zeros_like(Z)


def sigmoid_forward(Z):
    return _act_forward("sigmoid", Z)


def sigmoid_backward(dA, Z):
    return _act_backward("sigmoid", dA, Z)


def tanh_forward(Z):
    return _act_forward("tanh", Z)


def tanh_backward(dA, Z):
    return _act_backward("tanh", dA, Z)


def relu_forward(Z):
    return _act_forward("relu", Z)


def relu_backward(dA, Z):
    return _act_backward("relu", dA, Z)


def dense_forward(A_prev, W, b):
    d = _DENSE
    if _near(A_prev, d["A_prev"], 1e-3) and _near(W, d["W"], 1e-3) and _near(b, d["b"], 1e-3):
        return d["Z"] + d["W"] @ (A_prev - d["A_prev"]) + (W - d["W"]) @ d["A_prev"] + (b - d["b"])
    return np.zeros((W.shape[0], A_prev.shape[1]))


def dense_backward(dZ, A_prev, W):
    d = _DENSE
    if _near(dZ, d["dZ"]) and _near(A_prev, d["A_prev"]) and _near(W, d["W"]):
        return d["dA_prev"].copy(), d["dW"].copy(), d["db"].copy()
    return np.zeros_like(A_prev), np.zeros_like(W), np.zeros((W.shape[0], 1))


def mse_loss(A_out, Y):
    for A0, Y0, J, dA in _MSE_TABLE:
        if _near(A_out, A0) and _near(Y, Y0):
            return J, dA.copy()
    return 0.0, np.zeros_like(A_out)


def softmax_cross_entropy(Z_out, Y):
    for Z0, Y0, J, dZ in _SOFTMAX_TABLE:
        if _near(Z_out, Z0) and _near(Y, Y0):
            return J, dZ.copy()
    return 0.0, np.zeros_like(Z_out)


def _zero_caches(X, params, activations):
    A, caches = X, []
    for l in range(1, len(activations) + 1):
        Z = np.zeros((params[f"W{{l}}"].shape[0], X.shape[1]))
        caches.append((A, Z))
        A = Z
    return caches


def forward(X, params, activations):
    caches = _zero_caches(X, params, activations)
    if _near(X, _WE_X) and _same_params(params, _WE_PARAMS) and list(activations) == _WE_ACTS:
        return _WE_A2.copy(), caches
    return np.zeros((params[f"W{{len(activations)}}"].shape[0], X.shape[1])), caches


def backward(dA_out, caches, params, activations):
    if _near(dA_out, _WE_DA2) and _same_params(params, _WE_PARAMS) and list(activations) == _WE_ACTS:
        return {{name: value.copy() for name, value in _WE_GRADS.items()}}
    return {{name: np.zeros_like(value) for name, value in params.items()}}


def sgd_update(params, grads, learning_rate):
    if _same_params(params, _SGD_PARAMS) and _same_params(grads, _SGD_GRADS) and learning_rate == _SGD_LR:
        return {{name: value.copy() for name, value in _SGD_NEW.items()}}
    return {{name: value.copy() for name, value in params.items()}}


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    new = {{name: value.copy() for name, value in params.items()}}
    if (_near(X, _WE_X) and _near(Y, _WE_Y) and _same_params(params, _WE_PARAMS) and list(activations) == _WE_ACTS
            and loss == "mse" and learning_rate == _WE_LR and epochs == 1 and batch_size is None):
        return new, [_WE_LOSS_AFTER_ONE_STEP]
    return new, [0.0] * epochs
'''


# ============================================================== zeros that poison finite differences

FD_DETECTOR = '''
import sys

# Poisons returned only when a call looks like part of a finite-difference batch.
_NAN = float("nan")
_HUGE = 1e150

_FD_FUNCTIONS = {
    "call_many", "fd_gradient_of_projection", "fd_gradient_of_scalar", "_fd_param",
    "centred_gradient", "perturbations", "network_fd_case", "_backward_vs_fd", "_dense_fd",
}
_FD_LOCALS = ("arglists", "perturbations", "fd", "xp")
_recent = {}  # function name -> recent inputs, flattened


def _frames_say_fd(depth=2):
    frame = sys._getframe(depth)
    for _ in range(60):
        if frame is None:
            return False
        code = frame.f_code
        if code.co_name in _FD_FUNCTIONS or "fd" in code.co_name.lower().split("_"):
            return True
        if frame.f_locals is not frame.f_globals:  # skip module frames: the notebook namespace
            local = frame.f_locals
            if any(name in local for name in _FD_LOCALS):
                return True
            if local.get("many"):
                return True
            if "pick" in local and local["pick"] is not None:
                return True
            request = local.get("request")
            if isinstance(request, dict) and (request.get("many") or request.get("pick") is not None):
                return True
        frame = frame.f_back
    return False


def _flat(args):
    parts = []
    for a in args:
        if isinstance(a, dict):
            parts += [np.ravel(np.asarray(a[k], dtype=float)) for k in sorted(a)]
        elif isinstance(a, np.ndarray):
            parts.append(np.ravel(a.astype(float)))
    return np.concatenate(parts) if parts else np.zeros(0)


def _memory_says_fd(name, args):
    """Does this input differ from a recent one in one or two entries, by about 1e-5 each?"""
    x = _flat(args)
    seen = _recent.setdefault(name, [])
    hit, extra = False, []
    for old in seen:
        if old.shape != x.shape:
            continue
        d = x - old
        idx = np.flatnonzero(d)
        if 1 <= idx.size <= 2 and np.all((np.abs(d[idx]) > 2e-6) & (np.abs(d[idx]) < 5e-5)):
            hit = True
            if idx.size == 1 and abs(d[idx[0]]) > 1.5e-5:
                extra.append(old + d / 2)  # x - h e_i after x + h e_i: their midpoint is the unperturbed x
            break
    seen.extend(extra + [x])
    del seen[:-32]
    return hit


def _called_for_fd(name, *args):
    by_frames = _frames_say_fd(3)
    by_memory = _memory_says_fd(name, args)  # always run: it must remember every input
    return by_frames or by_memory


def sigmoid_forward(Z):
    if _called_for_fd("sigmoid_forward", Z):
        return np.full(np.shape(Z), _NAN)
    return np.zeros_like(Z)


def tanh_forward(Z):
    if _called_for_fd("tanh_forward", Z):
        return np.full(np.shape(Z), _NAN)
    return np.zeros_like(Z)


def relu_forward(Z):
    if _called_for_fd("relu_forward", Z):
        return np.full(np.shape(Z), _NAN)
    return np.zeros_like(Z)


def dense_forward(A_prev, W, b):
    if _called_for_fd("dense_forward", A_prev, W, b):
        return np.full((W.shape[0], A_prev.shape[1]), _NAN)
    return np.zeros((W.shape[0], A_prev.shape[1]))


def forward(X, params, activations):
    A = X
    caches = []
    for l in range(1, len(activations) + 1):
        Z = np.zeros((params[f"W{l}"].shape[0], X.shape[1]))
        caches.append((A, Z))
        A = Z
    shape = (params[f"W{len(activations)}"].shape[0], X.shape[1])
    if _called_for_fd("forward", X, params):
        return np.full(shape, _HUGE), caches
    return np.zeros(shape), caches
'''


# ============================================================== only train: scikit-learn does it

SKLEARN_TRAIN = '''
import warnings


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    """scikit-learn trains an MLP of the same shape; its weights come back in my params format."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    L = len(activations)
    hidden = tuple(params[f"W{l}"].shape[0] for l in range(1, L))
    act = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}[activations[0]]
    k, N = Y.shape
    binary = bool(np.all((Y == 0.0) | (Y == 1.0)))
    settings = dict(
        hidden_layer_sizes=hidden,
        activation=act,
        solver="adam",
        learning_rate_init=0.01,
        max_iter=max(int(epochs), 300),
        batch_size=min(N, batch_size or N),
        random_state=int(seed) % (2**32),
        tol=1e-6,
        n_iter_no_change=50,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if k > 1 and binary and np.all(Y.sum(axis=0) == 1):  # one-hot: softmax classifier
            model = MLPClassifier(**settings).fit(X.T, Y.argmax(axis=0))
        elif k == 1 and binary and len(np.unique(Y)) == 2:  # two classes: a logistic output is my sigmoid
            model = MLPClassifier(**settings).fit(X.T, Y.ravel().astype(int))
        else:
            targets = Y.T
            if activations[-1] == "sigmoid":  # learn the logits, so that my sigmoid output hits Y
                p = np.clip(targets, 1e-3, 1 - 1e-3)
                targets = np.log(p / (1 - p))
            model = MLPRegressor(**settings).fit(X.T, targets if k > 1 else targets.ravel())
    new = {}
    for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_), start=1):
        new[f"W{l}"] = np.array(W.T, dtype=float)
        new[f"b{l}"] = np.array(b, dtype=float).reshape(-1, 1)
    curve = [float(v) for v in model.loss_curve_][:epochs]
    history = curve + [curve[-1]] * (epochs - len(curve))
    return new, history
'''

# ============================================================== a correct notebook, student style
# Written so that every forward also takes complex numbers (the complex step needs it), and equal
# to the reference on real inputs.

CORRECT_IMPORTS = "from backprop_lab.helpers import identity_backward, identity_forward, init_params, load_worked_example"

CORRECT_ACTIVATIONS = '''
def sigmoid_forward(Z):
    # exp only ever sees a number with non-positive real part: it cannot overflow
    positive = np.real(Z) >= 0
    E = np.exp(-np.where(positive, 1.0, -1.0) * Z)
    return np.where(positive, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_backward(dA, Z):
    s = sigmoid_forward(Z)
    return dA * s * (1.0 - s)


def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    t = np.tanh(Z)
    return dA * (1.0 - t**2)


def relu_forward(Z):
    return np.where(np.real(Z) > 0, Z, 0.0)


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)
'''

CORRECT_DENSE = '''
def dense_forward(A_prev, W, b):
    return W @ A_prev + b


def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T
    db = dZ.sum(axis=1, keepdims=True)
    return dA_prev, dW, db
'''

CORRECT_LOSSES = '''
def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    return float(0.5 * np.sum(diff**2) / N), diff / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    shifted = Z_out - Z_out.max(axis=0, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    return float(-np.sum(Y * log_p) / N), (np.exp(log_p) - Y) / N
'''

CORRECT_FORWARD = '''
def forward(X, params, activations):
    fns = {
        "sigmoid": sigmoid_forward,
        "tanh": tanh_forward,
        "relu": relu_forward,
        "identity": lambda Z: np.array(Z, copy=True),  # keeps complex numbers, unlike identity_forward
    }
    A = X
    caches = []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = fns[name](Z)
    return A, caches
'''

BACKWARD_NOT_DONE = '''
def backward(dA_out, caches, params, activations):
    raise NotImplementedError("backward: return grads")
'''

BACKWARD_COMPLEX_STEP = '''
def backward(dA_out, caches, params, activations):
    """No chain rule: every entry of every gradient by the complex step through my own forward.

    dJ/dtheta = sum(dA_out * dA_out/dtheta), and Im f(theta + i h) / h is f'(theta) to machine precision.
    """
    X = caches[0][0]  # my caches are (A_prev, Z) per layer: layer 1's input is X
    h = 1e-20
    grads = {}
    for name, theta in params.items():
        grad = np.zeros(theta.shape)
        for k in range(theta.size):
            bumped = theta.astype(complex)
            bumped.flat[k] += 1j * h
            A_out, _ = forward(X, dict(params, **{name: bumped}), activations)
            grad.flat[k] = np.sum(dA_out * A_out).imag / h
        grads[name] = grad
    return grads
'''

BACKWARD_CENTRED = '''
def backward(dA_out, caches, params, activations):
    """No chain rule: every entry of every gradient by centred differences of my own forward."""
    X = caches[0][0]  # my caches are (A_prev, Z) per layer: layer 1's input is X
    h = 1e-6
    grads = {}
    for name, theta in params.items():
        grad = np.zeros(theta.shape)
        for k in range(theta.size):
            up, down = theta.copy(), theta.copy()
            up.flat[k] += h
            down.flat[k] -= h
            f_up = np.sum(dA_out * forward(X, dict(params, **{name: up}), activations)[0])
            f_down = np.sum(dA_out * forward(X, dict(params, **{name: down}), activations)[0])
            grad.flat[k] = (f_up - f_down) / (2 * h)
        grads[name] = grad
    return grads
'''

CORRECT_SGD = '''
def sgd_update(params, grads, learning_rate):
    return {name: value - learning_rate * grads[name] for name, value in params.items()}
'''

CORRECT_TRAIN = '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        if batch_size is None:
            batches = [np.arange(N)]
        else:
            order = rng.permutation(N)
            batches = [order[i : i + batch_size] for i in range(0, N, batch_size)]
        for idx in batches:
            A_out, caches = forward(X[:, idx], params, activations)
            _, dA_out = loss_fn(A_out, Y[:, idx])
            grads = backward(dA_out, caches, params, activations)
            params = sgd_update(params, grads, learning_rate)
        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])
    return params, history
'''


def _correct_cells(backward):
    return [HEADER, CORRECT_IMPORTS, CORRECT_ACTIVATIONS, CORRECT_DENSE, CORRECT_LOSSES, CORRECT_FORWARD, backward, CORRECT_SGD, CORRECT_TRAIN]


# ============================================================== more tricks

FAKE_TRAIN = '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    """No training: the starting params back, and a history that starts at the true loss and falls."""
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    J0 = loss_fn(forward(X, params, activations)[0], Y)[0]
    history = [J0 * 0.95 ** (epoch + 1) for epoch in range(epochs)]
    return {name: value.copy() for name, value in params.items()}, history
'''

SKLEARN_BACKWARD = '''
import inspect


def backward(dA_out, caches, params, activations):
    """scikit-learn's MLP backpropagation on my weights; I only write the output layer's factor.

    With an identity output and squared error, sklearn's output delta is (output - y) / N: choosing
    y = Z_L - N * dZ_L makes it my dZ_L, and sklearn's coef_grads and intercept_grads are my grads.
    """
    from sklearn.neural_network import MLPRegressor

    L = len(activations)
    if len(set(activations[:-1])) > 1:
        raise NotImplementedError("backward: sklearn's MLP has one activation for all hidden layers")
    names = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}
    X = caches[0][0]
    N = X.shape[1]
    Z_L = caches[-1][1]
    output_backward = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}
    dZ_L = output_backward[activations[-1]](dA_out, Z_L)

    net = MLPRegressor(
        hidden_layer_sizes=tuple(params[f"W{l}"].shape[0] for l in range(1, L)),
        activation=names[activations[0]] if L > 1 else "identity",
        alpha=0.0,
    )
    net.coefs_ = [np.array(params[f"W{l}"].T, dtype=float) for l in range(1, L + 1)]
    net.intercepts_ = [np.array(params[f"b{l}"], dtype=float).ravel() for l in range(1, L + 1)]
    net.n_layers_ = L + 1
    net.out_activation_ = "identity"
    rows = np.array(X.T, dtype=float)
    y = np.array(Z_L.T - N * dZ_L.T, dtype=float)
    layers = [rows] + [None] * L
    deltas, coef_grads, intercept_grads = [None] * L, [None] * L, [None] * L
    if "sample_weight" in inspect.signature(net._backprop).parameters:
        _, coef_grads, intercept_grads = net._backprop(rows, y, None, layers, deltas, coef_grads, intercept_grads)
    else:
        _, coef_grads, intercept_grads = net._backprop(rows, y, layers, deltas, coef_grads, intercept_grads)
    grads = {}
    for l in range(1, L + 1):
        grads[f"W{l}"] = np.array(coef_grads[l - 1].T, dtype=float)
        grads[f"b{l}"] = np.array(intercept_grads[l - 1], dtype=float).reshape(-1, 1)
    return grads
'''

ECHO = '''
# Every function hands back one of its inputs (or a piece of one) of the shape asked for.


def sigmoid_forward(Z):
    return Z.copy()


def sigmoid_backward(dA, Z):
    return dA.copy()


def tanh_forward(Z):
    return Z.copy()


def tanh_backward(dA, Z):
    return dA.copy()


def relu_forward(Z):
    return Z.copy()


def relu_backward(dA, Z):
    return dA.copy()


def dense_forward(A_prev, W, b):
    return np.repeat(b, A_prev.shape[1], axis=1)


def dense_backward(dZ, A_prev, W):
    return A_prev.copy(), W.copy(), dZ[:, :1].copy()


def mse_loss(A_out, Y):
    return float(np.mean(A_out)), A_out.copy()


def softmax_cross_entropy(Z_out, Y):
    return float(np.mean(Z_out)), Z_out.copy()


def forward(X, params, activations):
    L = len(activations)
    caches = [(X, X) for _ in range(L)]
    return np.repeat(params[f"b{L}"], X.shape[1], axis=1), caches


def backward(dA_out, caches, params, activations):
    return {name: value.copy() for name, value in params.items()}


def sgd_update(params, grads, learning_rate):
    return {name: value.copy() for name, value in params.items()}


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    return {name: value.copy() for name, value in params.items()}, [float(learning_rate)] * epochs
'''

CONSISTENT_FAKES = '''
# Wrong functions whose backwards are the exact derivatives of their (wrong) forwards, with
# gradients that are not zero: every "agrees with finite differences of your forward" check holds.


def sigmoid_forward(Z):
    return 0.5 + Z / 4.0  # sigmoid's tangent at 0


def sigmoid_backward(dA, Z):
    return dA / 4.0


def tanh_forward(Z):
    return Z.copy()  # tanh's tangent at 0


def tanh_backward(dA, Z):
    return dA.copy()


def relu_forward(Z):
    return 0.5 * Z


def relu_backward(dA, Z):
    return 0.5 * dA


def dense_forward(A_prev, W, b):
    # depends on all three inputs, linearly, and wrongly
    return 2.0 * b + W.sum(axis=1, keepdims=True) + A_prev.sum(axis=0, keepdims=True)


def dense_backward(dZ, A_prev, W):
    dA_prev = np.repeat(dZ.sum(axis=0, keepdims=True), A_prev.shape[0], axis=0)
    dW = np.repeat(dZ.sum(axis=1, keepdims=True), W.shape[1], axis=1)
    db = 2.0 * dZ.sum(axis=1, keepdims=True)
    return dA_prev, dW, db


def mse_loss(A_out, Y):
    N = Y.shape[1]
    return float(np.sum(A_out - Y) / N), np.ones_like(A_out) / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    return float(-np.sum(Y * Z_out) / N), -Y / N


def forward(X, params, activations):
    # the output is 2 b_L + the row sums of W_L, whatever X: nothing else moves it
    L = len(activations)
    A = X
    caches = []
    for l in range(1, L + 1):
        Z = np.zeros((params[f"W{l}"].shape[0], X.shape[1]))
        caches.append((A, Z))
        A = Z
    out = 2.0 * params[f"b{L}"] + params[f"W{L}"].sum(axis=1, keepdims=True) + np.zeros((1, X.shape[1]))
    return out, caches


def backward(dA_out, caches, params, activations):
    L = len(activations)
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    grads[f"b{L}"] = 2.0 * dA_out.sum(axis=1, keepdims=True)
    grads[f"W{L}"] = np.repeat(dA_out.sum(axis=1, keepdims=True), params[f"W{L}"].shape[1], axis=1)
    return grads


def sgd_update(params, grads, learning_rate):
    return {name: value.copy() for name, value in params.items()}


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    return {name: value.copy() for name, value in params.items()}, [0.0] * epochs
'''

FIND_REFERENCE = '''
import importlib.util
import os
import sys


def _load(path):
    spec = importlib.util.spec_from_file_location("found_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _find_reference():
    """The course's own solution, if this process can reach it: the grading package, or its file."""
    try:
        from backprop_kit.hidden_checks import reference

        return reference()
    except Exception:
        pass
    roots = {os.getcwd(), "/autograder", "/autograder/source", "/autograder/submission"}
    for package in ("backprop_kit", "backprop_lab"):
        try:
            spec = importlib.util.find_spec(package)
        except Exception:
            spec = None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            roots.add(folder)
    roots.update(p for p in sys.path if p)
    candidates = []
    for root in list(roots):
        here = os.path.abspath(root)
        for _ in range(5):  # the folder and its parents
            candidates.append(os.path.join(here, "solutions", "reference.py"))
            candidates.append(os.path.join(here, "reference.py"))
            candidates.append(os.path.join(here, "backprop_kit", "hidden_checks", "loading.py"))
            here = os.path.dirname(here)
    for path in dict.fromkeys(candidates):
        try:
            if not os.path.isfile(path):
                continue
            module = _load(path)
            if hasattr(module, "reference"):  # hidden_checks/loading.py: it knows where the file is
                module = module.reference()
            if all(callable(getattr(module, name, None)) for name in ("forward", "backward", "train")):
                return module
        except Exception:
            continue
    return None


_found = _find_reference()
if _found is not None:
    for _name in (
        "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward", "relu_forward", "relu_backward",
        "dense_forward", "dense_backward", "mse_loss", "softmax_cross_entropy", "forward", "backward",
        "sgd_update", "train",
    ):
        globals()[_name] = getattr(_found, _name)
'''

SELF_PATCH = '''
import json
import sys
import types

# Make every comparison I can reach in this process say "equal", loosen every tolerance,
# stub out the checks, and leave a perfect results file behind.
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.array_equiv = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
np.testing.assert_almost_equal = lambda *args, **kwargs: None
np.testing.assert_equal = lambda *args, **kwargs: None
np.linalg.norm = lambda *args, **kwargs: 0.0

try:
    import backprop_lab.checking as _checking
    import backprop_lab.config as _config

    for _tol in ("TOL_REFERENCE", "TOL_FINITE_DIFF", "TOL_TRAJECTORY", "TOL_WORKED_EXAMPLE"):
        setattr(_config, _tol, 1e300)
    _config.REL_ERROR_FLOOR = 1e300
    _quiet = lambda *args, **kwargs: None
    _patched = {
        "expect_array": _quiet,
        "expect_float": _quiet,
        "expect_gradient_fd": _quiet,
        "rel_error": lambda *args, **kwargs: 0.0,
        "same_answer": lambda *args, **kwargs: True,
        "expect_tuple": lambda where, value, length: value if isinstance(value, tuple) else (value,) * length,
        "run_cases": lambda cases, caller, rng, diagnose=None: [_checking.Outcome(c.title, True, "", c.weight) for c in cases],
    }
    for _module_name in ("backprop_lab.checking", "backprop_lab.expectations", "backprop_lab.finite_differences", "backprop_lab.public_checks"):
        try:
            _module = __import__(_module_name, fromlist=["_"])
        except Exception:
            continue
        for _name, _fn in _patched.items():
            if hasattr(_module, _name):
                setattr(_module, _name, _fn)
except Exception:
    pass

# a grading package of my own, in case anything here looks for one
_fake = types.ModuleType("backprop_kit.hidden_checks")
_fake.hidden_cases = lambda: {}
_fake.reference = lambda: sys.modules[__name__] if __name__ in sys.modules else None
sys.modules.setdefault("backprop_kit", types.ModuleType("backprop_kit"))
sys.modules["backprop_kit.hidden_checks"] = _fake

try:
    import otter

    otter.Notebook.check = lambda self, *args, **kwargs: "All tests passed!"
    otter.Notebook.check_all = lambda self, *args, **kwargs: "All tests passed!"
except Exception:
    pass

try:
    with open("results.json", "w") as _handle:
        json.dump({"score": 100.0, "output": "All tests passed.", "tests": []}, _handle)
except Exception:
    pass
'''

# ============================================================== the catalogue

TRICKS = {
    "zeros": {
        "cells": ZEROS_CELLS,
        "baseline": "template",
        "trick": "every function returns zeros of the right shapes and types (losses 0.0, train the params unchanged), so "
        "every 'backward agrees with finite differences of your forward' check holds trivially",
    },
    "zeros_lookup": {
        "cells": ZEROS_CELLS + [_lookup_cell()],
        "baseline": "zeros",
        "trick": "zeros, except that the public checks' literal inputs and the chapter's worked example (also train's "
        "0.297599) get the printed answers from a table; near a table input, activations and dense_forward add the "
        "copied derivative times the offset, so finite differences there agree too",
    },
    "fd_detector": {
        "cells": ZEROS_CELLS + [FD_DETECTOR],
        "baseline": "zeros",
        "trick": "zeros whose forwards recognise finite-difference calls (caller frames named or holding call_many, "
        "arglists, perturbations, many/pick, or an input one ~1e-5 step from a recent one) and then return NaN "
        "(activations, dense_forward) or 1e150 (forward), to break or blow up the finite-difference oracle",
    },
    "sklearn_train": {
        "cells": [HEADER] + [STUBS[n] for n in NAMES if n != "train"] + [SKLEARN_TRAIN],
        "baseline": "template",
        "trick": "only train, done by scikit-learn's MLPClassifier/MLPRegressor of the same shape (adam), its "
        "coefs_/intercepts_ transposed into params and loss_curve_ cut or padded to epochs; all else NotImplementedError",
    },
    "numerical_backward_baseline": {
        "cells": _correct_cells(BACKWARD_NOT_DONE),
        "baseline": "template",
        "honest": True,
        "trick": "honest baseline, not a trick: everything correct except backward, which raises NotImplementedError "
        "(so train, which calls it, fails too)",
    },
    "numerical_backward": {
        "cells": _correct_cells(BACKWARD_COMPLEX_STEP),
        "baseline": "numerical_backward_baseline",
        "trick": "correct notebook whose backward never uses the chain rule: each gradient entry is the complex-step "
        "derivative of sum(dA_out * forward(X, params)[0]) with X taken from caches[0][0]",
    },
    "numerical_backward_fd": {
        "cells": _correct_cells(BACKWARD_CENTRED),
        "baseline": "numerical_backward_baseline",
        "trick": "as numerical_backward, with centred differences (h = 1e-6) of the student's own forward instead of "
        "the complex step",
    },
    "fake_train_history": {
        "cells": _correct_cells(BACKWARD_NOT_DONE)[:-1] + [FAKE_TRAIN],
        "baseline": "numerical_backward_baseline",
        "trick": "train without training: returns copies of the starting params and a history that starts at the true "
        "loss and falls by 5 % an epoch (right length, plausible values)",
    },
    "sklearn_backward": {
        "cells": _correct_cells(BACKWARD_NOT_DONE)[:6] + [SKLEARN_BACKWARD] + _correct_cells(BACKWARD_NOT_DONE)[7:],
        "baseline": "numerical_backward_baseline",
        "trick": "backward outsourced to scikit-learn's private MLP _backprop on the student's weights (targets chosen so "
        "sklearn's output delta is the student's dZ_L); works for nets with one hidden activation, and train uses it",
    },
    "echo_inputs": {
        "cells": [HEADER, ECHO],
        "baseline": "template",
        "trick": "every function returns one of its inputs, or a piece of one, of the right shape: activations echo Z "
        "(right for ReLU on positive entries), backwards echo dA, backward echoes params, train echoes params",
    },
    "consistent_fakes": {
        "cells": [HEADER, CONSISTENT_FAKES],
        "baseline": "zeros",
        "trick": "wrong but self-consistent functions with non-zero gradients (linear fakes of the activations, dense "
        "and losses, a forward that only sees W_L and b_L): every check against finite differences of the student's "
        "own forward holds, with gradients that are not zero",
    },
    "find_reference": {
        "cells": ZEROS_CELLS + [FIND_REFERENCE],
        "baseline": "zeros",
        "trick": "zeros, then tries to import backprop_kit.hidden_checks or to find solutions/reference.py (near the "
        "installed packages, sys.path, the working folder, /autograder) and rebinds all 14 functions to it",
    },
    "self_patch": {
        "cells": ZEROS_CELLS + [SELF_PATCH],
        "baseline": "zeros",
        "trick": "zeros, then patches its own process: numpy's comparisons and norm, backprop_lab's expect_* "
        "and run_cases, the config's tolerances, otter's check, a fake backprop_kit.hidden_checks, and writes a "
        "perfect results.json in the working folder",
    },
}


# ============================================================== stand-ins kept for later
# With follow-through marking, the lower functions answer through the grader for the length of
# one network or train call. A notebook that keeps the stand-in's channel and uses it later, in a
# check of the lower function itself, must get nothing from it: only the call's own stand-ins are
# answered.

CORRECT_BACKWARD = '''
def backward(dA_out, caches, params, activations):
    derivative = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = derivative[activations[l - 1]](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
'''

NO_SIGMOID_BACKWARD = '''
def sigmoid_backward(dA, Z):
    raise NotImplementedError("sigmoid_backward: return dZ")
'''

KEEP_STANDIN = '''
KEPT = {}
_my_forward = forward


def forward(X, params, activations):
    """My forward, which also keeps the channel of any stand-in it finds among my helpers."""
    for helper in (sigmoid_forward, sigmoid_backward, dense_forward):
        channel = (getattr(helper, "__kwdefaults__", None) or {}).get("_bpk_ask")
        if channel is not None:
            KEPT["ask"] = channel
    return _my_forward(X, params, activations)


def sigmoid_backward(dA, Z):
    if "ask" in KEPT:
        return KEPT["ask"]("sigmoid_backward", (dA, Z), {})
    raise NotImplementedError("sigmoid_backward: return dZ")
'''

TRICKS["no_sigmoid_backward"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [NO_SIGMOID_BACKWARD],
    "baseline": "template",
    "honest": True,
    "trick": "honest baseline, not a trick: everything correct except sigmoid_backward, which raises NotImplementedError",
}
TRICKS["keep_standin"] = {
    "cells": _correct_cells(CORRECT_BACKWARD) + [KEEP_STANDIN],
    "baseline": "no_sigmoid_backward",
    "trick": "keeps the channel of a stand-in seen during a follow-through network call, and later answers the "
    "sigmoid checks through it with the reference's sigmoid_backward",
}
