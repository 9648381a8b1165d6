"""`backprop-kit`: a thin command line over build.build and batch.Batch."""

import argparse
import sys
from pathlib import Path

from .build import REPO


def main(argv=None):
    parser = argparse.ArgumentParser(prog="backprop-kit", description="Build and grade the backprop assignment.")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build dist/ (student.zip, autograder.zip, solutions.ipynb) and grade the solution")
    build.add_argument("--dist", default=str(REPO / "dist"), help="output folder (default: dist/)")
    build.add_argument("--no-grade", action="store_true", help="skip grading the solution and the template")

    grade = commands.add_parser("grade", help="grade submissions into OUT/<name>/results.json and OUT/gradebook.csv")
    grade.add_argument("submissions", nargs="+", help="notebooks, folders of notebooks, or Gradescope export zips")
    grade.add_argument("--out", required=True, help="output folder")
    grade.add_argument("--autograder", default=str(REPO / "dist" / "autograder.zip"), help="the built autograder zip")
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: one per core)")
    grade.add_argument("--force", action="store_true", help="regrade submissions that already have results")
    grade.add_argument("--seed", type=int, default=None, help="seed of the hidden tests (default: fresh each run)")
    grade.add_argument("--limits", default=None, help='JSON overrides of the limits, e.g. \'{"cell_timeout": 10}\'')

    report = commands.add_parser("report", help="write OUT/report.html: the class's scores, pass rates, named mistakes and statuses")
    report.add_argument("out", help="the --out folder of `backprop-kit grade`")

    bench = commands.add_parser("bench", help="measure grading cost and training speed; writes docs/benchmarks.md")
    bench.add_argument("--dist", default=str(REPO / "dist"), help="the built kit (default: dist/)")

    args = parser.parse_args(argv)
    if args.command == "bench":
        from .bench import run as run_bench

        run_bench(dist=Path(args.dist))
        return 0
    if args.command == "build":
        from .build import BuildError, build as run_build

        try:
            run_build(dist=Path(args.dist), grade=not args.no_grade)
        except BuildError as exc:
            print(f"build failed: {exc}", file=sys.stderr)
            return 1
        return 0

    if args.command == "report":
        from .report import write_report

        try:
            path = write_report(Path(args.out))
        except (OSError, ValueError) as exc:
            print(f"report: {exc}", file=sys.stderr)
            return 2
        print(f"class report: {path}")
        return 0

    from .batch import Batch
    from .gradebook import max_score
    from .inputs import BadInput
    from .sandbox import Limits

    try:
        limits = Limits.from_json(args.limits) if args.limits is not None else Limits()
    except ValueError as exc:
        print(f"grade: --limits: {exc}", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"grade: --jobs must be 1 or more, not {args.jobs}", file=sys.stderr)
        return 2
    if args.seed is not None and not 0 <= args.seed < 2**63:
        print(f"grade: --seed must be a whole number from 0 to 2**63 - 1, not {args.seed}", file=sys.stderr)
        return 2
    try:
        batch = Batch(args.autograder, args.out, jobs=args.jobs, force=args.force, seed=args.seed, limits=limits)
        submissions, rows = batch.run(args.submissions)
    except (FileNotFoundError, BadInput) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished results are kept; run the same command again to resume", file=sys.stderr)
        return 130
    out = Path(args.out)
    print(f"{len(submissions)} submission(s) given; the gradebook holds {len(rows)} row(s) (out of {max_score()} points): {out / 'gradebook.csv'}")
    print(f"written answers for marking by hand: {out / 'written'}/; class report: backprop-kit report {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
