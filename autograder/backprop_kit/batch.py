"""`backprop-kit grade`: grade many submissions with the built autograder zip.

Every submission is graded exactly as Gradescope grades it: a temporary root
holds source/ (the unpacked zip), submission/ (the student's files) and
results/, and the zip's own run_autograder script runs there. Submissions run
in parallel; each result lands in OUT/<name>/results.json as soon as it is
done, so an interrupted batch keeps everything finished, and a re-run skips
it (unless --force). OUT/gradebook.csv lists one row per submission.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from backprop_lab import config

from .grade import empty_result, question_scores, strip_controls, write_results
from .session import SANDBOX_PREFIX, Limits, owned_temp_dir, remove_tree, sweep_stale_dirs

RESULTS = "results.json"
GRADEBOOK = "gradebook.csv"
WORK_PREFIX = "bpk-batch-"  # the batch's temp folder: the unpacked autograder (hidden tests, reference) and roots
GRACE_S = 120.0  # on top of the submission budget before the batch gives up on a grader


@dataclass(frozen=True)
class Submission:
    source: Path  # a file, or a folder holding one student's files (Gradescope export)
    name: str  # folder name under OUT
    label: str  # what the gradebook's `file` column shows


def collect(inputs, workdir):
    """Expand files, folders and Gradescope export zips into submissions with unique names."""
    found = []
    for raw in inputs:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {raw}")
        if path.is_dir():
            found.extend((p, str(p)) for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts)
        elif zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
            found.extend(_export_submissions(path, Path(tempfile.mkdtemp(prefix="export-", dir=workdir))))
        else:
            found.append((path, str(path)))
    submissions, used = [], set()
    for source, label in found:
        base = source.stem if source.is_file() else source.name
        name, k = base, 2
        while name in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        submissions.append(Submission(source, name, label))
    return submissions


def _export_submissions(zip_path, into):
    """A Gradescope 'export submissions' zip: one folder per submission (submission_<id>)."""
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.infolist():
            target = (into / member.filename).resolve()
            if not str(target).startswith(str(into.resolve()) + os.sep):
                raise ValueError(f"{zip_path}: refusing the unsafe path {member.filename!r}")
        archive.extractall(into)
    folders = sorted(p for p in into.rglob("submission_*") if p.is_dir())
    folders = [p for p in folders if not any(parent in folders for parent in p.parents)]  # not a student's own folder
    if folders:
        return [(folder, f"{zip_path.name}:{folder.name}") for folder in folders]
    return [(p, f"{zip_path.name}:{p.relative_to(into)}") for p in sorted(into.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]


class Batch:
    """Grades submissions through run_autograder; safe to interrupt."""

    def __init__(self, autograder_zip, out_dir, jobs=None, force=False, seed=None, limits=None, progress=True):
        self.autograder_zip = Path(autograder_zip)
        if not self.autograder_zip.is_file():
            raise FileNotFoundError(f"{autograder_zip} not found: run `make build` first")
        self.out_dir = Path(out_dir)
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
                rows = self.write_gradebook(submissions)
        finally:
            remove_tree(work)
        return rows

    def _done(self, sub):
        path = self.out_dir / sub.name / RESULTS
        try:
            return json.loads(path.read_text()).get("extra_data", {}).get("source") == sub.label
        except (OSError, ValueError):
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
        result.setdefault("extra_data", {}).update(source=sub.label, wall_seconds=round(time.monotonic() - started, 2))
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

    def write_gradebook(self, submissions):
        """One row per submission that has a result; written atomically."""
        columns = ["file", *config.QUESTIONS, "total", "max", "status", "message", "review", "seconds"]
        rows = []
        for sub in submissions:
            path = self.out_dir / sub.name / RESULTS
            try:
                result = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            extra = result.get("extra_data", {})
            scores = question_scores(result)
            row = {"file": sub.label, **{q: round(v, 4) for q, v in scores.items()}}
            row.update(
                total=round(result.get("score", 0.0), 4),
                max=max_score(),
                status=extra.get("status", "error"),
                message=extra.get("message", ""),
                # what the instructor should look at (attempts to fool the grader): its own column, which
                # no text of the student's can spill into; never in results' output
                review=extra.get("review", ""),
                seconds=extra.get("wall_seconds", extra.get("seconds", "")),
            )
            rows.append({k: plain_cell(v) if isinstance(v, str) else v for k, v in row.items()})
        tmp = self.out_dir / (GRADEBOOK + ".tmp")
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.out_dir / GRADEBOOK)
        return rows


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
