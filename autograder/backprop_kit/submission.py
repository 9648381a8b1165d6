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
from backprop_lab.checking import SIGNATURES

PREFERRED_NAME = "backprop.ipynb"
MOST_CANDIDATES = 50  # notebooks weighed per submission (the rest, by name, are not looked at)
MOST_ZIP_MEMBERS = 1000
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
    candidates = [_candidate(p, str(p.relative_to(folder)), p.stat().st_mtime) for p in files if p.suffix.lower() == ".ipynb"]
    for index, archive in enumerate(p for p in files if p.suffix.lower() == ".zip"):
        candidates.extend(_from_zip(archive, str(archive.relative_to(folder)), scratch / f"zip{index}"))
    if not candidates:
        if not files:
            return None, "The submission is empty: upload your notebook (.ipynb)."
        return files[0], (f"No notebook (.ipynb) was submitted; graded {files[0].name}." if len(files) > 1 else None)
    weighed = sorted(candidates, key=lambda c: c.shown)[:MOST_CANDIDATES]
    chosen = max(weighed, key=lambda c: (c.written, c.mtime, Path(c.shown).name == PREFERRED_NAME, [-ord(ch) for ch in c.shown]))
    others = [c for c in weighed if c is not chosen]
    if not others:
        return chosen.path, (f"Graded {chosen.shown} (from the zip you submitted)." if chosen.path.is_relative_to(scratch) else None)
    also = ", ".join(f"{c.shown} ({_count(c.written)})" for c in others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
    return chosen.path, (f"Several notebooks were submitted. Graded {chosen.shown}: it has the most assignment functions written "
                         f"({_count(chosen.written)}{_tie_note(chosen, others)}). Not graded: {also}.")


def written_functions(raw):
    """How many of the assignment's functions a notebook (bytes) gives a body of their own: a `def`
    that does more than raise NotImplementedError, or an assignment to the name. -1 if unreadable."""
    try:
        cells = json.loads(raw.decode("utf-8-sig")).get("cells", [])
        sources = ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                   for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except Exception:  # noqa: BLE001 - any damage: not a notebook to prefer
        return -1
    names = set()
    for source in sources:
        try:
            tree = ast.parse(source) if len(source) < 1_000_000 else None
        except Exception:  # noqa: BLE001 - a cell with a syntax error (or too deep): count its defs by eye
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


def _candidate(path, shown, mtime):
    try:
        with open(path, "rb") as handle:
            raw = handle.read((config.NOTEBOOK_SIZE_LIMIT_MB << 20) + 1)
    except OSError:
        raw = b""
    written = written_functions(raw) if len(raw) <= config.NOTEBOOK_SIZE_LIMIT_MB << 20 else -1
    return Candidate(path, shown, written, mtime)


def _from_zip(archive, shown, into):
    """The notebooks of a zip (otter's export, or any), extracted into `into` with bounded sizes."""
    limit = config.NOTEBOOK_SIZE_LIMIT_MB << 20
    found = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist()[:MOST_ZIP_MEMBERS]
                       if not m.is_dir() and m.filename.lower().endswith(".ipynb") and not _hidden(Path(m.filename))]
            for index, member in enumerate(members[:MOST_CANDIDATES]):
                with zf.open(member) as source:
                    raw = source.read(limit + 1)  # never trust the size the zip declares
                target = into / str(index) / Path(member.filename).name  # never a path the zip chose
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(raw[: limit + 1])
                mtime = _zip_time(member)
                found.append(Candidate(target, f"{shown}/{member.filename}", written_functions(raw) if len(raw) <= limit else -1, mtime))
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError, EOFError):
        return []  # not a zip we can open: graded as an ordinary file if nothing else is there
    return found


def _zip_time(member):
    import calendar

    try:
        return float(calendar.timegm((*member.date_time, 0, 0, 0)))
    except (TypeError, ValueError, OverflowError):
        return 0.0


def _hidden(relative):
    return any(part.startswith(".") and part not in (".", "..") or part == "__MACOSX" for part in relative.parts)


def _count(written):
    return "unreadable" if written < 0 else f"{written} of {len(SIGNATURES)} functions"


def _tie_note(chosen, others):
    tied = [c for c in others if c.written == chosen.written]
    if not tied:
        return ""
    return ", and it is the newest of those" if all(c.mtime < chosen.mtime for c in tied) else f", as many as {tied[0].shown}; chosen by name"
