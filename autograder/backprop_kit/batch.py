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
from .session import SANDBOX_PREFIX, Limits, owned_temp_dir, remove_tree, sweep_stale_dirs
from .written import write_pages

RESULTS = "results.json"
GRADEBOOK = "gradebook.csv"
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
        if not path.exists():
            raise BadInput(f"no such file or folder: {raw}")
        if path.is_dir():
            exported = _export_submissions(path, path)
            subs = exported if exported is not None else [_file_submission(p) for p in _notebooks(path)]
            if not subs:
                raise BadInput(f"{raw} holds no notebook (.ipynb): give the folder your students' notebooks are in, or a Gradescope export")
        elif path.suffix.lower() == ".zip":
            if not zipfile.is_zipfile(path):
                raise BadInput(f"{raw} is not a zip archive (it is damaged or misnamed)")
            into = Path(tempfile.mkdtemp(prefix="export-", dir=workdir))
            _extract(path, into)
            subs = _export_submissions(into, path)
            if subs is None:  # one student's upload, e.g. the zip otter's grader.export() makes
                if not any(p.suffix.lower() == ".ipynb" for p in into.rglob("*")):
                    raise BadInput(f"{raw} holds no notebook (.ipynb) and is not a Gradescope export (no submission_metadata.yml)")
                subs = [_file_submission(path)]
        elif path.suffix.lower() == ".ipynb":
            subs = [_file_submission(path)]
        else:
            raise BadInput(f"{raw} is not a notebook: give .ipynb files, folders holding them, or zips (a Gradescope export or a student's upload)")
        for sub in subs:
            found.setdefault(sub.name, sub)  # the same source given twice is graded once
    return list(found.values())


def _notebooks(folder):
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _file_submission(path):
    resolved = path.resolve()
    stem = re.sub(r"[^\w.-]", "_", path.stem)[:60] or "submission"
    return Submission(path, f"{stem}-{_digest(str(resolved).encode())[:8]}", str(resolved), _digest(resolved.read_bytes()))


def _extract(zip_path, into):
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.infolist():
            target = (into / member.filename).resolve()
            if not str(target).startswith(str(into.resolve()) + os.sep):
                raise BadInput(f"{zip_path}: refusing the unsafe path {member.filename!r} in the zip")
        archive.extractall(into)


def _export_submissions(root, shown):
    """A Gradescope export (its submission_metadata.yml, one submission_<id> folder per submission),
    or None if `root` is not one."""
    folders = sorted(p for p in root.rglob("submission_*") if p.is_dir())
    folders = [p for p in folders if not any(parent in folders for parent in p.parents)]  # not a student's own folder
    metadata = {}
    for yml in sorted(root.rglob("submission_metadata.yml")):
        metadata.update({(yml.parent / key).resolve(): value for key, value in _read_metadata(yml).items()})
    if not folders and not metadata:
        return None
    where = shown.name if shown.is_file() else str(shown.resolve())
    subs = []
    for folder in folders:
        content = sorted(p for p in folder.rglob("*") if p.is_file())
        digest = _digest(b"".join(str(p.relative_to(folder)).encode() + b"\0" + _digest(p.read_bytes()).encode() for p in content))
        identity = metadata.get(folder.resolve(), {})
        subs.append(Submission(folder, folder.name, f"{where}:{folder.name}", digest, identity))
    return subs


def _read_metadata(path):
    """{folder name: identity} from Gradescope's submission_metadata.yml (keys like `:submitters:`)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(errors="replace")) or {}
    except (yaml.YAMLError, OSError) as exc:
        raise BadInput(f"{path.name} in the export cannot be read ({exc}); export the submissions again") from None
    found = {}
    for folder, entry in (data.items() if isinstance(data, dict) else ()):
        entry = {str(k).lstrip(":"): v for k, v in entry.items()} if isinstance(entry, dict) else {}
        people = entry.get("submitters") if isinstance(entry.get("submitters"), list) else []
        submitters = [{key: str({str(k).lstrip(":"): v for k, v in person.items()}.get(key) or "") for key in ("name", "sid", "email")}
                      for person in people if isinstance(person, dict)]
        sid = str(folder).rsplit("_", 1)[-1]
        found[str(folder)] = {"submitters": submitters, "submission_id": str(entry.get("id") or sid),
                              "submitted_at": str(entry.get("created_at") or "")}
    return found


def _digest(data):
    return hashlib.sha256(data).hexdigest()


class Batch:
    """Grades submissions through run_autograder; safe to interrupt."""

    def __init__(self, autograder_zip, out_dir, jobs=None, force=False, seed=None, limits=None, progress=True):
        self.autograder_zip = Path(autograder_zip)
        if not self.autograder_zip.is_file():
            raise FileNotFoundError(f"{autograder_zip} not found: run `make build` first")
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise BadInput(f"--out {out_dir} is a file: give a folder (it is created if missing)")
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
            todo = [s for s in submissions if self.force or not self._done(s)]
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
        path = self.out_dir / sub.name / RESULTS
        try:
            extra = json.loads(path.read_text()).get("extra_data", {})
        except (OSError, ValueError, AttributeError):
            return False
        return extra.get("source") == sub.label and extra.get("digest") == sub.digest

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
                shutil.copytree(sub.source, root / "submission", dirs_exist_ok=True)
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
        Marks typed into the written questions' columns are carried over. Written atomically."""
        graded = read_results(self.out_dir)
        marks = _typed_marks(self.out_dir / GRADEBOOK)
        rows = []
        for folder, result in graded:
            extra = result.get("extra_data", {}) if isinstance(result.get("extra_data"), dict) else {}
            identity = extra.get("identity") if isinstance(extra.get("identity"), dict) else {}
            scores = question_scores(result)
            common = {
                "result": folder,
                "submission_id": identity.get("submission_id", ""),
                "submitted_at": identity.get("submitted_at", ""),
                "file": extra.get("source", folder),
                **{q: round(v, 4) for q, v in scores.items()},
                "total": round(float(result.get("score", 0.0) or 0.0), 4),
                "max": max_score(),
                "status": extra.get("status", "error"),
                "message": extra.get("message", ""),
                # what the instructor should look at (attempts to fool the grader): its own column, which
                # no text of the student's can spill into; never in results' output
                "review": extra.get("review", ""),
                "seconds": extra.get("wall_seconds", extra.get("seconds", "")),
            }
            for person in identity.get("submitters") or [{}]:
                row = {"name": person.get("name", ""), "sid": person.get("sid", ""), "email": person.get("email", ""), **common}
                row.update({q: marks.get((folder, row["sid"]), {}).get(q, "") for q in config.WRITTEN_POINTS})
                rows.append({k: plain_cell(v) if isinstance(v, str) else v for k, v in row.items()})
        tmp = self.out_dir / (GRADEBOOK + ".tmp")
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=GRADEBOOK_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.out_dir / GRADEBOOK)
        write_pages(self.out_dir, [(_who(result, folder), result) for folder, result in graded])
        return rows


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
        except (OSError, ValueError) as exc:
            result = empty_result("error", f"{path} could not be read ({exc}): grade it again with --force")
        graded.append((path.parent.name, result))
    return graded


def _typed_marks(book):
    """{(result folder, sid): {written question: mark}} typed into an existing gradebook."""
    try:
        with open(book, newline="") as handle:
            return {(r.get("result", ""), r.get("sid", "")): {q: r[q] for q in config.WRITTEN_POINTS if r.get(q)} for r in csv.DictReader(handle)}
    except (OSError, csv.Error, UnicodeDecodeError):
        return {}


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
