"""Calling the student's functions: LocalCaller in this process, and the rule that a call leaves its inputs unchanged."""

import contextlib
import copy
import time

import numpy as np

from backprop_lab.checking import CheckFailure
from backprop_lab.contract import SIGNATURES
from backprop_lab.feedback import numerical_warnings


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
