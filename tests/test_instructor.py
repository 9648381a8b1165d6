"""The instructor's side: a gradebook rebuilt from every result, identities from Gradescope's export,
bad input refused, written answers routed, the right notebook chosen, and Gradescope's settings.

One class is graded once (module fixture) and several tests read it; the runs that follow it
(a second run into the same folder, refused inputs) build on the same folder.
"""

import csv
import html
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from backprop_lab import config

from conftest import REPO, grade_cli, notebook_from_cells, solution_cells
from test_robustness import gradescope_env, gradescope_root

FULL = sum(public + hidden for public, hidden in config.POINTS.values())
HOSTILE = "Zero weights <script>alert('x')</script> stay equal"


def with_answers(template, path, answers):
    """The handout's template with its written answer cells replaced by `answers` (in order)."""
    nb = nbformat.read(template, as_version=4)
    answers = iter(answers)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip() == "_Type your answer here, replacing this text._":
            cell.source = next(answers, cell.source)
    nbformat.write(nb, path)
    return path


def otter_export(folder, notebook):
    """A zip made by otter's own grader.export(), as a student who follows otter's habits submits."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook, folder / "backprop.ipynb")
    code = "import otter; print(otter.Notebook('backprop.ipynb').export('backprop.ipynb', pdf=False, run_tests=False))"
    subprocess.run([sys.executable, "-c", code], cwd=folder, check=True, capture_output=True, timeout=300)
    (made,) = folder.glob("backprop_*.zip")
    return made


METADATA = """submission_501:
  :submitters:
  - :name: Ada Lovelace
    :sid: '100'
    :email: ada@uni.example
  :created_at: 2026-11-20 10:00:00.000000000 -08:00
  :score: 0.0
submission_502:
  :submitters:
  - :name: Pair One
    :sid: '200'
    :email: one@uni.example
  - :name: Pair Two
    :sid: '201'
    :email: two@uni.example
  :created_at: 2026-11-21 11:30:00.000000000 -08:00
submission_503:
  :submitters:
  - :name: Otter User
    :sid: '300'
    :email: otter@uni.example
  :created_at: 2026-11-22 09:15:00.000000000 -08:00
"""


def read_book(out):
    with open(Path(out) / "gradebook.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def graded(kit, tmp_path_factory):
    """A class graded in one run: two students' backprop.ipynb from two folders, a Gradescope export
    (a single, a group holding the template beside the real work, an otter zip inside), and an otter
    export zip on its own. Then a second run adds one notebook to the same --out."""
    base = tmp_path_factory.mktemp("class")
    solved = kit["dist"] / "solutions.ipynb"
    (base / "alice").mkdir()
    (base / "bob").mkdir()
    shutil.copy2(solved, base / "alice" / "backprop.ipynb")
    with_answers(kit["template"], base / "bob" / "backprop.ipynb", [HOSTILE, "", "Costs W^2."])
    zipped = otter_export(base / "otter", solved)
    top = "assignment_4242_export"
    export = base / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(f"{top}/submission_metadata.yml", METADATA)
        archive.write(solved, f"{top}/submission_501/backprop.ipynb")
        archive.write(kit["template"], f"{top}/submission_502/backprop.ipynb")  # untouched, and newer by name order
        archive.write(solved, f"{top}/submission_502/my_solution.ipynb")
        archive.write(zipped, f"{top}/submission_503/{zipped.name}")
    out = base / "out"
    first, _ = grade_cli([base / "alice", base / "bob", export, zipped], out, kit["dist"] / "autograder.zip", "--seed", "3")
    rows_first = read_book(out)
    # the instructor marks a written answer in the gradebook, then grades a late submission into the same folder
    book = read_book(out)
    for row in book:
        if row["sid"] == "100":
            row["written_zero_init"] = "2"
    with open(out / "gradebook.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(book[0]))
        writer.writeheader()
        writer.writerows(book)
    (base / "late").mkdir()
    late = notebook_from_cells(base / "late" / "backprop.ipynb", solution_cells())
    second, _ = grade_cli([late], out, kit["dist"] / "autograder.zip", "--seed", "3")
    return {"base": base, "out": out, "first": first, "second": second, "rows_first": rows_first, "kit": kit}


def test_the_first_run_grades_every_input_with_progress_and_exit_0(graded):
    assert graded["first"].returncode == 0, graded["first"].stderr[-3000:]
    assert "6 submission(s)" in graded["first"].stderr and "6/6" in graded["first"].stderr
    assert graded["second"].returncode == 0, graded["second"].stderr[-3000:]


def test_a_later_run_into_the_same_folder_keeps_every_earlier_row(graded):
    before = {(r["result"], r["sid"]) for r in graded["rows_first"]}
    after = {(r["result"], r["sid"]) for r in read_book(graded["out"])}
    assert len(before) == 7  # six submissions, one of them a pair
    assert before < after and len(after) == 8


def test_two_notebooks_with_one_name_from_two_folders_get_two_results(graded):
    by_file = {r["file"]: r for r in read_book(graded["out"])}
    alice = by_file[str((graded["base"] / "alice" / "backprop.ipynb").resolve())]
    bob = by_file[str((graded["base"] / "bob" / "backprop.ipynb").resolve())]
    assert alice["result"] != bob["result"]
    assert (float(alice["total"]), float(bob["total"])) == (FULL, 0)
    for row in (alice, bob):
        assert json.loads((graded["out"] / row["result"] / "results.json").read_text())["extra_data"]["source"] == row["file"]


def test_result_folders_are_named_by_identity_the_same_in_every_run(graded, tmp_path):
    """The same sources graded into another folder, in another order, land in folders of the same names."""
    names = {r["result"] for r in graded["rows_first"]}
    assert {"submission_501", "submission_502", "submission_503"} <= names
    again, _ = grade_cli([graded["base"] / "bob", graded["base"] / "alice"], tmp_path / "out", graded["kit"]["dist"] / "autograder.zip", "--seed", "3")
    assert again.returncode == 0, again.stderr[-3000:]
    assert {r["result"] for r in read_book(tmp_path / "out")} <= names


def test_a_rerun_skips_what_is_graded_and_regrades_a_changed_file(graded, tmp_path):
    out = tmp_path / "out"
    notebook = tmp_path / "backprop.ipynb"
    shutil.copy2(graded["kit"]["template"], notebook)
    zip_ = graded["kit"]["dist"] / "autograder.zip"
    grade_cli([notebook], out, zip_)
    proc, _ = grade_cli([notebook], out, zip_)
    assert "1 already graded" in proc.stderr
    shutil.copy2(graded["kit"]["dist"] / "solutions.ipynb", notebook)  # the student's corrected file, same path
    proc, rows = grade_cli([notebook], out, zip_)
    assert "0 already graded" in proc.stderr
    assert [float(r["total"]) for r in read_book(out)] == [FULL]


def test_the_export_gives_each_member_of_a_group_a_row_with_name_sid_email_and_time(graded):
    rows = {r["sid"]: r for r in read_book(graded["out"]) if r["sid"]}
    assert set(rows) == {"100", "200", "201", "300"}
    assert (rows["100"]["name"], rows["100"]["email"], rows["100"]["submission_id"]) == ("Ada Lovelace", "ada@uni.example", "501")
    assert rows["100"]["submitted_at"].startswith("2026-11-20 10:00:00")
    pair = [rows["200"], rows["201"]]
    assert [r["name"] for r in pair] == ["Pair One", "Pair Two"]
    assert {r["submission_id"] for r in pair} == {"502"} and {r["result"] for r in pair} == {"submission_502"}
    assert {float(r["total"]) for r in rows.values()} == {FULL}


def test_the_real_work_is_graded_over_the_untouched_template_and_the_choice_is_said(graded):
    result = json.loads((graded["out"] / "submission_502" / "results.json").read_text())
    assert result["score"] == FULL
    note = "Graded my_solution.ipynb"
    assert note in result["output"] and note in result["extra_data"]["message"]
    assert "backprop.ipynb (0 of 14 functions)" in result["output"]


def test_an_otter_export_zip_is_graded_uploaded_itself_or_inside_a_submission(graded):
    by_result = {r["result"]: r for r in read_book(graded["out"])}
    inside = by_result["submission_503"]
    alone = next(r for r in by_result.values() if r["file"].endswith(".zip") and "export.zip" not in r["file"])
    for row in (inside, alone):
        assert (float(row["total"]), row["status"]) == (FULL, "ok"), row
        assert "from the zip you submitted" in row["message"]


def test_typed_written_marks_survive_a_rerun_and_written_columns_start_empty(graded):
    rows = read_book(graded["out"])
    assert [r["written_zero_init"] for r in rows if r["sid"] == "100"] == ["2"]
    assert all(r[q] == "" for r in rows if r["sid"] != "100" for q in config.WRITTEN_POINTS)


def test_written_answers_are_visible_zero_point_tests_in_results(graded):
    bob = next(json.loads(p.read_text()) for p in graded["out"].glob("*/results.json")
               if json.loads(p.read_text())["extra_data"].get("source", "").endswith("bob/backprop.ipynb"))
    written = {t["name"]: t for t in bob["tests"] if t["max_score"] == 0}
    assert list(written) == [f"{q} (written)" for q in config.WRITTEN_POINTS]
    assert all(t["visibility"] == "visible" and t["score"] == 0 for t in written.values())
    assert HOSTILE in written["written_zero_init (written)"]["output"]
    assert "no answer" in written["written_vanishing (written)"]["output"]
    assert "Costs W^2." in written["written_finite_differences (written)"]["output"]
    assert bob["score"] == 0 and sum(t["max_score"] for t in bob["tests"]) == FULL


def test_written_answers_are_laid_out_one_page_per_question_with_student_text_inert(graded):
    page = (graded["out"] / "written" / "written_zero_init.html").read_text()
    assert html.escape(HOSTILE) in page and "<script>" not in page
    assert "Ada Lovelace (100)" in page
    assert page.count("<section>") == 7  # every graded submission, the late one included
    assert {p.name for p in (graded["out"] / "written").iterdir()} == {f"{q}.html" for q in config.WRITTEN_POINTS}


def test_a_refused_input_leaves_the_gradebook_as_it_was(graded, tmp_path):
    before = (graded["out"] / "gradebook.csv").read_text()
    (tmp_path / "empty").mkdir()
    proc, _ = grade_cli([tmp_path / "empty"], graded["out"], graded["kit"]["dist"] / "autograder.zip")
    assert proc.returncode == 2
    assert (graded["out"] / "gradebook.csv").read_text() == before


# -- bad input: refused with one line naming it ----------------------------------------------------


def _bad_inputs(tmp):
    (tmp / "empty").mkdir()
    (tmp / "script.py").write_text("print('hi')\n")
    with zipfile.ZipFile(tmp / "no_notebook.zip", "w") as archive:
        archive.writestr("notes.txt", "no notebook here")
    (tmp / "fake.zip").write_text("not a zip")
    good = tmp / "good.ipynb"
    shutil.copy2(REPO / "tests" / "notebooks" / "correct.ipynb", good)
    return [
        ([tmp / "empty"], [], "empty holds no notebook"),
        ([tmp / "script.py"], [], "script.py is not a notebook"),
        ([tmp / "no_notebook.zip"], [], "no_notebook.zip holds no notebook"),
        ([tmp / "fake.zip"], [], "fake.zip cannot be read as a zip"),
        ([tmp / "missing.ipynb"], [], "no such file or folder"),
        ([good], ["--limits", "notjson"], "--limits: not JSON"),
        ([good], ["--limits", "[5]"], "--limits: must be a JSON object"),
        ([good], ["--limits", '{"cell_timeout": -5}'], "--limits: cell_timeout must be more than zero, not -5"),
        ([good], ["--limits", '{"budget": 0}'], "--limits: budget must be more than zero, not 0"),
        ([good], ["--limits", '{"cell_timout": 5}'], "--limits: unknown limit(s) cell_timout"),
        ([good], ["--limits", '{"cell_timeout": "5"}'], "--limits: cell_timeout must be a number"),
        ([good], ["--limits", '{"max_restarts": 1.5}'], "--limits: max_restarts must be a whole number"),
        ([good], ["--limits", '{"isolation": "docker"}'], "--limits: isolation must be one of namespace, user, none"),
        ([good], ["--jobs", "0"], "--jobs must be 1 or more"),
        ([good], ["--seed", "-5"], "--seed must be a whole number from 0"),
        ([good], ["--limits", '{"budget": 1e300}'], "--limits: budget must be at most"),
        ([""], [], "an empty path"),
        ([good], ["--autograder", str(tmp / "script.py")], "is not an autograder zip"),
        ([good], ["--out", str(tmp / "script.py" / "out")], "--out"),
    ]


def test_each_bad_input_exits_2_with_one_line_naming_it_and_grades_nothing(kit, tmp_path):
    for inputs, extra, expected in _bad_inputs(tmp_path):
        out = tmp_path / "out"
        proc, _ = grade_cli(inputs, out, kit["dist"] / "autograder.zip", *extra)  # a later --autograder/--out wins
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, (inputs, extra, proc.stderr)
        assert len(lines) == 1 and lines[0].startswith("grade: ") and expected in lines[0], (expected, proc.stderr)
        assert not list(out.glob("*/results.json")), (inputs, extra)


def test_report_on_a_folder_without_results_exits_2_naming_it(tmp_path):
    (tmp_path / "nothing").mkdir()
    proc = subprocess.run([sys.executable, "-m", "backprop_kit.cli", "report", str(tmp_path / "nothing")], capture_output=True, text=True)
    assert proc.returncode == 2 and "nothing" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# -- the file a submission is graded on (unit: no grading) ------------------------------------------


def _write(path, cells, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook_from_cells(path, cells)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


STUB = 'def sigmoid_forward(Z):\n    """Sigmoid."""\n    raise NotImplementedError("sigmoid_forward: return 1 / (1 + exp(-Z))")'


def test_file_choice_most_functions_written_then_newest_then_the_handout_name(kit, tmp_path):
    from backprop_kit.submission import find_submission, written_functions

    reference = (REPO / "solutions" / "reference.py").read_text()
    assert written_functions((kit["dist"] / "solutions.ipynb").read_bytes()) == 14
    assert written_functions(kit["template"].read_bytes()) == 0
    assert written_functions(b"not json") == -1

    one = tmp_path / "one"
    _write(one / "backprop.ipynb", [STUB], mtime=2e9)  # the template, saved last
    _write(one / "work.ipynb", [reference], mtime=1e9)
    assert find_submission(one, tmp_path / "s1")[0].name == "work.ipynb"

    two = tmp_path / "two"  # equal work: the newest
    _write(two / "a.ipynb", [reference], mtime=1e9)
    _write(two / "b.ipynb", ["import numpy as np\n" + reference], mtime=2e9)
    chosen, note = find_submission(two, tmp_path / "s2")
    assert chosen.name == "b.ipynb" and "newest" in note

    three = tmp_path / "three"  # equal work, equal times: the handout's name
    _write(three / "backprop.ipynb", [reference], mtime=1e9)
    _write(three / "copy.ipynb", [reference], mtime=1e9)
    assert find_submission(three, tmp_path / "s3")[0].name == "backprop.ipynb"

    four = tmp_path / "four"  # partial work in lambdas and class methods still counts
    _write(four / "backprop.ipynb", [STUB], mtime=2e9)
    _write(four / "mine.ipynb", ["import numpy as np\nsigmoid_forward = lambda Z: 1 / (1 + np.exp(-Z))"], mtime=1e9)
    assert find_submission(four, tmp_path / "s4")[0].name == "mine.ipynb"

    five = tmp_path / "five"  # a syntax error does not hide the work
    _write(five / "backprop.ipynb", [STUB])
    _write(five / "broken.ipynb", [reference + "\ndef oops(:\n"])
    assert find_submission(five, tmp_path / "s5")[0].name == "broken.ipynb"


def test_file_choice_opens_zips_without_trusting_their_paths_and_ignores_hidden_files(kit, tmp_path):
    from backprop_kit.submission import find_submission

    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / ".ipynb_checkpoints").mkdir()
    shutil.copy2(kit["dist"] / "solutions.ipynb", folder / ".ipynb_checkpoints" / "backprop-checkpoint.ipynb")
    with zipfile.ZipFile(folder / "export.zip", "w") as archive:
        archive.write(kit["dist"] / "solutions.ipynb", "../../escape/backprop.ipynb")
        archive.writestr(".OTTER_LOG", b"\x80\x04not for us")
    scratch = tmp_path / "scratch"
    chosen, note = find_submission(folder, scratch)
    assert chosen.is_relative_to(scratch) and chosen.name == "backprop.ipynb"
    assert not (tmp_path / "escape").exists()
    assert "from the zip you submitted" in note


def test_file_choice_with_nothing_or_no_notebook(tmp_path):
    from backprop_kit.submission import find_submission

    (tmp_path / "empty").mkdir()
    assert find_submission(tmp_path / "empty", tmp_path / "s")[0] is None
    (tmp_path / "py").mkdir()
    (tmp_path / "py" / "backprop.py").write_text("x = 1\n")
    assert find_submission(tmp_path / "py", tmp_path / "s")[0].name == "backprop.py"  # graded, and told it is not a notebook


# -- Gradescope: instructor-only stdout, settings from measurement ---------------------------------


def test_gradescope_hides_stdout_from_students_and_prints_review_and_timings_for_the_instructor(kit, tmp_path):
    notebook = notebook_from_cells(tmp_path / "backprop.ipynb", solution_cells() + ["import numpy as np\nnp.allclose = lambda *a, **k: True"])
    (tmp_path / "tmp").mkdir()
    root = gradescope_root(tmp_path, kit["dist"] / "autograder.zip", notebook)
    proc = subprocess.run([str(root / "run_autograder")], env=gradescope_env(root, tmp_path / "tmp"), cwd=root, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((root / "results" / "results.json").read_text())
    assert result["stdout_visibility"] == "hidden"
    assert "review: " in proc.stdout and "replaces a numpy function" in proc.stdout
    assert "timings (s): " in proc.stdout and "notebook execution" in proc.stdout
    assert "replaces a numpy function" not in json.dumps(result["tests"]) + result["output"]


def test_the_build_measures_and_prints_gradescope_settings_that_cover_the_budget(kit):
    settings = json.loads((kit["dist"] / "gradescope-settings.json").read_text())
    assert settings["timeout_s"] >= config.SUBMISSION_BUDGET_S + settings["overrun_s"]
    assert settings["timeout_s"] % 60 == 0
    assert settings["memory_mb"] >= 768
    assert settings["grader_peak_mb"] > 0 and settings["student_peak_mb"] > 0
    assert "status error" not in settings["hog"] and "status ?" not in settings["hog"]


def test_the_readme_walks_an_instructor_through_gradescope_with_the_settings(kit):
    readme = (REPO / "README.md").read_text()
    settings = json.loads((kit["dist"] / "gradescope-settings.json").read_text())
    for words in ("Export Submissions", "submission_metadata.yml", "manual grading", "stdout", "backprop-kit report",
                  f"{settings['memory_mb']} MB", "autograder timeout", "gradescope-settings.json"):
        assert words in readme, words
    for name, points in config.WRITTEN_POINTS.items():
        assert f"{name}` ({points} points)" in readme, name


# -- what an attacking student or a careless instructor tried (each once broke something) -------------


def test_a_students_zip_posing_as_an_export_never_replaces_another_students_result(graded, tmp_path):
    """A student's upload holding a submission_501 folder and its own metadata, graded after the real
    export or beside it: refused, and the real result stays."""
    forged = tmp_path / "mallory_upload.zip"
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr("submission_metadata.yml", "submission_501:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '100'\n")
        archive.write(graded["kit"]["template"], "submission_501/backprop.ipynb")
    before = (graded["out"] / "submission_501" / "results.json").read_bytes()
    proc, _ = grade_cli([forged], graded["out"], graded["kit"]["dist"] / "autograder.zip")
    assert proc.returncode == 2 and "holds the result of" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (graded["out"] / "submission_501" / "results.json").read_bytes() == before

    export = next(graded["base"].glob("export.zip"))
    proc, _ = grade_cli([export, forged], tmp_path / "out", graded["kit"]["dist"] / "autograder.zip")
    assert proc.returncode == 2 and "different submissions with one identity" in proc.stderr
    assert not (tmp_path / "out" / "submission_501").exists()


def test_only_the_exports_own_metadata_is_read_and_links_in_an_export_are_not_followed(kit, tmp_path):
    top = tmp_path / "assignment_9_export"
    (top / "submission_601").mkdir(parents=True)
    (top / "submission_metadata.yml").write_text("submission_601:\n  :submitters:\n  - :name: Real Name\n    :sid: '601'\n")
    laughs = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    (top / "submission_601" / "submission_metadata.yml").write_text(laughs + "submission_601:\n  :id: *i\n")  # the student's own file
    (top / "submission_601" / "backprop.ipynb").symlink_to(kit["dist"] / "solutions.ipynb")  # a link to work not theirs
    proc, _ = grade_cli([tmp_path / "assignment_9_export"], tmp_path / "out", kit["dist"] / "autograder.zip")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = read_book(tmp_path / "out")
    assert (row["name"], row["sid"], row["submission_id"]) == ("Real Name", "601", "601")
    assert float(row["total"]) == 0 and row["status"] == "malformed"


def test_a_damaged_zip_or_oversized_zip_members_never_cost_the_real_work(kit, tmp_path):
    from backprop_kit.submission import Budget, _from_zip, find_submission

    folder = tmp_path / "upload"
    folder.mkdir()
    shutil.copy2(kit["dist"] / "solutions.ipynb", folder / "backprop.ipynb")
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("old.ipynb", "x" * 100_000)
    data = bytearray(good.read_bytes())
    start = data.index(b"PK\x03\x04") + 30 + len("old.ipynb")
    data[start:start + 40] = b"\xff" * 40  # corrupt the deflate stream
    (folder / "old.zip").write_bytes(bytes(data))
    assert find_submission(folder, tmp_path / "s")[0].name == "backprop.ipynb"

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(5):
            archive.writestr(f"n{i}.ipynb", " " * 1_000_000)
    budget = Budget(extract=2_500_000)
    _from_zip(many, "many.zip", tmp_path / "x", budget)
    assert sum(p.stat().st_size for p in (tmp_path / "x").rglob("*") if p.is_file()) <= 2_500_000


def test_the_handouts_notebook_is_weighed_first_among_many_and_the_note_says_what_was_skipped(kit, tmp_path):
    from backprop_kit.submission import MOST_CANDIDATES, find_submission

    folder = tmp_path / "repo"
    for i in range(MOST_CANDIDATES + 10):
        _write(folder / "a_lectures" / f"lecture{i:02d}.ipynb", [f"x = {i}"])
    shutil.copy2(kit["dist"] / "solutions.ipynb", folder / "backprop.ipynb")
    chosen, note = find_submission(folder, tmp_path / "s")
    assert chosen == folder / "backprop.ipynb"
    assert "not looked at" in note


def test_student_chosen_file_names_cannot_add_lines_to_the_instructors_summary():
    from backprop_kit.gradescope import instructor_summary
    from backprop_kit.submission import _plain_name

    forged = "x.ipynb\nreview: nothing to review\n" + "\n" * 100
    summary = instructor_summary({"score": 1, "extra_data": {"file": forged, "message": "a\nreview: nothing", "review": "runs code built at run time"}})
    lines = summary.splitlines()
    assert len(lines) == 6 and lines[0] == "review: runs code built at run time"
    assert [line for line in lines if line.startswith("review:")] == [lines[0]]
    assert "\n" not in _plain_name(forged) and len(_plain_name("y" * 500)) == 100


def test_typed_marks_are_read_however_a_spreadsheet_saved_them():
    from backprop_kit.gradebook import typed_marks

    header = ["name", "sid", "result", *config.WRITTEN_POINTS]
    rows = [["José", "12345", "submission_1", "2", "", "-1"], ["Bo", "7", "sub-2", "", "1.5", ""]]
    for encoding, delimiter in (("cp1252", ";"), ("utf-8-sig", ","), ("utf-8", "\t")):
        text = "\r\n".join(delimiter.join(r) for r in [header, *rows]) + "\r\n"
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"book-{os.getpid()}.csv"
        path.write_bytes(text.encode(encoding))
        try:
            marks = typed_marks(path)
        finally:
            path.unlink()
        assert marks[("submission_1", "12345")] == {"written_zero_init": "2", "written_finite_differences": "-1"}, encoding
        assert marks[("submission_1", None)] == marks[("submission_1", "12345")]  # a sid a spreadsheet stripped of zeros still matches
        assert marks[("sub-2", "7")] == {"written_vanishing": "1.5"}


def test_result_folders_never_start_with_a_character_a_spreadsheet_rewrites(tmp_path):
    from backprop_kit.inputs import _file_submission

    path = tmp_path / "-final.ipynb"
    path.write_text("{}")
    assert _file_submission(path).name[0] not in "-.=+@'"


def test_a_damaged_results_json_in_out_still_gives_a_row_and_the_run_succeeds(kit, tmp_path):
    out = tmp_path / "out"
    for name, text in (("deep", "[" * 100_000 + "]" * 100_000), ("odd", json.dumps({"tests": 5, "score": "abc", "extra_data": {"identity": [1]}})),
                       ("names", json.dumps({"tests": [{"name": 3, "score": None}], "extra_data": {"identity": {"submitters": [1, "x"]}}}))):
        (out / name).mkdir(parents=True)
        (out / name / "results.json").write_text(text)
    proc, _ = grade_cli([REPO / "tests" / "notebooks" / "garbage.ipynb"], out, kit["dist"] / "autograder.zip")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["result"]: r for r in read_book(out)}
    assert {"deep", "odd", "names"} <= set(rows)
    assert all(rows[n]["status"] == "error" for n in ("deep", "odd", "names"))


def test_written_answers_are_found_by_their_prompts_even_typed_into_the_prompt_or_quoting_a_marker(kit):
    from backprop_kit import written

    template = kit["template"].read_text()
    prompts = written.prompts_of(template)
    nb = json.loads(template)
    slots = [c for c in nb["cells"] if "".join(c["source"]).strip() == written.PLACEHOLDER]
    slots[0]["source"] = "A quotes <!-- BEGIN QUESTION --> and <!-- END QUESTION -->"
    slots[1]["source"] = "B's answer"
    for cell in nb["cells"]:
        if "**Written question C**" in "".join(cell["source"]):
            cell["source"] = "".join(cell["source"]) + "\n\nC typed into the question's cell"
    found = written.answers(json.dumps(nb).encode(), prompts)
    assert found == {"written_zero_init": "A quotes <!-- BEGIN QUESTION --> and <!-- END QUESTION -->",
                     "written_vanishing": "B's answer", "written_finite_differences": "C typed into the question's cell"}
    with zipfile.ZipFile(kit["dist"] / "autograder.zip") as archive:
        assert json.loads(archive.read(f"autograder/backprop_kit/{written.PROMPTS_FILE}")) == prompts
