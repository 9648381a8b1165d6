"""The checks grade right: the reference gets full marks, planted bugs lose marks where
they should (and only there), correct variants get full marks, and failure messages
name the function and the quantity.

A "student" is a namespace built as in a notebook: the reference's source is exec'd
into it, then the bug's (or variant's) sources on top, so forward, backward and train
pick up a buggy building block through the namespace's globals. Every question's
public and hidden cases run through LocalCaller, as grader.check does.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_kit.marking import PARTS, grade_questions
from backprop_kit.hidden_checks import all_cases, local_caller
from backprop_lab import config
from backprop_lab.callers import LocalCaller
from backprop_lab.checking import run_cases
from backprop_lab.contract import QUESTION_OF, SIGNATURES
from backprop_lab.public_checks import PUBLIC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted import BUGS, CORRECT_VARIANTS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REFERENCE_CODE = compile((REPO / "solutions" / "reference.py").read_text(), "reference.py", "exec")
QUESTIONS = config.QUESTIONS
CASES = all_cases()


def _slow(case):
    return "XOR" in case.title or "digits" in case.title or "wide network" in case.title


# XOR and digits train for a second on fixed data, and the backprop cost check times a wide
# network; every other case takes milliseconds and carries all the fresh random inputs.
QUICK = {q: tuple([c for c in part if not _slow(c)] for part in CASES[q]) for q in QUESTIONS}


def student(entry=None):
    """A notebook namespace: the reference's source, then the entry's setup and functions."""
    ns = {}
    exec("import numpy as np\nfrom backprop_lab.helpers import *", ns)  # as the handout's first cell
    exec(REFERENCE_CODE, ns)
    if entry is not None:
        if entry.get("setup"):
            exec(compile(entry["setup"], "<setup>", "exec"), ns)
        for name, source in entry["functions"].items():
            exec(compile(source, f"<{name}>", "exec"), ns)
    return ns


def grade(ns, seed=0, quick=False, questions=QUESTIONS):
    """{question: {part: outcomes}}, graded as the autograder grades.

    quick: only the quick cases, of the given questions."""
    if not quick:
        return grade_questions(local_caller(ns), seed)
    return grade_questions(local_caller(ns), seed, cases={q: QUICK[q] for q in questions})


def fraction(outcomes):
    total = sum(o.weight for o in outcomes)
    return sum(o.weight for o in outcomes if o.passed) / total


def points(results):
    """Points earned per question, as config.POINTS shares them."""
    return {q: sum(p * fraction(results[q][part]) for p, part in zip(config.POINTS[q], PARTS)) for q in results}


def score(results):
    """Fraction of each question's points earned."""
    return {q: round(v / sum(config.POINTS[q]), 12) for q, v in points(results).items()}


def outcomes_of(results, q):
    return [o for part in PARTS for o in results[q][part]]


def failures(results, q):
    return [o for o in outcomes_of(results, q) if not o.passed]


def describe(results, questions=None):
    lines = []
    for q in questions or results:
        for o in failures(results, q):
            lines.append(f"[{q}] {o.title}: {o.message.splitlines()[0] if o.message else ''}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the catalogue itself


def test_every_question_has_at_least_one_planted_bug():
    assert {b["question"] for b in BUGS.values()} == set(QUESTIONS)


@pytest.mark.parametrize("entry_id", list(BUGS) + list(CORRECT_VARIANTS))
def test_each_catalogue_source_is_one_def_of_a_contract_function_with_the_contract_arity(entry_id):
    entry = BUGS.get(entry_id) or CORRECT_VARIANTS[entry_id]
    assert entry["question"] in QUESTIONS
    for name, source in entry["functions"].items():
        assert name in SIGNATURES, name
        ns = {"np": np}
        exec(compile(source, name, "exec"), ns)
        defined = [k for k, v in ns.items() if callable(v) and k != "np"]
        assert defined == [name]
        assert ns[name].__code__.co_argcount == len(SIGNATURES[name])
    if entry_id in BUGS:
        assert set(entry["named_above"]) <= {"network", "train"} - {entry["question"]}
        assert entry["mentions"] and entry["mistake"] and "hint" in entry


# ---------------------------------------------------------------- (a) the reference


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reference_passes_every_visible_and_hidden_case_of_every_question(seed):
    results = grade(student(), seed, quick=seed != 0)
    assert score(results) == {q: 1.0 for q in QUESTIONS}, describe(results)


def test_the_reference_passes_every_public_check_so_the_handouts_literal_answers_are_the_references():
    outcomes = {q: run_cases(cases, LocalCaller(student()), 0) for q, cases in PUBLIC.items()}
    failed = [f"[{q}] {o.title}: {o.message}" for q, outs in outcomes.items() for o in outs if not o.passed]
    assert not failed, "\n".join(failed)


SWEEP_SEEDS = range(60)


def test_the_reference_keeps_full_marks_on_many_fresh_random_draws():
    """Cases draw fresh inputs per grading run: no draw may cost the reference points."""
    ns = student()
    lost = {}
    for seed in SWEEP_SEEDS:
        results = grade(ns, seed, quick=True)
        for q in QUESTIONS:
            for o in failures(results, q):
                lost.setdefault(f"[{q}] {o.title}", []).append((seed, o.message.splitlines()[0]))
    assert not lost, "\n".join(f"{title}: seeds {[s for s, _ in v]}; first: {v[0][1]}" for title, v in lost.items())


def test_grading_counts_every_case_of_every_question_in_both_parts():
    results = grade(student(), 0)
    for q in QUESTIONS:
        for part_index, part in enumerate(PARTS):
            assert len(results[q][part]) == len(CASES[q][part_index]) > 0
    assert sum(_slow(c) for c in CASES["train"][1]) == 6 and sum(_slow(c) for c in CASES["network"][1]) == 1


# ---------------------------------------------------------------- (b) planted bugs: follow-through marking


@pytest.fixture(scope="module")
def bug_results():
    """Each bug graded once, as the autograder grades (seed 0), shared by the tests below."""
    cache = {}

    def get(bug_id):
        if bug_id not in cache:
            cache[bug_id] = grade(student(BUGS[bug_id]), 0)
        return cache[bug_id]

    return get


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_planted_bug_loses_points_in_its_own_question(bug_results, bug_id):
    own = BUGS[bug_id]["question"]
    assert score(bug_results(bug_id))[own] < 1.0, f"{bug_id} keeps full marks in {own}"


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_planted_bug_keeps_full_marks_in_every_other_question(bug_results, bug_id):
    own = BUGS[bug_id]["question"]
    scores = score(bug_results(bug_id))
    lost = [q for q in QUESTIONS if q != own and scores[q] < 1.0]
    assert not lost, f"{bug_id} ({own}) also loses points in {lost}:\n" + describe(bug_results(bug_id), lost)


@pytest.mark.parametrize("bug_id", [b for b in BUGS if BUGS[b].get("named_above")])
def test_the_questions_above_a_bug_say_their_own_function_is_right_and_point_to_the_bug(bug_results, bug_id):
    bug = BUGS[bug_id]
    for q in bug["named_above"]:
        notes = [o.message for o in outcomes_of(bug_results(bug_id), q) if o.passed and o.message]
        assert notes, f"{bug_id}: no check of {q} reports that the student's own {bug['question']} functions break it"
        assert any(f": see {bug['question']}" in note for note in notes), notes[0]
        assert all(note.startswith("Counted: your ") for note in notes), notes


def test_no_note_above_a_bug_blames_a_question_that_has_no_bug(bug_results):
    """A note names the function whose own check failed; for a forward that caches the wrong
    thing that is backward, in the same question."""
    wrong = {}
    for bug_id, bug in BUGS.items():
        for q in QUESTIONS:
            for o in outcomes_of(bug_results(bug_id), q):
                named = [fn for fn in SIGNATURES if re.search(rf"\b{fn}: see ", o.message)]
                if any(QUESTION_OF[fn] != bug["question"] for fn in named):
                    wrong[f"{bug_id} [{q}] {o.title}"] = named
    assert not wrong, wrong


def test_end_to_end_marking_is_a_knob_and_charges_a_building_block_to_every_question_that_uses_it(monkeypatch):
    monkeypatch.setattr(config, "MARKING", "end_to_end")
    scores = score(grade(student(BUGS["dense_db_not_summed"]), 0))
    assert scores["dense"] < 1.0 and scores["network"] < 1.0 and scores["train"] < 1.0


DETERMINISM_SEEDS = (0, 11, 22, 33, 44)


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_planted_bug_passes_and_fails_the_same_checks_under_five_seeds(bug_id):
    """Fresh values, fixed structure: a systematic bug fails the same checks whatever the draw,
    so it gets the same points. (XOR, digits and the wide-network cost check use no draw that
    decides an outcome; the quick cases carry every other random input.)"""
    ns = student(BUGS[bug_id])
    runs = {}
    for seed in DETERMINISM_SEEDS:
        results = grade(ns, seed, quick=True)
        runs[seed] = {(q, part, o.title): o.passed for q in QUESTIONS for part in PARTS for o in results[q][part]}
    first = runs[DETERMINISM_SEEDS[0]]
    assert not all(first.values()), f"{bug_id} passes every quick check"
    for seed, outcome in runs.items():
        changed = {k: v for k, v in outcome.items() if first[k] != v}
        assert not changed, f"seed {seed} changes {changed}"


def test_the_hidden_inputs_differ_from_seed_to_seed_and_a_seed_replays_them():
    def inputs(seed):
        caller = local_caller(student())
        seen = []
        original = caller.call

        def spy(name, *args, **kwargs):
            seen.append((name, [np.asarray(a).tolist() for a in args if isinstance(a, np.ndarray)]))
            return original(name, *args, **kwargs)

        caller.call = spy
        for part_index in (0, 1):
            run_cases(QUICK["dense"][part_index], caller, [seed, part_index, 3])
        return seen

    assert inputs(7) == inputs(7)
    assert inputs(7) != inputs(8)


def test_the_xor_and_digits_cases_fail_a_train_with_the_wrong_rate_or_no_mini_batches():
    slow = [c for c in CASES["train"][1] if _slow(c)]
    wrong_rate = run_cases([c for c in slow if "XOR" in c.title and "sigmoid" in c.title], local_caller(student(BUGS["train_uses_global_learning_rate"])), 0)
    assert len(wrong_rate) == 1 and not wrong_rate[0].passed
    assert "train" in wrong_rate[0].message
    full_batch = run_cases([c for c in slow if "digits" in c.title and "relu" in c.title], local_caller(student(BUGS["train_ignores_batch_size"])), 0)
    assert len(full_batch) == 1 and not full_batch[0].passed
    assert "train → " in full_batch[0].message


# ---------------------------------------------------------------- (c) correct variants

VARIANT_SEEDS = range(40)  # the variant's own question, on many fresh random draws


@pytest.mark.parametrize("variant_id", list(CORRECT_VARIANTS))
def test_a_correct_variant_earns_full_marks_in_every_question(variant_id):
    results = grade(student(CORRECT_VARIANTS[variant_id]), 0)
    assert score(results) == {q: 1.0 for q in QUESTIONS}, describe(results)


@pytest.mark.parametrize("variant_id", list(CORRECT_VARIANTS))
def test_a_correct_variant_earns_full_marks_in_its_own_question_for_every_seed(variant_id):
    variant = CORRECT_VARIANTS[variant_id]
    ns = student(variant)
    lost = {}
    for seed in VARIANT_SEEDS:
        results = grade(ns, seed, quick=True, questions=[variant["question"]])
        if score(results)[variant["question"]] < 1.0:
            lost[seed] = describe(results, [variant["question"]])
    assert not lost, f"{variant_id} loses points for seeds {sorted(lost)}; first:\n{next(iter(lost.values()))}"


# ---------------------------------------------------------------- (d) failure messages


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_failure_message_in_the_bugs_own_question_names_the_function_and_quantity(bug_results, bug_id):
    bug = BUGS[bug_id]
    messages = [o.message for o in failures(bug_results(bug_id), bug["question"])]
    assert any(all(m in msg for m in bug["mentions"]) for msg in messages), (bug["mentions"], messages)


def test_every_failure_message_any_planted_bug_causes_names_a_contract_function(bug_results):
    unnamed = {}
    for bug_id in BUGS:
        results = bug_results(bug_id)
        for q in QUESTIONS:
            for o in failures(results, q):
                if not any(fn in o.message for fn in SIGNATURES):
                    unnamed.setdefault(f"[{q}] {o.title}: {o.message.splitlines()[0]}", set()).add(bug_id)
    assert not unnamed, "\n".join(f"{msg}  (from {', '.join(sorted(bugs))})" for msg, bugs in unnamed.items())


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_bug_fails_checks_with_a_deliberate_message_never_a_crash_of_the_check(bug_results, bug_id):
    results = bug_results(bug_id)
    crashed = [f"[{q}] {o.title}: {o.message}" for q in QUESTIONS for o in failures(results, q) if o.message.startswith("the check could not finish")]
    assert not crashed, "\n".join(crashed)


@pytest.mark.parametrize(
    "bug_id, function, quantity",
    [
        ("dense_db_wrong_axis", "dense_backward", "db"),
        ("dense_db_not_summed", "dense_backward", "db"),
        ("dense_backward_averages_again", "dense_backward", "dW"),
        ("sgd_updates_weights_only", "sgd_update", "b1"),
        ("softmax_gradient_sign_flipped", "softmax_cross_entropy", "dZ_out"),
        ("mse_value_missing_half", "mse_loss", "J"),
        ("backward_skips_hidden_derivatives", "backward", "grads['W1']"),
        ("tanh_backward_missing_dA", "tanh_backward", "dZ"),
    ],
)
def test_an_array_mismatch_message_reads_function_arrow_quantity(bug_results, bug_id, function, quantity):
    messages = [o.message for o in failures(bug_results(bug_id), BUGS[bug_id]["question"])]
    assert any(f"{function} → {quantity}" in msg for msg in messages), messages


# ---------------------------------------------------------------- isolation between checks


def test_a_mutating_student_function_does_not_spoil_later_public_checks():
    """In the notebook, a student fixes a dense_backward that modified W in place and
    re-runs grader.check('dense'): the fixed (reference) code must pass."""
    run_cases(PUBLIC["dense"], LocalCaller(student(BUGS["dense_backward_updates_W_in_place"])), 0)
    after_fix = run_cases(PUBLIC["dense"], LocalCaller(student()), 0)
    assert all(o.passed for o in after_fix), "\n".join(o.message for o in after_fix if not o.passed)


def test_writing_into_the_callers_dict_is_told_apart_from_changing_an_array_in_place():
    into_dict = "def sgd_update(params, grads, learning_rate):\n    for k in params:\n        params[k] = params[k] - learning_rate * grads[k]\n    return params\n"
    in_place = "def sgd_update(params, grads, learning_rate):\n    for k in params:\n        params[k] -= learning_rate * grads[k]\n    return dict(params)\n"
    for source, phrase in ((into_dict, "build a new dict"), (in_place, "write `x = x - ...`")):
        outcomes = run_cases(CASES["sgd"][0], local_caller(student({"functions": {"sgd_update": source}})), 0)
        assert not outcomes[0].passed and phrase in outcomes[0].message, outcomes[0].message
