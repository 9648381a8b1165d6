"""What to grade in an upload: the notebook with the most assignment functions written, then the newest.

A student may upload several notebooks (the untouched template beside the real work), or the zip
that otter's `grader.export()` makes. Zips are opened, never run: only their notebooks are taken,
each bounded in size. Files are only read here; nothing a student uploaded is executed.
"""

import ast
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from backprop_lab import config
from backprop_lab.contract import SIGNATURES

PREFERRED_NAME = "backprop.ipynb"
MOST_CANDIDATES = 50  # notebooks weighed per submission (the rest, by name, are not looked at)
MOST_ZIP_MEMBERS = 1000
MOST_CELL_PARSED = 200_000  # characters: a longer cell's functions are counted by their `def` lines
PARSE_BUDGET = 4_000_000  # characters parsed as code per upload; beyond that, `def` lines are counted
EXTRACT_BUDGET = 2 * (config.NOTEBOOK_SIZE_LIMIT_MB << 20)  # bytes taken out of all the upload's zips
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)


@dataclass
class Candidate:
    path: Path  # where the notebook can be read (inside `scratch` if it came from a zip)
    shown: str  # its name as the student knows it: "backprop.ipynb" or "export.zip/backprop.ipynb"
    written: int  # assignment functions with a body of their own
    mtime: float


def find_submission(folder, scratch):
    """(file to grade, note for the student or None). Notebooks inside zips are extracted into
    `scratch`. With no notebook at all, another file is returned so that its grading says why."""
    folder, scratch = Path(folder), Path(scratch)
    # a link could lead the grader (root on Gradescope) to its own files: only real files count
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and not _hidden(p.relative_to(folder)))
    likely = sorted((p for p in files if p.suffix.lower() in (".ipynb", ".zip")), key=lambda p: _likeliness(p.relative_to(folder)))
    budget = Budget()
    candidates = []
    for index, path in enumerate(likely[:MOST_CANDIDATES]):  # the likeliest first: the handout's name, then shallow
        shown = _plain_name(str(path.relative_to(folder)))
        if path.suffix.lower() == ".ipynb":
            candidates.append(_candidate(path, shown, path.stat().st_mtime, budget))
        else:
            candidates.extend(_from_zip(path, shown, scratch / f"zip{index}", budget))
    if not candidates:
        if not files:
            return None, "The submission is empty: upload your notebook (.ipynb)."
        return files[0], (f"No notebook (.ipynb) was submitted; graded {_plain_name(files[0].name)}." if len(files) > 1 else None)
    weighed = candidates[:MOST_CANDIDATES]
    chosen = max(weighed, key=lambda c: (c.written, c.mtime, Path(c.shown).name == PREFERRED_NAME, [-ord(ch) for ch in c.shown]))
    others = [c for c in weighed if c is not chosen]
    skipped = len(likely) - MOST_CANDIDATES
    if not others:
        return chosen.path, (f"Graded {chosen.shown} (from the zip you submitted)." if chosen.path.is_relative_to(scratch) else None)
    also = ", ".join(f"{c.shown} ({_count(c.written)})" for c in others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
    return chosen.path, (f"Several notebooks were submitted. Graded {chosen.shown}: it has the most assignment functions written "
                         f"({_count(chosen.written)}{_tie_note(chosen, others)}). Not graded: {also}."
                         + (f" {skipped} more files were not looked at: submit only your assignment notebook." if skipped > 0 else ""))


class Budget:
    """What weighing an upload may cost in all: bytes parsed as code and bytes taken out of zips."""

    def __init__(self, parse=PARSE_BUDGET, extract=EXTRACT_BUDGET):
        self.parse, self.extract = parse, extract

    def take_parse(self, n):
        self.parse -= n
        return self.parse >= 0


def written_functions(raw, budget=None):
    """How many of the assignment's functions a notebook (bytes) gives a body of their own: a `def`
    that does more than raise NotImplementedError, or an assignment to the name. -1 if unreadable."""
    try:
        cells = json.loads(raw.decode("utf-8-sig")).get("cells", [])
        sources = ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                   for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except Exception:  # noqa: BLE001 - any damage: not a notebook to prefer
        return -1
    budget = budget or Budget()
    names = set()
    for source in sources:
        tree = None
        if len(source) <= MOST_CELL_PARSED and budget.take_parse(len(source)):
            try:
                tree = ast.parse(source)
            except Exception:  # noqa: BLE001 - a syntax error (or too deep): count its defs by eye
                tree = None
        if tree is None:
            names.update(n for n in _DEF.findall(source) if n in SIGNATURES)
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in SIGNATURES and not _stub(node):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name) and t.id in SIGNATURES)
    return len(names)


def _stub(node):
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]  # docstrings
    if not body:
        return True
    if all(isinstance(s, ast.Pass) for s in body):
        return True
    first = body[0]
    if len(body) == 1 and isinstance(first, ast.Raise) and first.exc is not None:
        raised = first.exc.func if isinstance(first.exc, ast.Call) else first.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


def _candidate(path, shown, mtime, budget):
    try:
        with open(path, "rb") as handle:
            raw = handle.read((config.NOTEBOOK_SIZE_LIMIT_MB << 20) + 1)
    except OSError:
        raw = b""
    return Candidate(path, shown, _weigh(raw, budget), mtime)


def _weigh(raw, budget):
    if len(raw) <= config.NOTEBOOK_SIZE_LIMIT_MB << 20:
        return written_functions(raw, budget)
    # too large to grade: weighed by its `def` lines, so that real work still wins and is told why it cannot be graded
    return len({n for n in re.findall(r"def\s+(\w+)\s*\(", raw.decode("utf-8", "replace")) if n in SIGNATURES})


def _from_zip(archive, shown, into, budget):
    """The notebooks of a zip (otter's export, or any), extracted into `into` with bounded sizes.
    A zip that cannot be read, or a member that cannot, is passed over: other files still count."""
    limit = config.NOTEBOOK_SIZE_LIMIT_MB << 20
    found = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist()[:MOST_ZIP_MEMBERS]
                       if not m.is_dir() and m.filename.lower().endswith(".ipynb") and not _hidden(Path(m.filename))]
            for index, member in enumerate(sorted(members, key=lambda m: _likeliness(Path(m.filename)))[:MOST_CANDIDATES]):
                if budget.extract <= 0:
                    break
                try:
                    with zf.open(member) as source:
                        raw = source.read(min(limit + 1, budget.extract))  # never trust the size the zip declares
                except Exception:  # noqa: BLE001 - damaged, encrypted, unsupported: zlib, lzma and zipfile errors alike
                    continue
                budget.extract -= len(raw)
                name = re.sub(r"[^\w.-]", "_", Path(member.filename).name)[-100:].lstrip(".-") or "notebook.ipynb"
                target = into / str(index) / name  # never a path the zip chose, nor an odd name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(raw)
                found.append(Candidate(target, f"{shown}/{_plain_name(member.filename)}", _weigh(raw, budget), _zip_time(member)))
    except Exception:  # noqa: BLE001 - not a zip we can open: graded as an ordinary file if nothing else is there
        return found
    return found


def _zip_time(member):
    import calendar

    try:
        return float(calendar.timegm((*member.date_time, 0, 0, 0)))
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _likeliness(relative):
    """Sort key: the handout's name first, then the shallowest, then by name."""
    return (relative.name != PREFERRED_NAME, len(relative.parts), str(relative))


def _plain_name(name, most=100):
    """A file name as shown in a note: printable, one line, bounded (the student chose it)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return text if len(text) <= most else text[: most - 3] + "..."


def _hidden(relative):
    return any(part.startswith(".") and part not in (".", "..") or part == "__MACOSX" for part in relative.parts)


def _count(written):
    return "unreadable" if written < 0 else f"{written} of {len(SIGNATURES)} functions"


def _tie_note(chosen, others):
    tied = [c for c in others if c.written == chosen.written]
    if not tied:
        return ""
    return ", and it is the newest of those" if all(c.mtime < chosen.mtime for c in tied) else f", as many as {tied[0].shown}; chosen by name"
