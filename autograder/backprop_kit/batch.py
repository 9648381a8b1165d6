"""`backprop-kit grade`: grade many submissions with the built autograder zip.

Every submission is graded exactly as Gradescope grades it: a temporary root
holds source/ (the unpacked zip), submission/ (the student's files) and
results/, and the zip's own run_autograder script runs there. Submissions run
in parallel; each result lands in OUT/<name>/results.json as soon as it is
done, so an interrupted batch keeps everything finished, and a re-run skips
what is graded and unchanged (unless --force). <name> comes from the submission's
identity (inputs.py): its Gradescope submission id, or its path. OUT/gradebook.csv and
OUT/written/ are rebuilt from every result in OUT after each run (gradebook.py).
"""

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
from pathlib import Path

from .gradebook import RESULTS, max_score, who, write_gradebook
from .inputs import BadInput, collect
from .results import empty_result, write_results
from .sandbox import SANDBOX_PREFIX, Limits, owned_temp_dir, remove_tree, sweep_stale_dirs

WORK_PREFIX = "bpk-batch-"  # the batch's temp folder: the unpacked autograder (hidden tests, reference) and roots
GRACE_S = 120.0  # on top of the submission budget before the batch gives up on a grader


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
        result["extra_data"]["label"] = who(result, sub.name)
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
        return write_gradebook(self.out_dir, self._say)


def usable_cores():
    """The cores this process may use (fewer than the machine's in a container or under taskset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


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
