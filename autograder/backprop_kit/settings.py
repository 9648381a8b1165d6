"""Gradescope's autograder settings (timeout, memory), derived from config and from measured gradings.

The build grades two probes through the same path as every submission, beside the solution:
- a notebook whose every cell and function loops forever, under a short budget: how far past
  its budget a grading can run (stopping, cleaning up, writing results);
- a notebook that takes memory until it is refused: the grader must come through intact.
With the solution's grading (the grader's and the student process's peak memory), these give
the timeout and memory to set, printed by the build and stated in the README.
"""

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backprop_lab import config
from backprop_lab.contract import SIGNATURES

from .sandbox import Limits, sandbox_fs_mb

PROBE_BUDGET_S = 40.0
GRADESCOPE_DEFAULT = {"timeout_s": 600, "memory_mb": 768}
MARGIN_S = 60  # start-up of the container and of Python, not counted in the grader's own times

LOOP_FOREVER = ["while True:\n    pass"] + [f"def {name}(*args, **kwargs):\n    while True:\n        pass" for name in SIGNATURES]
TAKE_MEMORY = ["import numpy as np\nheld = []\nwhile True:\n    held.append(np.ones(4 << 20))"]


@dataclass
class Settings:
    timeout_s: int
    memory_mb: int
    overrun_s: float  # how far past its budget the looping probe's grading ran
    grader_peak_mb: int
    student_peak_mb: int
    hog: str  # what became of the memory probe

    def lines(self):
        raise_it = self.timeout_s > GRADESCOPE_DEFAULT["timeout_s"]
        return [
            "Gradescope settings (Configure Autograder):",
            f"  autograder timeout: {self.timeout_s} s" + (f" (raise it from Gradescope's default {GRADESCOPE_DEFAULT['timeout_s']} s)" if raise_it else ""),
            f"  memory: at least {self.memory_mb} MB" + (" (Gradescope's default container, 0.5 CPU and 768 MB, is enough)" if self.memory_mb <= GRADESCOPE_DEFAULT["memory_mb"] else ""),
            f"  from: budget {config.SUBMISSION_BUDGET_S:g} s per submission + {self.overrun_s:.1f} s measured past a budget + {MARGIN_S} s start-up;",
            f"        grader peak {self.grader_peak_mb} MB + student process peak {self.student_peak_mb} MB (solution) x 2 + sandbox file systems "
            f"{sandbox_fs_mb()} MB + reserve; memory probe: {self.hog}",
        ]


def probe_notebooks(folder):
    import nbformat

    paths = {}
    for name, cells in (("probe-loop-forever", LOOP_FOREVER), ("probe-take-memory", TAKE_MEMORY)):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        paths[name] = Path(folder) / f"{name}.ipynb"
        nbformat.write(nb, paths[name])
    return paths


def measure(autograder_zip, solution_result):
    """Grade the probes (in parallel) and derive the settings; `solution_result` is the solution's results dict."""
    from .batch import Batch
    from .gradebook import read_results

    limits = Limits.from_json(json.dumps({"budget": PROBE_BUDGET_S, "checks_reserve": PROBE_BUDGET_S / 2,
                                          "cell_timeout": 5, "call_timeout": 2, "max_restarts": 1, "max_check_restarts": 1}))
    with tempfile.TemporaryDirectory(prefix="bpk-probes-") as work:
        paths = probe_notebooks(work)
        Batch(autograder_zip, Path(work) / "out", jobs=2, force=True, limits=limits, progress=False).run(list(paths.values()))
        graded = {r["extra_data"].get("file", ""): r for _, r in read_results(Path(work) / "out")}
    loop = graded.get("probe-loop-forever.ipynb", {}).get("extra_data", {})
    hog = graded.get("probe-take-memory.ipynb", {}).get("extra_data", {})
    return derive(loop, hog, solution_result.get("extra_data", {}))


def derive(loop, hog, solution):
    """The settings from the probes' and the solution's extra_data."""
    overrun = max(0.0, float(loop.get("wall_seconds", PROBE_BUDGET_S)) - PROBE_BUDGET_S)
    timeout = int(math.ceil((config.SUBMISSION_BUDGET_S + overrun + MARGIN_S) / 60.0) * 60)
    grader = int(max(solution.get("grader_peak_mb", 0), hog.get("grader_peak_mb", 0)))
    student = int(solution.get("peak_rss_mb", 0))
    need = max(grader, config.GRADER_RESERVE_MB) + sandbox_fs_mb() + 2 * student
    memory = max(GRADESCOPE_DEFAULT["memory_mb"], int(math.ceil(need / 256.0) * 256))
    fate = f"status {hog.get('status', '?')}, its process held {hog.get('peak_rss_mb', '?')} MB at most, grader {hog.get('grader_peak_mb', '?')} MB"
    return Settings(timeout, memory, round(overrun, 1), grader, student, fate)
