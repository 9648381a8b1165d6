"""The handout runs with exactly what it declares.

A fresh virtual environment gets the handout's requirements.txt, from wheels downloaded once by
`make test` (scripts/ensure-wheelhouse), so no test needs the network. otter-grader is left out at
first: the notebook's first cell must install it (offline here, from the same wheels) and say so.
Then the untouched template runs top to bottom with no uncaught error, and the solved notebook
runs with every check passing.
"""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, chromium_dom

WHEELHOUSE = REPO / ".cache" / "wheelhouse"
QUESTIONS = ("sigmoid", "tanh", "relu", "dense", "losses", "network", "sgd", "train")


def _pins(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _kernel(root, python, env):
    """A kernelspec that runs `python` (the fresh environment's) with `env`."""
    folder = Path(root) / "jupyter" / "kernels" / "handout"
    folder.mkdir(parents=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "handout", "language": "python", "env": env}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return Path(root) / "jupyter"


def _run(nb, folder, jupyter_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    NotebookClient(nb, timeout=600, kernel_name="handout", allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def _text(cell):
    return "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", []))


def _errors(nb):
    return [(c.source.splitlines()[0] if c.source else "", o.get("ename"), o.get("evalue", "")[:200])
            for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


@pytest.fixture(scope="module")
def fresh(kit, tmp_path_factory):
    """The handout unzipped, and a fresh environment with its requirements except otter-grader."""
    if not (WHEELHOUSE / ".complete").exists():
        pytest.skip("the handout's wheels are missing: `make test` downloads them (scripts/ensure-wheelhouse)")
    root = tmp_path_factory.mktemp("handout")
    with zipfile.ZipFile(kit["dist"] / "student.zip") as archive:
        archive.extractall(root / "handout")
    pins = _pins((root / "handout" / "requirements.txt").read_text())
    (root / "without-otter.txt").write_text("\n".join(p for p in pins if not p.startswith("otter-grader")) + "\n")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index", "--find-links", str(WHEELHOUSE),
                    "-r", str(root / "without-otter.txt")], check=True, timeout=1200, capture_output=True)
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return {"root": root, "handout": root / "handout", "python": python, "jupyter": _kernel(root, python, env), "pins": pins}


@pytest.fixture(scope="module")
def first_cell(fresh):
    """The notebook's first cell, run alone in the environment without otter-grader."""
    from nbclient import NotebookClient

    nb = nbformat.read(fresh["handout"] / "backprop.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    one = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first.source + "\nprint('grader ready:', type(grader).__name__)")])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(fresh["jupyter"]))
        NotebookClient(one, timeout=900, kernel_name="handout", allow_errors=True, resources={"metadata": {"path": str(fresh["handout"])}}).execute()
    return one.cells[0]


def test_the_handout_declares_its_packages_pinned_as_the_kit_pins_them(fresh):
    kit_pins = set(_pins((REPO / "requirements.txt").read_text()))
    assert set(fresh["pins"]) <= kit_pins
    assert {p.split("==")[0] for p in fresh["pins"]} == {"otter-grader", "numpy", "matplotlib", "ipykernel", "ipywidgets"}
    readme = (fresh["handout"] / "README.md").read_text()
    for words in ("Jupyter", "VS Code", "Google Colab", "requirements.txt", "Submit", "backprop.ipynb"):
        assert words in readme, words


def test_the_first_cell_installs_the_pinned_otter_where_it_is_missing_and_says_so(fresh, first_cell):
    text = _text(first_cell)
    pinned = next(p for p in fresh["pins"] if p.startswith("otter-grader=="))
    assert f"installing {pinned}" in text, text
    assert "grader ready: Notebook" in text, text
    assert not [o for o in first_cell.outputs if o.output_type == "error"]


def test_the_fresh_environment_has_no_scikit_learn_and_the_digits_load(fresh, first_cell):
    code = "import importlib.util as u; from backprop_lab.helpers import load_digits_split as l; X, Y, x, y = l(); print(u.find_spec('sklearn'), X.shape, x.shape)"
    out = subprocess.run([str(fresh["python"]), "-c", code], cwd=fresh["handout"], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["None", "(64,", "1347)", "(64,", "450)"], out.stderr[-2000:]


def test_the_untouched_template_runs_top_to_bottom_with_only_the_declared_packages(fresh, first_cell, monkeypatch):
    nb = _run(nbformat.read(fresh["handout"] / "backprop.ipynb", as_version=4), fresh["handout"], fresh["jupyter"], monkeypatch)
    assert _errors(nb) == []
    demos = [c for c in nb.cells if c.cell_type == "code" and "demos." in c.source and "import" not in c.source]
    assert demos and all(re.search(r"Fill in `\w+` first", _text(c)) for c in demos), [_text(c)[:200] for c in demos]


def test_the_solved_notebook_passes_every_check_with_only_the_declared_packages(kit, fresh, first_cell, monkeypatch, tmp_path):
    folder = tmp_path / "solved"
    shutil.copytree(fresh["handout"], folder)
    shutil.copy2(kit["dist"] / "solutions.ipynb", folder / "backprop.ipynb")
    nb = _run(nbformat.read(folder / "backprop.ipynb", as_version=4), folder, fresh["jupyter"], monkeypatch)
    assert _errors(nb) == []
    checks = {m.group(1) for c in nb.cells if c.cell_type == "code" for m in re.finditer(r"(\w+) results: All test cases passed!", _text(c))}
    assert checks == set(QUESTIONS)


def test_the_shipped_digits_are_scikit_learns_digits():
    from sklearn.datasets import load_digits

    from backprop_lab.helpers import _digits_table

    digits = load_digits()
    table = _digits_table()
    assert table.shape == (1797, 65)
    assert (table[:, :-1] == digits.data).all() and (table[:, -1] == digits.target).all()


def test_the_student_readme_renders_as_a_page_in_headless_chromium(kit, tmp_path):
    from bs4 import BeautifulSoup
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    with zipfile.ZipFile(kit["dist"] / "student.zip") as archive:
        text = archive.read("README.md").decode()
    page = tmp_path / "README.html"
    page.write_text(f"<!doctype html><html><head><meta charset=utf-8><title>README</title></head><body>{markdown2html_mistune(text)}</body></html>")
    soup = BeautifulSoup(chromium_dom(page, tmp_path), "html.parser")
    headings = [h.get_text(strip=True).rstrip("¶") for h in soup.find_all(["h1", "h2"])]  # nbconvert adds anchor links
    assert headings == ["Backpropagation by hand", "Open it", "Work", "Submit"]
    assert "pip install -r requirements.txt" in " ".join(c.get_text() for c in soup.find_all("code"))
    assert "unzip -o student.zip" in soup.get_text()
