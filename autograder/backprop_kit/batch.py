"""`backprop-kit grade`: grade many submissions with the built autograder zip.

Every submission is graded exactly as Gradescope grades it: a temporary root
holds source/ (the unpacked zip), submission/ (the student's files) and
results/, and the zip's own run_autograder script runs there. Submissions run
in parallel; each result lands in OUT/<name>/results.json as soon as it is
done, so an interrupted batch keeps everything finished, and a re-run skips
what is graded and unchanged (unless --force). <name> comes from the submission's
identity: its Gradescope submission id, or its path. OUT/gradebook.csv and
OUT/written/ are rebuilt from every result in OUT after each run.
"""

import csv
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from backprop_lab import config

from .grade import empty_result, question_scores, strip_controls, write_results
from .sandbox import SANDBOX_PREFIX, Limits, owned_temp_dir, remove_tree, sweep_stale_dirs
from .written import write_pages

RESULTS = "results.json"
GRADEBOOK = "gradebook.csv"
METADATA = "submission_metadata.yml"  # in a Gradescope export
MOST_METADATA_BYTES = 64 << 20
WORK_PREFIX = "bpk-batch-"  # the batch's temp folder: the unpacked autograder (hidden tests, reference) and roots
GRACE_S = 120.0  # on top of the submission budget before the batch gives up on a grader


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


class Batch:
    """Grades submissions through run_autograder; safe to interrupt."""

    def __init__(self, autograder_zip, out_dir, jobs=None, force=False, seed=None, limits=None, progress=True):
        self.autograder_zip = Path(autograder_zip)
        if not self.autograder_zip.is_file():
            raise FileNotFoundError(f"{autograder_zip} not found: run `make build` first")
        if not zipfile.is_zipfile(self.autograder_zip) or "run_autograder" not in zipfile.ZipFile(self.autograder_zip).namelist():
            raise BadInput(f"{autograder_zip} is not an autograder zip (no run_autograder in it): run `make build` and give dist/autograder.zip")
        self.out_dir = Path(out_dir)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"--out {out_dir} cannot be made a folder ({exc.strerror}): give a folder (it is created if missing)") from None
        self.jobs = max(1, int(jobs or usable_cores()))
        self.force = force
        self.seed = seed
        self.limits = limits or Limits.from_env()
        self.progress = progress
        self.running = set()
        self.lock = threading.Lock()
        self.stopping = False

    def run(self, inputs):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # left behind by a SIGKILLed batch or grader
        sweep_stale_dirs(WORK_PREFIX, max_age=2 * (self.limits.budget + GRACE_S))
        sweep_stale_dirs(SANDBOX_PREFIX, max_age=2 * self.limits.budget)
        work = owned_temp_dir(WORK_PREFIX)
        try:
            source = work / "source"
            with zipfile.ZipFile(self.autograder_zip) as archive:
                archive.extractall(source)
            for script in ("run_autograder", "setup.sh"):
                if (source / script).exists():
                    (source / script).chmod(0o755)
            submissions = collect(inputs, work)
            if not submissions:
                raise BadInput("nothing to grade: give notebooks (.ipynb), folders holding them, or a Gradescope export zip")
            todo = [s for s in submissions if self.force or not self._done(s)]  # _done refuses another source's folder
            self._say(f"{len(submissions)} submission(s), {len(submissions) - len(todo)} already graded, {self.jobs} job(s)")
            done = len(submissions) - len(todo)
            try:
                with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                    futures = {pool.submit(self._grade_one, s, source, work): s for s in todo}
                    try:
                        for future in as_completed(futures):
                            result = future.result()
                            done += 1
                            self._tick(done, len(submissions), futures[future], result)
                    except KeyboardInterrupt:
                        self.stopping = True
                        for future in futures:
                            future.cancel()
                        self._stop_running()
                        raise
            finally:
                rows = self.write_gradebook()
        finally:
            remove_tree(work)
        return submissions, rows

    def _done(self, sub):
        """Whether OUT already holds this submission's result. A result of the same identity with
        other content is refused unless it comes from the same source (the student's file changed)
        or --force: one submission never overwrites another's result."""
        path = self.out_dir / sub.name / RESULTS
        try:
            extra = json.loads(path.read_text()).get("extra_data", {})
            source, digest = extra.get("source"), extra.get("digest")
        except Exception:  # noqa: BLE001 - missing or damaged: grade it (again)
            return False
        if digest == sub.digest:
            return True
        if source not in (sub.label, None):
            raise BadInput(f"{path.parent} holds the result of {source}, and {sub.label} is a different submission with the same "
                           "identity: grade it into another --out (or use --force to replace that result)")
        return False

    def _grade_one(self, sub, source, work):
        if self.stopping:
            return None
        root = Path(tempfile.mkdtemp(prefix="root-", dir=work))
        started = time.monotonic()
        try:
            (root / "source").symlink_to(source, target_is_directory=True)
            (root / "submission").mkdir()
            (root / "results").mkdir()
            if sub.source.is_dir():
                shutil.copytree(sub.source, root / "submission", symlinks=True, dirs_exist_ok=True)  # links stay links: the grader skips them
            else:
                shutil.copy2(sub.source, root / "submission" / sub.source.name)
            shutil.copy2(source / "run_autograder", root / "run_autograder")  # as Gradescope does
            result = self._run_autograder(root)
        except OSError as exc:  # an unreadable submission must not stop the batch
            result = empty_result("error", f"the submission could not be prepared for grading: {exc}")
        finally:
            remove_tree(root)
        if self.stopping:
            return None  # its grader was stopped half-way: no result, so a re-run grades it
        result.setdefault("extra_data", {}).update(source=sub.label, digest=sub.digest, identity=sub.identity,
                                                  wall_seconds=round(time.monotonic() - started, 2))
        result["extra_data"]["label"] = _who(result, sub.name)
        target = self.out_dir / sub.name
        target.mkdir(parents=True, exist_ok=True)
        write_results(result, target / RESULTS)
        return result

    def _run_autograder(self, root):
        env = dict(os.environ, BACKPROP_KIT_ROOT=str(root), BACKPROP_KIT_PYTHON=sys.executable)
        env["BACKPROP_KIT_LIMITS"] = json.dumps(self.limits.__dict__)
        if self.jobs > 1:  # one core per grader: numpy's threads would only fight the other jobs
            env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        if self.seed is not None:
            env["BACKPROP_KIT_SEED"] = str(self.seed)
        log = root / "grader.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(["bash", str(root / "run_autograder")], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            with self.lock:
                self.running.add(proc)
            try:
                proc.wait(timeout=self.limits.budget + GRACE_S)
            except subprocess.TimeoutExpired:
                _stop([proc])
            finally:
                with self.lock:
                    self.running.discard(proc)
        if proc.returncode != 0:  # a grader that was killed could not remove its sandbox
            sweep_stale_dirs(SANDBOX_PREFIX, max_age=2 * self.limits.budget)
        try:
            return json.loads((root / "results" / RESULTS).read_text())
        except (OSError, ValueError):
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            result = empty_result("error", f"the grader produced no results (exit code {proc.returncode})")
            result["extra_data"]["trace"] = tail
            return result

    def _stop_running(self):
        with self.lock:
            procs = list(self.running)
        _stop(procs)

    def _say(self, text):
        if self.progress:
            print(text, file=sys.stderr, flush=True)

    def _tick(self, done, total, sub, result):
        if not self.progress or result is None:
            return
        width = 24
        filled = int(width * done / total) if total else width
        extra = result.get("extra_data", {})
        self._say(
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {sub.name}: "
            f"{result.get('score', 0):g}/{max_score()} {extra.get('status', '?')} ({extra.get('wall_seconds', 0):.1f} s)"
        )

    def write_gradebook(self):
        """OUT/gradebook.csv rebuilt from every result in OUT (a view, never a ledger), one row per
        student (each member of a group submission), and OUT/written/ from the same results.
        Marks typed into the written questions' columns are carried over; the gradebook it
        replaces is kept as gradebook.csv.bak. Written atomically."""
        graded = read_results(self.out_dir)
        book = self.out_dir / GRADEBOOK
        marks = typed_marks(book)
        rows, shown = [], []
        for folder, result in graded:
            try:
                people, common = _row(folder, result)
                label = _who(result, folder)
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
            shutil.copy2(book, self.out_dir / (GRADEBOOK + ".bak"))
        if unmatched:
            self._say(f"warning: typed marks of {len(unmatched)} row(s) of {book} match no result; the old gradebook is kept as {GRADEBOOK}.bak")
        tmp = self.out_dir / (GRADEBOOK + ".tmp")
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=GRADEBOOK_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, book)
        write_pages(self.out_dir, shown)
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


def _who(result, folder):
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


def usable_cores():
    """The cores this process may use (fewer than the machine's in a container or under taskset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def max_score():
    return sum(public + hidden for public, hidden in config.POINTS.values())


def _stop(procs, wait=10.0):
    """Ask graders to stop (each cleans its sandbox on SIGTERM), then insist; all at once."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in procs:
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + wait
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        procs = [p for p in procs if p.returncode is None]
        if not procs:
            return
