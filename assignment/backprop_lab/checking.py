"""Checks and how they run: Case, Outcome, run_cases with follow-through marking, and the text of outcomes.

A check is a `Case`: a function `run(caller, rng)` that calls student functions
through `caller` and raises `CheckFailure` with a message a student can act on.
The caller is either `LocalCaller` (callers.py; grader.check in the notebook: the student's
functions are right there) or the autograder's remote caller (the functions
live in a sandboxed process). Check code cannot tell the two apart.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from backprop_lab.contract import QUESTION_OF
from backprop_lab.feedback import shorten, warning_advice


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


# -- the text of outcomes, in the notebook and in the autograder's results -----------------


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
