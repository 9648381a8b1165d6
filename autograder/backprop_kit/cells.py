"""The code cells grading runs: read defensively from a notebook's bytes, without the demos left as the handout has them."""

import ast
import json
from pathlib import Path

DEMOS_FILE = "template_demos.json"  # written by the build beside this module in the autograder zip


class Malformed(Exception):
    """The file is not a notebook we can grade; the message tells the student why."""


def read_cells(raw):
    """The code cells' sources of a notebook given as bytes; raises Malformed."""
    if not raw.strip():
        raise Malformed(
            "This file is empty (it has no content at all): the upload may have failed or the notebook was never saved. "
            "In Jupyter, save the notebook, use File → Download (.ipynb) and submit that file."
        )
    try:
        text = raw.decode("utf-8-sig")
        nb = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Malformed(
            "This file is not a Jupyter notebook: its contents are not valid notebook JSON "
            "(it may be incomplete or damaged). In Jupyter, use File → Download (.ipynb) and submit that file."
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise Malformed(
            "This file is JSON but not a Jupyter notebook (it has no list of cells). "
            "Submit the .ipynb file of your assignment notebook."
        )
    if nb.get("nbformat") != 4:
        raise Malformed(f"This notebook has format version {nb.get('nbformat')!r}; save it with Jupyter 4.x or later and submit again.")
    cells = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str) and source.strip():
            cells.append(source)
    if not cells:
        raise Malformed("This notebook has no code: it contains no code cells with anything in them. Did you submit the right file?")
    return cells


def demo_cells(template_text):
    """The handout's demo cells: code cells that name `demos` and define nothing (each statement
    is an expression, or a `with` without `as` holding only expressions). They only show plots
    and tables of the student's functions, so they earn nothing."""
    nb = json.loads(template_text)
    found = []
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and _defines_nothing(source) and "demos" in _names(source):
            found.append(_plain(source))
    return found


def _defines_nothing(source):
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False

    def inert(node):
        if isinstance(node, ast.Expr):
            return not any(isinstance(n, (ast.NamedExpr, ast.Lambda)) for n in ast.walk(node))
        if isinstance(node, ast.With):
            return all(item.optional_vars is None for item in node.items) and all(inert(n) for n in node.body)
        return False

    return bool(body) and all(inert(node) for node in body)


def _names(source):
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}


def _plain(source):
    """A cell's source as compared: trailing spaces and surrounding blank lines do not count."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip()


def _template_demos():
    try:
        return frozenset(json.loads(Path(__file__).with_name(DEMOS_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return frozenset()


def without_unchanged_demos(cells, demos=None):
    """`cells` with each demo cell the student left as the handout has it emptied (numbering is kept)."""
    demos = _template_demos() if demos is None else frozenset(demos)
    return ["" if _plain(cell) in demos else cell for cell in cells]
