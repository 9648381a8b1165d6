"""Feedback that teaches: every known mistake is named, correct code never gets a hint."""

import io
import json
import subprocess
import sys
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from backprop_kit.hidden_checks import all_cases, diagnose, local_caller, reference
from backprop_kit.hints import CATALOGUE
from backprop_lab import config
from backprop_lab.callers import LocalCaller
from backprop_lab.checking import run_cases
from backprop_lab.grader_checks import summary
from backprop_lab.public_checks import PUBLIC

from conftest import REPO, grade_cli, notebook_from_cells, results

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted import BUGS, CORRECT_VARIANTS  # noqa: E402

REFERENCE_SOURCE = (REPO / "solutions" / "reference.py").read_text()
HEADER = "import numpy as np\nfrom backprop_lab.helpers import *"
FULL = sum(a + b for a, b in config.POINTS.values())
# What the grader's report names each bug with in its own question: its hint or, for a bug that
# changes its input in place, the check's own words. Bugs no check can name are not listed.
NAMED = {b: f"Hint [{e['hint']}]" if e["hint"] else "modified its input" for b, e in BUGS.items() if e["hint"] or "in place" in e["mentions"]}


def namespace(functions=(), setup=None):
    """A notebook's globals: the reference's code, then a setup cell and the given functions."""
    ns = {}
    exec(HEADER, ns)
    exec(REFERENCE_SOURCE, ns)
    if setup:
        exec(setup, ns)
    for source in functions:
        exec(source, ns)
    return ns


def cells(functions=(), setup=None):
    return [HEADER, REFERENCE_SOURCE] + ([setup] if setup else []) + list(functions)


@pytest.fixture(scope="module")
def graded(kit, tmp_path_factory):
    """Every planted bug and every correct variant, graded in one batch through the grader."""
    folder = tmp_path_factory.mktemp("feedback")
    for bid, b in BUGS.items():
        notebook_from_cells(folder / f"bug-{bid}.ipynb", cells(b["functions"].values(), b.get("setup")))
    for vid, v in CORRECT_VARIANTS.items():
        notebook_from_cells(folder / f"correct-{vid}.ipynb", cells(v["functions"].values(), v.get("setup")))
    out = folder / "out"
    proc, rows = grade_cli([folder], out, kit["dist"] / "autograder.zip", "--seed", "11")
    assert proc.returncode == 0, proc.stderr
    return out, rows


def test_every_catalogue_entry_has_a_planted_bug():
    hints = {b["hint"] for b in BUGS.values()} - {None}
    assert {m.id for m in CATALOGUE} | {"ignores-its-arguments"} == hints
    assert len(CATALOGUE) >= 15


@pytest.mark.parametrize("bug_id", sorted(NAMED))
def test_each_known_mistake_fails_its_question_and_names_itself_and_the_function(graded, bug_id):
    out, rows = graded
    entry = BUGS[bug_id]
    question, function = entry["question"], next(iter(entry["functions"]))
    row = rows[f"bug-{bug_id}.ipynb"]
    assert float(row[question]) < sum(config.POINTS[question]), f"{bug_id} kept full marks in {question}"
    text = "\n".join(t["output"] for t in results(out, f"bug-{bug_id}")["tests"] if t["name"].startswith(question))
    assert NAMED[bug_id] in text, text[:3000]
    assert function in text


@pytest.mark.parametrize("bug_id", sorted(BUGS))
def test_a_planted_bug_costs_points_and_gets_hints_only_in_its_own_question(graded, bug_id):
    out, rows = graded
    question = BUGS[bug_id]["question"]
    row = rows[f"bug-{bug_id}.ipynb"]
    elsewhere = {q: row[q] for q in config.QUESTIONS if q != question and float(row[q]) != sum(config.POINTS[q])}
    assert not elsewhere, f"{bug_id} also costs points in {elsewhere}"
    hinted = [t["name"] for t in results(out, f"bug-{bug_id}")["tests"] if "Hint [" in t["output"] and not t["name"].startswith(question)]
    assert not hinted, f"{bug_id} is hinted in {hinted}"


@pytest.mark.parametrize("variant", sorted(CORRECT_VARIANTS))
def test_differently_written_correct_code_gets_full_marks_and_no_hint(graded, variant):
    out, rows = graded
    assert float(rows[f"correct-{variant}.ipynb"]["total"]) == FULL
    text = json.dumps(results(out, f"correct-{variant}"))
    assert "Hint [" not in text


def test_correct_answers_never_match_a_known_mistake():
    """Even after an unrelated failure, a call whose answer is right is never given a hint."""
    R = reference()
    for seed in range(4):
        for question, parts in all_cases().items():
            for case in parts[0] + parts[1]:
                if "digits" in case.title or "XOR" in case.title or "wide network" in case.title:
                    continue
                caller = LocalCaller(vars(R))
                run_cases([case], caller, [seed, 99])
                assert caller.log, case.title
                assert diagnose(caller.log) is None, (question, case.title)


def _hidden_failures(question, functions):
    ns = namespace(functions)
    visible, hidden = all_cases()[question]
    out = run_cases(visible + hidden, local_caller(ns), 2, diagnose=diagnose)
    return [o.message for o in out if not o.passed]


def test_a_gradient_bug_is_reported_as_backward_disagreeing_with_its_own_forward():
    messages = _hidden_failures("tanh", ["def tanh_backward(dA, Z):\n    return dA * (1 - np.tanh(Z)) * 0.5\n"])
    assert any("your backward disagrees with your own forward (a gradient bug)" in m for m in messages)


def test_a_forward_bug_is_reported_as_forward_disagreeing_with_the_reference():
    # a steeper sigmoid, with the backward that matches it: consistent, but not the course's sigmoid
    forward = "def sigmoid_forward(Z):\n    return 1.0 / (1.0 + np.exp(-2.0 * np.clip(Z, -300, 300)))\n"
    backward = "def sigmoid_backward(dA, Z):\n    s = sigmoid_forward(Z)\n    return dA * 2.0 * s * (1 - s)\n"
    messages = _hidden_failures("sigmoid", [forward, backward])
    assert any("forward disagrees with the reference" in m for m in messages)
    backward_messages = [m for m in messages if m.startswith("sigmoid_backward")]
    assert backward_messages and all("(a forward bug)" in m for m in backward_messages if "Oracles:" in m)


def test_a_failing_check_names_function_quantity_shapes_errors_and_a_slice():
    messages = _hidden_failures("dense", [BUGS["dense_backward_averages_again"]["functions"]["dense_backward"]])
    message = next(m for m in messages if "dense_backward → dW" in m)
    for part in ("inputs: dZ (", "A_prev (", "largest absolute error", "largest relative error", "expected", "yours", "relative error"):
        assert part in message, message
    shape_message = next(m for m in _hidden_failures("dense", [BUGS["dense_db_no_keepdims"]["functions"]["dense_backward"]]) if "→ db" in m)
    assert "expected shape" in shape_message and "got shape" in shape_message


def test_grader_check_in_the_handout_names_a_known_mistake(kit, tmp_path):
    with zipfile.ZipFile(kit["dist"] / "student.zip") as archive:
        archive.extractall(tmp_path)
    script = (
        "import numpy as np\n"
        "ns = {}\n"
        f"exec({REFERENCE_SOURCE!r}, ns)\n"
        f"exec({BUGS['dense_dW_transposed']['functions']['dense_backward']!r}, ns)\n"
        "import backprop_lab\nprint(backprop_lab.__file__)\n"
        "from backprop_lab.grader_checks import check\n"
        "try:\n    check('dense', ns)\nexcept AssertionError as exc:\n    print(exc)\n"
    )
    # as in the student's notebook: the handout's folder comes first on sys.path
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.startswith(str(tmp_path)), proc.stdout + proc.stderr
    assert "Hint [dW-transposed]" in proc.stdout, proc.stdout + proc.stderr
    assert "dense_backward → dW" in proc.stdout


def test_notebook_summary_lists_every_question_and_the_first_thing_to_fix():
    ns = namespace([BUGS["dense_db_not_summed"]["functions"]["dense_backward"]])
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        summary(ns)
    table = buffer.getvalue()
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert set(rows) == set(PUBLIC)
    assert "dense_backward → db" in rows["dense"]
    assert rows["sgd"].split()[1] == f"{len(PUBLIC['sgd'])}/{len(PUBLIC['sgd'])}"


def test_solution_notebook_ends_with_a_summary_where_everything_passes(kit):
    import nbformat

    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "summary()" in c.source)
    text = "".join(o.get("text", "") for o in cell.outputs)
    for question, cases in PUBLIC.items():
        assert f"{len(cases)}/{len(cases)}" in next(line for line in text.splitlines() if line.startswith(question))
