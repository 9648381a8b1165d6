"""Demo cells left as the handout has them are not run while grading: they define nothing and earn
nothing. The build ships the template's demo cells in the autograder; grading empties the submitted
cells that equal one of them, and runs every other cell, edited demos included."""

import json
import zipfile

import nbformat
import pytest

from backprop_kit.batch import Batch
from backprop_kit.cells import DEMOS_FILE, demo_cells, without_unchanged_demos

SABOTAGE = (
    "def _refuse(*args, **kwargs):\n"
    "    raise RuntimeError('a demo cell ran')\n"
    "demos.once_filled_in = _refuse\n"
)


def _code(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_the_autograder_ships_exactly_the_templates_demo_cells(kit):
    template = nbformat.read(kit["template"], as_version=4)
    with zipfile.ZipFile(kit["dist"] / "autograder.zip") as archive:
        shipped = json.loads(archive.read(f"autograder/backprop_kit/{DEMOS_FILE}"))
    # an independent reading of the handout: its demo cells are the ones that open `with demos.once_filled_in():`
    by_text = [s.strip() for s in _code(template) if s.lstrip().startswith("with demos.once_filled_in():")]
    assert len(by_text) >= 6
    assert shipped == by_text


def test_a_cell_that_defines_or_imports_anything_is_never_a_demo():
    cells = [
        "from backprop_lab import demos",
        "with demos.once_filled_in():\n    demos.xor_experiment(train, forward)",
        "result = demos.xor_experiment(train, forward)",
        "with demos.once_filled_in() as d:\n    d.run()",
        "with demos.once_filled_in():\n    W = demos.weights()",
        "demos.run(lambda: 1)",
        "print(len([1, 2]))",  # inert, but no demo
        "with demos.once_filled_in():\n    demos.digits_experiment(train, forward)  \n\n",
    ]
    template = nbformat.v4.new_notebook()
    template.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    found = demo_cells(nbformat.writes(template))
    assert found == [cells[1], cells[7].rstrip()]


def test_only_unchanged_demos_are_emptied_and_the_numbering_of_cells_is_kept():
    demo = "with demos.once_filled_in():\n    demos.xor_experiment(train, forward)"
    cells = ["import numpy as np", demo + "   \n", demo.replace("train", "my_train"), demo + "\nx = 1", demo]
    assert without_unchanged_demos(cells, [demo]) == ["import numpy as np", "", cells[2], cells[3], ""]


@pytest.fixture(scope="module")
def graded_with_sabotaged_demos(kit, tmp_path_factory):
    """The solved notebook with `demos.once_filled_in` made to raise, and one demo cell edited by a comment."""
    folder = tmp_path_factory.mktemp("demos")
    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    demo_at = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.lstrip().startswith("with demos.once_filled_in():")]
    edited = demo_at[-1]
    nb.cells[edited].source += "  # my own note"
    nb.cells.insert(demo_at[0], nbformat.v4.new_code_cell(SABOTAGE))
    path = folder / "sabotaged.ipynb"
    nbformat.write(nb, path)
    out = folder / "out"
    Batch(kit["dist"] / "autograder.zip", out, jobs=1, seed=5, progress=False).run([path])
    result = json.loads(next(out.glob("*/results.json")).read_text())
    return result, nb.cells[edited + 1].source


def test_unchanged_demo_cells_do_not_run_while_grading_and_an_edited_one_does(graded_with_sabotaged_demos):
    result, edited_source = graded_with_sabotaged_demos
    problems = result["output"].split("Notebook cells with problems:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(problems) == 1, result["output"]  # only the edited demo ran (and met the sabotage)
    assert "RuntimeError: a demo cell ran" in problems[0]
    assert edited_source.strip().splitlines()[0].strip()[:20] in problems[0]


def test_skipping_demos_costs_no_points(graded_with_sabotaged_demos):
    result, _ = graded_with_sabotaged_demos
    assert result["score"] == sum(t["max_score"] for t in result["tests"])
