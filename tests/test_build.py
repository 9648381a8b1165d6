"""The build: one master notebook gives the handout, the solutions and the autograder."""

import ast
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backprop_lab import config
from backprop_lab.contract import SIGNATURES
from backprop_kit import build as kit_build
from backprop_kit.leaks import leaks as kit_leaks

from conftest import REPO, grade_cli, notebook_from_cells, results, solution_cells

CONTRACT = tuple(SIGNATURES)  # the 14 contract functions
FULL = sum(a + b for a, b in config.POINTS.values())


def zip_texts(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist() if not name.endswith(".npz")}  # the digits are data


# -- the kit's own grading ----------------------------------------------------------------


def test_build_grades_the_solution_at_full_marks_and_the_template_at_zero(kit):
    rows = {Path(r["file"]).name: r for r in kit["rows"]}
    assert float(rows["solutions.ipynb"]["total"]) == FULL
    assert rows["solutions.ipynb"]["status"] == "ok"
    assert float(rows["backprop.ipynb"]["total"]) == 0
    assert rows["backprop.ipynb"]["status"] == "ok"  # the template runs without crashing


# -- the student handout ----------------------------------------------------------------------


def test_student_zip_holds_the_notebook_the_public_package_a_readme_and_requirements_only(kit):
    names = set(zipfile.ZipFile(kit["dist"] / "student.zip").namelist())
    assert "backprop.ipynb" in names
    assert {n.split("/")[0] for n in names} == {"backprop.ipynb", "backprop_lab", "README.md", "requirements.txt"}
    assert not any("reference" in n or "hidden" in n or "backprop_kit" in n for n in names)


def test_student_files_contain_no_solution_markers_or_reference_code(kit):
    files = zip_texts(kit["dist"] / "student.zip")
    for name, text in files.items():
        assert not re.search(r"BEGIN SOLUTION|END SOLUTION|BEGIN PROMPT|END PROMPT|#\s*SOLUTION|BEGIN TESTS|hidden:\s*true", text), name
    # every statement of the reference's function bodies, compared as normalised code
    reference_statements = set()
    for fn in ast.parse((REPO / "solutions" / "reference.py").read_text()).body:
        if isinstance(fn, ast.FunctionDef):
            reference_statements |= {ast.unparse(s) for s in ast.walk(fn) if isinstance(s, (ast.Return, ast.Assign)) and len(ast.unparse(s)) > 30}
    nb = nbformat.reads(files["backprop.ipynb"], as_version=4)
    student_code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    student_statements = {ast.unparse(s) for s in ast.walk(ast.parse(student_code)) if isinstance(s, (ast.Return, ast.Assign))}
    assert not (reference_statements & student_statements)


def test_leak_scanner_catches_a_pasted_solution_line():
    leaked = "def sigmoid_forward(Z):\n    E = np.exp(-np.abs(Z))\n    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n"
    assert kit_leaks({"x.py": leaked})
    assert kit_leaks({"x.py": "# BEGIN SOLUTION\n"})
    assert not kit_leaks({"x.py": "def sigmoid_forward(Z):\n    raise NotImplementedError\n"})


def test_every_stub_in_the_template_raises_not_implemented_with_its_name(kit):
    nb = nbformat.read(kit["template"], as_version=4)
    namespace = {}
    import os

    cwd = os.getcwd()
    os.chdir(REPO / "assignment")  # so `import backprop_lab` works as next to the notebook
    try:
        for cell in nb.cells:
            if cell.cell_type == "code" and "otter" not in cell.source and "grader." not in cell.source and "Try it" not in cell.source:
                exec(cell.source, namespace)
    finally:
        os.chdir(cwd)
    for name in CONTRACT:
        with pytest.raises(NotImplementedError, match=name):
            namespace[name](*([np.zeros((1, 1))] * 9)[: namespace[name].__code__.co_argcount])


def test_committed_student_template_is_what_the_build_makes_now(kit):
    committed = (REPO / "student_template" / "backprop.ipynb").read_bytes()
    assert committed == kit["template"].read_bytes(), "run `make build` and commit student_template/"


def test_rebuilding_without_changes_gives_identical_bytes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    kit_build.build(dist=first / "dist", template_dir=first / "t", grade=False)
    kit_build.build(dist=second / "dist", template_dir=second / "t", grade=False)
    for name in ("student.zip", "autograder.zip"):
        assert (first / "dist" / name).read_bytes() == (second / "dist" / name).read_bytes(), name
    assert (first / "t" / "backprop.ipynb").read_bytes() == (second / "t" / "backprop.ipynb").read_bytes()


# -- the solution code's single source ------------------------------------------------------------


def test_master_notebook_solution_cells_match_the_reference():
    assert kit_build.solution_drift() == []


def test_drift_between_master_and_reference_is_detected(tmp_path):
    nb = nbformat.read(kit_build.MASTER, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "def dense_backward" in cell.source:
            cell.source = cell.source.replace("keepdims=True", "keepdims=False")
    changed = tmp_path / "master.ipynb"
    nbformat.write(nb, changed)
    assert kit_build.solution_drift(master=changed) == ["dense_backward"]


def test_solutions_notebook_is_executed_and_passes_every_public_check(kit):
    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check(")]
    assert len(checks) == len(config.QUESTIONS)
    for cell in checks:
        text = json.dumps(cell.outputs)
        assert "All test cases passed" in text, cell.source
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "BEGIN SOLUTION" not in code and "BEGIN PROMPT" not in code


# -- the autograder zip ----------------------------------------------------------------------------


def test_autograder_zip_is_gradescope_ready_with_pinned_python_and_packages(kit):
    with zipfile.ZipFile(kit["dist"] / "autograder.zip") as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        requirements = archive.read("requirements.txt").decode().split()
        setup = archive.read("setup.sh").decode()
    assert {"run_autograder", "setup.sh", "requirements.txt", "solutions/reference.py"} <= names
    hidden = {f"autograder/backprop_kit/hidden_checks/{p.name}" for p in (REPO / "autograder" / "backprop_kit" / "hidden_checks").glob("*.py")}
    assert "autograder/backprop_kit/hidden_checks/__init__.py" in hidden and hidden <= names  # the hidden checks ship to the grader only
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert "python=3.11" in setup
    assert requirements and all("==" in line for line in requirements)
    pins = {line.split("==")[0].lower(): line.split("==")[1] for line in requirements}
    assert pins["otter-grader"] == "7.0.0" and int(pins["ipykernel"].split(".")[0]) < 7


# -- grading through the command line ---------------------------------------------------------------


def test_grade_cli_writes_gradescope_results_and_a_gradebook_for_any_file_name(kit, tmp_path):
    solved = notebook_from_cells(tmp_path / "my backprop (final).ipynb", solution_cells())
    shutil.copy(kit["template"], tmp_path / "untouched.ipynb")
    out = tmp_path / "out"
    proc, rows = grade_cli([solved, tmp_path / "untouched.ipynb"], out, kit["dist"] / "autograder.zip")
    assert proc.returncode == 0, proc.stderr
    result = results(out, "my backprop (final)")
    assert result["score"] == FULL
    for question in config.QUESTIONS:
        assert [t for t in result["tests"] if t["name"].startswith(question)]
    assert float(rows["my backprop (final).ipynb"]["total"]) == FULL
    assert float(rows["untouched.ipynb"]["total"]) == 0
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header == ["name", "sid", "email", "submission_id", "submitted_at", "file", *config.QUESTIONS, "total", "max",
                      *config.WRITTEN_POINTS, "status", "message", "review", "seconds", "result"]


def _with_bug(source, name, new_definition):
    """The reference's source with one function replaced."""
    tree = ast.parse(source)
    tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name == name)]
    return ast.unparse(tree) + "\n\n" + new_definition


PLANTED = {
    "sigmoid": ("sigmoid_backward", "def sigmoid_backward(dA, Z):\n    A = sigmoid_forward(Z)\n    return dA * sigmoid_forward(A) * (1 - sigmoid_forward(A))"),
    "tanh": ("tanh_backward", "def tanh_backward(dA, Z):\n    return 1.0 - np.tanh(Z) ** 2"),
    "relu": ("relu_backward", "def relu_backward(dA, Z):\n    return np.where(Z >= 0, dA, 0.0)"),
    "dense": ("dense_backward", "def dense_backward(dZ, A_prev, W):\n    return W.T @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=1)"),
    "losses": ("mse_loss", "def mse_loss(A_out, Y):\n    d = A_out - Y\n    return float(0.5 * np.sum(d ** 2)), d"),
    "network": ("backward", "def backward(dA_out, caches, params, activations):\n    grads = {}\n    dA = dA_out\n    for l in range(len(activations), 0, -1):\n        A_prev, Z = caches[l - 1]\n        dA, grads[f'W{l}'], grads[f'b{l}'] = dense_backward(dA, A_prev, params[f'W{l}'])\n    return grads"),
    "sgd": ("sgd_update", "def sgd_update(params, grads, learning_rate):\n    return {k: v + learning_rate * grads[k] for k, v in params.items()}"),
    "train": ("train", "def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):\n    loss_fn = {'mse': mse_loss, 'softmax_ce': softmax_cross_entropy}[loss]\n    history = []\n    for _ in range(epochs):\n        A, caches = forward(X, params, activations)\n        params = sgd_update(params, backward(loss_fn(A, Y)[1], caches, params, activations), learning_rate)\n        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])\n    return params, history"),
}


def test_planted_bugs_lose_points_in_their_own_question_only(kit, tmp_path):
    reference_source = (REPO / "solutions" / "reference.py").read_text()
    paths = []
    for question, (name, definition) in PLANTED.items():
        cells = ["import numpy as np\nfrom backprop_lab.helpers import identity_forward, identity_backward", _with_bug(reference_source, name, definition)]
        paths.append(notebook_from_cells(tmp_path / f"bug-{question}.ipynb", cells))
    out = tmp_path / "out"
    proc, rows = grade_cli(paths, out, kit["dist"] / "autograder.zip", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    for question, (name, _) in PLANTED.items():
        row = rows[f"bug-{question}.ipynb"]
        public, hidden = config.POINTS[question]
        assert float(row[question]) < public + hidden, f"bug in {question} kept full marks in {question}"
        for other in config.QUESTIONS:
            if other != question:  # follow-through marking: the questions above use the reference's building blocks
                assert float(row[other]) == sum(config.POINTS[other]), f"bug in {question} cost points in {other}"
        failing = [t for t in results(out, f"bug-{question}")["tests"] if t["name"].startswith(question) and t["score"] < t["max_score"]]
        assert any(name in t["output"] for t in failing), f"the failure does not name {name}"


def test_hard_coded_public_answers_fail_the_hidden_tests(kit, tmp_path):
    from backprop_lab.public_checks import SIGMOID_A, SIGMOID_PRIME, UPSTREAM

    cheat = (
        "import numpy as np\n"
        f"def sigmoid_forward(Z):\n    return np.array({SIGMOID_A.tolist()})\n"
        f"def sigmoid_backward(dA, Z):\n    return np.array({(UPSTREAM * SIGMOID_PRIME).tolist()})\n"
    )
    path = notebook_from_cells(tmp_path / "cheat.ipynb", [cheat])
    out = tmp_path / "out"
    proc, rows = grade_cli([path], out, kit["dist"] / "autograder.zip")
    assert proc.returncode == 0, proc.stderr
    tests = {t["name"]: t for t in results(out, "cheat")["tests"]}
    # every check the autograder pays for draws fresh inputs: the public answers earn nothing
    assert tests["sigmoid (visible)"]["score"] == 0
    assert tests["sigmoid (hidden)"]["score"] == 0


def test_hidden_seed_is_printed_and_a_run_replays_with_it(kit, tmp_path):
    path = notebook_from_cells(tmp_path / "sub.ipynb", ["import numpy as np\ndef sigmoid_forward(Z):\n    return np.tanh(Z)"])
    outputs = []
    for run in ("one", "two"):
        out = tmp_path / run
        proc, _ = grade_cli([path], out, kit["dist"] / "autograder.zip", "--seed", "4242")
        assert proc.returncode == 0, proc.stderr
        result = results(out, "sub")
        assert "seed 4242" in result["output"]
        outputs.append([t["output"] for t in result["tests"]])
    assert outputs[0] == outputs[1]
