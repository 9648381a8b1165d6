"""The checks grade right: the reference gets full marks, planted bugs lose marks where
they should (and only there), correct variants get full marks, and failure messages
name the function and the quantity.

A "student" is a namespace built as in a notebook: the reference's source is exec'd
into it, then the bug's (or variant's) sources on top, so forward, backward and train
pick up a buggy building block through the namespace's globals. Every question's
public and hidden cases run through LocalCaller, as grader.check does.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_kit.hidden_checks import hidden_cases
from backprop_lab import config, public_checks
from backprop_lab.checking import SIGNATURES, LocalCaller, run_cases
from backprop_lab.public_checks import PUBLIC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from buggy import BUGS, CORRECT_VARIANTS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REFERENCE_CODE = compile((REPO / "solutions" / "reference.py").read_text(), "reference.py", "exec")
QUESTIONS = config.QUESTIONS
HIDDEN = hidden_cases()

# Which questions a question's functions feed. Activations and dense are called by
# forward/backward (network) and train; losses by the worked example (network) and train;
# network and sgd by train.
FEEDS = {
    "sigmoid": {"network", "train"},
    "tanh": {"network", "train"},
    "relu": {"network", "train"},
    "dense": {"network", "train"},
    "losses": {"network", "train"},
    "network": {"train"},
    "sgd": {"train"},
    "train": set(),
}


def _slow(case):
    return "XOR" in case.title or "digits" in case.title


# XOR and digits train for seconds and ignore the rng; every other train case takes milliseconds.
QUICK_TRAIN = [c for c in HIDDEN["train"] if not _slow(c)]
SLOW_TRAIN = [c for c in HIDDEN["train"] if _slow(c)]


def student(entry=None):
    """A notebook namespace: the reference's source, then the entry's setup and functions."""
    ns = {}
    exec(REFERENCE_CODE, ns)
    if entry is not None:
        if entry.get("setup"):
            exec(compile(entry["setup"], "<setup>", "exec"), ns)
        for name, source in entry["functions"].items():
            exec(compile(source, f"<{name}>", "exec"), ns)
    return ns


def grade(ns, seed=0, questions=QUESTIONS, slow_train=True):
    """Outcomes per question: (public outcomes, hidden outcomes)."""
    results = {}
    for q in questions:
        hidden = HIDDEN[q] if (q != "train" or slow_train) else QUICK_TRAIN
        public = run_cases(PUBLIC[q], LocalCaller(ns), np.random.default_rng(seed))
        results[q] = (public, run_cases(hidden, LocalCaller(ns), np.random.default_rng(seed)))
    return results


def fraction(outcomes):
    total = sum(o.weight for o in outcomes)
    return sum(o.weight for o in outcomes if o.passed) / total


def score(results):
    """Fraction of each question's points earned, public and hidden weighted as in config.POINTS."""
    out = {}
    for q, (public, hidden) in results.items():
        pub_pts, hid_pts = config.POINTS[q]
        out[q] = (pub_pts * fraction(public) + hid_pts * fraction(hidden)) / (pub_pts + hid_pts)
    return out


def failures(results, q):
    public, hidden = results[q]
    return [o for o in public + hidden if not o.passed]


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
        assert set(entry["also_fails"]) <= FEEDS[entry["question"]]
        assert entry["mentions"] and entry["mistake"]


# ---------------------------------------------------------------- (a) the reference


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reference_passes_every_public_and_hidden_case_of_every_question(seed):
    # XOR and digits do not use the rng: they run once, with seed 0.
    results = grade(student(), seed, slow_train=(seed == 0))
    assert score(results) == {q: 1.0 for q in QUESTIONS}, describe(results)


SWEEP_SEEDS = range(100)


def test_the_reference_keeps_full_marks_on_many_fresh_random_draws_of_the_hidden_cases():
    """Hidden cases draw fresh inputs per grading run: no draw may cost the reference points."""
    ns = student()
    lost = {}
    for seed in SWEEP_SEEDS:
        for q in QUESTIONS:
            cases = HIDDEN[q] if q != "train" else QUICK_TRAIN
            for o in run_cases(cases, LocalCaller(ns), np.random.default_rng(seed)):
                if not o.passed:
                    lost.setdefault(f"[{q}] {o.title}", []).append((seed, o.message.splitlines()[0]))
    assert not lost, "\n".join(f"{title}: seeds {[s for s, _ in v]}; first: {v[0][1]}" for title, v in lost.items())


def test_grading_counts_every_case_of_every_question():
    assert set(PUBLIC) == set(HIDDEN) == set(QUESTIONS)
    results = grade(student(), 0, slow_train=False)
    for q in QUESTIONS:
        public, hidden = results[q]
        assert len(public) == len(PUBLIC[q]) > 0
        assert len(hidden) == len(HIDDEN[q] if q != "train" else QUICK_TRAIN) > 0
    assert len(SLOW_TRAIN) == 6


# ---------------------------------------------------------------- (b) planted bugs


@pytest.fixture(scope="module")
def bug_results():
    """Each bug graded once (seed 0; train on its quick cases), shared by the tests below."""
    cache = {}

    def get(bug_id):
        if bug_id not in cache:
            cache[bug_id] = grade(student(BUGS[bug_id]), 0, slow_train=False)
        return cache[bug_id]

    return get


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_planted_bug_loses_points_in_its_own_question(bug_results, bug_id):
    own = BUGS[bug_id]["question"]
    results = bug_results(bug_id)
    assert score(results)[own] < 1.0, f"{bug_id} keeps full marks in {own}"


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_planted_bug_keeps_full_marks_in_every_question_it_does_not_feed(bug_results, bug_id):
    bug = BUGS[bug_id]
    own = bug["question"]
    scores = score(bug_results(bug_id))
    unrelated = [q for q in QUESTIONS if q != own and q not in FEEDS[own]]
    lost = {q: scores[q] for q in unrelated if scores[q] < 1.0}
    assert not lost, f"{bug_id} ({own}) also loses points in {lost}:\n" + describe(bug_results(bug_id), lost)


@pytest.mark.parametrize("bug_id", list(BUGS))
def test_a_planted_bug_costs_points_exactly_in_the_questions_it_lists_as_also_failing(bug_results, bug_id):
    """also_fails is exact for network; for train it is an upper bound, since whether the
    random trajectories use the buggy activation depends on the seed."""
    bug = BUGS[bug_id]
    scores = score(bug_results(bug_id))
    affected = {q for q in QUESTIONS if q != bug["question"] and scores[q] < 1.0}
    declared = set(bug["also_fails"])
    assert affected <= declared, f"{bug_id} also fails {sorted(affected - declared)}:\n" + describe(bug_results(bug_id), affected - declared)
    assert declared - {"train"} <= affected, f"{bug_id} does not fail {sorted(declared - {'train'} - affected)}"


@pytest.mark.parametrize("bug_id", [b for b in BUGS if "train" in BUGS[b]["also_fails"] and BUGS[b]["question"] not in ("sigmoid", "tanh", "relu")])
def test_a_dense_loss_network_or_sgd_bug_listed_as_failing_train_does_fail_train(bug_results, bug_id):
    # dense, losses, network and sgd are used by every trajectory, whatever the seed
    assert score(bug_results(bug_id))["train"] < 1.0


def test_the_xor_and_digits_cases_fail_a_train_with_the_wrong_rate_or_no_mini_batches():
    wrong_rate = run_cases([c for c in SLOW_TRAIN if "XOR" in c.title and "sigmoid" in c.title], LocalCaller(student(BUGS["train_uses_global_learning_rate"])), np.random.default_rng(0))
    assert len(wrong_rate) == 1 and not wrong_rate[0].passed
    assert "XOR" in wrong_rate[0].message and "train" in wrong_rate[0].message
    full_batch = run_cases([c for c in SLOW_TRAIN if "digits" in c.title and "relu" in c.title], LocalCaller(student(BUGS["train_ignores_batch_size"])), np.random.default_rng(0))
    assert len(full_batch) == 1 and not full_batch[0].passed
    assert "test accuracy" in full_batch[0].message and "train" in full_batch[0].message


# ---------------------------------------------------------------- (c) correct variants

VARIANT_SEEDS = range(40)  # the variant's own question, on many fresh random draws


@pytest.mark.parametrize("variant_id", list(CORRECT_VARIANTS))
def test_a_correct_variant_earns_full_marks_in_every_question(variant_id):
    variant = CORRECT_VARIANTS[variant_id]
    results = grade(student(variant), 0, slow_train=(variant["question"] == "train"))
    assert score(results) == {q: 1.0 for q in QUESTIONS}, describe(results)


@pytest.mark.parametrize("variant_id", list(CORRECT_VARIANTS))
def test_a_correct_variant_earns_full_marks_in_its_own_question_for_every_seed(variant_id):
    variant = CORRECT_VARIANTS[variant_id]
    ns = student(variant)
    lost = {}
    for seed in VARIANT_SEEDS:
        results = grade(ns, seed, questions=[variant["question"]], slow_train=False)
        if score(results)[variant["question"]] < 1.0:
            lost[seed] = describe(results)
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
    run_cases(PUBLIC["dense"], LocalCaller(student(BUGS["dense_backward_updates_W_in_place"])), np.random.default_rng(0))
    after_fix = run_cases(PUBLIC["dense"], LocalCaller(student()), np.random.default_rng(0))
    assert all(o.passed for o in after_fix), "\n".join(o.message for o in after_fix if not o.passed)
