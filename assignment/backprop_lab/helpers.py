"""Working helpers the handout gives students (nothing here is a stub).

Notation (as in the course): W^(l) has shape (n_l, n_{l-1}), b^(l) has shape
(n_l, 1), and examples are columns, so X is (n_0, N) and Y is (n_L, N).
`params` is a dict {"W1", "b1", ..., "WL", "bL"} numbered from 1.
"""

import numpy as np

from backprop_lab import config

WORKED_EXAMPLE_ACTIVATIONS = ("sigmoid", "sigmoid")


def init_params(layer_sizes, seed=0, scale=None):
    """Random weights and zero biases for a network with the given layer sizes.

    Inputs:
    - layer_sizes: [n_0, n_1, ..., n_L], input size first.
    - seed: seed of np.random.default_rng; the same seed gives the same params.
    - scale: standard deviation of every weight. None means 1 / sqrt(n_{l-1})
      for layer l, which keeps pre-activations of order one.

    Returns params with W{l} of shape (n_l, n_{l-1}) and b{l} of shape (n_l, 1).
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes needs at least two positive sizes, got {layer_sizes!r}")
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        std = 1.0 / np.sqrt(n_in) if scale is None else float(scale)
        params[f"W{l}"] = rng.standard_normal((n_out, n_in)) * std
        params[f"b{l}"] = np.zeros((n_out, 1))
    return params


def identity_forward(Z):
    """The identity activation: A = Z. Returns a new array of Z's shape."""
    return np.array(Z, dtype=np.float64, copy=True)


def identity_backward(dA, Z):
    """Backward of the identity: dZ = dA. Returns a new array of dA's shape."""
    return np.array(dA, dtype=np.float64, copy=True)


def load_xor():
    """The four XOR points: X of shape (2, 4) and targets Y of shape (1, 4)."""
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0]])
    return X, Y


def load_worked_example():
    """The chapter's 2-3-1 sigmoid network, its input and its target.

    Returns (X, Y, params, activations) with X = (0.05, 0.10) as a (2, 1)
    column, Y = 0.01 as a (1, 1) array and the chapter's weights.
    """
    X = np.array([[0.05], [0.10]])
    Y = np.array([[0.01]])
    params = {
        "W1": np.array([[0.15, 0.20], [0.25, 0.30], [0.35, 0.40]]),
        "b1": np.array([[0.35], [0.35], [0.35]]),
        "W2": np.array([[0.40, 0.45, 0.50]]),
        "b2": np.array([[0.60]]),
    }
    return X, Y, params, list(WORKED_EXAMPLE_ACTIVATIONS)


def one_hot(labels, num_classes):
    """Labels of shape (N,) as a one-hot array of shape (num_classes, N)."""
    labels = np.asarray(labels, dtype=int)
    Y = np.zeros((num_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


DIGITS_FILE = "digits.npz"  # the UCI 8x8 digits as scikit-learn ships them: 1797 images, 64 pixels (0 to 16), labels


def _digits_table():
    """The digits as rows of 64 pixels (0 to 16) and a label, from the copy beside this module
    (so that neither the handout nor the grader needs scikit-learn)."""
    from pathlib import Path

    with np.load(Path(__file__).with_name(DIGITS_FILE)) as data:
        return np.column_stack([data["images"], data["labels"]]).astype(float)


def load_digits_split():
    """The 8x8 digits (as in scikit-learn), scaled to [0, 1], in a fixed stratified split.

    Returns (X_train, Y_train, X_test, Y_test): X of shape (64, N) and one-hot Y of shape
    (10, N). Each digit contributes the same share to the test set (25 % by default); the
    share and the seed of the split are set in backprop_lab/config.py.
    """
    table = _digits_table()
    X, labels = table[:, :-1] / 16.0, table[:, -1].astype(int)
    rng = np.random.default_rng(config.DIGITS["split_seed"])
    test = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test.extend(rng.permutation(members)[: int(round(config.DIGITS["test_fraction"] * members.size))])
    test = np.sort(np.array(test))
    train = np.setdiff1d(np.arange(labels.size), test)
    return X[train].T.copy(), one_hot(labels[train], 10), X[test].T.copy(), one_hot(labels[test], 10)


def accuracy(A_out, Y):
    """Fraction of columns classified right.

    With one output row, a prediction is right when it falls on the same side
    of 0.5 as the target; with several rows, when the largest output is in the
    row of the target's largest entry.
    """
    A_out, Y = np.asarray(A_out), np.asarray(Y)
    if A_out.shape[0] == 1:
        return float(np.mean((A_out > 0.5) == (Y > 0.5)))
    return float(np.mean(A_out.argmax(axis=0) == Y.argmax(axis=0)))
