"""OUT/gradebook.csv and OUT/written/ as a view of every result in OUT: one row per student, typed written marks carried over."""

import csv
import json
import os
import shutil
from pathlib import Path

from backprop_lab import config

from .results import empty_result, question_scores, strip_controls
from .written import write_pages

RESULTS = "results.json"
GRADEBOOK = "gradebook.csv"


def write_gradebook(out_dir, say=lambda text: None):
    """OUT/gradebook.csv rebuilt from every result in OUT (a view, never a ledger), one row per
    student (each member of a group submission), and OUT/written/ from the same results.
    Marks typed into the written questions' columns are carried over; the gradebook it
    replaces is kept as gradebook.csv.bak. Written atomically."""
    graded = read_results(out_dir)
    book = out_dir / GRADEBOOK
    marks = typed_marks(book)
    rows, shown = [], []
    for folder, result in graded:
        try:
            people, common = _row(folder, result)
            label = who(result, folder)
        except Exception as exc:  # noqa: BLE001 - a results.json the grader did not write: still a row
            result = empty_result("error", f"{folder}/{RESULTS} is not a result the grader wrote ({type(exc).__name__}): grade it again with --force")
            (people, common), label = _row(folder, result), folder
        shown.append((label, result))
        for person in people:
            row = {"name": person.get("name", ""), "sid": person.get("sid", ""), "email": person.get("email", ""), **common}
            row = {k: plain_cell(v) if isinstance(v, str) else v for k, v in row.items()}
            typed = marks.get((folder, row["sid"])) or marks.get((folder, None)) or {}
            row.update({q: typed.get(q, "") for q in config.WRITTEN_POINTS})  # the instructor's own text, as typed
            rows.append(row)
    used = {(r["result"], r["sid"]) for r in rows} | {(r["result"], None) for r in rows}
    unmatched = [key for key in marks if key not in used]
    if book.exists():
        shutil.copy2(book, out_dir / (GRADEBOOK + ".bak"))
    if unmatched:
        say(f"warning: typed marks of {len(unmatched)} row(s) of {book} match no result; the old gradebook is kept as {GRADEBOOK}.bak")
    tmp = out_dir / (GRADEBOOK + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=GRADEBOOK_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, book)
    write_pages(out_dir, shown)
    return rows


def _row(folder, result):
    """(submitters, the columns every submitter's row shares) of one result."""
    extra = result.get("extra_data", {}) if isinstance(result.get("extra_data"), dict) else {}
    identity = extra.get("identity") if isinstance(extra.get("identity"), dict) else {}
    people = [p for p in identity.get("submitters") or [] if isinstance(p, dict)] or [{}]
    scores = question_scores(result)
    common = {
        "submission_id": str(identity.get("submission_id", "")),
        "submitted_at": str(identity.get("submitted_at", "")),
        "file": str(extra.get("source", folder)),
        **{q: round(float(v), 4) for q, v in scores.items()},
        "total": round(float(result.get("score", 0.0) or 0.0), 4),
        "max": max_score(),
        "status": str(extra.get("status", "error")),
        "message": str(extra.get("message", "")),
        # what the instructor should look at (attempts to fool the grader): its own column, which
        # no text of the student's can spill into; never in results' output
        "review": str(extra.get("review", "")),
        "seconds": extra.get("wall_seconds", extra.get("seconds", "")),
        "result": folder,
    }
    return [{k: str(p.get(k, "")) for k in ("name", "sid", "email")} for p in people], common


GRADEBOOK_COLUMNS = ["name", "sid", "email", "submission_id", "submitted_at", "file", *config.QUESTIONS, "total", "max",
                     *config.WRITTEN_POINTS, "status", "message", "review", "seconds", "result"]


def read_results(out_dir):
    """[(folder name, result)] for every OUT/<folder>/results.json, by folder name. A results.json
    that cannot be read still gives a row (status error), so nothing graded vanishes unseen."""
    graded = []
    for path in sorted(Path(out_dir).glob(f"*/{RESULTS}")):
        try:
            result = json.loads(path.read_text())
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
        except Exception as exc:  # noqa: BLE001 - damaged, too deep, unreadable
            result = empty_result("error", f"{path} could not be read ({type(exc).__name__}): grade it again with --force")
        graded.append((path.parent.name, result))
    return graded


def typed_marks(book):
    """{(result folder, sid): {written question: mark}} typed into an existing gradebook, also under
    (result folder, None). Read as a spreadsheet may have saved it: UTF-8 or Windows-1252, with
    commas, semicolons or tabs."""
    try:
        raw = Path(book).read_bytes()
    except OSError:
        return {}
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    header = text.splitlines()[0] if text else ""
    delimiter = max(",;\t", key=header.count)
    marks = {}
    try:
        for row in csv.DictReader(text.splitlines(), delimiter=delimiter):
            typed = {q: row[q].strip() for q in config.WRITTEN_POINTS if (row.get(q) or "").strip()}
            if typed and row.get("result"):
                marks[(row["result"], (row.get("sid") or "").strip())] = typed
                marks.setdefault((row["result"], None), typed)
    except csv.Error:
        return {}
    return marks


def who(result, folder):
    extra = result.get("extra_data", {}) if isinstance(result.get("extra_data"), dict) else {}
    people = (extra.get("identity") or {}).get("submitters") or []
    names = "; ".join(f"{p.get('name', '')} ({p.get('sid', '')})" for p in people if isinstance(p, dict))
    return f"{names}: {extra.get('source', folder)}" if names else str(extra.get("source", folder))


def plain_cell(text):
    """Student-controlled text made safe for a spreadsheet: no terminal escapes or control
    characters, and nothing a spreadsheet would evaluate (a cell starting with =, +, -, @,
    a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets)."""
    text = strip_controls(text).replace("\t", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def max_score():
    return sum(public + hidden for public, hidden in config.POINTS.values())
