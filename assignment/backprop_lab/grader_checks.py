"""What the notebook runs: grader.check's public checks of one question, and the summary of them all."""

import inspect

from backprop_lab.callers import LocalCaller
from backprop_lab.checking import first_problem, report, run_cases, summary_table
from backprop_lab.feedback import warning_advice
from backprop_lab.public_checks import PUBLIC
from backprop_lab.public_hints import public_diagnose


def summary(env=None):
    """Run every question's public checks and print one table: what passes, what fails, what to fix first."""
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
