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

from .grade import cap_texts, empty_result, grade_file, write_results
from .session import Limits, become_subreaper
from .worker import die_with_parent

PREFERRED_NAME = "backprop.ipynb"


def find_submission(folder):
    """The file to grade in a submission folder, and a note about the choice (or None)."""
    files = sorted(
        p for p in Path(folder).rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
    candidates = notebooks or files
    if not candidates:
        return None, "The submission is empty: upload your notebook (.ipynb)."
    chosen = next((p for p in candidates if p.name == PREFERRED_NAME), candidates[0])
    note = None
    if len(candidates) > 1:
        others = ", ".join(p.name for p in candidates if p != chosen)
        note = f"Several files were submitted; graded {chosen.name} (not {others})."
    return chosen, note


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
    submission, note = find_submission(root / "submission")
    if submission is None:
        result = empty_result("malformed", note)
    else:
        result = grade_file(submission, seed=os.environ.get("BACKPROP_KIT_SEED"), limits=Limits.from_env())
        if note:
            result["output"] = note + "\n" + result["output"]
            result["extra_data"]["message"] = f"{note} {result['extra_data']['message']}"
            cap_texts(result)  # the note lists every file submitted
    (root / "results").mkdir(parents=True, exist_ok=True)
    write_results(result, root / "results" / "results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
