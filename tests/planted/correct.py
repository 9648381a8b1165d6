"""Correct variants: right code written differently from the reference, which must get full marks."""

CORRECT_VARIANTS = {
    "sigmoid_where_two_branches": {
        "question": "sigmoid",
        "note": "stable sigmoid with np.where over two clipped branches; backward from the forward",
        "functions": {
            "sigmoid_forward": """
def sigmoid_forward(Z):
    pos = 1.0 / (1.0 + np.exp(-np.where(Z >= 0, Z, 0.0)))
    E = np.exp(np.where(Z < 0, Z, 0.0))
    return np.where(Z >= 0, pos, E / (1.0 + E))
""",
            "sigmoid_backward": """
def sigmoid_backward(dA, Z):
    A = sigmoid_forward(Z)
    return dA * (A * (1.0 - A))
""",
        },
    },
    "sigmoid_via_tanh": {
        "question": "sigmoid",
        "note": "σ(z) = (1 + tanh(z/2)) / 2, never overflows",
        "functions": {
            "sigmoid_forward": """
def sigmoid_forward(Z):
    return 0.5 * (1.0 + np.tanh(0.5 * Z))
""",
        },
    },
    "sigmoid_backward_closed_form": {
        "question": "sigmoid",
        "note": "σ'(z) = e^{-|z|} / (1 + e^{-|z|})², the symmetric closed form",
        "functions": {
            "sigmoid_backward": """
def sigmoid_backward(dA, Z):
    E = np.exp(-np.abs(Z))
    return dA * E / (1.0 + E) ** 2
""",
        },
    },
    "tanh_exp_formula_stable": {
        "question": "tanh",
        "note": "tanh(z) = sign(z)(1 − e^{−2|z|}) / (1 + e^{−2|z|}); backward 1 − A²",
        "functions": {
            "tanh_forward": """
def tanh_forward(Z):
    E = np.exp(-2.0 * np.abs(Z))
    return np.sign(Z) * (1.0 - E) / (1.0 + E)
""",
            "tanh_backward": """
def tanh_backward(dA, Z):
    A = tanh_forward(Z)
    return dA * (1.0 - A * A)
""",
        },
    },
    "tanh_backward_sech_squared": {
        "question": "tanh",
        "note": "tanh'(z) = sech²(z) = 4 e^{−2|z|} / (1 + e^{−2|z|})²",
        "functions": {
            "tanh_backward": """
def tanh_backward(dA, Z):
    E = np.exp(-2.0 * np.abs(Z))
    return dA * 4.0 * E / (1.0 + E) ** 2
""",
        },
    },
    "relu_where_mask": {
        "question": "relu",
        "note": "np.where forward, boolean-mask product backward",
        "functions": {
            "relu_forward": """
def relu_forward(Z):
    return np.where(Z > 0, Z, 0.0)
""",
            "relu_backward": """
def relu_backward(dA, Z):
    return dA * (Z > 0)
""",
        },
    },
    "relu_multiply_heaviside": {
        "question": "relu",
        "note": "Z * (Z > 0) forward, np.heaviside(Z, 0) backward",
        "functions": {
            "relu_forward": """
def relu_forward(Z):
    return Z * (Z > 0)
""",
            "relu_backward": """
def relu_backward(dA, Z):
    return dA * np.heaviside(Z, 0.0)
""",
        },
    },
    "relu_mask_from_output_copy": {
        "question": "relu",
        "note": "copies dA and zeroes it where the output is 0 (A > 0 exactly when Z > 0)",
        "functions": {
            "relu_backward": """
def relu_backward(dA, Z):
    dZ = np.array(dA, dtype=float, copy=True)
    dZ[relu_forward(Z) <= 0] = 0.0
    return dZ
""",
        },
    },
    "dense_einsum": {
        "question": "dense",
        "note": "every product written with np.einsum",
        "functions": {
            "dense_forward": """
def dense_forward(A_prev, W, b):
    return np.einsum("ij,jn->in", W, A_prev) + b
""",
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = np.einsum("ij,in->jn", W, dZ)
    dW = np.einsum("in,jn->ij", dZ, A_prev)
    db = np.einsum("in->i", dZ)[:, None]
    return dA_prev, dW, db
""",
        },
    },
    "dense_dot_reshape": {
        "question": "dense",
        "note": "np.dot and .dot, db reshaped instead of keepdims",
        "functions": {
            "dense_forward": """
def dense_forward(A_prev, W, b):
    return np.dot(W, A_prev) + b.reshape(-1, 1)
""",
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    return np.dot(W.T, dZ), dZ.dot(A_prev.T), dZ.sum(axis=1).reshape(-1, 1)
""",
        },
    },
    "losses_logsumexp": {
        "question": "losses",
        "note": "log-sum-exp softmax in plain numpy; mse via np.mean over columns",
        "functions": {
            "mse_loss": """
def mse_loss(A_out, Y):
    diff = A_out - Y
    J = np.mean(0.5 * np.sum(diff * diff, axis=0))
    return float(J), diff / Y.shape[1]
""",
            "softmax_cross_entropy": """
def softmax_cross_entropy(Z_out, Y):
    N = Z_out.shape[1]
    m = Z_out.max(axis=0, keepdims=True)
    lse = m + np.log(np.exp(Z_out - m).sum(axis=0, keepdims=True))
    J = float(np.sum(Y * (lse - Z_out)) / N)
    return J, (np.exp(Z_out - lse) - Y) / N
""",
        },
    },
    "network_triple_caches_reverse_loop": {
        "question": "network",
        "note": "caches hold (A_prev, Z, A); backward walks reversed(list(enumerate(...)))",
        "functions": {
            "forward": """
def forward(X, params, activations):
    caches = []
    A = X
    for i, name in enumerate(activations):
        A_prev = A
        Z = dense_forward(A_prev, params["W" + str(i + 1)], params["b" + str(i + 1)])
        A = globals()[name + "_forward"](Z)
        caches.append((A_prev, Z, A))
    return A, caches
""",
            "backward": """
def backward(dA_out, caches, params, activations):
    grads = {}
    dA = dA_out
    for i, (A_prev, Z, A) in reversed(list(enumerate(caches))):
        dZ = globals()[activations[i] + "_backward"](dA, Z)
        dA_prev, dW, db = dense_backward(dZ, A_prev, params["W" + str(i + 1)])
        grads["W" + str(i + 1)] = dW
        grads["b" + str(i + 1)] = db
        dA = dA_prev
    return grads
""",
        },
    },
    "network_caches_A_derivatives_from_A": {
        "question": "network",
        "note": "caches (A_prev, A) and takes each derivative from the activation's output",
        "functions": {
            "forward": """
def forward(X, params, activations):
    fns = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
    A = X
    caches = []
    for l in range(1, len(activations) + 1):
        A_prev = A
        A = fns[activations[l - 1]](dense_forward(A_prev, params[f"W{l}"], params[f"b{l}"]))
        caches.append((A_prev, A))
    return A, caches
""",
            "backward": """
def backward(dA_out, caches, params, activations):
    L = len(activations)
    grads = {}
    dA = dA_out
    for l in range(L, 0, -1):
        A_prev, A = caches[l - 1]
        name = activations[l - 1]
        if name == "sigmoid":
            dZ = dA * A * (1.0 - A)
        elif name == "tanh":
            dZ = dA * (1.0 - A ** 2)
        elif name == "relu":
            dZ = dA * (A > 0)
        else:
            dZ = np.array(dA, dtype=float)
        W = params[f"W{l}"]
        grads[f"W{l}"] = dZ @ A_prev.T
        grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
        dA = W.T @ dZ
    return grads
""",
        },
    },
    "sgd_loop_subtract": {
        "question": "sgd",
        "note": "explicit loop with np.subtract into a new dict",
        "functions": {
            "sgd_update": """
def sgd_update(params, grads, learning_rate):
    new_params = dict()
    for name in params:
        new_params[name] = np.subtract(params[name], np.multiply(learning_rate, grads[name]))
    return new_params
""",
        },
    },
    "train_history_ndarray_inplace_on_copy": {
        "question": "train",
        "note": "copies params, updates the copy in place, returns history as a numpy array",
        "functions": {
            "train": """
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = mse_loss if loss == "mse" else softmax_cross_entropy
    params = {k: v.copy() for k, v in params.items()}
    N = X.shape[1]
    bs = N if batch_size is None else batch_size
    rng = np.random.default_rng(seed)
    history = np.zeros(epochs)
    for epoch in range(epochs):
        order = np.arange(N) if batch_size is None else rng.permutation(N)
        for start in range(0, N, bs):
            idx = order[start:start + bs]
            A_out, caches = forward(np.take(X, idx, axis=1), params, activations)
            grads = backward(loss_fn(A_out, np.take(Y, idx, axis=1))[1], caches, params, activations)
            for k in params:
                params[k] -= learning_rate * grads[k]
        history[epoch] = loss_fn(forward(X, params, activations)[0], Y)[0]
    return params, history
""",
        },
    },
}
