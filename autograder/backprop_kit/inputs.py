"""What a batch grades: notebooks, folders, upload zips and Gradescope exports as submissions, each with a stable identity."""

import datetime
import hashlib
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

METADATA = "submission_metadata.yml"  # in a Gradescope export
MOST_METADATA_BYTES = 64 << 20


@dataclass(frozen=True)
class Submission:
    source: Path  # a notebook, an upload zip, or a folder holding one student's files (Gradescope export)
    name: str  # its folder under OUT, from its identity alone: the same every run, never another's
    label: str  # what the gradebook's `file` column shows
    digest: str  # of its content: a changed file is graded again
    identity: dict = field(default_factory=dict)  # from a Gradescope export's submission_metadata.yml


class BadInput(ValueError):
    """An input the batch cannot grade; the message names it and says what to give instead."""


def collect(inputs, workdir):
    """Notebooks, folders of them, upload zips and Gradescope exports (zip or unzipped), as submissions."""
    found = {}
    for raw in inputs:
        path = Path(raw)
        if not str(raw).strip():
            raise BadInput("an empty path was given: name notebooks, folders or zips")
        if not path.exists():
            raise BadInput(f"no such file or folder: {raw}")
        if path.is_dir():
            yml = _metadata_file(path)
            subs = _export_submissions(yml, path) if yml else [_file_submission(p) for p in _notebooks(path)]
            if not subs:
                raise BadInput(f"{raw} holds no notebook (.ipynb): give the folder your students' notebooks are in, or a Gradescope export")
        elif path.suffix.lower() == ".zip":
            subs = _zip_submissions(path, workdir)
        elif path.suffix.lower() == ".ipynb":
            subs = [_file_submission(path)]
        else:
            raise BadInput(f"{raw} is not a notebook: give .ipynb files, folders holding them, or zips (a Gradescope export or a student's upload)")
        for sub in subs:
            other = found.setdefault(sub.name, sub)
            if other.digest != sub.digest:
                raise BadInput(f"{other.label} and {sub.label} are different submissions with one identity ({sub.name}): grade them into separate --out folders")
    return list(found.values())


def _zip_submissions(path, workdir):
    """A Gradescope export zip (submission_metadata.yml at its top): one submission per folder.
    Any other zip is one student's upload (e.g. otter's grader.export()): it is never unpacked
    here; the grader takes its notebook out, as on Gradescope."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not any(n.split("/")[-1] == METADATA and n.count("/") <= 1 for n in names):
                if not any(n.lower().endswith(".ipynb") for n in names):
                    raise BadInput(f"{path} holds no notebook (.ipynb) and is not a Gradescope export (no {METADATA})")
                return [_file_submission(path)]
            into = Path(tempfile.mkdtemp(prefix="export-", dir=workdir))
            for member in archive.infolist():
                target = (into / member.filename).resolve()
                if not str(target).startswith(str(into.resolve()) + os.sep):
                    raise BadInput(f"{path}: refusing the unsafe path {member.filename!r} in the export")
            archive.extractall(into)
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - not a zip, damaged, encrypted: one line, not a traceback
        raise BadInput(f"{path} cannot be read as a zip ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'damaged'})") from None
    return _export_submissions(_metadata_file(into), path)


def _metadata_file(root):
    """The export's submission_metadata.yml: at the top, or in the one folder Gradescope wraps it in."""
    for candidate in [root / METADATA, *sorted(root.glob(f"*/{METADATA}"))]:
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


def _notebooks(folder):
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _file_submission(path):
    resolved = path.resolve()
    stem = re.sub(r"[^\w.-]", "_", path.stem)[:60].lstrip("-.") or "submission"
    return Submission(path, f"{stem}-{_digest(str(resolved).encode())[:8]}", str(resolved), _digest(resolved.read_bytes()))


def _export_submissions(yml, shown):
    """One submission per submission_<id> folder beside the export's metadata file, with its
    submitters. Only that file is read: students' own files never speak for the export."""
    metadata = _read_metadata(yml)
    where = shown.name if shown.is_file() else str(shown.resolve())
    subs = []
    for folder in sorted(p for p in yml.parent.glob("submission_*") if p.is_dir() and not p.is_symlink()):
        content = sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())
        digest = _digest(b"".join(str(p.relative_to(folder)).encode() + b"\0" + _file_digest(p).encode() for p in content))
        subs.append(Submission(folder, folder.name, f"{where}:{folder.name}", digest, metadata.get(folder.name, {})))
    return subs


def _file_digest(path):
    return _digest(os.readlink(path).encode()) if path.is_symlink() else _digest(path.read_bytes())


def _read_metadata(path):
    """{folder name: identity} from Gradescope's submission_metadata.yml (keys like `:submitters:`).
    Only scalars are taken from it."""
    import yaml

    try:
        if path.stat().st_size > MOST_METADATA_BYTES:
            raise BadInput(f"{path.name} is larger than {MOST_METADATA_BYTES >> 20} MB; export the submissions again")
        data = yaml.safe_load(path.read_text(errors="replace")) or {}
    except (yaml.YAMLError, OSError) as exc:
        raise BadInput(f"{path.name} in the export cannot be read ({str(exc).splitlines()[0]}); export the submissions again") from None

    def plain(mapping):
        return {str(k).lstrip(":"): v for k, v in mapping.items()} if isinstance(mapping, dict) else {}

    def scalar(value):
        return str(value) if isinstance(value, (str, int, float, datetime.date)) and not isinstance(value, bool) else ""

    found = {}
    for folder, entry in (data.items() if isinstance(data, dict) else ()):
        entry = plain(entry)
        people = entry.get("submitters") if isinstance(entry.get("submitters"), list) else []
        submitters = [{key: scalar(plain(person).get(key)) for key in ("name", "sid", "email")} for person in people[:50] if isinstance(person, dict)]
        found[str(folder)] = {"submitters": submitters, "submission_id": scalar(entry.get("id")) or str(folder).rsplit("_", 1)[-1],
                              "submitted_at": scalar(entry.get("created_at"))}
    return found


def _digest(data):
    return hashlib.sha256(data).hexdigest()
