"""Finite differences: centred-difference gradients of the student's own functions, with their rounding noise."""

import numpy as np

from backprop_lab import config
from backprop_lab.checking import CheckFailure
from backprop_lab.expectations import _kind, expect_array


def perturbations(x, h):
    """For each entry i of x: x + h e_i and x - h e_i, in that order."""
    out = []
    for i in range(x.size):
        for sign in (1.0, -1.0):
            xp = x.copy()
            xp.flat[i] += sign * h
            out.append(xp)
    return out


class Numeric(np.ndarray):
    """A finite-difference gradient that knows its own rounding noise (`.atol`, a norm)."""


def centred_gradient(values, shape, h):
    """Gradient from the scalar values at perturbations(x, h), in x's shape.

    The result's `.atol` bounds the norm of its rounding noise: each difference carries about
    eps * max|f| / h of it, which swamps gradients that have all but vanished.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    grad = ((v[:, 0] - v[:, 1]) / (2.0 * h)).reshape(shape).view(Numeric)
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    grad.atol = config.FD_NOISE_FACTOR * np.finfo(float).eps * scale / h * np.sqrt(max(v.shape[0], 1))
    return grad


def expect_gradient_fd(where, actual, numeric, inputs, oracle):
    """`actual` against centred differences, allowing for their rounding noise."""
    expect_array(where, actual, np.asarray(numeric), config.TOL_FINITE_DIFF, inputs, oracle, atol=getattr(numeric, "atol", 0.0))


def fd_gradient_of_projection(caller, name, args, position, G, h=None, pick=None):
    """Centred-difference gradient of sum(G * name(*args)) with respect to args[position].

    The student's own forward (`name`) is called once per perturbation, each call like any other.
    """
    h = config.FD_STEP if h is None else h
    x = args[position]
    values = []
    for xp in perturbations(x, h):
        out = caller.call(name, *(args[:position] + (xp,) + args[position + 1 :]), quiet=True)
        out = out if pick is None else _pick(name, out, pick)
        if not isinstance(out, np.ndarray) or out.shape != G.shape:
            raise CheckFailure(f"{name} returned {_kind(out)} where shape {G.shape} was expected.")
        values.append(float(np.sum(G * out)))
    return centred_gradient(values, x.shape, h)


def fd_gradient_of_scalar(caller, name, args, position, pick=0, h=None):
    """Centred-difference gradient of the scalar name(*args)[pick] with respect to args[position]."""
    h = config.FD_STEP if h is None else h
    x = args[position]
    values = []
    for xp in perturbations(x, h):
        v = _pick(name, caller.call(name, *(args[:position] + (xp,) + args[position + 1 :]), quiet=True), pick)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (float, int, np.floating, np.integer)):
            raise CheckFailure(f"{name}: the loss should be a float, got {_kind(v)}.")
        values.append(v)
    return centred_gradient(values, x.shape, h)


def _pick(name, out, index):
    if not isinstance(out, tuple) or len(out) <= index:
        raise CheckFailure(f"{name}: expected a tuple, got {_kind(out)}.")
    return out[index]
