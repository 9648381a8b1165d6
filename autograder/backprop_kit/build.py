"""`backprop-kit build`: from the master notebook to everything the course hands out.

Steps, in order (each needs the one before):
1. sync      the master notebook's solution code equals solutions/reference.py;
2. assign    otter assign splits the master into student and solution notebooks;
3. student   the student notebook gets stable cell ids, is scanned for solution code
             and markers, and is written to student_template/ and dist/student.zip;
4. solutions the solution notebook, markers removed, is executed into dist/solutions.ipynb;
5. autograder dist/autograder.zip: run_autograder, setup.sh, pinned requirements,
             the grading package and the reference;
6. grade     the solution must score 100 % and the untouched template 0, through the
             same path as `backprop-kit grade`; otherwise the build fails;
7. settings  two probes (endless loops, a memory hog) are graded, and the Gradescope timeout
             and memory to set are printed (and kept in dist/gradescope-settings.json).
Every archive is written with sorted entries and fixed timestamps, so rebuilding
without changes gives the same bytes.
"""

import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

import backprop_lab
import backprop_kit
from backprop_lab.contract import SIGNATURES

from .leaks import REFERENCE, leaks

REPO = Path(__file__).resolve().parents[2]
MASTER = REPO / "assignment" / "backprop.ipynb"
STUDENT_README = REPO / "assignment" / "README.md"  # ships in the handout as README.md
STUDENT_REQUIREMENTS = REPO / "assignment" / "requirements.txt"  # ships in the handout; pins agree with the kit's
DATA_SUFFIXES = (".npz",)  # data files of the packages (the digits), shipped as bytes
NOTEBOOK = "backprop.ipynb"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope's entry point (it copies this file to /autograder/run_autograder).
# `backprop-kit grade` runs this same script on a temporary root of the same layout.
set -euo pipefail
ROOT="${BACKPROP_KIT_ROOT:-/autograder}"
PYTHON="${BACKPROP_KIT_PYTHON:-/opt/backprop-env/bin/python}"
export PYTHONPATH="$ROOT/source/autograder"
cd "$ROOT"
exec "$PYTHON" -m backprop_kit.gradescope "$ROOT"
"""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the grading image:
# Python 3.11 from conda-forge, then the pinned requirements.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends wget ca-certificates bzip2
ARCH="$(uname -m)"
wget -nv -O /tmp/miniforge.sh "https://github.com/conda-forge/miniforge/releases/download/25.3.1-0/Miniforge3-Linux-${ARCH}.sh"
bash /tmp/miniforge.sh -b -p /opt/miniforge
/opt/miniforge/bin/conda create -y -p /opt/backprop-env python=3.11
/opt/backprop-env/bin/python -m pip install --no-cache-dir -r /autograder/source/requirements.txt
"""


class BuildError(Exception):
    """The build refuses to produce a kit; the message says what to fix."""


def log(text):
    print(f"[build] {text}", flush=True)


# -- 1. sync -------------------------------------------------------------------------------


def _code_only(fn):
    """A function's AST without its docstring and without bare string statements (prompts)."""
    fn = ast.parse(ast.unparse(fn)).body[0]
    fn.body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(getattr(s, "value", None), ast.Constant) and isinstance(s.value.value, str))]
    return ast.dump(fn, include_attributes=False)


def master_solution_functions(master=MASTER):
    """{name: FunctionDef} of every contract function defined in the master's code cells."""
    nb = nbformat.read(master, as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in SIGNATURES:
                found[node.name] = node
    return found


def solution_drift(master=MASTER, reference=REFERENCE):
    """Names of contract functions whose master-notebook code differs from the reference."""
    ref = {n.name: n for n in ast.parse(Path(reference).read_text()).body if isinstance(n, ast.FunctionDef)}
    nb = master_solution_functions(master)
    return [name for name in SIGNATURES if name not in nb or name not in ref or _code_only(nb[name]) != _code_only(ref[name])]


# -- 2. assign -------------------------------------------------------------------------------


def run_otter_assign(work):
    stage = work / "stage"
    stage.mkdir()
    nbformat.write(with_written_points(nbformat.read(MASTER, as_version=4)), stage / NOTEBOOK)
    _copy_package(Path(backprop_lab.__file__).parent, stage / "backprop_lab")
    (stage / "backprop_lab" / "public_hints.json").write_text(public_hints_json())
    out = work / "assign"
    proc = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-pdfs", "--no-run-tests", str(stage / NOTEBOOK), str(out)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BuildError(f"otter assign failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return out


def with_written_points(nb):
    """The master with config.WRITTEN_POINTS written into its hand-graded questions' configs."""
    from backprop_lab import config

    manual = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type != "raw" or not lines or lines[0].strip() != "# BEGIN QUESTION":
            continue
        name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("name:")), None)
        if any(line.replace(" ", "") == "manual:true" for line in lines):
            manual.append(name)
        if name in config.WRITTEN_POINTS:
            lines = [line for line in lines if not line.startswith("points:")] + [f"points: {config.WRITTEN_POINTS[name]}"]
            cell.source = "\n".join(lines)
    # the grader finds each written answer by its place among the notebook's hand-graded questions
    if manual != list(config.WRITTEN_POINTS):
        raise BuildError(f"config.WRITTEN_POINTS must list the master notebook's hand-graded questions in notebook order: "
                         f"the notebook has {manual}, config has {list(config.WRITTEN_POINTS)}")
    return nb


def public_hints_json():
    """The known mistakes' answers to the public checks' calls, for hints in grader.check."""
    from .hidden_checks import reference
    from .hints import public_hint_table

    return json.dumps(public_hint_table(reference()), sort_keys=True, separators=(",", ":")) + "\n"


def _copy_package(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


# -- 3. student -------------------------------------------------------------------------------


def normalise(nb):
    """Stable cell ids and no outputs, so the same master gives the same bytes."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def student_files(assign_out):
    """{archive name: text} of everything in the student handout."""
    root = assign_out / "student"
    nb = normalise(nbformat.read(root / NOTEBOOK, as_version=4))
    files = {NOTEBOOK: nbformat.writes(nb) + "\n"}
    for path in sorted((root / "backprop_lab").rglob("*")):
        if path.suffix in (".py", ".json"):
            files[str(path.relative_to(root))] = path.read_text()
        elif path.suffix in DATA_SUFFIXES:
            files[str(path.relative_to(root))] = path.read_bytes()
    files["README.md"] = STUDENT_README.read_text()
    files["requirements.txt"] = student_requirements()
    return files


def student_requirements():
    """The handout's requirements, pinned as the kit's own requirements.txt pins them."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if version:
            pins[name.lower().replace("_", "-")] = version
    lines = []
    for line in STUDENT_REQUIREMENTS.read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if not name:
            continue
        if pins.get(name.lower().replace("_", "-")) != version:
            raise BuildError(f"{STUDENT_REQUIREMENTS.name} pins {name}=={version or '?'}, the kit's requirements.txt {pins.get(name.lower(), 'nothing')}: make them agree")
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def write_zip(path, files, executable=()):
    """A deterministic zip: sorted names, fixed dates and modes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            data = files[name]
            archive.writestr(info, data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


# -- 4. solutions -------------------------------------------------------------------------------

_PROMPT_BLOCK = re.compile(r'^[ \t]*""" # BEGIN PROMPT\n.*?^[ \t]*""" # END PROMPT\n', re.M | re.S)
_SOLUTION_MARK = re.compile(r"^[ \t]*# (BEGIN SOLUTION( NO PROMPT)?|END SOLUTION)[ \t]*\n?", re.M)


def clean_solution_source(source):
    """Solution code as a reader should see it: prompts and otter markers removed."""
    return _SOLUTION_MARK.sub("", _PROMPT_BLOCK.sub("", source)).rstrip("\n")


@contextlib.contextmanager
def kernel_path(work):
    """Make the kernel named python3 this venv's Python, whatever other kernels are installed."""
    kernels = Path(work) / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3", "language": "python"}
    (kernels / "kernel.json").write_text(json.dumps(spec))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(Path(work) / "jupyter")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


def execute_solutions(assign_out, work):
    from nbclient import NotebookClient

    root = assign_out / "autograder"
    nb = normalise(nbformat.read(root / NOTEBOOK, as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = clean_solution_source(cell.source)
    run_dir = work / "run"
    run_dir.mkdir()
    _copy_package(root / "backprop_lab", run_dir / "backprop_lab")
    nbformat.write(nb, run_dir / NOTEBOOK)  # otter.Notebook reads its tests from the file
    try:
        with kernel_path(work):
            NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}).execute()
    except Exception as exc:  # noqa: BLE001 - any failure here means the solution is broken
        raise BuildError(f"the solution notebook failed to run: {exc}") from None
    failing = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if failing:
        raise BuildError(f"the solution notebook raised errors in: {failing}")
    return nb


# -- 5. autograder -------------------------------------------------------------------------------


def autograder_files(template_text):
    from .cells import DEMOS_FILE, demo_cells
    from .written import PROMPTS_FILE, prompts_of

    files = {
        f"autograder/backprop_kit/{PROMPTS_FILE}": json.dumps(prompts_of(template_text), indent=1) + "\n",
        f"autograder/backprop_kit/{DEMOS_FILE}": json.dumps(demo_cells(template_text), indent=1) + "\n",
        "run_autograder": RUN_AUTOGRADER,
        "setup.sh": SETUP_SH,
        "requirements.txt": (REPO / "requirements.txt").read_text(),
        "solutions/reference.py": REFERENCE.read_text(),
    }
    for package in (backprop_lab, backprop_kit):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            files[f"autograder/{root.name}/{path.relative_to(root)}"] = path.read_text()
        for path in sorted(p for p in root.rglob("*") if p.suffix in DATA_SUFFIXES):
            files[f"autograder/{root.name}/{path.relative_to(root)}"] = path.read_bytes()
    return files


# -- the whole build -------------------------------------------------------------------------------


def build(dist=REPO / "dist", template_dir=REPO / "student_template", grade=True):
    """Run every step; returns the grading table's rows (or [] without grading)."""
    dist, template_dir = Path(dist), Path(template_dir)
    drift = solution_drift()
    if drift:
        raise BuildError(
            f"the master notebook's solution code differs from solutions/reference.py in: {', '.join(drift)}. "
            "Make the two agree (reference.py is the single source), then build again."
        )
    log("solution cells match solutions/reference.py")
    with tempfile.TemporaryDirectory(prefix="bpk-build-") as work:
        work = Path(work)
        assign_out = run_otter_assign(work)
        log("otter assign done")
        student = student_files(assign_out)
        found = leaks(student)
        if found:
            raise BuildError("the student handout would leak solutions: " + "; ".join(f"{f}: {w}" for f, w in found))
        write_zip(dist / "student.zip", student)
        template_dir.mkdir(parents=True, exist_ok=True)
        (template_dir / NOTEBOOK).write_text(student[NOTEBOOK])
        log(f"wrote {dist / 'student.zip'} and {template_dir / NOTEBOOK}")
        solved = execute_solutions(assign_out, work)
        nbformat.write(solved, dist / "solutions.ipynb")
        log(f"wrote {dist / 'solutions.ipynb'} (executed)")
    write_zip(dist / "autograder.zip", autograder_files(student[NOTEBOOK]), executable=("run_autograder", "setup.sh"))
    log(f"wrote {dist / 'autograder.zip'}")
    if not grade:
        return []
    return grade_kit(dist, template_dir)


def grade_kit(dist, template_dir):
    """Grade the solution and the untouched template through `backprop-kit grade`'s path, then
    measure the Gradescope settings (see settings.py) and print them."""
    from .batch import Batch
    from .gradebook import max_score, read_results
    from .settings import measure

    with tempfile.TemporaryDirectory(prefix="bpk-build-grade-") as out:
        _, rows = Batch(dist / "autograder.zip", out, force=True, progress=False).run([dist / "solutions.ipynb", template_dir / NOTEBOOK])
        solution_result = next((r for _, r in read_results(out) if r.get("extra_data", {}).get("file") == "solutions.ipynb"), {})
    by_file = {Path(r["file"]).name: r for r in rows}
    solution, template = by_file.get("solutions.ipynb"), by_file.get(NOTEBOOK)
    print(format_table(rows))
    total = max_score()
    if solution is None or solution["total"] < total or solution["status"] != "ok":
        raise BuildError(f"the solution does not score 100 %: {solution}")
    if template is None or template["total"] != 0 or template["status"] in ("error", "malformed"):
        raise BuildError(f"the untouched template must score 0 and grade cleanly: {template}")
    log("solution scores 100 %, template scores 0")
    settings = measure(dist / "autograder.zip", solution_result)
    print("\n".join(settings.lines()))
    (dist / "gradescope-settings.json").write_text(json.dumps(settings.__dict__, indent=1) + "\n")
    return rows


def format_table(rows):
    from backprop_lab import config

    head = ["file", *config.QUESTIONS, "total", "status"]
    lines = [" ".join(f"{h:>9}" if i else f"{h:<22}" for i, h in enumerate(head))]
    for r in rows:
        cells = [Path(r["file"]).name[:22]] + [f"{r[q]:g}" for q in config.QUESTIONS] + [f"{r['total']:g}/{r['max']}", r["status"]]
        lines.append(" ".join(f"{c:>9}" if i else f"{c:<22}" for i, c in enumerate(cells)))
    return "\n".join(lines)
