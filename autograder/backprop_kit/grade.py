"""Grade one submission file into a Gradescope results dict. Never raises.

Flow: read the file defensively (any name, any nbformat 4.x, any kernelspec;
anything else is 'malformed' with a message a student can act on), run its
code cells in a sandboxed Session, then run every question's public and hidden
checks in this process, calling the student's functions through the session.
"""

import json
import os
import re
import secrets
import time
import traceback
from functools import lru_cache
from pathlib import Path


from backprop_lab import config
from backprop_lab.checking import BELOW, QUESTION_OF, SIGNATURES, CheckFailure, Outcome, TooSlow, at_fault, expect_unchanged, first_problem, follow_through_note, report, run_cases, summary_table
from backprop_lab.feedback import shorten

from . import written
from .hidden_checks import Allowed, all_cases, calibrate, diagnose, serve
from .session import BudgetExhausted, CallTimeout, Limits, Session, Stuck, StudentError, WorkerLost

STATUSES = ("ok", "timeout", "kernel-died", "malformed", "error")


class Malformed(Exception):
    """The file is not a notebook we can grade; the message tells the student why."""


def read_cells(raw):
    """The code cells' sources of a notebook given as bytes; raises Malformed."""
    if not raw.strip():
        raise Malformed(
            "This file is empty (it has no content at all): the upload may have failed or the notebook was never saved. "
            "In Jupyter, save the notebook, use File → Download (.ipynb) and submit that file."
        )
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
    """Calls student functions in the sandbox; checks inputs were left unchanged.

    Every call takes the same path in the student's process. With `standins` set (follow-through
    marking), the lower functions they name are answered by the reference, in this process.
    """

    can_substitute = True

    def __init__(self, session):
        self.session = session
        self.standins = ()
        self.failed, self.blocked = set(), {}
        self.missing = []  # functions the checks needed that the notebook does not define
        self.confined = False  # stand-ins answer only the questions a check itself leads to (see Allowed)
        self.losses = {}  # function: calls of it that ended the student's process
        self.ended = set()  # functions blocked because their calls ended the process (not a gate)
        self.own_run_ends = set()  # functions checked only with the reference's lower functions from now on
        self.log = []  # (name, args, value) of each call, for diagnosing a failure
        self.warnings = []  # (name, warning text) of each numerical warning a call raised, for advice
        self.last_seconds = 0.0
        self.seconds = {"finite differences": 0.0, "training (student's train)": 0.0}

    def call(self, name, *args, quiet=False, timeout=None):
        started = time.monotonic()
        answer = serve
        if self.standins and self.confined:  # before the hidden checks: only the check's own questions
            allowed = Allowed(name, args, self.standins)
            answer = lambda n, a, k: serve(n, a, k, allowed)  # noqa: E731
        try:
            value, after, replaced = self._guard(name, lambda: self.session.call(name, args, standins=self.standins, serve=answer, timeout=timeout))
        finally:
            self.warnings.extend((name, text) for text in getattr(self.session, "last_warnings", ()))
            self.last_seconds = time.monotonic() - started
            if name == "train":
                self.seconds["training (student's train)"] += self.last_seconds
            if quiet:
                self.seconds["finite differences"] += self.last_seconds
        expect_unchanged(name, args, after, replaced)
        if not quiet:
            self.log.append((name, args, value))
        return value

    def _lost(self, name, exc):
        """A call of `name` ended the student's process (forged replies, os._exit, a crash): after
        twice, calling it the same way again would only cost restarts. A function that calls lower
        ones and ended it on its own run may have been brought down by them: its checks go on with
        the reference standing in for them (follow-through). Otherwise it is not called again."""
        own_run = not self.standins and QUESTION_OF.get(name) in BELOW
        key = (name, own_run)
        self.losses[key] = self.losses.get(key, 0) + 1
        if self.losses[key] < 2 or name in self.blocked:
            return
        if own_run:
            self.own_run_ends.add(name)
        else:
            self.blocked[name] = f"Not counted: calling {name} ended the process running it twice ({exc}), so it is not called again."
            self.ended.add(name)

    def _guard(self, name, thunk):
        try:
            return thunk()
        except StudentError as exc:
            if exc.missing:
                if name not in self.missing:
                    self.missing.append(name)
                raise CheckFailure(f"{name} is not defined in your notebook.") from None
            if exc.type == "NotImplementedError":
                raise CheckFailure(f"{name} is not implemented yet ({exc.message}).") from None
            raise CheckFailure(f"{name} raised {exc.type}: {exc.message}") from None
        except (CallTimeout, Stuck) as exc:
            raise TooSlow(f"{name}: {exc}.") from None
        except WorkerLost as exc:
            self._lost(name, exc)
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


_CONTROLS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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
        tests.append(_test_entry(question, "visible", 0.0, public, message, "visible"))
        tests.append(_test_entry(question, "hidden", 0.0, hidden, message, config.HIDDEN_VISIBILITY))
    tests.extend(written.tests({}))
    return {"score": 0.0, "output": f"Status: {status}. {message}\n", "tests": tests, "extra_data": {"status": status, "message": message}}


SCORE_DECIMALS = 2  # scores as shown: each test's, and the total as their sum


def _test_entry(question, part, score, max_score, output, visibility):
    return {
        "name": f"{question} ({part})",
        "score": round(score, SCORE_DECIMALS),
        "max_score": max_score,
        "output": output,
        "visibility": visibility,
    }


PARTS = ("visible", "hidden")
# The gates run before any hidden check: the reference may stand in there only for functions whose
# answers teach nothing for later checks (the dense layer's; activations that fail are left out).
GATE_BELOW = ("dense_forward", "dense_backward")
GATED = "Not counted: backward did not pass the check that it is backpropagation (see the hidden part)."


def grade_questions(caller, seed, lap=lambda name: None, cases=None, before_hidden=lambda: None):
    """{question: {part: outcomes}} for every question, in an order that keeps two promises.

    1. Nothing the student's code does once a hidden input has reached it changes what the
       student sees before publication: every visible check runs, and is settled, first.
    2. The reference never becomes an oracle for a lower function whose checks are still to
       come: before the hidden checks, it answers (follow-through) only the questions the
       check's own call leads to (see hidden_checks.Allowed), and in the gate only for the
       dense layer; on hidden inputs, only after every check of that function has run.
    Hence:
      a. the visible parts, on the student's own functions;
      b. the visible network and train checks that failed, once more with the reference's lower
         functions (such a check counts if it passes then, and shows a note the grader writes);
      c. `before_hidden()` (the caller settles what the student sees), then the gates (backward
         must be backpropagation; its inputs are no other check's; activations that failed are
         left out of it), whose verdict may revoke visible passes;
      d. the other hidden checks, lower questions first.
    Case inputs are seeded by (seed, part, question, case), whatever the order. `cases` (all of
    them by default) is {question: (visible cases, hidden cases)}.
    """
    cases = cases or all_cases()
    marking = config.MARKING == "follow_through"
    asked = [q for q in config.QUESTIONS if q in cases]
    caller.confined = True  # until the hidden checks of the lower functions begin
    index = {q: config.QUESTIONS.index(q) for q in asked}
    results = {q: {} for q in cases}
    for question in asked:
        results[question]["visible"] = run_cases(cases[question][0], caller, [seed, 0, index[question]], diagnose)
        lap(f"visible:{question}")
    for question in asked:
        if not (marking and question in BELOW):
            continue
        outcomes = results[question]["visible"]
        for i, (case, outcome) in enumerate(zip(cases[question][0], outcomes)):
            if not outcome.passed:
                caller.failed = _failed(cases, results, lambda q, p: True)  # a check counted just above blames no one
                again = run_cases([case], caller, [seed, 0, index[question]], None, BELOW[question], first=i, substituted_only=True)[0]
                if again.passed:
                    outcomes[i] = Outcome(case.title, True, follow_through_note(case, caller, BELOW[question], settled=False), case.weight, again.advice)
        lap(f"visible:{question} (follow-through)")
    before_hidden()
    hidden = {q: [None] * len(cases[q][1]) for q in asked}  # filled case by case, gates first
    for question in asked:
        results[question]["hidden"] = hidden[question]

    def run_hidden(question, only):
        for i, case in enumerate(cases[question][1]):
            if only(case) and hidden[question][i] is None:
                below = (GATE_BELOW if case.gate else BELOW.get(question, ())) if marking else ()
                caller.failed = _failed(cases, results, lambda q, p: True)
                hidden[question][i] = run_cases([case], caller, [seed, 1, index[question]], diagnose, below, first=i)[0]

    caller.confined = False  # the gates lend only the dense layer, whose answers teach nothing to tabulate
    for question in asked:
        run_hidden(question, lambda case: case.gate)
    lap("hidden: gates")
    for question in asked:
        run_hidden(question, lambda case: True)
        lap(f"hidden:{question}")
    _revoke_gated(cases, results, caller)
    return results


def _failed(cases, results, counts):
    """Functions blamed by a failing outcome of the parts that `counts(question, part)` admits."""
    return {f for q, parts in results.items() for pi, part in enumerate(PARTS) if counts(q, part)
            for case, o in zip(cases[q][pi], parts.get(part, [])) if o is not None and not o.passed for f in at_fault(case, o.message)}


def _revoke_gated(cases, results, caller):
    """A function that failed its gate earns no check: passes of its checks become failures.

    Failures keep their own message (and hint): a backward that is simply wrong is told why.
    The visible part gets a fixed sentence, the hidden part the gate's own reason.
    """
    for question, parts in results.items():
        for part_index, part in enumerate(PARTS):
            for i, (case, outcome) in enumerate(zip(cases[question][part_index], parts.get(part, []))):
                gated = [f for f in case.functions if f in caller.blocked and f not in getattr(caller, "ended", ())]
                if gated and outcome.passed and not case.gate:
                    message = GATED if part == "visible" else caller.blocked[gated[0]]
                    parts[part][i] = Outcome(case.title, False, message, case.weight)


def _grade_cells(cells, seed, limits):
    tests, summary, timings, checks = [], [], {}, []
    clock = time.monotonic()

    def lap(name):
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 3)
        clock = now

    with Session(cells, limits) as session:
        lap("worker start")
        session.run_notebook()
        lap("notebook execution")
        caller = RemoteCaller(session)
        seen = {}

        def before_hidden():  # what the student sees at once is settled before any hidden input goes in
            seen["missing"] = _missing_functions(session, caller)
            seen["status"] = _status(session, seen["missing"])
            seen["cells"] = _notebook_report(session)

        results = grade_questions(caller, seed, lap, before_hidden=before_hidden)
        for question, points in config.POINTS.items():
            for part, part_points in zip(PARTS, points):
                outcomes = results[question][part]
                earned = question_score(part_points, outcomes)
                visibility = "visible" if part == "visible" else config.HIDDEN_VISIBILITY
                tests.append(_test_entry(question, part, earned, part_points, report(f"{question} ({part})", outcomes), visibility))
                checks.extend(check_record(question, part, o) for o in outcomes)
            summary.append(_summary_row(question, results[question]))
        status, message = _status(session, seen["missing"])  # for the instructor: the whole run
        shown_status, shown_message = seen["status"]
        notebook_report = seen["cells"]
        audit = _audit(session)
        review = review_notes(cells, audit, session.deaths)
    timings.update({k: round(v, 3) for k, v in caller.seconds.items()})
    output = f"Status: {shown_status}. {shown_message}\n{notebook_report}".rstrip() + "\n\n" + summary_table(summary) + "\n"
    extra = {"status": status, "message": message, "isolation": session.isolation, "timings": timings, "checks": checks}
    if audit.get("peak_rss_mb"):
        extra["peak_rss_mb"] = audit["peak_rss_mb"]
    if review:
        extra["review"] = review
    total = round(sum(t["score"] for t in tests), SCORE_DECIMALS)  # the sum of the scores shown
    return {"score": total, "output": output, "tests": tests, "extra_data": extra}


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


def _audit(session):
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


def _summary_row(question, parts):
    """(question, passed, total, first thing to fix) for the top-level summary.

    Hidden checks count, and name the first thing to fix, only when their results are visible;
    otherwise the table would reveal hidden scores before grades are published.
    """
    shown = parts["visible"] + (parts["hidden"] if config.HIDDEN_VISIBILITY == "visible" else [])
    first = first_problem(parts["visible"]) or (first_problem(shown) if len(shown) > len(parts["visible"]) else "")
    return question, sum(o.passed for o in shown), len(shown), first


def _missing_functions(session, caller):
    """Contract functions the notebook does not define (all of them, not only those the checks reached)."""
    try:
        defined = session.defined_names()
    except Exception:  # noqa: BLE001 - the process may be gone: fall back on what the checks saw
        return caller.missing
    return [name for name in SIGNATURES if name not in defined]


def _status(session, missing=()):
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


def _notebook_report(session, most=20):
    lines = []
    for r in session.reports:
        if r.status in ("error", "timeout", "died"):
            lines.append("  " + shorten(f"{_cell_name(session, r.index)}: {r.status}: {r.error}", 500))
    if len(lines) > most:
        lines[most:] = [f"  ... and {len(lines) - most} more"]
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
