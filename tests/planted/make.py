"""How the catalogue's bugs are made: `bug` assembles an entry, `plant` edits the reference."""

import ast
import re
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "solutions" / "reference.py"


def bug(question, mistake, *sources, named_above, mentions, hint, setup=None):
    """One entry of BUGS (the fields are described in __init__.py); each source is a complete
    `def`, filed under the name it defines."""
    entry = {
        "question": question,
        "mistake": mistake,
        "functions": {re.match(r"\s*def (\w+)", source).group(1): source for source in sources},
        "named_above": named_above,
        "mentions": mentions,
        "hint": hint,
    }
    if setup is not None:
        entry["setup"] = setup
    return entry


def plant(name, *edits):
    """The reference's `name` with each (old, new) edit made: one bug planted in otherwise
    correct code. Each `old` must occur exactly once, so a change to the reference that
    would silently disarm a bug fails here instead."""
    text = REFERENCE.read_text()
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    source = ast.get_source_segment(text, node) + "\n"
    for old, new in edits:
        assert source.count(old) == 1, f"{name}: {old!r} occurs {source.count(old)} times in the reference"
        source = source.replace(old, new)
    return source
