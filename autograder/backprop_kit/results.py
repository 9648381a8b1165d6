"""Results dicts as Gradescope reads them: tests and scores, check records, and texts bounded, redacted and free of terminal escapes."""

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from backprop_lab import config

from . import written

STATUSES = ("ok", "timeout", "kernel-died", "malformed", "error")


_CONTROLS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text):
    """Text without terminal escape sequences or control characters (newlines and tabs stay)."""
    return _CONTROLS.sub("", text)


def cap_texts(result, cap=config.RESULT_TEXT_CAP):
    """Bound every text of a result, redact hidden material and remove terminal escapes:
    students control error messages."""

    def cut(text):
        text = strip_controls(redact(text))
        return text if len(text) <= cap else text[:cap] + f"\n... (cut: {len(text) - cap} more characters)\n"

    result["output"] = cut(result.get("output", ""))
    for test in result.get("tests", []):
        test["output"] = cut(test.get("output", ""))
    extra = result.get("extra_data", {})
    if "message" in extra:
        extra["message"] = cut(extra["message"])
    return result


def empty_result(status, message):
    tests = []
    for question, (public, hidden) in config.POINTS.items():
        tests.append(test_entry(question, "visible", 0.0, public, message, "visible"))
        tests.append(test_entry(question, "hidden", 0.0, hidden, message, config.HIDDEN_VISIBILITY))
    tests.extend(written.tests({}))
    return {"score": 0.0, "output": f"Status: {status}. {message}\n", "tests": tests, "extra_data": {"status": status, "message": message}}


SCORE_DECIMALS = 2  # scores as shown: each test's, and the total as their sum


def test_entry(question, part, score, max_score, output, visibility):
    return {
        "name": f"{question} ({part})",
        "score": round(score, SCORE_DECIMALS),
        "max_score": max_score,
        "output": output,
        "visibility": visibility,
    }


HINT_ID = re.compile(r"Hint \[([\w-]+)\]:?\s*(.*)")


def check_record(question, part, outcome):
    """One check's outcome for the class report (extra_data: Gradescope shows it to no student):
    its title, whether it passed, and for a failure the named mistake (if any) and first line."""
    record = {"question": question, "part": part, "title": outcome.title, "passed": bool(outcome.passed)}
    if not outcome.passed:
        mistake = HINT_ID.search(outcome.message)
        lines = outcome.message.strip().splitlines()
        record.update(mistake=mistake.group(1) if mistake else None, message=strip_controls(lines[0] if lines else "")[:300])
        if mistake:
            record["hint"] = strip_controls(mistake.group(2))[:300]
    return record


@lru_cache(maxsize=1)
def _hidden_lines():
    """Code lines of the reference and the hidden checks: none may reach a student."""
    here = Path(__file__).resolve().parent
    lines = set()
    for path in (*sorted((here / "hidden_checks").glob("*.py")), here / "hints.py", here.parents[1] / "solutions" / "reference.py"):
        try:
            lines.update(line.strip() for line in path.read_text().splitlines() if len(line.strip()) >= 20)
        except OSError:
            continue
    return frozenset(lines)


def redact(text):
    """Remove any line of hidden source from text a student will see (whatever the notebook printed)."""
    hidden = _hidden_lines()
    lines = str(text).split("\n")
    if not any(line.strip() in hidden for line in lines):
        return str(text)
    return "\n".join("[a line of hidden material was removed]" if line.strip() in hidden else line for line in lines)


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
