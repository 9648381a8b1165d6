"""Entry point of the autograder zip: grade ROOT/submission into ROOT/results/results.json.

Gradescope runs it (through run_autograder) with ROOT = /autograder; `backprop-kit
grade` runs the very same script on a temporary root laid out the same way.
Environment: BACKPROP_KIT_SEED replays a run; BACKPROP_KIT_LIMITS overrides limits.
"""

import os
import signal
import sys
from pathlib import Path

from backprop_lab import config

from .grade import grade_file
from .results import cap_texts, empty_result, strip_controls, write_results
from .sandbox import Limits, become_subreaper, die_with_parent, owned_temp_dir, remove_tree, sweep_stale_dirs
from .submission import find_submission

UPLOAD_PREFIX = "bpk-upload-"


def hide_source(root):
    """As root, make the autograder's files (reference, hidden checks) unreadable to everyone else.

    Student code runs as an unprivileged user; where the jail's namespaces are refused (some
    containers), these permissions are what keeps it from reading them.
    """
    if os.getuid() != 0:
        return
    for path in (root / "source", root / "results"):
        try:
            os.chmod(path, 0o700 if path.name == "source" else 0o755)
        except OSError:
            pass


def limit_own_memory(mb=config.GRADER_MEMORY_MB):
    """The grader's own address-space limit (soft: the worker it starts sets its own). Replies
    from student code are bounded before they are read; this bounds everything else."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = mb << 20 if hard == resource.RLIM_INFINITY else min(mb << 20, hard)
    if soft == resource.RLIM_INFINITY or soft > want:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "/autograder")
    hide_source(root)
    limit_own_memory()
    # a polite stop (SIGTERM) unwinds like Ctrl-C, so the sandbox is cleaned up
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    # if `backprop-kit grade` is SIGKILLed, its graders stop and clean up instead of running on unattended
    die_with_parent(signal.SIGTERM)
    become_subreaper()
    sweep_stale_dirs(UPLOAD_PREFIX, max_age=3 * config.SUBMISSION_BUDGET_S)  # left by a grader that was SIGKILLed
    scratch = owned_temp_dir(UPLOAD_PREFIX)  # notebooks taken out of zips
    try:
        submission, note = find_submission(root / "submission", scratch)
        if submission is None:
            result = empty_result("malformed", note)
        else:
            result = grade_file(submission, seed=os.environ.get("BACKPROP_KIT_SEED"), limits=Limits.from_env())
            if note:
                result["output"] = note + "\n" + result["output"]
                result["extra_data"]["message"] = f"{note} {result['extra_data']['message']}"
                cap_texts(result)  # the note lists every file submitted
    finally:
        remove_tree(scratch)
    result["stdout_visibility"] = "hidden"  # what main prints is for the instructor
    result.setdefault("extra_data", {})["grader_peak_mb"] = _own_peak_mb()
    (root / "results").mkdir(parents=True, exist_ok=True)
    write_results(result, root / "results" / "results.json")
    print(instructor_summary(result), flush=True)
    return 0


def _own_peak_mb():
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def instructor_summary(result):
    """What Gradescope shows the instructor under "Autograder Output" (stdout, hidden from students):
    the score, the status, the review notes and where the time went. One line per field: the
    student chose the file's name and much of the message, so neither can start a line of its own."""
    extra = result.get("extra_data", {})

    def one_line(value, most=2000):
        text = " | ".join(part.strip() for part in strip_controls(str(value)).splitlines() if part.strip())
        return text if len(text) <= most else text[: most - 3] + "..."

    timings = extra.get("timings") or {}
    limits = extra.get("limits_s") or {}
    lines = [
        f"review: {one_line(extra.get('review') or 'nothing to review')}",
        f"score {result.get('score', 0):g}, status {one_line(extra.get('status', '?'))}, seed {extra.get('seed', '-')}, "
        f"{extra.get('seconds', 0):g} s, isolation {one_line(extra.get('isolation', '-'))}",
        f"file: {one_line(extra.get('file', '-'), 200)}",
        f"message: {one_line(extra.get('message', ''))}",
        "timings (s): " + ", ".join(f"{name} {seconds:g}" for name, seconds in sorted(timings.items(), key=lambda kv: -kv[1])[:12]),
        f"time limits (s): call {limits.get('call', '-')}, cell {limits.get('cell', '-')}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
