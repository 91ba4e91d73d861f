"""Command line: `rnncourse {build,grade} ...` (or `python -m rnncourse ...`).

The heavy modules (nbformat, nbgrader) are imported by the command that needs
them, after its first line is printed: a grader sees at once that it started.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rnncourse import config
from rnncourse.grading import names  # light: the heavy steps are imported when grading starts


def parse_assignments(names: list[str]) -> list[str]:
    known = config.assignments()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown assignment(s) {', '.join(unknown)}; expected some of: {', '.join(known)}")
    return names or known


def run_build(args: argparse.Namespace) -> int:
    from rnncourse import build

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


def check_grade_args(args: argparse.Namespace) -> None:
    """Refuse arguments that cannot work, saying what was expected."""
    if args.refresh and args.handins is not None:
        raise SystemExit(f"--refresh reads no hand-ins (it updates {args.out} from its gradebook), got {args.handins}")
    if not args.refresh and args.handins is None:
        raise SystemExit("expected a folder or zip file of hand-ins (or --refresh, to update a graded folder)")
    if args.handins is not None and not args.handins.exists():
        raise SystemExit(f"{args.handins}: no such folder or zip file")
    if args.workers < 1:
        raise SystemExit(f"--workers should be 1 or more, got {args.workers}")


def run_grade(args: argparse.Namespace) -> int:
    check_grade_args(args)
    what = f"Refreshing {args.out} from its gradebook" if args.refresh else f"Grading {args.handins} into {args.out}"
    print(f"{what} ...", flush=True)
    from tqdm import tqdm

    from rnncourse import grading
    from rnncourse.grading import bounds, course, gradebook, isolation, sandbox, table

    try:
        db_url = gradebook.resolve_url(args.db, args.out)
        term = course.term()
    except ValueError as error:
        raise SystemExit(str(error)) from None
    problem = None if args.no_sandbox or args.refresh else sandbox.bwrap_problem()
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
    if not args.refresh:  # what a hand-in may use, and which bounds hold on this machine
        print(bounds.report(isolation.bounds(limits, sandboxed, args.cell_timeout, args.timeout), sandboxed))
    run = grading.GradingRun(
        args.handins, args.out, patterns=args.pattern or names.default_patterns(config.assignments()),
        sandboxed=sandboxed, cell_timeout=args.cell_timeout, timeout=args.timeout,
        assignments=parse_assignments(args.assignment or []), workers=args.workers, db=db_url, seed=args.seed,
        limits=limits, log=lambda line: tqdm.write(line, file=sys.stdout), progress=True, term=term,
    )
    try:
        report = grading.refresh(run) if args.refresh else grading.grade(run)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(str(error)) from None
    print()
    print(table.summary(report.rows, report.not_graded))
    print(f"\nGrades: {args.out / 'grades.csv'}; feedback: {args.out / 'feedback'}/<student>/<assignment>/; "
          f"gradebook: {gradebook.redacted(db_url)}")
    for line in report.exports:
        print(f"For your LMS: {line}")
    return 0


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


GRADE_HELP = """Zips inside are opened; links are refused. Of several copies the newest is graded;
due dates are set in nbgrader_config.py (c.Term.due_dates). After grading written answers in
formgrader, `grade --refresh --out OUT` updates grades.csv, feedback and the Canvas and
Moodle imports."""


def add_grade_command(commands) -> None:
    grade_cmd = commands.add_parser(
        "grade",
        help="autograde a folder or LMS zip of hand-ins: grades.csv, feedback, a summary",
        description="Autograde a folder or LMS zip of hand-ins. Each file is matched to its student and "
        "assignment, rebuilt from its content (Colab drops nbgrader's metadata), and graded in its own "
        "nbgrader run, its code in a bubblewrap sandbox where one is available.\n\n" + GRADE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Whose is each file:\n" + names.__doc__.split("\n", 2)[2],
    )
    grade_cmd.add_argument("handins", type=Path, nargs="?", help="a folder (subfolders too) or a zip file")
    grade_cmd.add_argument("--out", type=Path, default=Path("graded"),
                           help="the output folder, an nbgrader course folder (default: ./graded)")
    grade_cmd.add_argument("--refresh", action="store_true",
                           help="grade nothing new: bring OUT's grades.csv, feedback and LMS imports up to date "
                           "with its gradebook (points and comments given in formgrader)")
    grade_cmd.add_argument(
        "--pattern", action="append", metavar="REGEX",
        help="for files no LMS name or nbgrader folder claims: a regular expression for the path, with the "
        "named groups `student` and optionally `assignment` (else recognised by content); repeat to try "
        "several in order; replaces the default patterns (`<student>_<assignment>.ipynb`, a folder per student)",
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
                           "(default: the one OUT was graded with; else c.CourseDirectory.db_url of "
                           "nbgrader_config.py if it sets one, else sqlite:///OUT/gradebook.db); keep a PostgreSQL "
                           "password in ~/.pgpass or PGPASSWORD (one in the URL is never written to OUT)")
    grade_cmd.add_argument("--seed", type=int, metavar="N",
                           help="the seed the hidden tests draw their inputs from (default: a fresh one, printed; "
                           "give the printed one again to reproduce a grade)")
    grade_cmd.add_argument("--no-sandbox", action="store_true",
                           help="run student code without bubblewrap even where it is available")
    grade_cmd.set_defaults(run=run_grade)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rnncourse", description=__doc__.split("\n")[0])
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
    add_grade_command(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
