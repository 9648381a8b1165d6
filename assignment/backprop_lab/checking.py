"""The machinery every check runs on, in the notebook and in the autograder alike.

A check is a `Case`: a function `run(caller, rng)` that calls student functions
through `caller` and raises `CheckFailure` with a message a student can act on.
The caller is either `LocalCaller` (grader.check in the notebook: the student's
functions are right there) or the autograder's remote caller (the functions
live in a sandboxed process). Check code cannot tell the two apart.

Numbers follow the course notation: W^(l) is (n_l, n_{l-1}), examples are
columns. Errors are norm-wise relative errors in float64 (see config).
"""

import contextlib
import copy
import hashlib
import inspect
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from backprop_lab import config
from backprop_lab.feedback import error_table, float_difference, gives, headline, number, numerical_warnings, shorten, warning_advice

# The student contract: each function's parameter names, used to name inputs in messages.
SIGNATURES = {
    "sigmoid_forward": ("Z",),
    "sigmoid_backward": ("dA", "Z"),
    "tanh_forward": ("Z",),
    "tanh_backward": ("dA", "Z"),
    "relu_forward": ("Z",),
    "relu_backward": ("dA", "Z"),
    "dense_forward": ("A_prev", "W", "b"),
    "dense_backward": ("dZ", "A_prev", "W"),
    "mse_loss": ("A_out", "Y"),
    "softmax_cross_entropy": ("Z_out", "Y"),
    "forward": ("X", "params", "activations"),
    "backward": ("dA_out", "caches", "params", "activations"),
    "sgd_update": ("params", "grads", "learning_rate"),
    "train": ("X", "Y", "params", "activations", "loss", "learning_rate", "epochs", "batch_size", "seed"),
}


# Which question grades which functions, and, for follow-through marking, the lower functions
# a question's functions may call: those are answered by the reference when the autograder
# grades that question, so a bug costs points only in the question of the function that has it.
QUESTION_FUNCTIONS = {
    "sigmoid": ("sigmoid_forward", "sigmoid_backward"),
    "tanh": ("tanh_forward", "tanh_backward"),
    "relu": ("relu_forward", "relu_backward"),
    "dense": ("dense_forward", "dense_backward"),
    "losses": ("mse_loss", "softmax_cross_entropy"),
    "network": ("forward", "backward"),
    "sgd": ("sgd_update",),
    "train": ("train",),
}
QUESTION_OF = {fn: q for q, fns in QUESTION_FUNCTIONS.items() for fn in fns}
_LAYER_FUNCTIONS = sum((QUESTION_FUNCTIONS[q] for q in ("sigmoid", "tanh", "relu", "dense", "losses")), ())
BELOW = {
    "network": _LAYER_FUNCTIONS,
    "train": _LAYER_FUNCTIONS + QUESTION_FUNCTIONS["network"] + QUESTION_FUNCTIONS["sgd"],
}


class CheckFailure(Exception):
    """A check found something wrong; the message is shown to the student."""


class TooSlow(CheckFailure):
    """A call ran past its time limit and was stopped."""


@dataclass(frozen=True)
class Case:
    """One check: `run(caller, rng)` raises CheckFailure when the student's code is wrong.

    `functions` are the contract functions it grades. A failing `gate` case stops later cases
    of the same functions from counting (backward must be backpropagation). With follow-through
    marking a case runs first on the student's own lower functions and, if it fails, again
    with the reference's.
    """

    title: str
    run: Callable
    weight: float = 1.0
    functions: tuple = ()
    gate: bool = False


@dataclass
class Outcome:
    title: str
    passed: bool
    message: str
    weight: float
    advice: tuple = ()  # (function, warning text) of the numerical warnings its calls raised: named, costing nothing


def run_cases(cases, caller, seed=0, diagnose=None, below=(), first=0, substituted_only=False):
    """Run every case; a failing or crashing case never stops the others.

    Case i draws its inputs from its own generator, seeded by (seed, i): its inputs do not
    depend on what other cases drew, and a second run of it sees the same inputs.
    `below` names the lower functions the reference may answer for (follow-through marking;
    only a caller that can substitute uses it); `substituted_only` skips the run on the
    student's own lower functions. `first` is the index of cases[0] in its list (for its seed).
    `diagnose(calls)` may name the mistake behind a failure from the calls the case made; its
    hint is appended to the failure's message.
    """
    seeds = [int(x) for x in np.atleast_1d(seed)]
    substitute = tuple(below) if getattr(caller, "can_substitute", False) else ()
    outcomes = []
    for i, case in enumerate(cases, start=first):
        def rng(i=i):
            return np.random.default_rng(seeds + [i])

        blocked = [f for f in case.functions if f in caller.blocked]
        if blocked:
            outcomes.append(Outcome(case.title, False, caller.blocked[blocked[0]], case.weight))
            caller.failed.update(blocked)
            continue
        # not on the student's own lower functions again: one of them failed a gate (backward that is not
        # backpropagation), or the function's own runs ended the student's process twice
        skip_own = substituted_only or any(f in caller.blocked for f in substitute) or any(f in getattr(caller, "own_run_ends", ()) for f in case.functions)
        if substitute and skip_own:
            outcome = _attempt(case, caller, rng(), diagnose, substitute)
            if outcome.passed and not substituted_only:
                outcome.message = follow_through_note(case, caller, substitute)
        else:
            outcome = _attempt(case, caller, rng(), diagnose, ())
            if not outcome.passed and substitute:
                retry = _attempt(case, caller, rng(), diagnose, substitute)
                if retry.passed:
                    retry.message = follow_through_note(case, caller, substitute)
                outcome = retry
        if not outcome.passed:
            caller.failed.update(at_fault(case, outcome.message))
            if case.gate:
                reason = outcome.message.strip().splitlines()[0] if outcome.message.strip() else case.title
                for fn in case.functions:
                    caller.blocked.setdefault(fn, f"Not counted: {fn} failed the check '{case.title}' ({reason})")
        outcomes.append(outcome)
    return outcomes


def _attempt(case, caller, rng, diagnose, standins):
    caller.log, caller.standins, caller.warnings = [], standins, []
    outcome = _run_case(case, caller, rng, diagnose)
    outcome.advice = tuple(dict.fromkeys(caller.warnings))
    return outcome


def _run_case(case, caller, rng, diagnose):
    try:
        case.run(caller, rng)
    except CheckFailure as exc:
        message = str(exc)
        if diagnose is not None:
            try:
                hint = diagnose(caller.log)
            except Exception:  # noqa: BLE001 - a hint is a bonus; never lose the failure over it
                hint = None
            if hint:
                message += "\n  " + hint
        return Outcome(case.title, False, message, case.weight)
    except Exception as exc:  # noqa: BLE001 - a check must never crash the grading
        return Outcome(case.title, False, f"the check could not finish: {type(exc).__name__}: {exc}", case.weight)
    finally:
        caller.standins = ()
    return Outcome(case.title, True, "", case.weight)


def at_fault(case, message):
    """The case's functions a failure blames: the one its message starts with, else all of them."""
    first = message.split(" ", 1)[0].rstrip(":")
    return (first,) if first in case.functions else case.functions


def follow_through_note(case, caller, below, settled=True):
    """A passed follow-through check: it counts, and this is what broke the student's own run.

    `settled`: every check of the lower functions has run (else only their public ones have)."""
    mine = " and ".join(case.functions) or "code"
    verb = "are" if len(case.functions) > 1 else "is"
    culprits = [fn for fn in below if fn in caller.failed]
    if culprits:
        where = "; ".join(f"{fn}: see {QUESTION_OF[fn]}" for fn in culprits)
        return f"Counted: your {mine} {verb} right. With your own lower functions it is not ({where})."
    if not settled:
        return (f"Counted: your {mine} {verb} right with the reference's lower functions. With your own it is not, "
                "although they pass their public checks: look at how they work together, and at their hidden checks once published.")
    return (f"Counted: your {mine} {verb} right with the reference's lower functions. With your own it is not, "
            "although they pass their own checks: look at how they work together.")


# -- callers -------------------------------------------------------------------------


class LocalCaller:
    """Calls the student's functions in this process (grader.check in the notebook).

    Given `answer(name, args, kwargs)` (the reference's answer) and a `substitute` context
    (backprop_kit has both), it also answers lower functions from the reference, as the
    autograder does.
    """

    def __init__(self, env, answer=None, substitute=None):
        self.env = env
        self.answer, self.substitute = answer, substitute
        self.can_substitute = answer is not None and substitute is not None
        self.standins = ()
        self.failed, self.blocked = set(), {}
        self.log = []  # (name, args, value) of each call, for diagnosing a failure
        self.warnings = []  # (name, warning text) of each numerical warning a call raised
        self.last_seconds = 0.0

    def _function(self, name):
        fn = self.env.get(name)
        if not callable(fn):
            raise CheckFailure(f"{name} is not defined: run the cell that defines it first.")
        return fn

    def _ask(self, name, args, kwargs):
        if name not in self.standins:  # as in the autograder: only the current call's stand-ins answer
            raise ValueError(f"{name}: LookupError: {name} has no stand-in in this call")
        try:
            return copy.deepcopy(self.answer(name, copy.deepcopy(args), copy.deepcopy(kwargs)))
        except Exception as exc:  # noqa: BLE001 - as the autograder's stand-in reports it
            raise ValueError(f"{name}: {type(exc).__name__}: {exc}") from None

    def call(self, name, *args, quiet=False, timeout=None):
        """Call `name(*args)`; fail if it raises or modifies any of its inputs.

        `quiet` calls (finite differences) are not logged for hints; `timeout` is only
        honoured by the autograder, which can interrupt.
        """
        fn = self._function(name)
        given = copy.deepcopy(args)  # the student works on copies: the checks' own inputs stay intact
        held = [{k: id(v) for k, v in a.items()} if isinstance(a, dict) else {} for a in given]
        swap = self.substitute(self.env, self.standins, self._ask) if self.standins and self.can_substitute else contextlib.nullcontext()
        started = time.perf_counter()
        raised = []
        try:
            with swap, numerical_warnings() as raised:
                value = fn(*given)
        except NotImplementedError as exc:
            raise CheckFailure(f"{name} is not implemented yet ({exc}).") from None
        except Exception as exc:  # noqa: BLE001 - the student's error becomes the message
            raise CheckFailure(f"{name} raised {type(exc).__name__}: {exc}") from None
        finally:
            self.warnings.extend((name, text) for text in raised)
        self.last_seconds = time.perf_counter() - started
        replaced = [f"{i}:{k}" for i, ids in enumerate(held) for k, ident in ids.items() if id(given[i].get(k)) != ident]
        expect_unchanged(name, args, given, replaced)
        if not quiet:
            self.log.append((name, args, value))
        return value


def expect_unchanged(name, before, after, replaced=()):
    """Fail if the call modified any of its inputs (the contract forbids it).

    `replaced` lists "argument index:key" of dict entries that now hold another object: the
    function wrote into its caller's dict rather than into an array.
    """
    params = SIGNATURES.get(name, ())
    for i, (b, a) in enumerate(zip(before, after)):
        where = _first_difference(b, a)
        if where is None:
            continue
        arg = params[i] if i < len(params) else f"argument {i + 1}"
        key = where[2:-2].split("']")[0] if where.startswith("['") else None
        if isinstance(b, dict) and key is not None and f"{i}:{key}" in replaced:
            raise CheckFailure(
                f"{name} wrote into its input dict {arg}: after the call {arg}[{key!r}] holds a new value. "
                f"The caller's dict must stay as it was: build a new dict and return it "
                f"(e.g. {{key: value - ... for key, value in {arg}.items()}})."
            )
        raise CheckFailure(
            f"{name} modified its input {arg}{where} in place. Functions must leave their inputs unchanged: "
            "an in-place operation such as `x -= ...`, `x *= ...` or `x[...] = ...` changes the caller's array; "
            "write `x = x - ...` to make a new one."
        )


def _first_difference(before, after, path=""):
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or before.shape != after.shape:
            return path or ""
        return None if np.array_equal(before, after, equal_nan=True) else (path or "")
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before:
            if key not in after:
                return f"{path}[{key!r}]"
            found = _first_difference(before[key], after[key], f"{path}[{key!r}]")
            if found is not None:
                return found
        return None
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        if len(before) != len(after):
            return path or ""
        for i, (b, a) in enumerate(zip(before, after)):
            found = _first_difference(b, a, f"{path}[{i}]")
            if found is not None:
                return found
    return None


# -- comparing arrays ----------------------------------------------------------------


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


# -- finite differences --------------------------------------------------------------


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


# -- hints for the public checks --------------------------------------------------------------
# The build computes, for every call the public checks make with the reference's answers, the
# answers of the known mistakes (backprop_kit/hints.py) and ships them in public_hints.json: a
# student's wrong answer that matches one of them gets its hint in grader.check as well.

PUBLIC_HINTS = Path(__file__).with_name("public_hints.json")


def call_key(name, args):
    """A fingerprint of a call's plain-data arguments (backward's caches are the student's own: left out)."""
    digest = hashlib.sha256(name.encode())

    def feed(x):
        if isinstance(x, np.ndarray):
            digest.update(f"a{x.shape}".encode() + np.ascontiguousarray(x, dtype=float).tobytes())
        elif isinstance(x, dict):
            digest.update(b"d")
            for k in sorted(x):
                digest.update(str(k).encode())
                feed(x[k])
        elif isinstance(x, (list, tuple)):
            digest.update(b"l%d" % len(x))
            for v in x:
                feed(v)
        elif isinstance(x, (bool, np.bool_)) or x is None or isinstance(x, str):
            digest.update(repr(x).encode())
        elif isinstance(x, (int, np.integer)):
            digest.update(repr(int(x)).encode())
        elif isinstance(x, (float, np.floating)):
            digest.update(repr(float(x)).encode())
        else:
            digest.update(b"?")

    for i, arg in enumerate(args):
        if not (name == "backward" and i == 1):
            feed(arg)
    return digest.hexdigest()[:24]


def to_plain(x):
    """An answer as JSON-able data (inverse: from_plain)."""
    if isinstance(x, tuple):
        return {"t": [to_plain(v) for v in x]}
    if isinstance(x, dict):
        return {"d": {k: to_plain(v) for k, v in x.items()}}
    if isinstance(x, np.ndarray):
        return {"a": x.tolist(), "s": list(x.shape)}
    if isinstance(x, list):
        return {"l": [to_plain(v) for v in x]}
    return float(x)


def from_plain(x):
    if isinstance(x, dict):
        if "t" in x:
            return tuple(from_plain(v) for v in x["t"])
        if "d" in x:
            return {k: from_plain(v) for k, v in x["d"].items()}
        if "a" in x:
            return np.array(x["a"], dtype=float).reshape(x["s"])
        return [from_plain(v) for v in x["l"]]
    return x


@lru_cache(maxsize=1)
def _public_hints():
    try:
        return json.loads(PUBLIC_HINTS.read_text())
    except (OSError, ValueError):
        return {}


def public_diagnose(calls):
    """The hint of the first logged call whose answer is a known mistake's, from the shipped table."""
    table = _public_hints()
    for name, args, value in calls:
        for entry in table.get(call_key(name, args), ()):
            if same_answer(value, from_plain(entry["answer"])):
                return f"Hint [{entry['id']}]: {entry['hint']}"
    return None


# -- running public checks in the notebook ------------------------------------------------


def report(question, outcomes):
    """Text of a question's outcomes: what passed, and each failure's message."""
    passed = sum(o.passed for o in outcomes)
    lines = [f"{question}: {passed} of {len(outcomes)} checks passed"]
    for o in outcomes:
        mark = "ok  " if o.passed else "FAIL"
        lines.append(f"  [{mark}] {o.title}")
        lines.extend("         " + line for line in o.message.splitlines())
    lines.extend("  " + line for line in warning_advice([item for o in outcomes for item in o.advice]))
    return "\n".join(lines)


def first_problem(outcomes):
    """The first line of the first failure's message: the first thing to fix."""
    for o in outcomes:
        if not o.passed:
            return f"{o.title}: {o.message.strip().splitlines()[0]}"
    return ""


SUMMARY_WIDTH = 110  # characters of the first thing to fix


def summary_table(rows):
    """Rows of (question, passed, total, first thing to fix) as an aligned text table; a long first
    thing to fix is cut between two words."""
    lines = [f"{'question':<10}{'passed':>9}  first thing to fix", f"{'-' * 10}{'-' * 9}  {'-' * 40}"]
    for question, passed, total, first in rows:
        lines.append(f"{question:<10}{f'{passed}/{total}':>9}  {shorten(first, SUMMARY_WIDTH) if first else '-'}")
    return "\n".join(lines)


def summary(env=None):
    """Run every question's public checks and print one table: what passes, what fails, what to fix first."""
    from backprop_lab.public_checks import PUBLIC

    if env is None:
        env = inspect.currentframe().f_back.f_globals
    rows = []
    for question, cases in PUBLIC.items():
        outcomes = run_cases(cases, LocalCaller(env), 0, public_diagnose)
        first = first_problem(outcomes)
        rows.append((question, sum(o.passed for o in outcomes), len(outcomes), first))
    print(summary_table(rows))


def check(question, env=None):
    """Run the public checks of `question` against the notebook's functions.

    When a check fails, prints the report and raises AssertionError, which is what otter's
    exception-based tests expect: the report comes first under the cell, otter's own lines after
    it. When all pass, prints nothing, or the advice on numerical warnings if there is any.
    """
    from backprop_lab.public_checks import PUBLIC

    if env is None:
        env = inspect.currentframe().f_back.f_globals
    outcomes = run_cases(PUBLIC[question], LocalCaller(env), 0, public_diagnose)
    passed = sum(o.passed for o in outcomes)
    if passed < len(outcomes):
        print(report(question, outcomes), flush=True)
        raise AssertionError(f"{question}: {passed} of {len(outcomes)} checks passed (what failed, and why, is printed above).")
    advice = warning_advice([item for o in outcomes for item in o.advice])
    if advice:
        print(f"{question}: all {len(outcomes)} checks passed.\n" + "\n".join("  " + line for line in advice), flush=True)
