"""Comparing answers: the expect_* checks of a value against its expected one, and the comparisons under them.

Numbers follow the course notation: W^(l) is (n_l, n_{l-1}), examples are
columns. Errors are norm-wise relative errors in float64 (see config).
"""

import numpy as np

from backprop_lab import config
from backprop_lab.checking import CheckFailure
from backprop_lab.feedback import error_table, float_difference, gives, headline, number


def same_answer(a, b, tol=1e-6):
    """Same structure, same shapes, same non-finite entries, and finite entries within tol.

    Tuples and dicts are structure (a function's several results); lists and arrays are values.
    """
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and all(same_answer(a[k], b[k], tol) for k in a)
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(same_answer(x, y, tol) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    if x.shape != y.shape:
        return False
    fx, fy = np.isfinite(x), np.isfinite(y)
    if not np.array_equal(fx, fy) or not np.array_equal(x[~fx], y[~fy], equal_nan=True):
        return False
    if not fx.any():
        return True
    diff = np.linalg.norm(x[fx] - y[fy])
    return bool(diff <= tol * max(np.linalg.norm(x[fx]) + np.linalg.norm(y[fy]), config.REL_ERROR_FLOOR))


def rel_error(actual, expected):
    """Norm-wise relative error ||a - e|| / max(||a|| + ||e||, floor), in float64."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    return float(np.linalg.norm(a - e) / max(np.linalg.norm(a) + np.linalg.norm(e), config.REL_ERROR_FLOOR))


def describe_inputs(inputs):
    """'dZ (3, 5), A_prev (4, 5)' for a dict of named inputs."""
    parts = []
    for name, value in (inputs or {}).items():
        if isinstance(value, np.ndarray):
            parts.append(f"{name} {value.shape}")
        elif isinstance(value, dict):
            parts.append(f"{name} {{{', '.join(f'{k} {np.shape(v)}' for k, v in value.items())}}}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def expect_array(where, actual, expected, tol, inputs=None, oracle="the reference", finite=True, atol=0.0):
    """Fail unless `actual` is a float64 array of `expected`'s shape within `tol` of it.

    `where` names the function and the quantity, e.g. 'dense_backward → db'. An error
    whose norm is below `atol` (the oracle's own noise, for finite differences) passes.
    """
    context = f"\n  inputs: {describe_inputs(inputs)}" if inputs else ""
    if not isinstance(actual, np.ndarray):
        raise CheckFailure(
            f"{where}: expected a numpy array of shape {expected.shape}, got {_kind(actual)}.{context}"
        )
    if actual.shape != expected.shape:
        raise CheckFailure(f"{where}: expected shape {expected.shape}, got shape {actual.shape}.{context}")
    if actual.dtype != np.float64:
        raise CheckFailure(f"{where}: expected dtype float64, got {actual.dtype}.{context}")
    if finite and not np.all(np.isfinite(actual)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(actual))[0])
        raise CheckFailure(
            f"{where}: contains {number(actual[bad])} at {list(bad)}, where {oracle} {gives(oracle)} "
            f"{number(expected[bad], '.6g')}.{context}"
        )
    err = rel_error(actual, expected)
    if err > tol and np.linalg.norm(actual - expected) > atol:
        raise CheckFailure(f"{where}: {headline(actual, expected, err, tol, oracle)}{context}\n" + error_table(actual, expected))


def expect_float(where, actual, expected, tol, inputs=None, oracle="the reference"):
    """Fail unless `actual` is a Python float (np.float64 counts) within `tol` relatively."""
    context = f"\n  inputs: {describe_inputs(inputs)}" if inputs else ""
    if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (float, np.floating)):
        raise CheckFailure(f"{where}: expected a Python float, got {_kind(actual)}. Use float(...).{context}")
    if not np.isfinite(actual):
        raise CheckFailure(f"{where}: got {actual}, expected {number(expected, '.6g')}.{context}")
    err = abs(float(actual) - expected) / max(abs(float(actual)) + abs(expected), config.REL_ERROR_FLOOR)
    if err > tol:
        raise CheckFailure(float_difference(where, float(actual), expected, err, tol, oracle) + context)


def expect_tuple(where, value, length):
    if not isinstance(value, tuple) or len(value) != length:
        raise CheckFailure(f"{where}: expected a tuple of {length} values, got {_kind(value)}.")
    return value


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if value is None:
        return "None (did you forget to return?)"
    return f"a {type(value).__name__}"
