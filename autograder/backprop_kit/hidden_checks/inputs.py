"""Fresh inputs of fixed structure: shapes, sign patterns, extremes, one-hot targets and networks."""

import numpy as np

from backprop_lab import config
from backprop_lab.helpers import WORKED_EXAMPLE_ACTIVATIONS, init_params

from .loading import reference

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def shapes(rng):
    """(n_out, n_in, N): square with N = 1, then two non-square with N > 1 (n >= 5: every sign pattern fits)."""
    n = int(rng.integers(5, 7))
    m = n + int(rng.integers(1, 4))
    return [(n, n, 1), (m, n, int(rng.integers(2, 6))), (n, m, int(rng.integers(2, 6)))]


def signed(rng, shape, phase=0, low=0.1, high=2.5):
    """Fresh magnitudes with a fixed sign pattern: entry k is positive when (k >> phase) is even.

    Z with phase 0 and dA with phase 1 meet in all four sign combinations within four entries.
    """
    k = np.arange(int(np.prod(shape))).reshape(shape)
    return rng.uniform(low, high, shape) * np.where((k >> phase) % 2 == 0, 1.0, -1.0)


def activation_input(rng, kind, shape):
    """Z with both signs; for ReLU, every fifth entry is exactly 0 (the course's relu'(0) = 0)."""
    Z = signed(rng, shape)
    if kind == "relu":
        Z.flat[4::5] = 0.0
    return Z


def extreme_input(rng, shape=(3, 4)):
    """|z| up to EXTREME_Z at fixed places, moderate values elsewhere."""
    Z = signed(rng, shape)
    Z.flat[0::4] = config.EXTREME_Z
    Z.flat[1::4] = -config.EXTREME_Z
    Z.flat[2::8] *= config.EXTREME_Z / 3
    return Z


def one_hot(rng, k, N):
    Y = np.zeros((k, N))
    Y[rng.integers(0, k, N), np.arange(N)] = 1.0
    return Y


def rotation_nets(rng, equal_widths=False):
    """Three deep nets whose hidden layers hold the three activations in rotation: every
    activation in every hidden position. Outputs alternate sigmoid and identity; the first
    net sees one example, the others several. With equal_widths every layer has the same
    width, so a backward that mixes up layers still returns arrays of the right shapes."""
    nets = []
    for r in range(3):
        acts = [ACTIVATIONS[(r + i) % 3] for i in range(3)] + ["sigmoid" if r % 2 == 0 else "identity"]
        if equal_widths:
            sizes = [int(rng.integers(3, 5))] * 5
        else:
            sizes = [int(rng.integers(2, 5))] + [int(rng.integers(2, 6)) for _ in range(3)] + [int(rng.integers(1, 4))]
        N = 1 if r == 0 else int(rng.integers(2, 7))
        nets.append((sizes, acts, N))
    return nets


def net_params(rng, sizes):
    params = init_params(sizes, seed=int(rng.integers(2**31)), scale=float(rng.uniform(0.5, 1.5)))
    for key in params:
        if key.startswith("b"):
            params[key] = rng.normal(0.0, 0.5, params[key].shape)
    return params


def kink_free(rng, sizes, acts, N):
    """Parameters and data on which no ReLU pre-activation is near 0 (finite differences stay valid)."""
    for _ in range(500):
        params = net_params(rng, sizes)
        X, Y = rng.normal(size=(sizes[0], N)), rng.uniform(0.0, 1.0, (sizes[-1], N))
        _, caches = reference().forward(X, params, acts)
        if min((np.abs(Z).min() for (_, Z), a in zip(caches, acts) if a == "relu"), default=np.inf) > config.RELU_KINK_MARGIN:
            return X, Y, params
    raise RuntimeError("could not draw a network away from the ReLU kink")


def worked_example_shape(rng):
    """The chapter's 2-3-1 sigmoid network with fresh weights, input and target."""
    params = net_params(rng, [2, 3, 1])
    return rng.uniform(-1.0, 1.0, (2, 1)), rng.uniform(0.05, 0.95, (1, 1)), params, list(WORKED_EXAMPLE_ACTIVATIONS)
