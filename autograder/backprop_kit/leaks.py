"""What must never reach a student, found in the handout's files: solution markers and the reference's code lines."""

import ast
import re
from pathlib import Path

import nbformat

REFERENCE = Path(__file__).resolve().parents[2] / "solutions" / "reference.py"
# otter's own "<!-- BEGIN QUESTION -->" comments around hand-graded questions are not markers
MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN PROMPT|END PROMPT|#\s*BEGIN QUESTION|BEGIN TESTS|ASSIGNMENT CONFIG|#\s*SOLUTION\b")
GIVEN_LINES = {"rng = np.random.default_rng(seed)"}  # the contract itself states it


def reference_lines():
    """The reference's non-trivial code lines: none may appear in a student file."""
    lines = set()
    for node in ast.parse(REFERENCE.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            for stmt in ast.walk(node):
                if isinstance(stmt, (ast.Assign, ast.Return, ast.AugAssign)):
                    text = ast.unparse(stmt)
                    if len(text) >= 25:
                        lines.add(text)
    return lines - GIVEN_LINES


def leaks(files):
    """[(file, what)] for every solution marker or reference code line in the given texts."""
    found = []
    ref = reference_lines()
    for name, text in files.items():
        if isinstance(text, bytes):  # data (the digits)
            continue
        marker = MARKERS.search(text)
        if marker:
            found.append((name, f"marker {marker.group(0)!r}"))
        code = text
        if name.endswith(".ipynb"):
            code = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "code")
        normalised = {ast.unparse(s) for s in _statements(code)}
        found.extend((name, f"reference code {line!r}") for line in sorted(ref & normalised))
    return found


def _statements(code):
    try:
        return [n for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.Assign, ast.Return, ast.AugAssign))]
    except SyntaxError:
        return []
