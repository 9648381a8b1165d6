"""Hostile submissions, graded end to end the way Gradescope grades them.

Every test goes through `backprop-kit grade` (which runs the built zip's
run_autograder on a Gradescope-shaped root) or through run_autograder itself.
The notebooks are real files committed in tests/notebooks/, written by
tests/notebooks/make_notebooks.py from solutions/reference.py; the first test
checks they are up to date. Each graded run gets a fresh TMPDIR, which must be
empty afterwards: no sandbox, no unpacked autograder (hidden tests, reference).
"""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, grade_cli, result_path, results

from backprop_lab import config

FULL = sum(public + hidden for public, hidden in config.POINTS.values())
ACTIVATIONS = sum(sum(config.POINTS[q]) for q in ("sigmoid", "tanh", "relu"))
# Small limits keep the suite fast; 10 s per cell leaves a million print() calls room to finish.
LIMITS = {"cell_timeout": 10, "interrupt_grace": 1, "memory_mb": 1024}
SEED = 7

# file: (total, status, words the gradebook message must contain)
EXPECTED = {
    "correct.ipynb": (FULL, "ok", ["without problems"]),
    "infinite_loop.ipynb": (FULL, "timeout", ["running too long", "code cell 4", "were graded"]),
    "ignores_interrupt.ipynb": (FULL, "timeout", ["running too long", "code cell 4", "were graded"]),
    "os_exit.ipynb": (FULL, "kernel-died", ["died", "code cell 4", "exited with code 3", "were graded"]),
    "segfault.ipynb": (FULL, "kernel-died", ["died", "code cell 4", "SIGSEGV", "were graded"]),
    "memory_hog.ipynb": (FULL, "kernel-died", ["code cell 4", "ran out of memory", "1024 MB", "were graded"]),
    "output_flood.ipynb": (FULL, "ok", ["output was cut"]),
    "escaped_process.ipynb": (FULL, "ok", ["without problems"]),
    "foreign_kernelspec.ipynb": (FULL, "ok", ["without problems"]),
    "backprop (3).ipynb": (FULL, "ok", ["without problems"]),
    "nbformat_4_0.ipynb": (FULL, "ok", ["without problems"]),
    "missing_functions.ipynb": (ACTIVATIONS, "ok", ["not defined", "dense_forward", "backward", "train"]),
    "garbage.ipynb": (0, "malformed", ["not a Jupyter notebook", "Download"]),
    "not_a_notebook.ipynb": (0, "malformed", ["JSON but not a Jupyter notebook"]),
    "empty.ipynb": (0, "malformed", ["no code cells"]),
    "zero_bytes.ipynb": (0, "malformed", ["empty", "Download"]),
}


def make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli(*args):
    return [sys.executable, "-m", "backprop_kit.cli", "grade", *map(str, args)]


def limits(**overrides):
    return json.dumps(dict(LIMITS, **overrides))


def processes_mentioning(text):
    """Pids of live processes whose command line contains `text` (our graders and workers name their folders)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if text in cmdline and "zombie" not in state:
            found.append(int(entry.name))
    return found


def wait_for(condition, what, limit=120.0):
    """Poll until `condition()` is true; the limit only stops a broken run from hanging the suite."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def assert_clean(tmpdir):
    assert not processes_mentioning(str(tmpdir)), "a grader or worker outlived its run"
    assert sorted(p.name for p in Path(tmpdir).iterdir()) == [], "temporary files were left behind"


# -- the notebooks ----------------------------------------------------------------------------------


def test_committed_notebooks_are_what_make_notebooks_writes_now():
    files = make_notebooks().files()
    committed = {p.name for p in NOTEBOOKS.iterdir() if p.suffix == ".ipynb"}
    assert committed == set(files), "run: .venv/bin/python tests/notebooks/make_notebooks.py"
    for name, data in files.items():
        assert (NOTEBOOKS / name).read_bytes() == data, f"{name} is stale: run tests/notebooks/make_notebooks.py"
    assert set(EXPECTED) == set(files)


# -- one batch with every hostile notebook and correct solutions ------------------------------------


@pytest.fixture(scope="module")
def batch(kit, tmp_path_factory):
    """Every committed notebook, the built solution and the untouched template, graded in one batch."""
    out = tmp_path_factory.mktemp("out")
    tmpdir = tmp_path_factory.mktemp("tmpdir")
    inputs = [NOTEBOOKS, kit["dist"] / "solutions.ipynb", kit["template"]]
    args = ("--seed", str(SEED), "--limits", limits(), "--jobs", "2")
    proc, rows = grade_cli(inputs, out, kit["dist"] / "autograder.zip", *args, env={"TMPDIR": str(tmpdir)})
    return {"proc": proc, "rows": rows, "out": out, "tmpdir": tmpdir, "inputs": inputs, "args": args}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_notebook_gets_the_score_status_and_message_it_deserves(batch, name):
    total, status, words = EXPECTED[name]
    row = batch["rows"][name]
    assert (float(row["total"]), row["status"]) == (total, status), row["message"]
    for word in words:
        assert word.lower() in row["message"].lower(), f"{word!r} not in {row['message']!r}"
    result = results(batch["out"], Path(name).stem)
    assert (result["score"], result["extra_data"]["status"]) == (total, status)
    assert float(row["seconds"]) > 0
    if total == FULL:
        assert all(t["score"] == t["max_score"] for t in result["tests"])


def test_a_stuck_cell_is_named_in_the_result_and_so_is_the_restart(batch):
    loop = results(batch["out"], "infinite_loop")["output"]
    assert "code cell 4 (`while True:`)" in loop and "was interrupted" in loop
    stuck = results(batch["out"], "ignores_interrupt")["output"]
    assert "ignored the interrupt, so the process was restarted" in stuck


def test_the_batch_lists_every_submission_with_the_correct_solutions(batch):
    proc, rows = batch["proc"], batch["rows"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(rows) == set(EXPECTED) | {"solutions.ipynb", "backprop.ipynb"}
    assert (float(rows["solutions.ipynb"]["total"]), rows["solutions.ipynb"]["status"]) == (FULL, "ok")
    assert (float(rows["backprop.ipynb"]["total"]), rows["backprop.ipynb"]["status"]) == (0, "ok")
    header = (batch["out"] / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header == ["name", "sid", "email", "submission_id", "submitted_at", "file", *config.QUESTIONS, "total", "max",
                      *config.WRITTEN_POINTS, "status", "message", "review", "seconds", "result"]
    assert f"{len(rows)}/{len(rows)}" in proc.stderr  # progress is shown


def test_the_batch_leaves_no_temporary_files_or_processes(batch):
    assert_clean(batch["tmpdir"])
    assert not processes_mentioning("sleep 3141.59"), "escaped_process.ipynb's subprocess outlived its grading"


def test_results_stay_small_whatever_the_notebook_printed(batch):
    for path in batch["out"].glob("*/results.json"):
        assert path.stat().st_size < 100_000, path
    flood = results(batch["out"], "output_flood")
    assert "line 999999" not in json.dumps(flood)
    assert "output was cut" in flood["extra_data"]["message"].lower()


def test_a_second_run_skips_everything_already_graded(batch, kit):
    before = {p: p.read_bytes() for p in batch["out"].glob("*/results.json")}
    proc, rows = grade_cli(batch["inputs"], batch["out"], kit["dist"] / "autograder.zip", *batch["args"], env={"TMPDIR": str(batch["tmpdir"])})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{len(before)} already graded" in proc.stderr
    assert {p: p.read_bytes() for p in batch["out"].glob("*/results.json")} == before
    assert rows == batch["rows"]
    assert_clean(batch["tmpdir"])


# -- resuming, forcing, Gradescope export zips ----------------------------------------------------------


def test_force_regrades_and_a_plain_rerun_does_not(kit, tmp_path):
    out, tmpdir = tmp_path / "out", tmp_path / "tmp"
    tmpdir.mkdir()
    inputs = [NOTEBOOKS / "garbage.ipynb", NOTEBOOKS / "zero_bytes.ipynb"]
    zip_ = kit["dist"] / "autograder.zip"
    env = {"TMPDIR": str(tmpdir)}
    grade_cli(inputs, out, zip_, env=env)
    path = result_path(out, "garbage")
    stale = json.loads(path.read_text())
    stale["extra_data"]["message"] = "stale"
    path.write_text(json.dumps(stale))

    proc, rows = grade_cli(inputs, out, zip_, env=env)
    assert "2 already graded" in proc.stderr
    assert rows["garbage.ipynb"]["message"] == "stale"

    proc, rows = grade_cli(inputs, out, zip_, "--force", env=env)
    assert "0 already graded" in proc.stderr
    assert "not a Jupyter notebook" in rows["garbage.ipynb"]["message"]
    assert_clean(tmpdir)


def test_a_gradescope_export_zip_is_graded_one_row_per_submission(kit, tmp_path):
    export = tmp_path / "export.zip"
    top = "assignment_4242_export"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(f"{top}/submission_metadata.yml", "submission_101:\n  :submitters:\n  - :name: Ada Lovelace\n")
        archive.write(NOTEBOOKS / "correct.ipynb", f"{top}/submission_101/backprop.ipynb")
        archive.writestr(f"{top}/submission_101/submission_notes/readme.txt", "a student's own folder")
        archive.write(NOTEBOOKS / "garbage.ipynb", f"{top}/submission_102/backprop.ipynb")
        archive.writestr(f"{top}/submission_103/", "")  # nothing uploaded
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc, rows = grade_cli([export], tmp_path / "out", kit["dist"] / "autograder.zip", "--limits", limits(), env={"TMPDIR": str(tmpdir)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = {name: (float(r["total"]), r["status"]) for name, r in rows.items()}
    assert got == {
        "export.zip:submission_101": (FULL, "ok"),
        "export.zip:submission_102": (0, "malformed"),
        "export.zip:submission_103": (0, "malformed"),
    }
    assert "empty" in rows["export.zip:submission_103"]["message"]
    assert_clean(tmpdir)


# -- interrupting and killing ------------------------------------------------------------------------


def test_ctrl_c_keeps_finished_results_cleans_up_and_a_rerun_resumes(kit, tmp_path):
    out, tmpdir = tmp_path / "out", tmp_path / "tmp"
    tmpdir.mkdir()
    inputs = [NOTEBOOKS / "garbage.ipynb", NOTEBOOKS / "infinite_loop.ipynb"]
    zip_ = kit["dist"] / "autograder.zip"
    env = dict(os.environ, TMPDIR=str(tmpdir))
    cmd = cli(*inputs, "--out", out, "--autograder", zip_, "--jobs", "1", "--limits", limits(cell_timeout=600))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: result_path(out, "garbage").exists(), "the first result")
        wait_for(lambda: any(tmpdir.glob("bpk-sandbox-*")), "the infinite loop's sandbox")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr
    assert results(out, "garbage")["extra_data"]["status"] == "malformed"
    assert not result_path(out, "infinite_loop").exists()
    assert "garbage.ipynb" in (out / "gradebook.csv").read_text()
    assert_clean(tmpdir)

    again, rows = grade_cli(inputs, out, zip_, "--limits", limits(), env={"TMPDIR": str(tmpdir)})
    assert "1 already graded" in again.stderr
    assert (float(rows["infinite_loop.ipynb"]["total"]), rows["infinite_loop.ipynb"]["status"]) == (FULL, "timeout")
    assert_clean(tmpdir)


def test_a_killed_batch_takes_its_graders_and_workers_down_and_the_next_run_sweeps_up(kit, tmp_path):
    out, tmpdir = tmp_path / "out", tmp_path / "tmp"
    tmpdir.mkdir()
    zip_ = kit["dist"] / "autograder.zip"
    env = dict(os.environ, TMPDIR=str(tmpdir))
    cmd = cli(NOTEBOOKS / "infinite_loop.ipynb", "--out", out, "--autograder", zip_, "--limits", limits(cell_timeout=600))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(tmpdir.glob("bpk-sandbox-*")), "the sandbox")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    wait_for(lambda: not processes_mentioning(str(tmpdir)), "graders and workers to stop")
    assert not result_path(out, "infinite_loop").exists()

    # the killed batch could not remove its unpacked autograder: the next run does
    grade_cli([NOTEBOOKS / "zero_bytes.ipynb"], out, zip_, env={"TMPDIR": str(tmpdir)})
    assert_clean(tmpdir)


def test_a_half_deleted_folder_of_a_dead_grader_is_swept_and_a_live_graders_is_kept(tmp_path, monkeypatch):
    from backprop_kit.sandbox import SANDBOX_PREFIX, owned_temp_dir, sweep_stale_dirs

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    # what a grader killed in the middle of removing its sandbox leaves: a few files, no marker inside
    orphan = tmp_path / f"{SANDBOX_PREFIX}{dead.pid}-abc123"
    (orphan / "work" / ".root").mkdir(parents=True)
    (orphan / "work" / "helpers.py").write_text("x = 1\n")
    ours = owned_temp_dir(SANDBOX_PREFIX)
    (ours / "work").mkdir()
    sweep_stale_dirs(SANDBOX_PREFIX, max_age=3600)
    assert not orphan.exists()
    assert (ours / "work").is_dir()


# -- Gradescope's own layout ----------------------------------------------------------------------------


def gradescope_root(base, autograder_zip, notebook):
    """/autograder as Gradescope lays it out: source/ (the unzipped zip), submission/, results/, run_autograder."""
    root = base / "autograder"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy2(notebook, root / "submission" / notebook.name)
    (root / "results").mkdir()
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    return root


def gradescope_env(root, tmpdir, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_KIT_")}
    env.update(BACKPROP_KIT_ROOT=str(root), BACKPROP_KIT_PYTHON=sys.executable, TMPDIR=str(tmpdir), **extra)
    return env


def comparable(result):
    """A result without what depends on the run (timings, memory, the machine's speed) or on the batch (its label)."""
    extra = {k: v for k, v in result["extra_data"].items() if k not in ("seconds", "wall_seconds", "source", "digest", "identity", "label", "timings", "peak_rss_mb", "grader_peak_mb", "limits_s")}
    return {"score": result["score"], "output": result["output"], "tests": result["tests"], "extra_data": extra}


@pytest.mark.parametrize("name", ["correct.ipynb", "missing_functions.ipynb"])
def test_gradescope_run_autograder_gives_the_same_results_as_the_grade_command(kit, tmp_path, name):
    zip_ = kit["dist"] / "autograder.zip"
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    root = gradescope_root(tmp_path, zip_, NOTEBOOKS / name)
    env = gradescope_env(root, tmpdir, BACKPROP_KIT_SEED=str(SEED))
    subprocess.run([str(root / "run_autograder")], env=env, cwd=root, check=True, capture_output=True, timeout=900)
    on_gradescope = json.loads((root / "results" / "results.json").read_text())

    out = tmp_path / "out"
    proc, _ = grade_cli([NOTEBOOKS / name], out, zip_, "--seed", str(SEED), env={"TMPDIR": str(tmpdir)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert comparable(results(out, Path(name).stem)) == comparable(on_gradescope)
    assert_clean(tmpdir)


def test_a_killed_grader_takes_its_worker_down_and_its_sandbox_is_swept(kit, tmp_path):
    zip_ = kit["dist"] / "autograder.zip"
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    root = gradescope_root(tmp_path, zip_, NOTEBOOKS / "infinite_loop.ipynb")
    env = gradescope_env(root, tmpdir, BACKPROP_KIT_LIMITS=limits(cell_timeout=600))
    grader = subprocess.Popen([str(root / "run_autograder")], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: processes_mentioning(str(tmpdir / "bpk-sandbox-")), "the worker")
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=60)
    finally:
        grader.kill()
    wait_for(lambda: not processes_mentioning(str(tmpdir)), "the worker to die with its grader")

    grade_cli([NOTEBOOKS / "zero_bytes.ipynb"], tmp_path / "out", zip_, env={"TMPDIR": str(tmpdir)})
    assert_clean(tmpdir)


STANDIN_LOOP = """
def helper(x):
    return x

def keeps_asking(x):
    while True:
        helper(x)
"""


def test_a_call_stopped_while_its_stand_ins_are_asking_leaves_the_channel_in_step():
    """Follow-through: the grader answers a stand-in's questions during a call. A call that runs
    out of time in the middle of them must not leave a question or an answer in the channel:
    the next requests get their own replies."""
    import numpy as np

    from backprop_kit.sandbox import CallTimeout, Limits, Session

    x = np.arange(6.0).reshape(2, 3)
    with Session([STANDIN_LOOP], Limits(call_timeout=0.3)) as session:
        session.run_notebook()
        for _ in range(6):  # the interrupt lands at a different point of the exchange each time
            with pytest.raises(CallTimeout):
                session.call("keeps_asking", (x,), standins=("helper",), serve=lambda name, args, kwargs: args[0] + 1)
            value, _, _ = session.call("helper", (x,))
            assert np.array_equal(value, x)
            assert isinstance(session.audit(), dict)
        assert session.restarts == 0


def test_only_the_calls_own_stand_ins_are_answered():
    import numpy as np

    from backprop_kit.sandbox import Session, StudentError

    cells = ["def helper(x):\n    return x\n\ndef use(x):\n    return helper(x)\n"]
    cells.append("KEPT = {}\ndef keep(x):\n    KEPT['ask'] = helper.__kwdefaults__['_bpk_ask']\n    return helper(x)\n")
    cells.append("def later(x):\n    return KEPT['ask']('helper', (x,), {})\n")
    x = np.ones((2, 2))
    with Session(cells) as session:
        session.run_notebook()
        assert np.array_equal(session.call("use", (x,), standins=("helper",), serve=lambda n, a, k: a[0] * 3)[0], 3 * x)
        session.call("keep", (x,), standins=("helper",), serve=lambda n, a, k: a[0] * 3)
        with pytest.raises(StudentError, match="no stand-in in this call"):
            session.call("later", (x,), serve=lambda n, a, k: a[0] * 3)
        assert np.array_equal(session.call("helper", (x,))[0], x)  # the notebook's own helper is back
