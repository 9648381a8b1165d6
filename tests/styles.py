"""Whole-notebook coding styles: complete, correct solutions written the way different students would.

BUGS and CORRECT_VARIANTS in planted/ swap one or two functions into the reference. The entries here
are whole notebooks instead: every one of the 14 contract functions, written from scratch in one
style, so that the grader meets the structures real submissions have: activations looked up in a
dict built when its cell runs (the dict keeps the functions it was built with), layers as classes,
scalar loops, everything inlined in forward/backward/train, einsum and log-sum-exp, output and
warnings everywhere, caches as dicts, history as a numpy array.

STYLES[style_id] = {
    "cells": the notebook's code cells, in order, as source strings. The first cell is always
             IMPORTS; play a notebook by exec-ing each cell into one fresh namespace,
    "note":  one line on the style (and, for the two entries ending in _buggy_..., on the bug),
}

Two entries are buggy on purpose, each one its correct style with one definition changed (see
`_planted`): "dict_dispatch_buggy_sigmoid_backward" and "classes_buggy_dense_db". They check that a
bug in a building block costs points only in its own question, even when forward/backward reach the
building block through a dict or a class instance rather than through the notebook's globals.

tests/check_styles.py plays every entry against solutions/reference.py.
"""

from backprop_lab.contract import SIGNATURES


IMPORTS = "import numpy as np\nfrom backprop_lab.helpers import identity_forward, identity_backward"

CONTRACT = tuple(SIGNATURES)  # the 14 contract functions, in the handout's order

# The buggy entries: (correct style they are made from, contract function whose question the bug
# belongs to, top-level definition of the notebook that the bug changes).
BUGGY = {
    "dict_dispatch_buggy_sigmoid_backward": ("dict_dispatch", "sigmoid_backward", "sigmoid_backward"),
    "classes_buggy_dense_db": ("classes", "dense_backward", "Dense"),
}


def _planted(cells, old, new):
    """`cells` with the one occurrence of `old` (across all cells) replaced by `new`."""
    assert sum(cell.count(old) for cell in cells) == 1, f"{old!r} must occur exactly once"
    return [cell.replace(old, new) for cell in cells]


STYLES = {}

# ====================================================================================== dict_dispatch
STYLES["dict_dispatch"] = {
    "note": "activations and losses looked up in module-level dicts built once, in cells after the functions",
    "cells": [
        IMPORTS,
        '''
def sigmoid_forward(Z):
    out = np.empty(np.shape(Z), dtype=np.float64)
    pos = Z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-Z[pos]))
    ez = np.exp(Z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_backward(dA, Z):
    s = sigmoid_forward(Z)
    ds = s * (1.0 - s)
    return ds * dA
''',
        '''
def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    t = np.tanh(Z)
    return dA * (1.0 - t * t)
''',
        '''
def relu_forward(Z):
    return np.where(Z > 0, Z, 0.0)


def relu_backward(dA, Z):
    return dA * (Z > 0)
''',
        '''
# One table for forward and backward: built once, when this cell runs.
ACT = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "identity": (identity_forward, identity_backward),
}
''',
        '''
def dense_forward(A_prev, W, b):
    return np.matmul(W, A_prev) + b


def dense_backward(dZ, A_prev, W):
    return np.matmul(W.T, dZ), np.matmul(dZ, A_prev.T), dZ.sum(axis=1, keepdims=True)
''',
        '''
def mse_loss(A_out, Y):
    N = Y.shape[1]
    err = A_out - Y
    return float(np.sum(err * err) / (2 * N)), err / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    Zs = Z_out - Z_out.max(axis=0)
    E = np.exp(Zs)
    total = E.sum(axis=0)
    J = -np.sum(Y * (Zs - np.log(total))) / N
    return float(J), (E / total - Y) / N
''',
        '''
LOSSES = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}
''',
        '''
def forward(X, params, activations):
    caches = []
    A = X
    for l, name in enumerate(activations, 1):
        act_forward, _ = ACT[name]
        Z = dense_forward(A, params["W%d" % l], params["b%d" % l])
        caches.append((A, Z))
        A = act_forward(Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads = {}
    dA = dA_out
    for l in range(len(caches), 0, -1):
        A_prev, Z = caches[l - 1]
        _, act_backward = ACT[activations[l - 1]]
        dZ = act_backward(dA, Z)
        dA, dW, db = dense_backward(dZ, A_prev, params["W%d" % l])
        grads["W%d" % l] = dW
        grads["b%d" % l] = db
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    new = {}
    for key, value in params.items():
        new[key] = value - learning_rate * grads[key]
    return new
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = LOSSES[loss]
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        if batch_size is None:
            chunks = [slice(None)]
        else:
            perm = rng.permutation(N)
            chunks = [perm[i:i + batch_size] for i in range(0, N, batch_size)]
        for chunk in chunks:
            A_out, caches = forward(X[:, chunk], params, activations)
            _, dA_out = loss_fn(A_out, Y[:, chunk])
            params = sgd_update(params, backward(dA_out, caches, params, activations), learning_rate)
        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])
    return params, history
''',
    ],
}

STYLES["dict_dispatch_buggy_sigmoid_backward"] = {
    "note": "BUGGY on purpose: dict_dispatch whose sigmoid_backward takes the derivative at the output, "
    "s = sigmoid(sigmoid(Z)); ACT holds this buggy function",
    "cells": _planted(
        STYLES["dict_dispatch"]["cells"], "s = sigmoid_forward(Z)", "s = sigmoid_forward(sigmoid_forward(Z))"
    ),
}

# ====================================================================================== classes
STYLES["classes"] = {
    "note": "layers and losses as classes; the contract functions are thin wrappers over instances "
    "kept in a module-level REGISTRY; caches hold the activation instances",
    "cells": [
        IMPORTS,
        '''
class Activation:
    """An element-wise layer: A = f(Z) forward, dZ = dA * f'(Z) backward. Stateless."""

    def forward(self, Z):
        raise NotImplementedError

    def derivative(self, Z):
        raise NotImplementedError

    def backward(self, dA, Z):
        return dA * self.derivative(Z)


class Sigmoid(Activation):
    def forward(self, Z):
        E = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1.0, E) / (1.0 + E)

    def derivative(self, Z):
        S = self.forward(Z)
        return S * (1.0 - S)


class Tanh(Activation):
    def forward(self, Z):
        return np.tanh(Z)

    def derivative(self, Z):
        return 1.0 - np.tanh(Z) ** 2


class ReLU(Activation):
    def forward(self, Z):
        return np.maximum(Z, 0.0)

    def backward(self, dA, Z):
        return np.where(Z > 0, dA, 0.0)


class Identity(Activation):
    def forward(self, Z):
        return identity_forward(Z)

    def backward(self, dA, Z):
        return identity_backward(dA, Z)


class Dense:
    """The affine part Z = W A_prev + b."""

    def forward(self, A_prev, W, b):
        return W @ A_prev + b

    def backward(self, dZ, A_prev, W):
        dW = dZ @ A_prev.T
        db = dZ.sum(axis=1, keepdims=True)
        dA_prev = W.T @ dZ
        return dA_prev, dW, db
''',
        '''
class MSELoss:
    def __call__(self, A_out, Y):
        N = Y.shape[1]
        D = A_out - Y
        return float(0.5 * np.sum(D ** 2) / N), D / N


class SoftmaxCrossEntropyLoss:
    def __call__(self, Z_out, Y):
        N = Y.shape[1]
        shifted = Z_out - Z_out.max(axis=0, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
        return float(-(Y * log_p).sum() / N), (np.exp(log_p) - Y) / N


class SGD:
    def step(self, params, grads, learning_rate):
        return {name: params[name] - learning_rate * grads[name] for name in params}


class Network:
    """forward, backward and train over the layers in REGISTRY."""

    def forward(self, X, params, activations):
        dense = REGISTRY["dense"]
        caches = []
        A = X
        for l, name in enumerate(activations, start=1):
            layer = REGISTRY[name]
            Z = dense.forward(A, params[f"W{l}"], params[f"b{l}"])
            caches.append((layer, A, Z))
            A = layer.forward(Z)
        return A, caches

    def backward(self, dA_out, caches, params, activations):
        dense = REGISTRY["dense"]
        grads = {}
        dA = dA_out
        for l in range(len(caches), 0, -1):
            layer, A_prev, Z = caches[l - 1]
            dZ = layer.backward(dA, Z)
            dA, grads[f"W{l}"], grads[f"b{l}"] = dense.backward(dZ, A_prev, params[f"W{l}"])
        return grads

    def train(self, X, Y, params, activations, loss, learning_rate, epochs, batch_size, seed):
        loss_fn = REGISTRY[loss]
        optimizer = REGISTRY["sgd"]
        N = X.shape[1]
        rng = np.random.default_rng(seed)
        history = []
        for epoch in range(epochs):
            if batch_size is None:
                batches = [np.arange(N)]
            else:
                order = rng.permutation(N)
                batches = [order[s:s + batch_size] for s in range(0, N, batch_size)]
            for idx in batches:
                A_out, caches = self.forward(X[:, idx], params, activations)
                dA_out = loss_fn(A_out, Y[:, idx])[1]
                params = optimizer.step(params, self.backward(dA_out, caches, params, activations), learning_rate)
            history.append(loss_fn(self.forward(X, params, activations)[0], Y)[0])
        return params, history


REGISTRY = {
    "sigmoid": Sigmoid(),
    "tanh": Tanh(),
    "relu": ReLU(),
    "identity": Identity(),
    "dense": Dense(),
    "mse": MSELoss(),
    "softmax_ce": SoftmaxCrossEntropyLoss(),
    "sgd": SGD(),
    "network": Network(),
}
''',
        '''
def sigmoid_forward(Z):
    return REGISTRY["sigmoid"].forward(Z)


def sigmoid_backward(dA, Z):
    return REGISTRY["sigmoid"].backward(dA, Z)
''',
        '''
def tanh_forward(Z):
    return REGISTRY["tanh"].forward(Z)


def tanh_backward(dA, Z):
    return REGISTRY["tanh"].backward(dA, Z)
''',
        '''
def relu_forward(Z):
    return REGISTRY["relu"].forward(Z)


def relu_backward(dA, Z):
    return REGISTRY["relu"].backward(dA, Z)
''',
        '''
def dense_forward(A_prev, W, b):
    return REGISTRY["dense"].forward(A_prev, W, b)


def dense_backward(dZ, A_prev, W):
    return REGISTRY["dense"].backward(dZ, A_prev, W)
''',
        '''
def mse_loss(A_out, Y):
    return REGISTRY["mse"](A_out, Y)


def softmax_cross_entropy(Z_out, Y):
    return REGISTRY["softmax_ce"](Z_out, Y)
''',
        '''
def forward(X, params, activations):
    return REGISTRY["network"].forward(X, params, activations)


def backward(dA_out, caches, params, activations):
    return REGISTRY["network"].backward(dA_out, caches, params, activations)
''',
        '''
def sgd_update(params, grads, learning_rate):
    return REGISTRY["sgd"].step(params, grads, learning_rate)
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    return REGISTRY["network"].train(X, Y, params, activations, loss, learning_rate, epochs, batch_size, seed)
''',
    ],
}

STYLES["classes_buggy_dense_db"] = {
    "note": "BUGGY on purpose: classes whose Dense.backward returns db = dZ, not summed over the examples; "
    "the REGISTRY's Dense instance carries the bug into backward and train",
    "cells": _planted(STYLES["classes"]["cells"], "db = dZ.sum(axis=1, keepdims=True)", "db = dZ"),
}

# ====================================================================================== naive_loops
STYLES["naive_loops"] = {
    "note": "every matrix product and sum in dense_* and the losses is a Python for-loop over indices",
    "cells": [
        IMPORTS,
        '''
import math
''',
        '''
def sigmoid_forward(Z):
    A = np.zeros(np.shape(Z))
    for idx in np.ndindex(*np.shape(Z)):
        z = float(Z[idx])
        if z >= 0:
            A[idx] = 1.0 / (1.0 + math.exp(-z))
        else:
            e = math.exp(z)
            A[idx] = e / (1.0 + e)
    return A


def sigmoid_backward(dA, Z):
    S = sigmoid_forward(Z)
    dZ = np.zeros(np.shape(Z))
    for idx in np.ndindex(*np.shape(Z)):
        dZ[idx] = dA[idx] * S[idx] * (1.0 - S[idx])
    return dZ
''',
        '''
def tanh_forward(Z):
    A = np.zeros(np.shape(Z))
    for idx in np.ndindex(*np.shape(Z)):
        A[idx] = math.tanh(Z[idx])
    return A


def tanh_backward(dA, Z):
    dZ = np.zeros(np.shape(Z))
    for idx in np.ndindex(*np.shape(Z)):
        t = math.tanh(Z[idx])
        dZ[idx] = dA[idx] * (1.0 - t * t)
    return dZ
''',
        '''
def relu_forward(Z):
    A = np.zeros(np.shape(Z))
    for idx in np.ndindex(*np.shape(Z)):
        if Z[idx] > 0:
            A[idx] = Z[idx]
    return A


def relu_backward(dA, Z):
    dZ = np.zeros(np.shape(Z))
    for idx in np.ndindex(*np.shape(Z)):
        if Z[idx] > 0:
            dZ[idx] = dA[idx]
    return dZ
''',
        '''
def dense_forward(A_prev, W, b):
    n_out, n_in = W.shape
    N = A_prev.shape[1]
    Wl, Al, bl = W.tolist(), A_prev.tolist(), b.tolist()
    Z = np.zeros((n_out, N))
    for i in range(n_out):
        for n in range(N):
            total = 0.0
            for j in range(n_in):
                total += Wl[i][j] * Al[j][n]
            Z[i, n] = total + bl[i][0]
    return Z


def dense_backward(dZ, A_prev, W):
    n_out, n_in = W.shape
    N = dZ.shape[1]
    Wl, dZl, Al = W.tolist(), dZ.tolist(), A_prev.tolist()
    dA_prev = np.zeros((n_in, N))
    for j in range(n_in):
        for n in range(N):
            total = 0.0
            for i in range(n_out):
                total += Wl[i][j] * dZl[i][n]
            dA_prev[j, n] = total
    dW = np.zeros((n_out, n_in))
    for i in range(n_out):
        for j in range(n_in):
            total = 0.0
            for n in range(N):
                total += dZl[i][n] * Al[j][n]
            dW[i, j] = total
    db = np.zeros((n_out, 1))
    for i in range(n_out):
        total = 0.0
        for n in range(N):
            total += dZl[i][n]
        db[i, 0] = total
    return dA_prev, dW, db
''',
        '''
def mse_loss(A_out, Y):
    K, N = Y.shape
    J = 0.0
    grad = np.zeros((K, N))
    for k in range(K):
        for n in range(N):
            d = float(A_out[k, n]) - float(Y[k, n])
            J += 0.5 * d * d
            grad[k, n] = d / N
    return J / N, grad


def softmax_cross_entropy(Z_out, Y):
    K, N = Z_out.shape
    J = 0.0
    grad = np.zeros((K, N))
    for n in range(N):
        m = Z_out[0, n]
        for k in range(1, K):
            if Z_out[k, n] > m:
                m = Z_out[k, n]
        total = 0.0
        for k in range(K):
            total += math.exp(Z_out[k, n] - m)
        log_total = math.log(total)
        for k in range(K):
            log_p = (Z_out[k, n] - m) - log_total
            J -= Y[k, n] * log_p
            grad[k, n] = (math.exp(log_p) - Y[k, n]) / N
    return float(J / N), grad
''',
        '''
def forward(X, params, activations):
    A = X
    caches = []
    for l in range(len(activations)):
        W = params["W" + str(l + 1)]
        b = params["b" + str(l + 1)]
        Z = dense_forward(A, W, b)
        caches.append((A, Z))
        if activations[l] == "sigmoid":
            A = sigmoid_forward(Z)
        elif activations[l] == "tanh":
            A = tanh_forward(Z)
        elif activations[l] == "relu":
            A = relu_forward(Z)
        else:
            A = identity_forward(Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads = {}
    dA = dA_out
    l = len(activations) - 1
    while l >= 0:
        A_prev, Z = caches[l]
        if activations[l] == "sigmoid":
            dZ = sigmoid_backward(dA, Z)
        elif activations[l] == "tanh":
            dZ = tanh_backward(dA, Z)
        elif activations[l] == "relu":
            dZ = relu_backward(dA, Z)
        else:
            dZ = identity_backward(dA, Z)
        dA, dW, db = dense_backward(dZ, A_prev, params["W" + str(l + 1)])
        grads["W" + str(l + 1)] = dW
        grads["b" + str(l + 1)] = db
        l -= 1
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    new_params = {}
    for name in params:
        P = params[name]
        G = grads[name]
        out = np.zeros(P.shape)
        for idx in np.ndindex(*P.shape):
            out[idx] = P[idx] - learning_rate * G[idx]
        new_params[name] = out
    return new_params
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        if batch_size is None:
            batches = [list(range(N))]
        else:
            order = rng.permutation(N)
            batches = []
            start = 0
            while start < N:
                batches.append(order[start:start + batch_size])
                start += batch_size
        for batch in batches:
            Xb = X[:, batch]
            Yb = Y[:, batch]
            A_out, caches = forward(Xb, params, activations)
            if loss == "mse":
                J, dA_out = mse_loss(A_out, Yb)
            else:
                J, dA_out = softmax_cross_entropy(A_out, Yb)
            grads = backward(dA_out, caches, params, activations)
            params = sgd_update(params, grads, learning_rate)
        A_all, _ = forward(X, params, activations)
        if loss == "mse":
            history.append(mse_loss(A_all, Y)[0])
        else:
            history.append(softmax_cross_entropy(A_all, Y)[0])
    return params, history
''',
    ],
}

# ====================================================================================== inlined
STYLES["inlined"] = {
    "note": "forward/backward inline every activation and the affine maths; train inlines forward, loss, "
    "backward and update without calling any contract function",
    "cells": [
        IMPORTS,
        '''
def sigmoid_forward(Z):
    return np.exp(np.minimum(Z, 0.0)) / (1.0 + np.exp(-np.abs(Z)))


def sigmoid_backward(dA, Z):
    return dA * sigmoid_forward(Z) * sigmoid_forward(-Z)
''',
        '''
def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    T = np.tanh(Z)
    return dA * (1.0 - T) * (1.0 + T)
''',
        '''
def relu_forward(Z):
    return np.clip(Z, 0.0, None)


def relu_backward(dA, Z):
    return dA * np.greater(Z, 0.0)
''',
        '''
def dense_forward(A_prev, W, b):
    return np.dot(W, A_prev) + b


def dense_backward(dZ, A_prev, W):
    return W.T.dot(dZ), dZ.dot(A_prev.T), np.add.reduce(dZ, axis=1, keepdims=True)
''',
        '''
def mse_loss(A_out, Y):
    D = A_out - Y
    N = D.shape[1]
    return float(np.mean(0.5 * np.sum(D * D, axis=0))), D / N


def softmax_cross_entropy(Z_out, Y):
    N = Z_out.shape[1]
    Zs = Z_out - np.max(Z_out, axis=0, keepdims=True)
    log_p = Zs - np.log(np.sum(np.exp(Zs), axis=0, keepdims=True))
    return float(-np.sum(Y * log_p) / N), (np.exp(log_p) - Y) / N
''',
        '''
def forward(X, params, activations):
    caches = []
    A = X
    for l in range(1, len(activations) + 1):
        A_prev = A
        Z = params["W" + str(l)] @ A_prev + params["b" + str(l)]
        kind = activations[l - 1]
        if kind == "sigmoid":
            E = np.exp(-np.abs(Z))
            A = np.where(Z >= 0, 1.0, E) / (1.0 + E)
        elif kind == "tanh":
            A = np.tanh(Z)
        elif kind == "relu":
            A = np.where(Z > 0, Z, 0.0)
        elif kind == "identity":
            A = Z.copy()
        else:
            raise ValueError("unknown activation " + repr(kind))
        caches.append((A_prev, Z, A))
    return A, caches


def backward(dA_out, caches, params, activations):
    grads = {}
    dA = dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z, A = caches[l - 1]
        kind = activations[l - 1]
        if kind == "sigmoid":
            dZ = dA * A * (1.0 - A)
        elif kind == "tanh":
            dZ = dA * (1.0 - A * A)
        elif kind == "relu":
            dZ = np.where(Z > 0, dA, 0.0)
        else:
            dZ = np.array(dA, dtype=np.float64)
        W = params["W" + str(l)]
        grads["W" + str(l)] = dZ @ A_prev.T
        grads["b" + str(l)] = dZ.sum(axis=1, keepdims=True)
        dA = W.T @ dZ
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    return {k: v - learning_rate * grads[k] for k, v in params.items()}
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    if loss not in ("mse", "softmax_ce"):
        raise ValueError("unknown loss " + repr(loss))
    L = len(activations)
    N = X.shape[1]
    P = dict(params)  # rebinding entries below never touches the caller's arrays
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        if batch_size is None:
            steps = [np.arange(N)]
        else:
            order = rng.permutation(N)
            steps = [order[s:s + batch_size] for s in range(0, N, batch_size)]
        # every step is a gradient step; the extra last pass evaluates the loss on all the data
        for idx in steps + [None]:
            Xb = X if idx is None else X[:, idx]
            Yb = Y if idx is None else Y[:, idx]
            n = Yb.shape[1]
            # forward
            A = Xb
            saved = []
            for l in range(1, L + 1):
                Z = P["W" + str(l)] @ A + P["b" + str(l)]
                kind = activations[l - 1]
                if kind == "sigmoid":
                    E = np.exp(-np.abs(Z))
                    A_next = np.where(Z >= 0, 1.0, E) / (1.0 + E)
                elif kind == "tanh":
                    A_next = np.tanh(Z)
                elif kind == "relu":
                    A_next = np.where(Z > 0, Z, 0.0)
                else:
                    A_next = Z
                saved.append((A, Z, A_next))
                A = A_next
            # loss
            if loss == "mse":
                D = A - Yb
                J = 0.5 * np.sum(D * D) / n
                dA = D / n
            else:
                shifted = A - np.max(A, axis=0, keepdims=True)
                log_p = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
                J = -np.sum(Yb * log_p) / n
                dA = (np.exp(log_p) - Yb) / n
            if idx is None:
                history.append(float(J))
                break
            # backward and update, layer by layer from the top
            for l in range(L, 0, -1):
                A_prev, Z, A_l = saved[l - 1]
                kind = activations[l - 1]
                if kind == "sigmoid":
                    dZ = dA * A_l * (1.0 - A_l)
                elif kind == "tanh":
                    dZ = dA * (1.0 - A_l * A_l)
                elif kind == "relu":
                    dZ = np.where(Z > 0, dA, 0.0)
                else:
                    dZ = dA
                W = P["W" + str(l)]
                dW = dZ @ A_prev.T
                db = dZ.sum(axis=1, keepdims=True)
                dA = W.T @ dZ
                P["W" + str(l)] = W - learning_rate * dW
                P["b" + str(l)] = P["b" + str(l)] - learning_rate * db
    return P, history
''',
    ],
}

# ====================================================================================== einsum_logsumexp
STYLES["einsum_logsumexp"] = {
    "note": "np.einsum for every matrix product and reduction, softmax through a log-sum-exp helper, "
    "sigmoid as exp(-logaddexp(0, -Z))",
    "cells": [
        IMPORTS,
        '''
def sigmoid_forward(Z):
    return np.exp(-np.logaddexp(0.0, -Z))


def sigmoid_backward(dA, Z):
    # sigma'(z) = sigma(z) sigma(-z), both factors in log space
    return np.einsum("...,...->...", dA, np.exp(-np.logaddexp(0.0, -Z) - np.logaddexp(0.0, Z)))
''',
        '''
def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    T = np.tanh(Z)
    return np.einsum("...,...->...", dA, 1.0 - np.einsum("...,...->...", T, T))
''',
        '''
def relu_forward(Z):
    return np.einsum("...,...->...", Z, (Z > 0).astype(np.float64))


def relu_backward(dA, Z):
    return np.einsum("...,...->...", dA, (Z > 0).astype(np.float64))
''',
        '''
def dense_forward(A_prev, W, b):
    return np.einsum("ij,jn->in", W, A_prev) + b


def dense_backward(dZ, A_prev, W):
    ones = np.ones(dZ.shape[1])
    dA_prev = np.einsum("ji,jn->in", W, dZ)
    dW = np.einsum("in,jn->ij", dZ, A_prev)
    db = np.einsum("in,n->i", dZ, ones)[:, np.newaxis]
    return dA_prev, dW, db
''',
        '''
def logsumexp(Z):
    """log sum_k exp(Z[k, n]) of every column n, as a (1, N) row, without overflow."""
    m = np.max(Z, axis=0, keepdims=True)
    return m + np.log(np.einsum("kn->n", np.exp(Z - m)))[np.newaxis, :]


def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    return float(0.5 * np.einsum("kn,kn->", diff, diff) / N), diff / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    log_p = Z_out - logsumexp(Z_out)
    J = -np.einsum("kn,kn->", Y, log_p) / N
    return float(J), (np.exp(log_p) - Y) / N
''',
        '''
def forward(X, params, activations):
    fns = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = fns[name](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    fns = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}
    grads, dA = {}, dA_out
    for l in reversed(range(1, len(activations) + 1)):
        A_prev, Z = caches[l - 1]
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(fns[activations[l - 1]](dA, Z), A_prev, params[f"W{l}"])
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    return {key: params[key] - learning_rate * grads[key] for key in params}
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = mse_loss if loss == "mse" else softmax_cross_entropy
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        order = np.arange(N) if batch_size is None else rng.permutation(N)
        size = N if batch_size is None else batch_size
        for start in range(0, N, size):
            idx = order[start:start + size]
            A_out, caches = forward(X[:, idx], params, activations)
            _, dA = loss_fn(A_out, Y[:, idx])
            params = sgd_update(params, backward(dA, caches, params, activations), learning_rate)
        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])
    return params, history
''',
    ],
}

# ====================================================================================== chatty
STYLES["chatty"] = {
    "note": "correct but noisy: prints shapes in forward/backward and a line per epoch, warnings.warn once, "
    "keeps call counts and the last loss in globals",
    "cells": [
        IMPORTS,
        '''
import warnings

STATS = {"forward_calls": 0, "backward_calls": 0, "epochs": 0, "last_loss": None}
WARNED = False
LAST_HISTORY = None
print("STATS ready:", STATS)
''',
        '''
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_backward(dA, Z):
    A = sigmoid_forward(Z)
    return dA * (A * (1.0 - A))


print("sigmoid(0) =", sigmoid_forward(np.zeros((1, 1)))[0, 0])
''',
        '''
def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    A = tanh_forward(Z)
    return dA * (1.0 - A ** 2)


print("tanh(1) =", tanh_forward(np.ones((1, 1)))[0, 0])
''',
        '''
def relu_forward(Z):
    return np.maximum(0.0, Z)


def relu_backward(dA, Z):
    mask = (Z > 0).astype(float)
    return dA * mask


print("relu'(0) =", relu_backward(np.ones((1, 1)), np.zeros((1, 1)))[0, 0])
''',
        '''
def dense_forward(A_prev, W, b):
    return W @ A_prev + b


def dense_backward(dZ, A_prev, W):
    dW = dZ @ A_prev.T
    db = np.sum(dZ, axis=1).reshape(-1, 1)
    dA_prev = W.T @ dZ
    return dA_prev, dW, db
''',
        '''
def mse_loss(A_out, Y):
    N = Y.shape[1]
    J = 0.5 * np.sum((A_out - Y) ** 2) / N
    STATS["last_loss"] = float(J)
    return float(J), (A_out - Y) / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    Zs = Z_out - Z_out.max(axis=0, keepdims=True)
    log_sum = np.log(np.exp(Zs).sum(axis=0, keepdims=True))
    J = -np.sum(Y * (Zs - log_sum)) / N
    STATS["last_loss"] = float(J)
    return float(J), (np.exp(Zs - log_sum) - Y) / N
''',
        '''
def forward(X, params, activations):
    global WARNED
    if not WARNED:
        warnings.warn("forward: caches are (A_prev, Z) pairs, one per layer")
        WARNED = True
    STATS["forward_calls"] += 1
    table = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
    A = X
    caches = []
    print(f"forward #{STATS['forward_calls']}: X {X.shape}")
    for l in range(1, len(activations) + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = dense_forward(A, W, b)
        caches.append((A, Z))
        A = table[activations[l - 1]](Z)
        print(f"  layer {l} ({activations[l - 1]}): W {W.shape}, b {b.shape}, Z {Z.shape}, A {A.shape}")
    return A, caches


def backward(dA_out, caches, params, activations):
    STATS["backward_calls"] += 1
    table = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}
    grads = {}
    dA = dA_out
    print(f"backward #{STATS['backward_calls']}: dA_out {dA_out.shape}")
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = table[activations[l - 1]](dA, Z)
        dA, dW, db = dense_backward(dZ, A_prev, params[f"W{l}"])
        grads[f"W{l}"], grads[f"b{l}"] = dW, db
        print(f"  layer {l}: dZ {dZ.shape}, dW {dW.shape} |dW| = {np.linalg.norm(dW):.3e}, db {db.shape}")
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    updated = {}
    for name in params:
        updated[name] = params[name] - learning_rate * grads[name]
    print("sgd_update:", ", ".join(f"{k} {v.shape}" for k, v in updated.items()))
    return updated
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    global LAST_HISTORY
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    print(f"train: N = {N}, layers = {activations}, loss = {loss}, lr = {learning_rate}, batch = {batch_size}")
    history = []
    for epoch in range(epochs):
        if batch_size is None:
            batches = [np.arange(N)]
        else:
            perm = rng.permutation(N)
            batches = [perm[i:i + batch_size] for i in range(0, N, batch_size)]
        for b_idx, idx in enumerate(batches):
            A_out, caches = forward(X[:, idx], params, activations)
            J_batch, dA_out = loss_fn(A_out, Y[:, idx])
            grads = backward(dA_out, caches, params, activations)
            params = sgd_update(params, grads, learning_rate)
            print(f"  epoch {epoch + 1} batch {b_idx + 1}/{len(batches)}: batch loss {J_batch:.6f}")
        J = loss_fn(forward(X, params, activations)[0], Y)[0]
        history.append(J)
        STATS["epochs"] += 1
        print(f"epoch {epoch + 1}/{epochs}: loss {J:.6f}")
    LAST_HISTORY = list(history)
    return params, history
''',
    ],
}

# ====================================================================================== caches_dicts
STYLES["caches_dicts"] = {
    "note": 'caches are a list of dicts {"A_prev", "Z", "W"}; backward reads W from the cache, walks '
    "reversed(range(L)) and neither pops nor writes the caches",
    "cells": [
        IMPORTS,
        '''
def sigmoid_forward(Z):
    return 0.5 * np.exp(np.minimum(Z, 0.0)) / (0.5 + 0.5 * np.exp(-np.abs(Z)))


def sigmoid_backward(dA, Z):
    s = sigmoid_forward(Z)
    return dA * s * sigmoid_forward(-Z)
''',
        '''
def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return dA * (1.0 - np.square(np.tanh(Z)))
''',
        '''
def relu_forward(Z):
    return np.maximum(Z, np.zeros_like(Z))


def relu_backward(dA, Z):
    dZ = np.zeros_like(dA, dtype=np.float64)
    dZ[Z > 0] = dA[Z > 0]
    return dZ
''',
        '''
def dense_forward(A_prev, W, b):
    return W.dot(A_prev) + b


def dense_backward(dZ, A_prev, W):
    dA_prev = np.dot(W.T, dZ)
    dW = np.dot(dZ, A_prev.T)
    db = dZ.sum(axis=-1, keepdims=True)
    return dA_prev, dW, db
''',
        '''
def mse_loss(A_out, Y):
    N = A_out.shape[1]
    J = 0.5 * np.mean(np.sum((A_out - Y) ** 2, axis=0))
    return float(J), (A_out - Y) / N


def softmax_cross_entropy(Z_out, Y):
    N = Z_out.shape[1]
    Z_shift = Z_out - Z_out.max(axis=0, keepdims=True)
    log_norm = np.log(np.exp(Z_shift).sum(axis=0, keepdims=True))
    log_probs = Z_shift - log_norm
    probs = np.exp(log_probs)
    return float(-(Y * log_probs).sum() / N), (probs - Y) / N
''',
        '''
def forward(X, params, activations):
    forward_of = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
    caches = []
    A = X
    for i in range(len(activations)):
        W = params["W" + str(i + 1)]
        Z = dense_forward(A, W, params["b" + str(i + 1)])
        caches.append({"A_prev": A, "Z": Z, "W": W})
        A = forward_of[activations[i]](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    backward_of = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}
    grads = {}
    dA = dA_out
    for i in reversed(range(len(caches))):
        cache = caches[i]
        dZ = backward_of[activations[i]](dA, cache["Z"])
        dA, dW, db = dense_backward(dZ, cache["A_prev"], cache["W"])
        grads["W" + str(i + 1)] = dW
        grads["b" + str(i + 1)] = db
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    return dict((name, params[name] - learning_rate * grads[name]) for name in params)
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    epoch = 0
    while epoch < epochs:
        if batch_size is None:
            batches = [np.arange(N)]
        else:
            order = rng.permutation(N)
            batches = []
            for start in range(0, N, batch_size):
                batches.append(order[start:start + batch_size])
        for idx in batches:
            A_out, caches = forward(X[:, idx], params, activations)
            _, dA_out = loss_fn(A_out, Y[:, idx])
            params = sgd_update(params, backward(dA_out, caches, params, activations), learning_rate)
        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])
        epoch += 1
    return params, history
''',
    ],
}

# ====================================================================================== float_history_numpy
STYLES["float_history_numpy"] = {
    "note": "train copies params, splits each permutation with np.array_split at multiples of batch_size "
    "(the same chunks as slicing) and returns history as a float64 numpy array",
    "cells": [
        IMPORTS,
        '''
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    P = 1.0 / (1.0 + E)
    return np.where(Z >= 0, P, E * P)


def sigmoid_backward(dA, Z):
    E = np.exp(-np.abs(Z))
    P = 1.0 / (1.0 + E)
    return dA * (E * P * P)
''',
        '''
def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return dA * (1.0 - np.tanh(Z) * np.tanh(Z))
''',
        '''
def relu_forward(Z):
    return Z.clip(min=0.0)


def relu_backward(dA, Z):
    dZ = np.array(dA, dtype=np.float64, copy=True)
    dZ[Z <= 0] = 0.0
    return dZ
''',
        '''
def dense_forward(A_prev, W, b):
    Z = W @ A_prev
    Z += b
    return Z


def dense_backward(dZ, A_prev, W):
    N = dZ.shape[1]
    dA_prev = (dZ.T @ W).T
    dW = np.matmul(dZ, A_prev.T)
    db = dZ @ np.ones((N, 1))
    return dA_prev, dW, db
''',
        '''
def mse_loss(A_out, Y):
    N = Y.shape[1]
    R = A_out - Y
    return float(np.square(R).sum() / (2.0 * N)), R / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    S = Z_out - Z_out.max(axis=0)
    log_P = S - np.log(np.exp(S).sum(axis=0))
    return float(-np.sum(Y * log_P) / N), (np.exp(log_P) - Y) / N
''',
        '''
def forward(X, params, activations):
    fwd = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
    caches = {}
    A = X
    for l, act in zip(range(1, len(activations) + 1), activations):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches[l] = (A, Z)
        A = fwd[act](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    bwd = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}
    grads = {}
    dA = dA_out
    for l in sorted(caches, reverse=True):
        A_prev, Z = caches[l]
        dZ = bwd[activations[l - 1]](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
''',
        '''
def sgd_update(params, grads, learning_rate):
    out = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    for k in out:
        out[k] -= learning_rate * grads[k]
    return out
''',
        '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    params = {k: v.copy() for k, v in params.items()}
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = np.zeros(epochs, dtype=np.float64)
    for e in range(epochs):
        if batch_size is None:
            batches = [np.arange(N)]
        else:
            # split points at batch_size, 2 batch_size, ...: exactly order[s:s + batch_size]
            batches = np.array_split(rng.permutation(N), np.arange(batch_size, N, batch_size))
        for idx in batches:
            A_out, caches = forward(X[:, idx], params, activations)
            _, dA_out = loss_fn(A_out, Y[:, idx])
            params = sgd_update(params, backward(dA_out, caches, params, activations), learning_rate)
        history[e] = loss_fn(forward(X, params, activations)[0], Y)[0]
    return params, history
''',
    ],
}

for _entry in STYLES.values():
    _entry["cells"] = [cell.strip("\n") + "\n" if i else cell for i, cell in enumerate(_entry["cells"])]
del _entry
