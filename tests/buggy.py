"""A catalogue of planted-bug and correct-variant implementations of the student contract.

Each entry is written the way a student would write it in the notebook, or, where the
bug is a line or two in a long function, made by `planted` from the reference. Sources
are complete `def`s that use `np`, and they may call the contract's other functions
(sigmoid_forward, dense_backward, ...) or the handout helpers identity_forward and
identity_backward. To play them as a student would, exec the reference source into
a namespace, then exec `setup` (if any) and each source string into that namespace.
Functions are then looked up through that namespace's globals, so a buggy building
block also reaches forward, backward and train.

BUGS[bug_id] = {
    "question":   the question the bug belongs to (it must lose points there),
    "functions":  {function_name: source},
    "setup":      optional notebook state the sources rely on (e.g. a stray global),
    "also_fails": the other questions the bug also costs points in (a building block
                  feeds network and train). For a bug outside "train", train is judged
                  on its quick cases only: the worked-example step and the three
                  trajectories, not XOR or digits,
    "mentions":   strings that a failing check's message in the bug's own question
                  contains: the function and, for arrays, the quantity,
    "mistake":    one line saying what the student got wrong,
}

CORRECT_VARIANTS[variant_id] = {"question", "functions", "note"}: correct code written
differently from the reference. Each one should get full marks in every question.
"""

import ast
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "solutions" / "reference.py"


def planted(name, *edits):
    """The reference's `name` with each (old, new) edit made: one bug planted in otherwise
    correct code. Each `old` must occur exactly once, so a change to the reference that
    would silently disarm a bug fails here instead."""
    text = REFERENCE.read_text()
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    source = ast.get_source_segment(text, node) + "\n"
    for old, new in edits:
        assert source.count(old) == 1, f"{name}: {old!r} occurs {source.count(old)} times in the reference"
        source = source.replace(old, new)
    return source


BUGS = {
    # ------------------------------------------------------------------ sigmoid
    "sigmoid_backward_of_output": {
        "question": "sigmoid",
        "mistake": "sigmoid'(A) = σ(A)(1 − σ(A)) taken of the output A = σ(Z) instead of Z",
        "functions": {
            "sigmoid_backward": """
def sigmoid_backward(dA, Z):
    A = sigmoid_forward(Z)
    s = sigmoid_forward(A)
    return dA * s * (1 - s)
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["sigmoid_backward", "dZ"],
    },
    "sigmoid_forward_overflow": {
        "question": "sigmoid",
        "mistake": "e^z / (1 + e^z) overflows to inf / inf = nan for large z",
        "functions": {
            "sigmoid_forward": """
def sigmoid_forward(Z):
    E = np.exp(Z)
    return E / (1.0 + E)
""",
        },
        "named_above": [],
        "mentions": ["sigmoid_forward", "nan"],
    },
    "sigmoid_backward_missing_dA": {
        "question": "sigmoid",
        "mistake": "returns σ'(Z) without multiplying by the upstream gradient dA",
        "functions": {
            "sigmoid_backward": """
def sigmoid_backward(dA, Z):
    s = sigmoid_forward(Z)
    return s * (1 - s)
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["sigmoid_backward", "dZ"],
    },
    # ------------------------------------------------------------------ tanh
    "tanh_backward_missing_dA": {
        "question": "tanh",
        "mistake": "returns 1 − tanh²(Z) without multiplying by the upstream gradient dA",
        "functions": {
            "tanh_backward": """
def tanh_backward(dA, Z):
    return 1 - np.tanh(Z) ** 2
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["tanh_backward", "dZ"],
    },
    "tanh_backward_uses_Z_as_A": {
        "question": "tanh",
        "mistake": "1 − A² written with Z in place of A = tanh(Z)",
        "functions": {
            "tanh_backward": """
def tanh_backward(dA, Z):
    return dA * (1 - Z ** 2)
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["tanh_backward", "dZ"],
    },
    # ------------------------------------------------------------------ relu
    "relu_backward_times_output": {
        "question": "relu",
        "mistake": "multiplies dA by the output relu(Z) instead of the 0/1 mask",
        "functions": {
            "relu_backward": """
def relu_backward(dA, Z):
    return dA * relu_forward(Z)
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["relu_backward", "dZ"],
    },
    "relu_backward_ge_zero": {
        "question": "relu",
        "mistake": "mask Z >= 0: derivative 1 at z = 0, against the course's convention of 0",
        "functions": {
            "relu_backward": """
def relu_backward(dA, Z):
    return np.where(Z >= 0, dA, 0.0)
""",
        },
        # The nets of the network and train checks never have a pre-activation of exactly 0.
        "named_above": ["train"],
        "mentions": ["relu_backward", "dZ"],
    },
    "relu_backward_mutates_dA": {
        "question": "relu",
        "mistake": "zeroes dA in place (dA[Z <= 0] = 0) and returns it",
        "functions": {
            "relu_backward": """
def relu_backward(dA, Z):
    dA[Z <= 0] = 0
    return dA
""",
        },
        # backward hands relu_backward a fresh dA, so the in-place write harms nothing there.
        "named_above": [],
        "mentions": ["relu_backward", "in place"],
    },
    # ------------------------------------------------------------------ dense
    "dense_db_not_summed": {
        "question": "dense",
        "mistake": "db = dZ: the bias gradient is not summed over the batch",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T
    db = dZ
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward", "db"],
    },
    "dense_db_wrong_axis": {
        "question": "dense",
        "mistake": "db summed over axis 0 (the units) instead of axis 1 (the examples)",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T
    db = np.sum(dZ, axis=0, keepdims=True)
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward", "db"],
    },
    "dense_db_no_keepdims": {
        "question": "dense",
        "mistake": "db = np.sum(dZ, axis=1) without keepdims: shape (n,) instead of (n, 1)",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T
    db = np.sum(dZ, axis=1)
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward", "db", "shape"],
    },
    "dense_dW_missing_transpose": {
        "question": "dense",
        "mistake": "dW = dZ @ A_prev without the transpose",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev
    db = np.sum(dZ, axis=1, keepdims=True)
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward"],
    },
    "dense_dA_prev_missing_transpose": {
        "question": "dense",
        "mistake": "dA_prev = W @ dZ without the transpose",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W @ dZ
    dW = dZ @ A_prev.T
    db = np.sum(dZ, axis=1, keepdims=True)
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward"],
    },
    "dense_dW_elementwise": {
        "question": "dense",
        "mistake": "dW = dZ * A_prev.T: an element-wise (outer) product, right only for N = 1",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ * A_prev.T
    db = np.sum(dZ, axis=1, keepdims=True)
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward"],
    },
    "dense_forward_elementwise": {
        "question": "dense",
        "mistake": "Z = W * A_prev + b: element-wise product where the matrix product belongs",
        "functions": {
            "dense_forward": """
def dense_forward(A_prev, W, b):
    return W * A_prev + b
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_forward"],
    },
    "dense_backward_averages_again": {
        "question": "dense",
        "mistake": "divides dW and db by N although dZ already carries the 1/N",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    N = A_prev.shape[1]
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T / N
    db = np.sum(dZ, axis=1, keepdims=True) / N
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward", "dW"],
    },
    "dense_backward_updates_W_in_place": {
        "question": "dense",
        "mistake": "fuses an SGD step into dense_backward: W -= 0.1 * dW modifies its input",
        "functions": {
            "dense_backward": """
def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T
    db = np.sum(dZ, axis=1, keepdims=True)
    W -= 0.1 * dW
    return dA_prev, dW, db
""",
        },
        "named_above": ["network", "train"],
        "mentions": ["dense_backward", "in place"],
    },
    # ------------------------------------------------------------------ losses
    "mse_missing_1_over_N": {
        "question": "losses",
        "mistake": "mse J and gradient summed over the batch instead of averaged (no 1/N)",
        "functions": {
            "mse_loss": """
def mse_loss(A_out, Y):
    diff = A_out - Y
    return float(0.5 * np.sum(diff ** 2)), diff
""",
        },
        # The worked example has N = 1, so only the trajectories with N > 1 notice.
        "named_above": ["train"],
        "mentions": ["mse_loss", "J"],
    },
    "mse_value_missing_half": {
        "question": "losses",
        "mistake": "J = (1/N) Σ ||a − y||² without the ½, while the gradient keeps it",
        "functions": {
            "mse_loss": """
def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    return float(np.sum(diff ** 2) / N), diff / N
""",
        },
        "named_above": ["train"],
        "mentions": ["mse_loss", "J"],
    },
    "softmax_no_max_shift": {
        "question": "losses",
        "mistake": "softmax without subtracting the column max: exp(1000) overflows",
        "functions": {
            "softmax_cross_entropy": """
def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    E = np.exp(Z_out)
    P = E / np.sum(E, axis=0, keepdims=True)
    J = -np.sum(Y * np.log(P)) / N
    return float(J), (P - Y) / N
""",
        },
        "named_above": [],
        "mentions": ["softmax_cross_entropy", "1000"],
    },
    "softmax_gradient_sign_flipped": {
        "question": "losses",
        "mistake": "dZ = (Y − softmax) / N: the gradient's sign is flipped",
        "functions": {
            "softmax_cross_entropy": """
def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    shifted = Z_out - np.max(Z_out, axis=0, keepdims=True)
    log_P = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    J = -np.sum(Y * log_P) / N
    return float(J), (Y - np.exp(log_P)) / N
""",
        },
        "named_above": ["train"],
        "mentions": ["softmax_cross_entropy", "dZ_out"],
    },
    # ------------------------------------------------------------------ network
    "backward_off_by_one_layer": {
        "question": "network",
        "mistake": "reads caches[l - 2] for layer l: the previous layer's cache (and caches[-1] for layer 1)",
        "functions": {
            "backward": planted(
                "backward",
                ('caches[l - 1]', 'caches[l - 2]'),
            ),
        },
        "named_above": ["train"],
        "mentions": ["backward"],
    },
    "backward_skips_hidden_derivatives": {
        "question": "network",
        "mistake": "applies the activation derivative at the output layer only",
        "functions": {
            "backward": planted(
                "backward",
                ('(dA, Z)\n', '(dA, Z) if l == len(activations) else dA\n'),
            ),
        },
        "named_above": ["train"],
        "mentions": ["backward", "grads['W1']"],
    },
    "backward_pops_caches": {
        "question": "network",
        "mistake": "takes the caches with caches.pop(), emptying the caller's list",
        "functions": {
            "backward": planted(
                "backward",
                ('caches[l - 1]', 'caches.pop()'),
            ),
        },
        # train calls backward with caches it never reads again: no harm there.
        "named_above": [],
        "mentions": ["backward", "in place"],
    },
    "backward_ignores_activation_names": {
        "question": "network",
        "mistake": "uses sigmoid_backward for every layer, whatever the activation",
        "functions": {
            "backward": planted(
                "backward",
                ('backward_fns[activations[l - 1]](dA, Z)', 'sigmoid_backward(dA, Z)'),
            ),
        },
        "named_above": ["train"],
        "mentions": ["backward", "grads["],
    },
    "forward_caches_output_not_input": {
        "question": "network",
        "mistake": "caches the layer's output A in place of its input A_prev",
        "functions": {
            "forward": planted(
                "forward",
                ('caches.append((A, Z))\n        A = forward_fns[name](Z)', 'A = forward_fns[name](Z)\n        caches.append((A, Z))'),
            ),
        },
        "named_above": ["train"],
        "mentions": ["backward"],
    },
    # ------------------------------------------------------------------ sgd
    "sgd_adds_gradient": {
        "question": "sgd",
        "mistake": "W + η dW: steps up the gradient",
        "functions": {
            "sgd_update": """
def sgd_update(params, grads, learning_rate):
    return {k: v + learning_rate * grads[k] for k, v in params.items()}
""",
        },
        "named_above": ["train"],
        "mentions": ["sgd_update", "W1"],
    },
    "sgd_updates_weights_only": {
        "question": "sgd",
        "mistake": "updates the W's and copies the b's unchanged",
        "functions": {
            "sgd_update": """
def sgd_update(params, grads, learning_rate):
    new = {}
    for k, v in params.items():
        new[k] = v - learning_rate * grads[k] if k.startswith("W") else v.copy()
    return new
""",
        },
        "named_above": ["train"],
        "mentions": ["sgd_update", "b1"],
    },
    "sgd_ignores_learning_rate": {
        "question": "sgd",
        "mistake": "W − dW: the learning rate is never used",
        "functions": {
            "sgd_update": """
def sgd_update(params, grads, learning_rate):
    return {k: v - grads[k] for k, v in params.items()}
""",
        },
        "named_above": ["train"],
        "mentions": ["sgd_update", "W1"],
    },
    "sgd_updates_in_place": {
        "question": "sgd",
        "mistake": "params[k] -= η grads[k] modifies the caller's arrays and returns the same dict",
        "functions": {
            "sgd_update": """
def sgd_update(params, grads, learning_rate):
    for k in params:
        params[k] -= learning_rate * grads[k]
    return params
""",
        },
        "named_above": ["train"],
        "mentions": ["sgd_update", "in place"],
    },
    # ------------------------------------------------------------------ train
    "train_no_shuffle": {
        "question": "train",
        "mistake": "mini-batches in the data's order: no rng.permutation",
        "functions": {
            "train": planted(
                "train",
                ('rng.permutation(N)', 'np.arange(N)'),
            ),
        },
        "named_above": [],
        "mentions": ["train", "history"],
    },
    "train_ignores_batch_size": {
        "question": "train",
        "mistake": "always one full-batch step per epoch, whatever batch_size says",
        "functions": {
            "train": planted(
                "train",
                ('if batch_size is None:', 'if True:  # batch_size is never read'),
            ),
        },
        "named_above": [],
        "mentions": ["train", "history"],
    },
    "train_new_rng_every_epoch": {
        "question": "train",
        "mistake": "creates default_rng(seed) inside the epoch loop: the same order every epoch",
        "functions": {
            "train": planted(
                "train",
                ('    rng = np.random.default_rng(seed)\n', ''),
                ('rng.permutation(N)', 'np.random.default_rng(seed).permutation(N)'),
            ),
        },
        "named_above": [],
        "mentions": ["train", "history"],
    },
    "train_drops_last_batch": {
        "question": "train",
        "mistake": "range(0, N - batch_size + 1, batch_size): the smaller last batch is skipped",
        "functions": {
            "train": planted(
                "train",
                ('range(0, N, batch_size)', 'range(0, N - batch_size + 1, batch_size)'),
            ),
        },
        "named_above": [],
        "mentions": ["train", "history"],
    },
    "train_history_of_last_batch": {
        "question": "train",
        "mistake": "records the last mini-batch's loss (before its step) instead of the loss on all of X, Y after the epoch",
        "functions": {
            "train": planted(
                "train",
                ('_, dA_out = loss_fn', 'J, dA_out = loss_fn'),
                ('A_out, _ = forward(X, params, activations)\n        history.append(loss_fn(A_out, Y)[0])', 'history.append(J)'),
            ),
        },
        "named_above": [],
        "mentions": ["train", "history"],
    },
    "train_uses_global_learning_rate": {
        "question": "train",
        "mistake": "names its parameter lr but steps with the notebook's global learning_rate",
        "setup": "learning_rate = 0.1  # set in an earlier notebook cell\n",
        "functions": {
            "train": planted(
                "train",
                ('loss, learning_rate, epochs', 'loss, lr, epochs'),
            ),
        },
        "named_above": [],
        "mentions": ["train", "history"],
    },
    "train_uses_global_data": {
        "question": "train",
        "mistake": "names its parameters X_train, Y_train but trains on the notebook's global X, Y (the XOR data)",
        "setup": "X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])  # the XOR cell\nY = np.array([[0.0, 1.0, 1.0, 0.0]])\n",
        "functions": {
            "train": planted(
                "train",
                ('def train(X, Y,', 'def train(X_train, Y_train,'),
            ),
        },
        "named_above": [],
        "mentions": ["train"],
    },
}


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
