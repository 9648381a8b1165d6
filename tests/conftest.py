"""Shared fixtures: the reference module, one kit build per test session, and grading helpers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


@pytest.fixture(scope="session")
def reference():
    from backprop_kit.hidden_checks import reference as load

    return load()


@pytest.fixture(scope="session")
def kit(tmp_path_factory):
    """dist/ and student_template/ built once, into a temporary folder, with the self-grading step."""
    from backprop_kit.build import build

    root = tmp_path_factory.mktemp("kit")
    rows = build(dist=root / "dist", template_dir=root / "template", grade=True)
    return {"dist": root / "dist", "template": root / "template" / "backprop.ipynb", "rows": rows}


def notebook_from_cells(path, cells, kernel="python3", minor=5):
    """Write a notebook whose code cells are `cells` (strings)."""
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    Path(path).write_text(nbformat.writes(nb, version=4) if minor >= 5 else json.dumps(nb))
    return Path(path)


def solution_cells():
    """The cells of a correct submission: the reference's source, as a student would paste it."""
    return [
        "import otter\ngrader = otter.Notebook('backprop.ipynb')",
        (REPO / "solutions" / "reference.py").read_text(),
        "grader.check('sigmoid')",
    ]


def grade_cli(paths, out, autograder, *extra, env=None):
    """Run `backprop-kit grade` as an instructor would; returns (process, gradebook rows by name)."""
    import csv

    cmd = [sys.executable, "-m", "backprop_kit.cli", "grade", *map(str, paths), "--out", str(out), "--autograder", str(autograder), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=1800)
    rows = {}
    book = Path(out) / "gradebook.csv"
    if book.exists():
        with open(book) as handle:
            rows = {Path(r["file"]).name: r for r in csv.DictReader(handle)}
    return proc, rows


def result_path(out, name):
    """OUT/<folder>/results.json of the submission whose file stem (or Gradescope folder) is `name`,
    or a path that does not exist if it is not graded yet."""
    def source_stem(path):
        try:
            return Path(json.loads(path.read_text())["extra_data"]["source"]).stem
        except (OSError, ValueError, KeyError, TypeError):
            return None

    found = [p for p in Path(out).glob("*/results.json") if p.parent.name == name or source_stem(p) == name]
    assert len(found) <= 1, f"several results for {name}: {found}"
    return found[0] if found else Path(out) / name / "results.json"


def results(out, name):
    return json.loads(result_path(out, name).read_text())


# -- headless Chromium (render tests) ----------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # pages are rendered offline: no host name resolves
]  # fmt: skip


def chromium_dom(page, scratch, budget_ms=5000):
    """The DOM of the HTML file `page` after headless Chromium has rendered it (its scripts run for
    up to `budget_ms` of virtual time). Skips when Chromium is not installed."""
    import shutil
    import tempfile

    import pytest

    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if browser is None:
        pytest.skip("headless Chromium is not installed (`make test` installs Debian's `chromium` via scripts/ensure-chromium when run as root with apt-get)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=scratch)
    proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--dump-dom", Path(page).as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-3000:]
    return proc.stdout
