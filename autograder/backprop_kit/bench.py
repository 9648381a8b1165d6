"""`backprop-kit bench` (`make bench`): what grading costs, as ratios taken in one run.

Absolute times on shared machines are noisy, so every figure is a ratio of two things
measured in the same run, each the median of a few interleaved repetitions:
1. `backprop-kit grade` of one solved notebook against `jupyter nbconvert --execute` of it;
2. a batch of submissions with --jobs 1 against --jobs <cores>, and peak memory per grader;
3. where one grading's time goes (from the grader's own timings), and grading one solved
   submission inside Gradescope's default container (768 MB, half a CPU) against outside;
4. the reference's train on digits against scikit-learn's MLPClassifier, same setup;
5. all digits-net gradients by finite differences against backprop.
It prints a table and writes docs/benchmarks.md.
"""

import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from backprop_lab import config
from backprop_lab.helpers import accuracy, init_params, load_digits_split

from .batch import Batch, usable_cores
from .build import NOTEBOOK, REPO
from .sandbox import memory_limit_mb

REPEATS = 3


def interleaved(fns, repeats=REPEATS):
    """Median time of each function, running them in turn so drift hits all alike."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def grade(dist, inputs, out, jobs=1):
    """`backprop-kit grade` on inputs, from scratch (--force), without a progress bar."""
    Batch(dist / "autograder.zip", out, jobs=jobs, force=True, progress=False).run(inputs)


def machine():
    cores = usable_cores()
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        mem_gib = kib / 2**20
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cores": cores, "memory_gib": mem_gib, "cpu": cpu, "python": platform.python_version()}


# -- 1 and 2: grading ---------------------------------------------------------------------


def bench_grading(dist, scratch):
    """Seconds of two commands, each run from a fresh process as a user would type it: grading the
    solved notebook (`backprop-kit grade`) and executing it once bare (`jupyter nbconvert --execute`,
    beside the handout's files, with a python3 kernel of this venv: the floor of grading it)."""
    from .build import kernel_path

    solved = dist / "solutions.ipynb"
    run_dir = scratch / "bare"
    run_dir.mkdir()
    shutil.unpack_archive(dist / "student.zip", run_dir)
    shutil.copy2(solved, run_dir / NOTEBOOK)
    bin_dir = Path(sys.executable).parent

    def grade_once():
        out = Path(tempfile.mkdtemp(dir=scratch))
        subprocess.run([str(bin_dir / "backprop-kit"), "grade", str(solved), "--out", str(out), "--autograder", str(dist / "autograder.zip"), "--jobs", "1"],
                       check=True, capture_output=True)

    def execute_once():
        subprocess.run([str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output", "executed", NOTEBOOK],
                       check=True, capture_output=True, cwd=run_dir)

    with kernel_path(scratch):
        return interleaved([grade_once, execute_once])


def bench_batch(dist, scratch, count=20):
    import resource

    folder = scratch / "batch"
    folder.mkdir()
    for i in range(count):
        shutil.copy2(dist / "solutions.ipynb", folder / f"student-{i:02d}.ipynb")
    cores = usable_cores()
    times, results = {}, None
    for jobs in (1, cores):
        out = scratch / f"batch-out-{jobs}"
        start = time.perf_counter()
        grade(dist, [folder], out, jobs=jobs)
        times[jobs] = time.perf_counter() - start
        results = out
    peaks = []
    for path in results.glob("*/results.json"):
        extra = json.loads(path.read_text()).get("extra_data", {})
        if extra.get("peak_rss_mb"):
            peaks.append(extra["peak_rss_mb"])
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return times, cores, (max(peaks) if peaks else None), children_peak


BUILDING_BLOCK_BUG = "def dense_backward(dZ, A_prev, W):\n    return W.T @ dZ, dZ @ A_prev.T, dZ.copy()\n"


def grading_breakdown(dist, scratch):
    """The grader's own timings (extra_data) for a solved submission and for the same one with a
    wrong dense_backward, whose network and train checks re-run on the reference's stand-ins."""
    import nbformat

    buggy = scratch / "buggy.ipynb"
    nb = nbformat.read(dist / "solutions.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(BUILDING_BLOCK_BUG))
    nbformat.write(nb, buggy)
    extras = []
    for path in (dist / "solutions.ipynb", buggy):
        out = scratch / f"breakdown-{path.stem}"
        grade(dist, [path], out)
        extras.append(json.loads(next(out.glob("*/results.json")).read_text()).get("extra_data", {}))
    return extras


def bench_container(dist, scratch):
    """Grading one solved submission in Gradescope's default container (768 MB, half a CPU,
    imitated with cgroups) and on the open machine, interleaved; None where it cannot be imitated."""
    from .sandbox import container

    if container.available():
        return None
    solved = dist / "solutions.ipynb"

    def grade_in(prefix):
        out = Path(tempfile.mkdtemp(dir=scratch))
        cmd = [*prefix, sys.executable, "-m", "backprop_kit.cli", "grade", str(solved), "--out", str(out), "--autograder", str(dist / "autograder.zip"), "--jobs", "1"]
        subprocess.run(cmd, check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(str(REPO / d) for d in ("autograder", "assignment"))))
        return json.loads(next(out.glob("*/results.json")).read_text())

    seen = {}
    with container.limited(memory_mb=768, cpus=0.5) as (prefix, memory):
        inside, outside = interleaved([lambda: seen.setdefault("inside", grade_in(prefix)), lambda: grade_in([])])
        peak = int((memory / "memory.max_usage_in_bytes").read_text()) >> 20
        kills = container.oom_kills(memory)
    return inside, outside, peak, kills, seen["inside"]


# -- 4 and 5: numerics -----------------------------------------------------------------------


def bench_training():
    from sklearn.neural_network import MLPClassifier

    from .hidden_checks import reference

    R = reference()
    cfg = config.DIGITS
    X_train, Y_train, X_test, Y_test = load_digits_split()
    params0 = init_params([64, cfg["hidden_units"], 10], seed=cfg["init_seed"])
    acts = ["relu", "identity"]
    state = {}

    def ours():
        params, _ = R.train(X_train, Y_train, params0, acts, "softmax_ce", cfg["learning_rate"], cfg["epochs"], cfg["batch_size"], cfg["shuffle_seed"])
        state["ours"] = accuracy(R.forward(X_test, params, acts)[0], Y_test)

    def theirs():
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        model = MLPClassifier(
            hidden_layer_sizes=(cfg["hidden_units"],), activation="relu", solver="sgd", batch_size=cfg["batch_size"],
            learning_rate_init=cfg["learning_rate"], max_iter=cfg["epochs"], momentum=0.0, nesterovs_momentum=False,
            alpha=0.0, tol=0.0, n_iter_no_change=cfg["epochs"] + 1, shuffle=True, random_state=cfg["shuffle_seed"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train.T, Y_train.argmax(axis=0))
        state["sklearn"] = float(np.mean(model.predict(X_test.T) == Y_test.argmax(axis=0)))

    t_ours, t_sklearn = interleaved([ours, theirs])
    return t_ours, t_sklearn, state["ours"], state["sklearn"]


def bench_gradients(batch=100):
    from backprop_lab.finite_differences import centred_gradient, perturbations

    from .hidden_checks import reference

    R = reference()
    X_train, Y_train, _, _ = load_digits_split()
    X, Y = X_train[:, :batch], Y_train[:, :batch]
    params = init_params([64, config.DIGITS["hidden_units"], 10], seed=0)
    acts = ["relu", "identity"]
    count = sum(v.size for v in params.values())

    def backprop():
        A, caches = R.forward(X, params, acts)
        R.backward(R.softmax_cross_entropy(A, Y)[1], caches, params, acts)

    def finite_differences():
        for key, value in params.items():
            losses = [R.softmax_cross_entropy(R.forward(X, dict(params, **{key: p}), acts)[0], Y)[0] for p in perturbations(value, config.FD_STEP)]
            centred_gradient(losses, value.shape, config.FD_STEP)

    (t_bp,) = interleaved([backprop], repeats=7)
    (t_fd,) = interleaved([finite_differences], repeats=1)
    return t_fd, t_bp, count


# -- the report ---------------------------------------------------------------------------------


def run(dist=REPO / "dist", out=REPO / "docs" / "benchmarks.md"):
    dist = Path(dist)
    if not (dist / "autograder.zip").exists():
        raise SystemExit("run `make build` first: dist/autograder.zip is missing")
    info = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bpk-bench-") as scratch:
        scratch = Path(scratch)
        print("1/5 backprop-kit grade against jupyter nbconvert --execute ...", flush=True)
        grading, execution = bench_grading(dist, scratch)
        rows.append(("`backprop-kit grade` of one solved notebook / `jupyter nbconvert --execute` of it", f"{grading:.2f} s / {execution:.2f} s = {grading / execution:.2f}×", "≤ 1.3×", grading / execution <= 1.3))
        print("2/5 batch scaling ...", flush=True)
        times, cores, peak, children_peak = bench_batch(dist, scratch)
        speedup = times[1] / times[cores]
        rows.append((f"20 submissions, --jobs 1 / --jobs {cores}", f"{times[1]:.1f} s / {times[cores]:.1f} s = {speedup:.2f}× speed-up", f"≥ {0.8 * cores:.1f}× (0.8 × {cores} cores)", speedup >= 0.8 * cores))
        memory = f"{peak:.0f} MB (student process)" if peak else "not recorded"
        rows.append(("Peak memory per grading", f"{memory}; largest grading process {children_peak:.0f} MB", "—", None))
        print("3/5 where grading time goes ...", flush=True)
        solved, buggy = grading_breakdown(dist, scratch)
        print("   ... and in Gradescope's default container ...", flush=True)
        boxed = bench_container(dist, scratch)
    if boxed is None:
        rows.append(("Grading one solved submission in Gradescope's default container (768 MB, 0.5 CPU)", "not measured: needs root and a writable cgroup v1", "—", None))
    else:
        inside, outside, peak, kills, result = boxed
        rows.append((
            "Grading one solved submission in Gradescope's default container (768 MB, 0.5 CPU, cgroup v1) / on the open machine",
            f"{inside:.1f} s / {outside:.1f} s = {inside / outside:.1f}×; score {result['score']:g}/80; peak memory of the container {peak} MB; "
            f"OOM kills {kills}; student code's memory limit there {memory_limit_mb(available=768)} MB",
            f"score 80, no OOM kill, within the {config.SUBMISSION_BUDGET_S:.0f} s budget",
            result["score"] == 80 and kills == 0 and inside < config.SUBMISSION_BUDGET_S,
        ))
    timings = solved.get("timings", {})
    checks = sum(v for k, v in timings.items() if k.startswith(("visible:", "hidden:")))
    if timings:
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        parts += f"; all checks together (visible and hidden) {checks:.2f} s"
        rows.append(("Where one grading's time goes", parts, "all checks < 5 s", checks < 5.0))
    if buggy.get("seconds") and solved.get("seconds"):
        rows.append((
            "Grading with a wrong dense_backward (network and train re-run on the reference's stand-ins) / a solved submission",
            f"{buggy['seconds']:.1f} s / {solved['seconds']:.1f} s = {buggy['seconds'] / solved['seconds']:.1f}×; its train checks {buggy.get('timings', {}).get('hidden:train', 0):.1f} s",
            "within the submission budget", buggy["seconds"] < config.SUBMISSION_BUDGET_S,
        ))
    print("4/5 training against scikit-learn ...", flush=True)
    t_ours, t_sklearn, acc_ours, acc_sklearn = bench_training()
    rows.append((
        "Reference train / sklearn MLPClassifier (digits 64-32-10, ReLU, SGD, batch 32, 30 epochs)",
        f"{t_ours:.2f} s / {t_sklearn:.2f} s = {t_ours / t_sklearn:.2f}×; test accuracy {acc_ours:.3f} vs {acc_sklearn:.3f}",
        "faster (< 1×) at equal or better accuracy",
        t_ours < t_sklearn and acc_ours >= acc_sklearn,
    ))
    print("5/5 finite differences against backprop ...", flush=True)
    t_fd, t_bp, count = bench_gradients()
    rows.append((f"All {count} digits-net gradients: finite differences / backprop (100 examples)", f"{t_fd:.2f} s / {t_bp * 1000:.2f} ms = {t_fd / t_bp:.0f}×", "illustrates O(W²) against O(W)", None))
    text = report(rows, info)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")
    return rows


def report(rows, info):
    today = datetime.date.today().isoformat()
    mem = f"{info['memory_gib']:.0f} GiB" if info["memory_gib"] else "unknown memory"
    lines = [
        "# Benchmarks",
        "",
        f"Measured with `make bench` (`.venv/bin/backprop-kit bench`) on {today}, on {info['cores']} cores "
        f"and {mem} ({info['cpu']}, Python {info['python']}). Every figure is a ratio of two "
        "measurements taken in the same run (medians of interleaved repetitions).",
        "",
        "| measurement | result | target | met |",
        "|---|---|---|---|",
    ]
    for name, result, target, met in rows:
        mark = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {result} | {target} | {mark} |")
    return "\n".join(lines) + "\n"


def main():
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
