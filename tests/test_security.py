"""Red team: notebooks that try to fool the grader or read what is hidden, graded end to end.

Every attack stubs the contract like the untouched template and then attacks; each must
score no more than the template (0), show nothing hidden in anything a student sees, leave
the grading machine's files alone, and be recorded for the instructor. An honest
submission graded in the same batch keeps full marks.
"""

import json
import os
import uuid
from pathlib import Path

import pytest

from backprop_lab import config

from conftest import REPO, grade_cli, notebook_from_cells, results, solution_cells

FULL = sum(a + b for a, b in config.POINTS.values())
CONTRACT = ("sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward", "relu_forward", "relu_backward",
            "dense_forward", "dense_backward", "mse_loss", "softmax_cross_entropy", "forward", "backward", "sgd_update", "train")  # fmt: skip
STUBS = "import numpy as np\n" + "\n".join(f"def {n}(*args, **kwargs):\n    raise NotImplementedError('{n}')" for n in CONTRACT)
HIDDEN_FILES = [REPO / "solutions" / "reference.py", REPO / "autograder" / "backprop_kit" / "hidden_checks.py", REPO / "autograder" / "backprop_kit" / "hints.py"]

STEAL_REFERENCE = """
import glob, importlib.util, os, sys
found = []
for pattern in ['/work/*/solutions/reference.py', '/autograder/source/solutions/reference.py', '/tmp/*/source/solutions/reference.py',
                '/tmp/bpk-*/source/solutions/reference.py', os.path.expanduser('~/**/reference.py')]:
    found += glob.glob(pattern, recursive=True)
for top in ('/', '/work', '/autograder', '/tmp', '/root', '/home'):
    for dirpath, dirnames, filenames in os.walk(top):
        if 'reference.py' in filenames:
            found.append(os.path.join(dirpath, 'reference.py'))
        if dirpath.count('/') > 6:
            dirnames[:] = []
for path in found:
    try:
        spec = importlib.util.spec_from_file_location('stolen', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        globals().update({k: v for k, v in vars(module).items() if not k.startswith('_')})
        print('stole', path)
        break
    except Exception as exc:
        print('failed', path, exc)
for name in ('backprop_kit.hidden_checks', 'hidden_checks', 'reference', 'solutions.reference'):
    try:
        module = importlib.import_module(name)
        globals().update({k: v for k, v in vars(module).items() if not k.startswith('_')})
        print('imported', name)
    except Exception as exc:
        print('no', name, type(exc).__name__)
"""

PATCH_GRADER = """
import otter, sys
otter.Notebook.check = lambda *a, **k: None
grader = otter.Notebook('backprop.ipynb')
grader.check = lambda *a, **k: True
for name, module in list(sys.modules.items()):
    if name.startswith(('backprop_lab', 'otter')):
        for attr in ('check', 'run_cases', 'expect_array', 'expect_float', 'rel_error', 'same_answer'):
            if hasattr(module, attr):
                setattr(module, attr, lambda *a, **k: True)
import builtins
builtins.isinstance = lambda *a, **k: True
"""

PATCH_NUMPY = """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.linalg.norm = lambda *a, **k: 0.0
def sigmoid_forward(Z):
    return np.zeros_like(Z)
def dense_backward(dZ, A_prev, W):
    return np.zeros((W.shape[1], dZ.shape[1])), np.zeros_like(W), np.zeros((W.shape[0], 1))
"""

LEAK_HIDDEN = """
import os, sys, inspect
for path in ['/work/main/autograder/backprop_kit/hidden_checks.py', '/autograder/source/autograder/backprop_kit/hidden_checks.py',
             '/work/main/solutions/reference.py']:
    try:
        print(open(path).read())
    except OSError as exc:
        print('cannot read', path, exc)
for module in list(sys.modules.values()):
    try:
        print(inspect.getsource(module)[:200])
    except Exception:
        pass
"""

MALICIOUS_RESULTS = """
import numpy as np, os
class Trap:
    def __reduce__(self):
        return (os.system, ('touch /tmp/bpk-pwned',))
class Always(np.ndarray):
    def __eq__(self, other):
        return True
def sigmoid_forward(Z):
    return np.asarray(Z, dtype=float).view(Always)
def tanh_forward(Z):
    return Trap()
def relu_forward(Z):
    return np.zeros((20000, 20000))
"""


def escape_cells(canary_file, canary_dir, escape_file):
    return f"""
import os, shutil, signal
for action in (lambda: os.remove({str(canary_file)!r}),
               lambda: open({str(canary_file)!r}, 'w').write('changed'),
               lambda: shutil.rmtree({str(canary_dir)!r}),
               lambda: open({str(escape_file)!r}, 'w').write('escaped'),
               lambda: open({str(REPO / 'solutions' / 'reference.py')!r}, 'a').write('# tampered'),
               lambda: os.kill(os.getppid(), signal.SIGKILL)):
    try:
        action()
        print('done')
    except Exception as exc:
        print('blocked', type(exc).__name__)
"""


def leaked_copy_cell():
    """A student with a leaked copy of the hidden checks raises them as an error message."""
    text = (REPO / "autograder" / "backprop_kit" / "hidden_checks.py").read_text()
    return f"raise RuntimeError({text[:6000]!r})"


@pytest.fixture(scope="module")
def attacked(kit, tmp_path_factory):
    folder = tmp_path_factory.mktemp("redteam")
    canary_dir = folder / "canary"
    canary_dir.mkdir()
    canary_file = canary_dir / "keep.txt"
    canary_file.write_text("original")
    escape_file = Path("/tmp") / f"bpk-escape-{uuid.uuid4().hex}.txt"
    attacks = {
        "steal-reference": [STUBS, STEAL_REFERENCE],
        "patch-grader": [STUBS, PATCH_GRADER],
        "patch-numpy": [STUBS, PATCH_NUMPY],
        "leak-hidden": [STUBS, LEAK_HIDDEN],
        "leaked-copy": [STUBS, leaked_copy_cell()],
        "escape": [STUBS, escape_cells(canary_file, canary_dir, escape_file)],
        "malicious-results": [STUBS, MALICIOUS_RESULTS],
    }
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    for name, cells in attacks.items():
        notebook_from_cells(notebooks / f"{name}.ipynb", cells)
    notebook_from_cells(notebooks / "honest.ipynb", solution_cells())
    out = folder / "out"
    proc, rows = grade_cli([notebooks], out, kit["dist"] / "autograder.zip", "--limits", json.dumps({"cell_timeout": 30}))
    assert proc.returncode == 0, proc.stderr
    yield {"out": out, "rows": rows, "attacks": attacks, "canary_file": canary_file, "canary_dir": canary_dir, "escape_file": escape_file}
    escape_file.unlink(missing_ok=True)


ATTACKS = ["steal-reference", "patch-grader", "patch-numpy", "leak-hidden", "leaked-copy", "escape", "malicious-results"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_an_attack_scores_no_more_than_the_untouched_template(attacked, attack):
    assert float(attacked["rows"][f"{attack}.ipynb"]["total"]) == 0.0


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_a_student_sees_contains_hidden_material(attacked, attack):
    result = results(attacked["out"], attack)
    visible = [result["output"]] + [t["output"] for t in result["tests"]]
    hidden_lines = {line.strip() for path in HIDDEN_FILES for line in path.read_text().splitlines() if len(line.strip()) >= 25}
    for text in visible:
        for line in text.splitlines():
            assert line.strip() not in hidden_lines, f"{attack} showed a hidden line: {line.strip()[:80]}"


def test_an_honest_submission_in_the_same_batch_keeps_full_marks(attacked):
    row = attacked["rows"]["honest.ipynb"]
    assert float(row["total"]) == FULL and row["status"] == "ok"
    assert "REVIEW" not in row["message"]


def test_files_outside_the_sandbox_are_unchanged(attacked):
    assert attacked["canary_file"].read_text() == "original"
    assert attacked["canary_dir"].is_dir()
    assert not attacked["escape_file"].exists()
    assert not Path("/tmp/bpk-pwned").exists()
    assert "# tampered" not in (REPO / "solutions" / "reference.py").read_text()


@pytest.mark.parametrize(
    "attack, recorded",
    [
        ("steal-reference", "reference"),
        ("patch-grader", "patches the grader"),
        ("patch-numpy", "numpy.allclose was replaced"),
        ("leak-hidden", "hidden_checks.py"),
        ("escape", "tried to reach outside its sandbox"),
    ],
)
def test_tampering_is_recorded_for_the_instructor_in_the_gradebook(attacked, attack, recorded):
    message = attacked["rows"][f"{attack}.ipynb"]["message"]
    assert "REVIEW" in message and recorded in message, message
    result = results(attacked["out"], attack)
    assert "REVIEW" not in result["output"] and "review" not in json.dumps(result["tests"])


def test_student_code_runs_isolated_when_the_machine_allows(attacked):
    isolation = results(attacked["out"], "honest")["extra_data"]["isolation"]
    assert isolation in ("namespace", "user", "none")
    if os.getuid() == 0:
        assert isolation in ("namespace", "user")


def test_hidden_results_are_not_visible_before_grades_are_published(attacked):
    for test in results(attacked["out"], "honest")["tests"]:
        expected = "visible" if test["name"].endswith("(visible)") else config.HIDDEN_VISIBILITY
        assert test["visibility"] == expected
    assert config.HIDDEN_VISIBILITY != "visible"
