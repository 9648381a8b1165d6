"""Fair marks, proved through the real grader (sandbox, stand-ins, results.json):

- whole notebooks written in styles the reference does not use keep full marks;
- a bug in a building block that forward and backward reach through a dict costs points only in
  its own question, and the network question's feedback names it;
- submissions that try to earn points without the work score no more than the honest notebook
  they build on (tests/tricks.py says which).

Every notebook is graded once, in one batch, by `backprop-kit grade`.
"""

import shutil
import sys
from pathlib import Path

import pytest

from backprop_lab import config

from conftest import grade_cli, notebook_from_cells, results

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attacks2 import ATTACKS2  # noqa: E402
from styles import STYLES  # noqa: E402
from styles2 import STYLES2  # noqa: E402
from tricks import TRICKS  # noqa: E402

FULL = sum(a + b for a, b in config.POINTS.values())

# Styles that reach their helpers through closures, decorators, partials, callable objects,
# keyword arguments or threads, each with a planted bug in one helper: the ways a student's
# code can hold a lower function that follow-through marking must still reach.
REACHED = ["factory_closures", "decorated", "partials_dict", "callable_instances", "keyword_calls", "threads_vectorize"]
STYLES2_GRADED = {k: v for k, v in STYLES2.items() if k in REACHED or v.get("bug_of") in REACHED}
CORRECT_STYLES = [f"style-{s}" for s in STYLES if "_buggy_" not in s] + [f"style2-{s}" for s, v in STYLES2_GRADED.items() if not v.get("bug_of")]
HELPER_BUGS = {f"style2-{s}": v["bug_question"] for s, v in STYLES2_GRADED.items() if v.get("bug_of")}
HELPER_BUGS["style-dict_dispatch_buggy_sigmoid_backward"] = "sigmoid"

# tricks: {notebook name: (its baseline's notebook name, what it tries)}
ATTEMPTS = {f"trick-{t}": (f"trick-{v['baseline']}", v["trick"]) for t, v in TRICKS.items() if not v.get("honest")}
ATTEMPTS.update({f"attack-{t}": ("trick-template" if v["baseline"] == "template" else f"attack-{v['baseline']}", v["trick"]) for t, v in ATTACKS2.items() if not v.get("honest")})


@pytest.fixture(scope="module")
def graded(kit, tmp_path_factory):
    """Every style and every trick, and the untouched template, graded in one batch.

    Calls are limited to 20 s (instead of 60): a numerical backward inside train is stopped
    sooner, and the check is then re-run with the reference's backward, as in real grading.
    """
    folder = tmp_path_factory.mktemp("marking")
    for prefix, entries in (("style", STYLES), ("style2", STYLES2_GRADED), ("trick", TRICKS), ("attack", ATTACKS2)):
        for key, entry in entries.items():
            notebook_from_cells(folder / f"{prefix}-{key}.ipynb", entry["cells"])
    shutil.copy(kit["template"], folder / "trick-template.ipynb")
    out = folder / "out"
    proc, rows = grade_cli([folder], out, kit["dist"] / "autograder.zip", "--seed", "5", "--limits", '{"call_timeout": 20}')
    assert proc.returncode == 0, proc.stderr
    return out, rows


def total(rows, name):
    return float(rows[f"{name}.ipynb"]["total"])


@pytest.mark.parametrize("name", CORRECT_STYLES)
def test_a_correct_notebook_in_any_style_earns_full_marks(graded, name):
    out, rows = graded
    failing = [f"{t['name']}: {t['output'][:600]}" for t in results(out, name)["tests"] if t["score"] < t["max_score"]]
    assert total(rows, name) == FULL, "\n".join(failing)


@pytest.mark.parametrize("name", sorted(HELPER_BUGS))
def test_a_helper_bug_costs_points_only_in_its_own_question_however_the_helper_is_reached(graded, name):
    out, rows = graded
    own, row = HELPER_BUGS[name], rows[f"{name}.ipynb"]
    assert float(row[own]) < sum(config.POINTS[own])
    lost = {q: row[q] for q in config.QUESTIONS if q != own and float(row[q]) != sum(config.POINTS[q])}
    assert not lost, f"{name} also loses points in {lost}"


def test_the_network_question_names_a_helper_reached_through_a_dict(graded):
    out, _ = graded
    network = "\n".join(t["output"] for t in results(out, "style-dict_dispatch_buggy_sigmoid_backward")["tests"] if t["name"].startswith("network"))
    assert "sigmoid_backward: see sigmoid" in network


def test_a_bug_inside_a_class_costs_points_in_its_own_question(graded):
    # forward and backward reach the class directly, not dense_backward: they are graded on their own code
    _, rows = graded
    assert float(rows["style-classes_buggy_dense_db.ipynb"]["dense"]) < sum(config.POINTS["dense"])


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_a_trick_scores_no_more_than_the_honest_notebook_it_builds_on(graded, name):
    _, rows = graded
    baseline, trick = ATTEMPTS[name]
    assert total(rows, name) <= total(rows, baseline), (trick, rows[f"{name}.ipynb"])


def test_no_notebook_makes_the_grader_fail(graded):
    _, rows = graded
    failed = {name: row["message"][:300] for name, row in rows.items() if row["status"] == "error"}
    assert not failed, failed


def test_the_untouched_template_and_the_all_zeros_notebook_score_nothing(graded):
    _, rows = graded
    assert total(rows, "trick-template") == 0
    assert total(rows, "trick-zeros") == 0


@pytest.mark.parametrize("trick", ["numerical_backward", "numerical_backward_fd"])
def test_a_numerical_backward_fails_the_backprop_check_with_advice_and_earns_no_backward_check(graded, trick):
    out, _ = graded
    tests = {t["name"]: t for t in results(out, f"trick-{trick}")["tests"]}
    hidden = tests["network (hidden)"]["output"]
    assert "[FAIL] backward is backpropagation" in hidden, hidden[:3000]
    if trick == "numerical_backward_fd":  # stopped for time (the complex step is refused sooner: no complex inputs)
        assert "Apply BP1–BP4 layer by layer" in hidden, hidden[:3000]
    assert "Not counted: backward failed the check" in hidden, hidden[:3000]
    assert "Not counted: backward did not pass the check that it is backpropagation" in tests["network (visible)"]["output"]
    assert tests["network (hidden)"]["score"] == 0 or "forward matches" in hidden  # only forward's own check may count


def test_the_style_notebooks_are_correct_by_an_oracle_independent_of_the_grader():
    """tests/check_styles.py plays every style against the reference directly, function by function,
    and proves each buggy style differs from its correct one only in the function it names."""
    import subprocess

    script = Path(__file__).resolve().parent / "check_styles.py"
    proc = subprocess.run([sys.executable, str(script), "--seeds", "8"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ALL CHECKS PASSED" in proc.stdout
