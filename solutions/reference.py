"""The hidden reference: every function of the student contract, solved.

This module is the single source of the solution code. The master notebook's
solution cells must hold the same function bodies (tests/test_build.py proves
it), and the autograder compares students' results against it. It never
reaches students.

Notation: W^(l) is (n_l, n_{l-1}), b^(l) is (n_l, 1), examples are columns.
"""

import numpy as np

from backprop_lab.helpers import identity_backward, identity_forward


def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))  # never overflows: the exponent is <= 0
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_backward(dA, Z):
    S = sigmoid_forward(Z)
    return dA * S * (1.0 - S)


def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return dA * (1.0 - np.tanh(Z) ** 2)


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)


def dense_forward(A_prev, W, b):
    return W @ A_prev + b


def dense_backward(dZ, A_prev, W):
    dA_prev = W.T @ dZ
    dW = dZ @ A_prev.T
    db = np.sum(dZ, axis=1, keepdims=True)
    return dA_prev, dW, db


def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    J = 0.5 * np.sum(diff**2) / N
    return float(J), diff / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    shifted = Z_out - np.max(Z_out, axis=0, keepdims=True)  # keeps exp() finite
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    J = -np.sum(Y * log_probs) / N
    return float(J), (np.exp(log_probs) - Y) / N


def forward(X, params, activations):
    forward_fns = {
        "sigmoid": sigmoid_forward,
        "tanh": tanh_forward,
        "relu": relu_forward,
        "identity": identity_forward,
    }
    A = X
    caches = []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = forward_fns[name](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    backward_fns = {
        "sigmoid": sigmoid_backward,
        "tanh": tanh_backward,
        "relu": relu_backward,
        "identity": identity_backward,
    }
    grads = {}
    dA = dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = backward_fns[activations[l - 1]](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads


def sgd_update(params, grads, learning_rate):
    return {name: value - learning_rate * grads[name] for name, value in params.items()}


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
            batches = [order[start : start + batch_size] for start in range(0, N, batch_size)]
        for idx in batches:
            A_out, caches = forward(X[:, idx], params, activations)
            _, dA_out = loss_fn(A_out, Y[:, idx])  # for softmax_ce this is dZ, which the identity passes on
            grads = backward(dA_out, caches, params, activations)
            params = sgd_update(params, grads, learning_rate)
        A_out, _ = forward(X, params, activations)
        history.append(loss_fn(A_out, Y)[0])
    return params, history
