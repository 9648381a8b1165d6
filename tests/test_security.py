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
HIDDEN_CHECKS = sorted((REPO / "autograder" / "backprop_kit" / "hidden_checks").glob("*.py"))
HIDDEN_FILES = [REPO / "solutions" / "reference.py", *HIDDEN_CHECKS, REPO / "autograder" / "backprop_kit" / "hints.py"]

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
for path in ['/work/main/autograder/backprop_kit/hidden_checks/__init__.py', '/autograder/source/autograder/backprop_kit/hidden_checks/train.py',
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
    text = "".join(path.read_text() for path in HIDDEN_CHECKS)
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
    assert row["review"] == ""


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
        ("leak-hidden", "hidden_checks/"),
        ("escape", "tried to reach outside its sandbox"),
    ],
)
def test_tampering_is_recorded_for_the_instructor_in_the_gradebook(attacked, attack, recorded):
    review = attacked["rows"][f"{attack}.ipynb"]["review"]
    assert recorded in review, review
    result = results(attacked["out"], attack)
    assert review[:40] not in result["output"] and "review" not in json.dumps(result["tests"])


def test_student_code_runs_isolated_when_the_machine_allows(attacked):
    isolation = results(attacked["out"], "honest")["extra_data"]["isolation"]
    assert isolation in ("namespace", "user", "none")
    if os.getuid() == 0:
        assert isolation in ("namespace", "user")


def test_hidden_results_are_not_visible_before_grades_are_published(attacked):
    for test in results(attacked["out"], "honest")["tests"]:
        expected = "visible" if test["name"].endswith(("(visible)", "(written)")) else config.HIDDEN_VISIBILITY
        assert test["visibility"] == expected
    assert config.HIDDEN_VISIBILITY != "visible"


# ============================================================================ round 3
# Faults, floods and forgeries from inside the student's process (tests/attacks3.py), each graded
# as a real submission in a batch next to a classmate's correct notebook.

import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from attacks3 import ATTACKS3  # noqa: E402
from conftest import grade_cli as _grade_cli  # noqa: E402

from backprop_kit.sandbox import memory_limit_mb  # noqa: E402

ROUND3_ALONE = ("user-probes", "memory-hog", "memfd-oom")  # graded in their own settings below
DISK_REPORT = 'raise RuntimeError(f"WROTE {len(written) * 60} MB")'  # disk-fill's own count of what it wrote
SLOW_CLASSMATE = "import time\ntime.sleep(15)  # alive while the attacks run next to it"


def _cells(name):
    cells = list(ATTACKS3[name]["cells"])
    return cells + [DISK_REPORT] if name == "disk-fill" else cells


@pytest.fixture(scope="module")
def round3(kit, tmp_path_factory):
    folder = tmp_path_factory.mktemp("round3")
    notebooks, tmpdir = folder / "notebooks", folder / "tmp"
    notebooks.mkdir()
    tmpdir.mkdir()
    for name in ATTACKS3:
        if name not in ROUND3_ALONE:
            notebook_from_cells(notebooks / f"{name}.ipynb", _cells(name))
    notebook_from_cells(notebooks / "zz-classmate.ipynb", solution_cells())
    out = folder / "out"
    proc, rows = _grade_cli([notebooks], out, kit["dist"] / "autograder.zip", "--jobs", "2",
                            "--limits", json.dumps({"cell_timeout": 30}), env={"TMPDIR": str(tmpdir)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"out": out, "rows": rows, "tmpdir": tmpdir, "book": (out / "gradebook.csv").read_text()}


def test_round3_a_classmate_graded_next_to_every_attack_keeps_full_marks(round3):
    row = round3["rows"]["zz-classmate.ipynb"]
    assert (float(row["total"]), row["status"], row["review"]) == (FULL, "ok", "")
    assert set(round3["rows"]) == {f"{n}.ipynb" for n in ATTACKS3 if n not in ROUND3_ALONE} | {"zz-classmate.ipynb"}


def test_no_attack_ends_as_a_grader_error(round3):
    errors = {name: row["message"][:200] for name, row in round3["rows"].items() if row["status"] == "error"}
    assert not errors


def test_a_deep_tree_with_fifos_sockets_and_locked_folders_is_removed_and_reaches_no_one(round3):
    row = round3["rows"]["deep-tree.ipynb"]
    assert (float(row["total"]), row["status"]) == (FULL, "ok")
    assert sorted(p.name for p in round3["tmpdir"].iterdir()) == [], "the batch left files behind"


def test_a_sandbox_cannot_put_more_than_its_bounded_file_systems_on_disk(round3):
    row = round3["rows"]["disk-fill.ipynb"]
    assert float(row["total"]) == FULL
    wrote = int(re.search(r"WROTE (\d+) MB", results(round3["out"], "disk-fill")["output"]).group(1))
    assert wrote <= config.SANDBOX_DISK_MB + config.SANDBOX_TMP_MB, f"it wrote {wrote} MB of 1800 tried"


@pytest.mark.parametrize("name", [n for n in ATTACKS3 if n.startswith("forged-") and n != "forged-huge"])
def test_a_forged_reply_is_a_restarted_worker_and_every_function_is_still_graded(round3, name):
    row = round3["rows"][f"{name}.ipynb"]
    assert (float(row["total"]), row["status"]) == (FULL, "kernel-died"), row["message"]
    assert "wrote into the grader's channel" in row["review"]


def test_a_function_that_forges_huge_replies_loses_only_its_own_question(round3):
    row = round3["rows"]["forged-huge.ipynb"]
    assert row["status"] == "kernel-died"
    lost = {q: float(row[q]) for q in config.QUESTIONS if float(row[q]) < sum(config.POINTS[q])}
    assert set(lost) == {"sigmoid"}, lost  # sigmoid_forward forges; forward and train above it are right


def test_a_forward_that_ends_its_process_on_its_own_run_costs_no_other_question(round3):
    row = round3["rows"]["forward-dies.ipynb"]
    lost = {q for q in config.QUESTIONS if float(row[q]) < sum(config.POINTS[q])}
    assert lost <= {"network"}, row  # train, which calls forward, keeps full marks


def test_a_forged_reply_within_its_bound_costs_the_grader_little_and_only_the_forger_points(round3):
    row = round3["rows"]["in-turn-huge.ipynb"]
    assert row["status"] == "kernel-died" and "wrote into the grader's channel" in row["review"]
    lost = {q for q in config.QUESTIONS if float(row[q]) < sum(config.POINTS[q])}
    assert lost <= {"train"}, row  # its train sends the forged replies


def test_student_text_reaches_the_gradebook_inert_and_the_review_column_is_the_graders_own(round3):
    book = round3["book"]
    assert "\x1b" not in book
    import csv
    import io

    for row in csv.reader(io.StringIO(book)):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@"), cell[:80]
    forged = round3["rows"]["forged-text.ipynb"]
    assert "score 80/80" not in forged["review"] and forged["review"].startswith("code ")
    for name in round3["rows"]:
        result = results(round3["out"], Path(name).stem)
        assert "\x1b" not in result["output"] and "\x1b" not in json.dumps(result["tests"])


def test_nothing_the_student_sees_at_once_depends_on_what_its_code_did_after_hidden_inputs_arrived(round3):
    result = results(round3["out"], "hidden-leak")
    shown = result["output"] + json.dumps([t for t in result["tests"] if t["visibility"] == "visible"])
    everything = json.dumps(result)
    assert "LEAKED:" not in everything and "123456789" not in everything
    assert "relu_backward: see" not in shown  # relu_backward fails hidden checks only
    assert "softmax_cross_entropy" not in result["output"].split("\n\n")[0]  # deleted after the hidden checks began


@pytest.mark.parametrize("name, noted", [("audit-wipe", "gc"), ("audit-wipe-stealth", "setattr")])
def test_an_emptied_audit_still_leaves_the_instructor_a_review_note(round3, name, noted):
    review = round3["rows"][f"{name}.ipynb"]["review"]
    assert noted in review, review


def test_a_module_planted_for_the_restarted_worker_is_never_imported_and_is_flagged(round3):
    row = round3["rows"]["planted-module.ipynb"]
    assert float(row["total"]) == FULL
    assert "PLANT-CHECK: clean" in results(round3["out"], "planted-module")["output"]
    assert "wrote a module" in row["review"] and "numpy/__init__.py" in row["review"]


# ---------------------------------------------------------------------------- the `user` level


def _readable_python():
    """A venv over the system's Python 3.11 and this venv's packages, which any user can read (the
    interpreter running the tests may live under root's home); None where there is no such Python."""
    base = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not base.exists():
        return None
    import site

    folder = Path(tempfile.mkdtemp(prefix="bpk-python-"))
    folder.chmod(0o755)
    (folder / "bin").mkdir()
    (folder / "bin" / "python").symlink_to(base)
    lib = folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    lib.mkdir(parents=True)
    (lib / "site-packages").symlink_to(site.getsitepackages()[0])
    (folder / "pyvenv.cfg").write_text(f"home = {base.parent}\ninclude-system-site-packages = false\n")
    return folder


@pytest.fixture(scope="module")
def user_level(kit, tmp_path_factory):
    if os.getuid() != 0:
        pytest.skip("the user level runs student code as another user: needs root")
    python = _readable_python()
    if python is None:
        pytest.skip("no system Python of this version that every user can read")
    folder = tmp_path_factory.mktemp("user-level")
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    notebook_from_cells(notebooks / "user-probes.ipynb", ATTACKS3["user-probes"]["cells"])
    notebook_from_cells(notebooks / "zz-classmate.ipynb", [SLOW_CLASSMATE, *solution_cells()])
    notebook_from_cells(notebooks / "zz-classmate-2.ipynb", [SLOW_CLASSMATE, *solution_cells()])
    out = folder / "out"
    cmd = [str(python / "bin" / "python"), "-m", "backprop_kit.cli", "grade", str(notebooks), "--out", str(out),
           "--autograder", str(kit["dist"] / "autograder.zip"), "--jobs", "3", "--limits", json.dumps({"isolation": "user", "cell_timeout": 60})]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(REPO / d) for d in ("autograder", "assignment")))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    finally:
        shutil.rmtree(python)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"out": out}


def test_at_the_user_level_student_code_reads_writes_and_signals_nothing_outside_its_sandbox(user_level):
    probes = results(user_level["out"], "user-probes")
    assert probes["extra_data"]["isolation"] == "user"  # Landlock took effect
    found = re.search(r"PROBES ok=(\d+) blocked=(\d+) workers=(\d+)", probes["output"])
    assert found, probes["output"][:3000]
    ok, blocked, workers = map(int, found.groups())
    assert ok == 0, probes["output"][:3000]
    assert blocked > 0 and workers >= 2, "the probes did not find the classmates' workers grading beside them"


def test_at_the_user_level_classmates_graded_beside_the_probes_keep_full_marks(user_level):
    for name in ("zz-classmate", "zz-classmate-2"):
        result = results(user_level["out"], name)
        assert (result["score"], result["extra_data"]["status"]) == (FULL, "ok"), result["output"][:1000]


# ---------------------------------------------------------------------------- Gradescope's default container


@pytest.fixture(scope="module")
def in_container(kit, tmp_path_factory):
    from backprop_kit.sandbox import container

    why = container.available()
    if why:
        pytest.skip(f"cannot imitate Gradescope's container here: {why}")
    import styles

    folder = tmp_path_factory.mktemp("container")
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    notebook_from_cells(notebooks / "memory-hog.ipynb", ATTACKS3["memory-hog"]["cells"])
    notebook_from_cells(notebooks / "memfd-oom.ipynb", ATTACKS3["memfd-oom"]["cells"][:-3] + ["import time\ntime.sleep(5)"])
    notebook_from_cells(notebooks / "naive-loops.ipynb", styles.STYLES["naive_loops"]["cells"])
    notebook_from_cells(notebooks / "zz-classmate.ipynb", solution_cells())
    out = folder / "out"
    with container.limited(memory_mb=768, cpus=0.5) as (prefix, memory):
        cmd = prefix + [sys.executable, "-m", "backprop_kit.cli", "grade", str(notebooks), "--out", str(out),
                        "--autograder", str(kit["dist"] / "autograder.zip"), "--jobs", "1"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
        kills = container.oom_kills(memory)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"out": out, "oom_kills": kills}


def test_in_a_768_mb_container_a_memory_hog_meets_the_graders_limit_before_the_kernel_does(in_container):
    hog = results(in_container["out"], "memory-hog")
    limit = memory_limit_mb(available=768)
    assert (hog["score"], hog["extra_data"]["status"]) == (FULL, "kernel-died")
    assert f"ran out of memory (the limit is {limit} MB)" in hog["extra_data"]["message"]
    assert in_container["oom_kills"] == 0, "the kernel's OOM killer, not the grader's limit, stopped something"


def test_memory_no_process_limit_sees_is_charged_to_the_workers_own_group_and_stops_only_it(in_container):
    memfd = results(in_container["out"], "memfd-oom")
    assert memfd["extra_data"]["status"] == "kernel-died" and "SIGKILL" in memfd["extra_data"]["message"]
    assert memfd["score"] > 0  # its functions were graded (the flood, replayed with its cell, may strike again)
    classmate = results(in_container["out"], "zz-classmate")
    assert (classmate["score"], classmate["extra_data"]["status"]) == (FULL, "ok")


def test_in_a_768_mb_half_cpu_container_correct_solutions_keep_full_marks_even_written_with_loops(in_container):
    for name in ("zz-classmate", "naive-loops"):
        result = results(in_container["out"], name)
        assert (result["score"], result["extra_data"]["status"]) == (FULL, "ok"), result["extra_data"]["message"]


# ---------------------------------------------------------------------------- pieces


def _deep_tree(root, depth=3000):
    """A tree deeper than any path the system accepts, with a FIFO, a socket, a locked folder."""
    import socket

    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.mkfifo("fifo", dir_fd=fd)
    os.mkdir("locked", dir_fd=fd)
    os.chmod("locked", 0, dir_fd=fd)
    here = os.open(".", os.O_RDONLY)
    os.fchdir(fd)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("sock")
    os.fchdir(here)
    os.close(here)
    held = os.open("held", os.O_CREAT | os.O_WRONLY, dir_fd=fd)
    os.close(fd)
    return sock, held


def test_removal_succeeds_on_a_deep_tree_with_fifos_sockets_open_files_and_locked_folders(tmp_path):
    from backprop_kit.sandbox import remove_tree

    sock, held = _deep_tree(tmp_path / "tree")
    try:
        with pytest.raises(RecursionError):
            shutil.rmtree(tmp_path / "tree")  # what cleanup used before
        remove_tree(tmp_path / "tree")
        assert not (tmp_path / "tree").exists()
    finally:
        sock.close()
        os.close(held)


def test_a_stale_sandbox_holding_a_deep_tree_is_swept_without_an_error(tmp_path, monkeypatch):
    from backprop_kit import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f"{sandbox.SANDBOX_PREFIX}{dead}-x"
    stale.mkdir()
    sock, held = _deep_tree(stale / "work")
    try:
        sandbox.sweep_stale_dirs(sandbox.SANDBOX_PREFIX, max_age=0)
        assert not stale.exists()
    finally:
        sock.close()
        os.close(held)


def test_a_reply_far_larger_than_its_request_could_return_is_refused_unread():
    import resource

    from backprop_kit.sandbox import Limits, Session, WorkerLost

    forge = (
        "import os, struct, sys\n"
        "def sigmoid_forward(Z):\n"
        "    head = b'[' + b'{},' * (21 << 20) + b'{}]'\n"  # 63 MB of empty objects: about 1.5 GB once parsed
        "    body = struct.pack('<I', len(head)) + head\n"
        "    os.write(int(sys.argv[3]), struct.pack('<Q', len(body)) + body)\n"
        "    return Z\n"
    )
    import numpy as np

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
    with Session([forge], Limits(call_timeout=30)) as session:
        session.run_notebook()
        with pytest.raises(WorkerLost, match="more than this request could return"):
            session.call("sigmoid_forward", (np.ones((3, 4)),))
        assert session.restarts == 1
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10) - before < 300


def test_limits_grow_with_the_reference_time_on_a_slow_machine_and_never_drop_below_their_floors():
    from backprop_kit.sandbox import Limits

    limits = Limits()
    assert limits.scaled(0.0).call_timeout == limits.call_timeout
    slow = limits.scaled(10 * limits.call_timeout / config.TIME_FACTOR)
    assert slow.call_timeout == pytest.approx(10 * limits.call_timeout) and slow.cell_timeout == pytest.approx(10 * limits.call_timeout)
    explicit = Limits.from_env({"BACKPROP_KIT_LIMITS": json.dumps({"call_timeout": 5})})
    assert explicit.scaled(100.0).call_timeout == 5  # limits given explicitly are taken as given


def test_the_memory_for_student_code_leaves_the_grader_its_share_of_the_container():
    assert memory_limit_mb(available=768) == 768 - config.GRADER_RESERVE_MB - config.SANDBOX_DISK_MB - config.SANDBOX_TMP_MB - 16
    assert memory_limit_mb(available=64 << 10) == config.MEMORY_LIMIT_MB


def test_the_grader_runs_under_an_address_space_limit_of_its_own_that_its_worker_may_lower():
    probe = (
        "import resource\n"
        "from backprop_kit.gradescope import limit_own_memory\n"
        "limit_own_memory()\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
        "print(soft >> 20, hard == resource.RLIM_INFINITY)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(REPO / d) for d in ("autograder", "assignment")))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout.split()
    assert out == [str(config.GRADER_MEMORY_MB), "True"]  # soft: the worker sets its own limit below the hard one


def test_before_the_hidden_checks_a_stand_in_answers_only_the_questions_the_checks_own_call_leads_to():
    import numpy as np

    from backprop_kit.hidden_checks import Allowed, serve
    from backprop_lab.helpers import init_params

    rng = np.random.default_rng(0)
    X, params, acts = rng.normal(size=(2, 5)), init_params([2, 3, 1], seed=1), ["tanh", "sigmoid"]
    allowed = Allowed("forward", (X, params, acts), ("tanh_forward", "sigmoid_forward", "dense_forward"))
    Z1 = params["W1"] @ X + params["b1"]
    assert np.allclose(serve("tanh_forward", (Z1,), {}, allowed), np.tanh(Z1))
    assert np.allclose(serve("tanh_forward", (Z1[:, 3:4],), {}, allowed), np.tanh(Z1[:, 3:4]))  # a column at a time
    serve("dense_forward", (X, params["W1"], params["b1"]), {}, allowed)
    for grid in (np.linspace(-3, 3, 15).reshape(3, 5), Z1 + 1e-3, np.linspace(-3, 3, 3000).reshape(3, 1000)):
        with pytest.raises(LookupError):
            serve("tanh_forward", (grid,), {}, allowed)
    with pytest.raises(LookupError):
        serve("relu_forward", (Z1,), {}, allowed)  # not a question this call asks
