"""What happened while the notebook ran, in words: status and message, cells with problems, and notes for the instructor's review."""

import re

from backprop_lab.contract import SIGNATURES
from backprop_lab.feedback import shorten


def missing_functions(session, caller):
    """Contract functions the notebook does not define (all of them, not only those the checks reached)."""
    try:
        defined = session.defined_names()
    except Exception:  # noqa: BLE001 - the process may be gone: fall back on what the checks saw
        return caller.missing
    return [name for name in SIGNATURES if name not in defined]


def status_of(session, missing=()):
    """(status, message): the worst thing that happened, and everything a student should know."""
    reports = session.reports
    died = [r for r in reports if r.status == "died"]
    stopped = [r for r in reports if r.status == "timeout"]
    skipped = [r for r in reports if r.status == "skipped"]
    raised = [r for r in reports if r.status == "error"]
    problems = {kind: [] for kind in ("died", "timeout", "budget")}
    for kind, fn, _ in session.check_problems:
        if fn not in problems[kind]:
            problems[kind].append(fn)
    notes = []
    if died:
        notes.append("the process running your notebook died in " + "; ".join(f"{_cell_name(session, r.index)}: {r.error}" for r in died))
    if stopped:
        notes.append("stopped for running too long: " + ", ".join(_cell_name(session, r.index) for r in stopped))
    if skipped:
        notes.append(f"{len(skipped)} cell(s) not run because the time budget was used up")
    if raised:  # the notebook report lists them: the message must not say all went well
        notes.append(f"{len(raised)} code cell{'s' if len(raised) > 1 else ''} raised an error (listed below)")
    if problems["died"]:
        notes.append("the process running your code died while the checks called " + ", ".join(problems["died"]))
    if problems["timeout"]:
        notes.append("stopped for running too long during the checks: " + ", ".join(problems["timeout"]))
    if problems["budget"]:
        notes.append("the time budget ran out during the checks, so some were not run")
    if session.output.was_cut:  # no count: student code could write any number into it during hidden checks
        notes.append(
            f"output was cut (too much printing: only the first {session.limits.output_per_cell} characters "
            "of each cell's output are kept)"
        )
    if missing:
        notes.append("not defined in your notebook, so their checks score 0: " + ", ".join(missing))
    if died or problems["died"]:
        status = "kernel-died"
    elif stopped or skipped or problems["timeout"] or problems["budget"]:
        status = "timeout"
    else:
        status = "ok"
    message = "; ".join(notes) + "." if notes else "Your notebook ran without problems."
    if (died or stopped) and not skipped:
        message += " The functions defined before that point were graded."
    return status, message[0].upper() + message[1:]


def _cell_name(session, index):
    """'code cell 4 (`while True:`)': its number among the notebook's non-empty code cells, and its first line of code."""
    lines = [line.strip() for line in session.cells[index].splitlines()]
    first = next((line for line in lines if line and not line.startswith("#")), "")
    first = shorten(first, 40)
    return f"code cell {index + 1} (`{first}`)" if first else f"code cell {index + 1}"


def notebook_report(session, most=20):
    lines = []
    for r in session.reports:
        if r.status in ("error", "timeout", "died"):
            lines.append("  " + shorten(f"{_cell_name(session, r.index)}: {r.status}: {r.error}", 500))
    if len(lines) > most:
        lines[most:] = [f"  ... and {len(lines) - most} more"]
    return ("Notebook cells with problems:\n" + "\n".join(lines)) if lines else ""


# -- for the instructor: attempts to fool the grader -----------------------------------------

SUSPICIOUS_CODE = (
    (r"\bbackprop_kit\b", "names the grading package backprop_kit"),
    (r"reference\.py|hidden_checks|\bsolutions/", "looks for the reference or the hidden checks"),
    (r"/autograder\b", "looks into the autograder's folders"),
    (r"\b(np|numpy)(\.testing|\.linalg)?\.\w+\s*=[^=]", "replaces a numpy function"),
    (r"\b(otter|grader)\.[\w.]+\s*=[^=]|test_files|__code__", "patches the grader"),
    (r"sys\.modules\s*\[|builtins\.\w+\s*=", "rewires modules or builtins"),
    (r"\bsetattr\s*\(\s*(np|numpy|otter|grader|builtins)\b", "replaces a function of numpy, otter or builtins with setattr"),
    (r"\bgc\.(get_objects|get_referrers|get_referents)\b", "searches the objects in its process (gc): the grader's own are there"),
    (r"\b(Audit|_OutputBudget|Worker|_bpk_\w*)\b", "names the grader's objects in the student's process"),
    (r"sys\.argv|/proc/self/fd|\bos\.(write|fdopen|dup2?)\s*\(", "uses raw file descriptors (the grader's channel is one)"),
    (r"\b(exec|eval|compile)\s*\(|\bbase64\b|\bmarshal\b|codecs\.decode", "runs code built at run time (exec, eval, encoded text)"),
)


def audit_of(session):
    """What the worker's audit saw, as plain bounded text (student code can reach the audit)."""
    try:
        audit = session.audit()
    except Exception:  # noqa: BLE001 - the process may be gone; the static scan still stands
        return {}
    if not isinstance(audit, dict):
        return {}

    def texts(key):
        items = audit.get(key)
        return [str(x)[:300] for x in items[:40] if isinstance(x, str)] if isinstance(items, list) else []

    clean = {"events": texts("events"), "tampered": texts("tampered")}
    if type(audit.get("peak_rss_mb")) is int:
        clean["peak_rss_mb"] = audit["peak_rss_mb"]
    return clean


def review_notes(cells, audit, deaths=()):
    """What an instructor should look at. Three sources, from the most to the least trustworthy:
    the static scan of the submitted code; what the grader saw from outside (replies forged into
    its channel); and what the worker's audit noted, which student code can reach and empty."""
    notes = []
    code = "\n".join(cells)
    for pattern, what in SUSPICIOUS_CODE:
        if re.search(pattern, code):
            notes.append(f"code {what}")
    forged = [d for d in deaths if "unreadable" in d]
    if forged:
        notes.append(f"wrote into the grader's channel: {len(forged)} unreadable or unasked-for replies (each restarted its process)")
    notes.extend(audit.get("tampered", []))
    events = audit.get("events", [])
    if events:
        notes.append("tried to reach outside its sandbox: " + "; ".join(events[:8]) + (" ..." if len(events) > 8 else ""))
    return "; ".join(notes)
