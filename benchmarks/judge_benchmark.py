"""Grading time per hand-in: the judge against in-kernel hidden tests, side by side.

Two course folders, graded in turns with the same kernel (in the sandbox where there is one):
one holds the masters of an earlier revision (REV), whose hidden tests are asserts run in
the student's kernel, graded without the judge; the other holds today's masters, whose
hidden tests the judge decides outside the kernel. Each grades that revision's reference
solution of every notebook, so every check runs. Prints, per notebook, the median seconds
of an autograde run of each kind and their ratio.

    .venv/bin/python -m benchmarks.judge_benchmark [--rev c701763] [--repeats 3]

Timings depend on the machine and on what else runs on it; the median of REPEATS is printed.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from rnncourse import config, nbgrader_run
from rnncourse.grading import isolation, sandbox
from rnncourse.grading.bounds import Limits

IN_KERNEL = ["--JudgeSetup.enabled=False", "--Judge.enabled=False"]


def git_show(rev: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=config.REPO_ROOT, check=True,
                          capture_output=True, text=True).stdout


def course(folder: Path, rev: str | None, assignments: list[str]) -> Path:
    """A course folder with the masters of REV (None: today's) and their reference solutions handed in."""
    nbgrader_run.make_course_dir(folder, [])
    for assignment in assignments:
        master = f"source/{assignment}/{assignment}.ipynb"
        solution = f"solutions/{assignment}.ipynb"
        target = folder / master
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(git_show(rev, master) if rev else (config.REPO_ROOT / master).read_text())
        handin = folder / "submitted" / "reference" / assignment / f"{assignment}.ipynb"
        handin.parent.mkdir(parents=True, exist_ok=True)
        handin.write_text(git_show(rev, solution) if rev else (config.REPO_ROOT / solution).read_text())
        nbgrader_run.check(nbgrader_run.run(folder, ["generate_assignment", assignment, "--force"]), folder)
    return folder


def autograde_seconds(folder: Path, assignment: str, options: list[str], sandboxed: bool) -> float:
    with isolation.handin(Limits(), sandboxed) as space:     # confined as grade confines a hand-in
        args = ["autograde", assignment, "--student", "reference", "--create", "--force", "--Execute.timeout=120",
                "--JudgeSetup.run_seed=1", *options, *space.options]
        done = nbgrader_run.check(nbgrader_run.run(folder, args, space.env, 900), folder)
    return done.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="c701763", help="the revision with in-kernel hidden tests (default c701763)")
    parser.add_argument("--repeats", type=int, default=3, help="autograde runs of each kind per notebook (default 3)")
    args = parser.parse_args()
    sandboxed = sandbox.bwrap_problem() is None
    with tempfile.TemporaryDirectory(prefix="rnncourse-judge-bench-") as tmp:
        old_assignments = [a for a in config.assignments()
                           if subprocess.run(["git", "cat-file", "-e", f"{args.rev}:source/{a}/{a}.ipynb"],
                                             cwd=config.REPO_ROOT).returncode == 0]
        before = course(Path(tmp) / "in-kernel", args.rev, old_assignments)
        after = course(Path(tmp) / "judge", None, old_assignments)
        print(f"sandbox: {'bubblewrap' if sandboxed else 'none'}; in-kernel tests from {args.rev}; "
              f"median of {args.repeats} autograde runs of one reference hand-in")
        print(f"{'notebook':16} {'in-kernel s':>11} {'judge s':>8} {'ratio':>6}")
        ratios = []
        for assignment in old_assignments:
            times: dict[str, list[float]] = {"in-kernel": [], "judge": []}
            for _ in range(args.repeats):  # in turns, so that a busy moment costs both alike
                times["in-kernel"].append(autograde_seconds(before, assignment, IN_KERNEL, sandboxed))
                times["judge"].append(autograde_seconds(after, assignment, [], sandboxed))
            old, new = statistics.median(times["in-kernel"]), statistics.median(times["judge"])
            ratios.append(new / old)
            print(f"{assignment:16} {old:11.2f} {new:8.2f} {new / old:6.2f}")
        print(f"{'all':16} {'':11} {'':8} {statistics.mean(ratios):6.2f} (mean ratio)")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
