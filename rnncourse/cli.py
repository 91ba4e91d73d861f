"""Command line: `rnncourse {build,grade} ...` (or `python -m rnncourse ...`)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rnncourse import build, config, grading
from rnncourse.grading import bounds, gradebook, intake, isolation, results, sandbox


def parse_assignments(names: list[str]) -> list[str]:
    known = config.assignments()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown assignment(s) {', '.join(unknown)}; expected some of: {', '.join(known)}")
    return names or known


def run_build(args: argparse.Namespace) -> int:
    assignments = parse_assignments(args.assignments)
    for assignment in assignments:
        try:
            build.read_master(assignment)
        except ValueError as error:
            raise SystemExit(str(error)) from None
    if args.check:
        problems = build.out_of_sync(assignments)
        for problem in problems:
            print(problem)
        if problems:
            print("Generated files are out of sync with source/: run `python -m rnncourse build`.")
            return 1
        print(f"In sync with source/: {', '.join(assignments)}")
        return 0
    files = build.build(assignments)
    build.write(files)
    for path in files:
        print(f"wrote {build.shown(path)}")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    if not args.handins.exists():
        raise SystemExit(f"{args.handins}: no such folder or zip file")
    if args.workers < 1:
        raise SystemExit(f"--workers should be 1 or more, got {args.workers}")
    try:
        db_url = gradebook.resolve_url(args.db, args.out)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    problem = None if args.no_sandbox else sandbox.bwrap_problem()
    if args.no_sandbox:
        print("No sandbox (--no-sandbox): student code runs with your rights.")
    elif problem:
        print(
            f"No sandbox: {problem}. Student code runs with your rights: it can read and change any file "
            "you can, the gradebook and the other hand-ins included. Grading goes on. "
            "To grade in a sandbox, install bubblewrap (Debian, Ubuntu: apt-get install bubblewrap)."
        )
    sandboxed = not args.no_sandbox and problem is None
    limits = bounds.Limits()
    print(bounds.report(isolation.bounds(limits, sandboxed, args.cell_timeout, args.timeout), sandboxed))
    rows = grading.grade(grading.GradingRun(
        args.handins, args.out, patterns=args.pattern or intake.default_patterns(config.assignments()),
        sandboxed=sandboxed, cell_timeout=args.cell_timeout, timeout=args.timeout,
        assignments=parse_assignments(args.assignment or []), workers=args.workers, db=db_url, seed=args.seed,
        limits=limits,
    ))
    print()
    print(results.summary(rows))
    print(f"\nGrades: {args.out / 'grades.csv'}; feedback: {args.out / 'feedback'}/<student>/<assignment>/; "
          f"gradebook: {gradebook.redacted(db_url)}")
    return 0


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rnncourse", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    build_cmd = commands.add_parser(
        "build", help="regenerate notebooks/, solutions/ and the README's table from source/"
    )
    build_cmd.add_argument("assignments", nargs="*", help="default: every assignment in source/")
    build_cmd.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if the committed files differ from a fresh build",
    )
    build_cmd.set_defaults(run=run_build)

    grade_cmd = commands.add_parser(
        "grade",
        help="autograde a folder or LMS zip of hand-ins: grades.csv, feedback, a summary",
        description="Autograde a folder or LMS zip of hand-ins. Each file is matched to its student and "
        "assignment by its name (see --pattern), or by its content when the name does not say; rebuilt "
        "from its content (Colab drops nbgrader's metadata); and graded in its own nbgrader run, its "
        "code in a bubblewrap sandbox where one is available.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Default file-name patterns:\n" + intake.__doc__.split("\n", 2)[2],
    )
    grade_cmd.add_argument("handins", type=Path, help="a folder of .ipynb files (subfolders too) or a zip file")
    grade_cmd.add_argument("--out", type=Path, default=Path("graded"),
                           help="the output folder, an nbgrader course folder (default: ./graded)")
    grade_cmd.add_argument(
        "--pattern", action="append", metavar="REGEX",
        help="a regular expression for a file's path in the hand-ins, with the named groups `student` and "
        "optionally `assignment` (else recognised by content); repeat to try several in order; "
        "replaces the defaults",
    )
    grade_cmd.add_argument("--cell-timeout", type=int, default=30, metavar="SECONDS",
                           help="time limit of one cell (default: 30)")
    grade_cmd.add_argument("--timeout", type=float, default=900, metavar="SECONDS",
                           help="time limit of one hand-in's whole grading (default: 900)")
    grade_cmd.add_argument("--assignment", action="append", metavar="NAME",
                           help="grade only this assignment; repeat for several (default: every one in source/)")
    grade_cmd.add_argument("--workers", type=int, default=usable_cores(), metavar="N",
                           help=f"hand-ins graded at the same time (default: the number of cores, {usable_cores()})")
    grade_cmd.add_argument("--db", metavar="URL",
                           help="the gradebook: sqlite:///PATH or postgresql://USER@HOST[:PORT]/DBNAME "
                           "(default: c.CourseDirectory.db_url of nbgrader_config.py if it sets one, else "
                           "sqlite:///OUT/gradebook.db); keep a PostgreSQL password in ~/.pgpass "
                           "or PGPASSWORD (one in the URL is never written to OUT)")
    grade_cmd.add_argument("--seed", type=int, metavar="N",
                           help="the seed the hidden tests draw their inputs from (default: a fresh one, printed; "
                           "give the printed one again to reproduce a grade)")
    grade_cmd.add_argument("--no-sandbox", action="store_true",
                           help="run student code without bubblewrap even where it is available")
    grade_cmd.set_defaults(run=run_grade)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
