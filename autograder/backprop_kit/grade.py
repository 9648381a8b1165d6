"""Grade one submission file into a Gradescope results dict. Never raises.

Flow: read the file defensively (cells.py: any name, any nbformat 4.x, any kernelspec;
anything else is 'malformed' with a message a student can act on), run its code cells
in a sandboxed Session (demo cells left as the handout has them are not run), then
run every question's public and hidden checks in this process (marking.py), calling
the student's functions through the session (remote.py); the result's texts are
bounded and redacted (results.py), and what happened is put in words (run_report.py).
"""

import os
import secrets
import time
import traceback

from backprop_lab import config
from backprop_lab.checking import first_problem, report, summary_table

from . import written
from .cells import Malformed, read_cells, without_unchanged_demos
from .hidden_checks import calibrate
from .marking import PARTS, grade_questions, question_score
from .remote import RemoteCaller
from .results import SCORE_DECIMALS, cap_texts, check_record, empty_result, test_entry
from .run_report import audit_of, missing_functions, notebook_report, review_notes, status_of
from .sandbox import Limits, Session


def grade_file(path, seed=None, limits=None):
    """Grade the file at `path`; returns a Gradescope results dict (with extra_data)."""
    started = time.monotonic()
    seed = int(seed) if seed is not None else secrets.randbits(32)
    limits = limits or Limits()
    answers = {}
    try:
        with open(path, "rb") as handle:
            raw = handle.read((config.NOTEBOOK_SIZE_LIMIT_MB << 20) + 1)
        if len(raw) > config.NOTEBOOK_SIZE_LIMIT_MB << 20:
            raise Malformed(
                f"This file is larger than {config.NOTEBOOK_SIZE_LIMIT_MB} MB, too large to be graded. Large notebooks "
                "usually hold big outputs (images, long printouts): in Jupyter, use Edit → Clear Outputs of All Cells, "
                "save, and submit again."
            )
        answers = written.answers(raw)
        cells = read_cells(raw)
        limits = limits.scaled(calibrate())  # this machine's speed, now: a busy machine gets longer limits
        result = _grade_cells(cells, seed, limits)
        result["extra_data"]["limits_s"] = {"call": limits.call_timeout, "cell": limits.cell_timeout}
    except Malformed as exc:
        result = empty_result("malformed", str(exc))
    except Exception as exc:  # noqa: BLE001 - the batch must go on; the instructor sees the trace
        result = empty_result("error", f"the grader failed on this submission: {type(exc).__name__}: {exc}")
        result["extra_data"]["trace"] = traceback.format_exc()[-4000:]
    result["extra_data"].update(seed=seed, seconds=round(time.monotonic() - started, 2), file=os.path.basename(str(path)))
    if result["extra_data"].get("status") != "malformed":  # no test ran on a file that is not a notebook
        result["output"] = f"Hidden tests used seed {seed} (replay: BACKPROP_KIT_SEED={seed}).\n" + result["output"]
    result["tests"] = [t for t in result["tests"] if not t["name"].endswith(f"({written.PART})")] + written.tests(answers)
    return cap_texts(result)


def _grade_cells(cells, seed, limits):
    tests, summary, timings, checks = [], [], {}, []
    clock = time.monotonic()

    def lap(name):
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 3)
        clock = now

    with Session(without_unchanged_demos(cells), limits) as session:  # the cells as written: for the review below
        lap("worker start")
        session.run_notebook()
        lap("notebook execution")
        caller = RemoteCaller(session)
        seen = {}

        def before_hidden():  # what the student sees at once is settled before any hidden input goes in
            seen["missing"] = missing_functions(session, caller)
            seen["status"] = status_of(session, seen["missing"])
            seen["cells"] = notebook_report(session)

        results = grade_questions(caller, seed, lap, before_hidden=before_hidden)
        for question, points in config.POINTS.items():
            for part, part_points in zip(PARTS, points):
                outcomes = results[question][part]
                earned = question_score(part_points, outcomes)
                visibility = "visible" if part == "visible" else config.HIDDEN_VISIBILITY
                tests.append(test_entry(question, part, earned, part_points, report(f"{question} ({part})", outcomes), visibility))
                checks.extend(check_record(question, part, o) for o in outcomes)
            summary.append(summary_row(question, results[question]))
        status, message = status_of(session, seen["missing"])  # for the instructor: the whole run
        shown_status, shown_message = seen["status"]
        cells_report = seen["cells"]
        audit = audit_of(session)
        review = review_notes(cells, audit, session.deaths)
    timings.update({k: round(v, 3) for k, v in caller.seconds.items()})
    output = f"Status: {shown_status}. {shown_message}\n{cells_report}".rstrip() + "\n\n" + summary_table(summary) + "\n"
    extra = {"status": status, "message": message, "isolation": session.isolation, "timings": timings, "checks": checks}
    if audit.get("peak_rss_mb"):
        extra["peak_rss_mb"] = audit["peak_rss_mb"]
    if review:
        extra["review"] = review
    total = round(sum(t["score"] for t in tests), SCORE_DECIMALS)  # the sum of the scores shown
    return {"score": total, "output": output, "tests": tests, "extra_data": extra}


def summary_row(question, parts):
    """(question, passed, total, first thing to fix) for the top-level summary.

    Hidden checks count, and name the first thing to fix, only when their results are visible;
    otherwise the table would reveal hidden scores before grades are published.
    """
    shown = parts["visible"] + (parts["hidden"] if config.HIDDEN_VISIBILITY == "visible" else [])
    first = first_problem(parts["visible"]) or (first_problem(shown) if len(shown) > len(parts["visible"]) else "")
    return question, sum(o.passed for o in shown), len(shown), first
