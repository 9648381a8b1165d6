"""Which checks run in which order, and what they are worth: the visible parts, follow-through, the gates, then the hidden checks."""

from backprop_lab import config
from backprop_lab.checking import Outcome, at_fault, follow_through_note, run_cases
from backprop_lab.contract import BELOW

from .hidden_checks import all_cases, diagnose


def question_score(points, outcomes):
    total = sum(o.weight for o in outcomes)
    passed = sum(o.weight for o in outcomes if o.passed)
    return points * passed / total if total else 0.0


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
