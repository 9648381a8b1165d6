"""One buggy implementation for every entry of the feedback catalogue (backprop_kit/hints.py).

MISTAKES[id] = {"question", "functions": {name: source}, "setup": optional source}. Each
source is written as a student would write it, on top of a correct notebook (the
reference's source), so forward, backward and train pick the buggy piece up by name.
The two extra ids cover the catalogue's other detectors: a function that ignores its
arguments, and one that modifies its input in place.
"""

ACTS = "{'sigmoid': sigmoid_backward, 'tanh': tanh_backward, 'relu': relu_backward, 'identity': identity_backward}"


def _backward(dz_line):
    """A backward whose dZ line is `dz_line` (names available: l, L, dA, Z, caches, activations)."""
    return f"""
def backward(dA_out, caches, params, activations):
    grads = {{}}
    dA = dA_out
    L = len(activations)
    for l in range(L, 0, -1):
        A_prev, Z = caches[l - 1]
        {dz_line}
        dA, grads[f"W{{l}}"], grads[f"b{{l}}"] = dense_backward(dZ, A_prev, params[f"W{{l}}"])
    return grads
"""


def _dense_backward(dA_prev, dW, db):
    return f"def dense_backward(dZ, A_prev, W):\n    return {dA_prev}, {dW}, {db}\n"


def _train(order, history, rng_line="rng = np.random.default_rng(seed)", inner_rng=""):
    return f"""
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = {{"mse": mse_loss, "softmax_ce": softmax_cross_entropy}}[loss]
    N = X.shape[1]
    {rng_line}
    history = []
    for epoch in range(epochs):
        {inner_rng}
        before = loss_fn(forward(X, params, activations)[0], Y)[0]
        order = np.arange(N) if batch_size is None else {order}
        size = N if batch_size is None else batch_size
        for start in range(0, N, size):
            idx = order[start:start + size]
            A_out, caches = forward(X[:, idx], params, activations)
            params = sgd_update(params, backward(loss_fn(A_out, Y[:, idx])[1], caches, params, activations), learning_rate)
        after = loss_fn(forward(X, params, activations)[0], Y)[0]
        history.append({history})
    return params, history
"""


DB = "np.sum(dZ, axis=1, keepdims=True)"

MISTAKES = {
    "sigmoid-derivative-at-output": ("sigmoid", {"sigmoid_backward": "def sigmoid_backward(dA, Z):\n    A = sigmoid_forward(Z)\n    return dA * sigmoid_forward(A) * (1 - sigmoid_forward(A))\n"}),
    "sigmoid-no-upstream": ("sigmoid", {"sigmoid_backward": "def sigmoid_backward(dA, Z):\n    s = sigmoid_forward(Z)\n    return s * (1 - s)\n"}),
    "sigmoid-overflow": ("sigmoid", {"sigmoid_forward": "def sigmoid_forward(Z):\n    return np.exp(Z) / (1 + np.exp(Z))\n"}),
    "tanh-derivative-at-output": ("tanh", {"tanh_backward": "def tanh_backward(dA, Z):\n    A = np.tanh(Z)\n    return dA * (1 - np.tanh(A) ** 2)\n"}),
    "tanh-no-upstream": ("tanh", {"tanh_backward": "def tanh_backward(dA, Z):\n    return 1 - np.tanh(Z) ** 2\n"}),
    "tanh-square-missing": ("tanh", {"tanh_backward": "def tanh_backward(dA, Z):\n    return dA * (1 - np.tanh(Z))\n"}),
    "relu-convention-at-zero": ("relu", {"relu_backward": "def relu_backward(dA, Z):\n    return dA * (Z >= 0)\n"}),
    "relu-mask-from-upstream": ("relu", {"relu_backward": "def relu_backward(dA, Z):\n    return np.where(dA > 0, dA, 0.0)\n"}),
    "relu-output-as-derivative": ("relu", {"relu_backward": "def relu_backward(dA, Z):\n    return dA * relu_forward(Z)\n"}),
    "relu-no-upstream": ("relu", {"relu_backward": "def relu_backward(dA, Z):\n    return (Z > 0).astype(float)\n"}),
    "dense-forward-transposed": ("dense", {"dense_forward": "def dense_forward(A_prev, W, b):\n    return W.T @ A_prev + b\n"}),
    "dense-forward-elementwise": ("dense", {"dense_forward": "def dense_forward(A_prev, W, b):\n    return W * A_prev + b\n"}),
    "dense-forward-no-bias": ("dense", {"dense_forward": "def dense_forward(A_prev, W, b):\n    return W @ A_prev\n"}),
    "db-not-summed": ("dense", {"dense_backward": _dense_backward("W.T @ dZ", "dZ @ A_prev.T", "dZ")}),
    "db-wrong-axis": ("dense", {"dense_backward": _dense_backward("W.T @ dZ", "dZ @ A_prev.T", "np.sum(dZ, axis=0, keepdims=True)")}),
    "db-no-keepdims": ("dense", {"dense_backward": _dense_backward("W.T @ dZ", "dZ @ A_prev.T", "np.sum(dZ, axis=1)")}),
    "dense-one-over-n-twice": ("dense", {"dense_backward": _dense_backward("W.T @ dZ", "dZ @ A_prev.T / dZ.shape[1]", DB + " / dZ.shape[1]")}),
    "dA-prev-missing-transpose": ("dense", {"dense_backward": _dense_backward("W @ dZ", "dZ @ A_prev.T", DB)}),
    "dW-transposed": ("dense", {"dense_backward": _dense_backward("W.T @ dZ", "A_prev @ dZ.T", DB)}),
    "dW-elementwise": ("dense", {"dense_backward": _dense_backward("W.T @ dZ", "dZ * A_prev", DB)}),
    "mse-one-over-n-missing": ("losses", {"mse_loss": "def mse_loss(A_out, Y):\n    d = A_out - Y\n    return float(0.5 * np.sum(d ** 2)), d\n"}),
    "mse-gradient-one-over-n-missing": ("losses", {"mse_loss": "def mse_loss(A_out, Y):\n    d = A_out - Y\n    return float(0.5 * np.sum(d ** 2) / Y.shape[1]), d\n"}),
    "mse-value-missing-half": ("losses", {"mse_loss": "def mse_loss(A_out, Y):\n    d = A_out - Y\n    return float(np.sum(d ** 2) / Y.shape[1]), d / Y.shape[1]\n"}),
    "mse-sign-flipped": ("losses", {"mse_loss": "def mse_loss(A_out, Y):\n    d = A_out - Y\n    return float(0.5 * np.sum(d ** 2) / Y.shape[1]), (Y - A_out) / Y.shape[1]\n"}),
    "softmax-no-shift": ("losses", {"softmax_cross_entropy": "def softmax_cross_entropy(Z_out, Y):\n    E = np.exp(Z_out)\n    P = E / E.sum(axis=0, keepdims=True)\n    return float(-np.sum(Y * np.log(P)) / Y.shape[1]), (P - Y) / Y.shape[1]\n"}),
    "softmax-sign-flipped": ("losses", {"softmax_cross_entropy": "def softmax_cross_entropy(Z_out, Y):\n    S = Z_out - Z_out.max(axis=0, keepdims=True)\n    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)\n    return float(-np.sum(Y * np.log(P)) / Y.shape[1]), (Y - P) / Y.shape[1]\n"}),
    "softmax-one-over-n-missing": ("losses", {"softmax_cross_entropy": "def softmax_cross_entropy(Z_out, Y):\n    S = Z_out - Z_out.max(axis=0, keepdims=True)\n    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)\n    return float(-np.sum(Y * np.log(P))), P - Y\n"}),
    "softmax-gradient-one-over-n-missing": ("losses", {"softmax_cross_entropy": "def softmax_cross_entropy(Z_out, Y):\n    S = Z_out - Z_out.max(axis=0, keepdims=True)\n    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)\n    return float(-np.sum(Y * np.log(P)) / Y.shape[1]), P - Y\n"}),
    "softmax-log-of-probabilities": ("losses", {"softmax_cross_entropy": "def softmax_cross_entropy(Z_out, Y):\n    S = Z_out - Z_out.max(axis=0, keepdims=True)\n    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)\n    P_clipped = np.clip(P, 1e-7, 1 - 1e-7)\n    return float(-np.sum(Y * np.log(P_clipped)) / Y.shape[1]), (P - Y) / Y.shape[1]\n"}),
    "softmax-wrong-axis": ("losses", {"softmax_cross_entropy": "def softmax_cross_entropy(Z_out, Y):\n    S = Z_out - Z_out.max(axis=1, keepdims=True)\n    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)\n    return float(-np.sum(Y * np.log(P)) / Y.shape[1]), (P - Y) / Y.shape[1]\n"}),
    "backward-hidden-derivative-skipped": ("network", {"backward": _backward(f"dZ = {ACTS}[activations[l - 1]](dA, Z) if l == L else dA")}),
    "backward-output-derivative-skipped": ("network", {"backward": _backward(f"dZ = dA if l == L else {ACTS}[activations[l - 1]](dA, Z)")}),
    "backward-off-by-one-activation": ("network", {"backward": _backward(f"dZ = {ACTS}[activations[l] if l < L else activations[l - 1]](dA, Z)")}),
    "backward-off-by-one-cache": ("network", {"backward": _backward(f"dZ = {ACTS}[activations[l - 1]](dA, caches[l][1] if l < L else Z)")}),
    "backward-one-over-n-twice": ("network", {"backward": _backward(f"dZ = {ACTS}[activations[l - 1]](dA, Z) / (dA_out.shape[1] if l == L else 1)")}),
    "sgd-adds-gradient": ("sgd", {"sgd_update": "def sgd_update(params, grads, learning_rate):\n    return {k: v + learning_rate * grads[k] for k, v in params.items()}\n"}),
    "sgd-ignores-learning-rate": ("sgd", {"sgd_update": "def sgd_update(params, grads, learning_rate):\n    return {k: v - grads[k] for k, v in params.items()}\n"}),
    "sgd-weights-only": ("sgd", {"sgd_update": "def sgd_update(params, grads, learning_rate):\n    return {k: (v - learning_rate * grads[k]) if k.startswith('W') else v.copy() for k, v in params.items()}\n"}),
    "sgd-last-layer-only": ("sgd", {"sgd_update": "def sgd_update(params, grads, learning_rate):\n    L = len(params) // 2\n    return {k: (v - learning_rate * grads[k]) if k in (f'W{L}', f'b{L}') else v.copy() for k, v in params.items()}\n"}),
    "train-no-shuffle": ("train", {"train": _train("np.arange(N)", "after")}),
    "train-rng-every-epoch": ("train", {"train": _train("rng.permutation(N)", "after", rng_line="", inner_rng="rng = np.random.default_rng(seed)")}),
    "train-history-before-epoch": ("train", {"train": _train("rng.permutation(N)", "before")}),
    "ignores-its-arguments": ("train", {"train": _train("rng.permutation(N)", "after").replace("def train(X, Y,", "def train(X_given, Y_given,")}, "X, Y = load_xor()"),
    # the classic: right values, but dA is zeroed in place, which corrupts the caller's array
    "modified-its-input": ("relu", {"relu_backward": "def relu_backward(dA, Z):\n    dA[Z <= 0] = 0.0\n    return dA\n"}),
}
MISTAKES = {k: {"question": v[0], "functions": v[1], "setup": v[2] if len(v) > 2 else None} for k, v in MISTAKES.items()}
