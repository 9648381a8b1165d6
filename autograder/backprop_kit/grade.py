"""Grade one submission file into a Gradescope results dict. Never raises.

Flow: read the file defensively (any name, any nbformat 4.x, any kernelspec;
anything else is 'malformed' with a message a student can act on), run its
code cells in a sandboxed Session, then run every question's public and hidden
checks in this process, calling the student's functions through the session.
"""

import json
import os
import secrets
import time
import traceback

import numpy as np

from backprop_lab import config
from backprop_lab.checking import CheckFailure, Outcome, expect_unchanged, report, run_cases
from backprop_lab.public_checks import PUBLIC

from .hidden_checks import hidden_cases
from .session import BudgetExhausted, CallTimeout, Limits, Session, StudentError, WorkerLost

STATUSES = ("ok", "timeout", "kernel-died", "malformed", "error")


class Malformed(Exception):
    """The file is not a notebook we can grade; the message tells the student why."""


def read_cells(raw):
    """The code cells' sources of a notebook given as bytes; raises Malformed."""
    try:
        text = raw.decode("utf-8-sig")
        nb = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Malformed(
            "This file is not a Jupyter notebook: its contents are not valid notebook JSON "
            "(it may be incomplete or damaged). In Jupyter, use File → Download (.ipynb) and submit that file."
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise Malformed(
            "This file is JSON but not a Jupyter notebook (it has no list of cells). "
            "Submit the .ipynb file of your assignment notebook."
        )
    if nb.get("nbformat") != 4:
        raise Malformed(f"This notebook has format version {nb.get('nbformat')!r}; save it with Jupyter 4.x or later and submit again.")
    cells = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str) and source.strip():
            cells.append(source)
    if not cells:
        raise Malformed("This notebook has no code: it contains no code cells with anything in them. Did you submit the right file?")
    return cells


class RemoteCaller:
    """Calls student functions in the sandbox; checks inputs were left unchanged."""

    def __init__(self, session):
        self.session = session

    def call(self, name, *args):
        value, after = self._guard(name, lambda: self.session.call(name, args, return_args=True))
        if after is not None:
            expect_unchanged(name, args, after)
        return value

    def call_many(self, name, arglists, pick=None):
        return self._guard(name, lambda: self.session.call(name, arglists, many=True, pick=pick))

    @staticmethod
    def _guard(name, thunk):
        try:
            return thunk()
        except StudentError as exc:
            if exc.missing:
                raise CheckFailure(f"{name} is not defined in your notebook.") from None
            if exc.type == "NotImplementedError":
                raise CheckFailure(f"{name} is not implemented yet ({exc.message}).") from None
            raise CheckFailure(f"{name} raised {exc.type}: {exc.message}") from None
        except CallTimeout as exc:
            raise CheckFailure(f"{name}: {exc}.") from None
        except WorkerLost as exc:
            raise CheckFailure(f"{name}: {exc}.") from None
        except BudgetExhausted as exc:
            raise CheckFailure(f"{name} was not checked: {exc}.") from None


def question_score(points, outcomes):
    total = sum(o.weight for o in outcomes)
    passed = sum(o.weight for o in outcomes if o.passed)
    return points * passed / total if total else 0.0


def grade_file(path, seed=None, limits=None):
    """Grade the file at `path`; returns a Gradescope results dict (with extra_data)."""
    started = time.monotonic()
    seed = int(seed) if seed is not None else secrets.randbits(32)
    limits = limits or Limits()
    try:
        with open(path, "rb") as handle:
            raw = handle.read(64 << 20)
        result = _grade_cells(read_cells(raw), seed, limits)
    except Malformed as exc:
        result = empty_result("malformed", str(exc))
    except Exception as exc:  # noqa: BLE001 - the batch must go on; the instructor sees the trace
        result = empty_result("error", f"the grader failed on this submission: {type(exc).__name__}: {exc}")
        result["extra_data"]["trace"] = traceback.format_exc()[-4000:]
    result["extra_data"].update(seed=seed, seconds=round(time.monotonic() - started, 2), file=os.path.basename(str(path)))
    result["output"] = f"Hidden tests used seed {seed} (replay: BACKPROP_KIT_SEED={seed}).\n" + result["output"]
    return result


def empty_result(status, message):
    tests = []
    for question, (public, hidden) in config.POINTS.items():
        tests.append(_test_entry(question, "public", 0.0, public, message, "visible"))
        tests.append(_test_entry(question, "hidden", 0.0, hidden, message, config.HIDDEN_VISIBILITY))
    return {"score": 0.0, "output": f"Status: {status}. {message}\n", "tests": tests, "extra_data": {"status": status, "message": message}}


def _test_entry(question, part, score, max_score, output, visibility):
    return {
        "name": f"{question} ({part})",
        "score": round(score, 4),
        "max_score": max_score,
        "output": output,
        "visibility": visibility,
    }


def _grade_cells(cells, seed, limits):
    hidden = hidden_cases()
    tests, score = [], 0.0
    with Session(cells, limits) as session:
        session.run_notebook()
        caller = RemoteCaller(session)
        for index, (question, (public_points, hidden_points)) in enumerate(config.POINTS.items()):
            rng = np.random.default_rng([seed, index])
            for part, cases, points, visibility in (
                ("public", PUBLIC[question], public_points, "visible"),
                ("hidden", hidden[question], hidden_points, config.HIDDEN_VISIBILITY),
            ):
                outcomes = run_cases(cases, caller, rng)
                earned = question_score(points, outcomes)
                score += earned
                tests.append(_test_entry(question, part, earned, points, report(f"{question} ({part})", outcomes), visibility))
        status, message = _status(session)
        notebook_report = _notebook_report(session)
    output = f"Status: {status}. {message}\n{notebook_report}".rstrip() + "\n"
    return {"score": round(score, 4), "output": output, "tests": tests, "extra_data": {"status": status, "message": message}}


def _status(session):
    reports = session.reports
    died = [r for r in reports if r.status == "died"]
    stopped = [r for r in reports if r.status == "timeout"]
    skipped = [r for r in reports if r.status == "skipped"]
    notes = []
    if died:
        notes.append("the process running your notebook died in " + ", ".join(f"cell {r.index + 1} ({r.error})" for r in died))
    if stopped:
        notes.append("stopped for running too long: " + ", ".join(f"cell {r.index + 1}" for r in stopped))
    if skipped:
        notes.append(f"{len(skipped)} cell(s) not run because the time budget was used up")
    if session.output.was_cut:
        notes.append("output was cut (too much printing)")
    if died:
        status = "kernel-died"
    elif stopped or skipped:
        status = "timeout"
    else:
        status = "ok"
    message = "; ".join(notes) + "." if notes else "Your notebook ran without problems."
    if (died or stopped) and not skipped:
        message += " The functions defined before that point were graded."
    return status, message[0].upper() + message[1:]


def _notebook_report(session):
    lines = []
    for r in session.reports:
        if r.status in ("error", "timeout", "died"):
            lines.append(f"  code cell {r.index + 1}: {r.status}: {r.error}"[:500])
    return ("Notebook cells with problems:\n" + "\n".join(lines)) if lines else ""


def write_results(result, path):
    """Write results.json atomically (a reader never sees half a file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        json.dump(result, handle, indent=1)
    os.replace(tmp, path)


def question_scores(result):
    """{question: score} summed over its public and hidden parts."""
    scores = {q: 0.0 for q in config.QUESTIONS}
    for test in result.get("tests", []):
        question = test["name"].split(" ")[0]
        if question in scores:
            scores[question] += test["score"]
    return scores


__all__ = ["grade_file", "write_results", "question_scores", "read_cells", "Malformed", "Outcome", "STATUSES"]
