"""Autograde hand-ins, each in an nbgrader run of its own with its kernel in the
sandbox, and write their feedback; several at a time.

One run per hand-in means none can stop, slow down or change another's grading.
Everything that decides a result is done before or after, in order, so results
do not depend on the number of workers.
"""
from __future__ import annotations

import concurrent.futures
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from rnncourse import nbgrader_run
from rnncourse.grading import gradebook, sandbox
from rnncourse.grading.intake import Job

# Time limit of a feedback run, which executes no student code.
FEEDBACK_TIMEOUT = 300

T = TypeVar("T")
R = TypeVar("R")


def in_parallel(items: Iterable[T], workers: int, work: Callable[[T], R]) -> Iterator[R]:
    """WORK(item) for every item, WORKERS at a time; the results in the order of ITEMS,
    each as soon as it and those before it are done."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        yield from pool.map(work, items)


def autograde(out: Path, job: Job, db_url: str, sandboxed: bool, cell_timeout: int, timeout: float,
              seed: int) -> Job:
    """Autograde JOB (submitted in OUT) in an nbgrader run of its own, the judge drawing the
    hidden tests' inputs from SEED and the student; its Run in job.run."""
    _, secret_env = gradebook.without_password(db_url)
    with tempfile.TemporaryDirectory(prefix="rnng-") as run_dir:
        env = {**sandbox.write_kernel_spec(Path(run_dir), sandboxed), **secret_env}
        args = ["autograde", job.assignment, "--student", job.student, "--create", "--force",
                f"--Execute.timeout={cell_timeout}", f"--JudgeSetup.run_seed={seed}",
                *sandbox.kernel_options(Path(run_dir))]
        job.run = nbgrader_run.run(out, args, env, timeout)
    return job


def feedback_runs(out: Path, jobs: list[Job], runs_per_assignment: int) -> list[tuple[str, list[str], list[str]]]:
    """The generate_feedback runs for the students autograded now: (assignment, students,
    every other student autograded in OUT, whom the run leaves alone), the students of an
    assignment shared among up to RUNS_PER_ASSIGNMENT runs (each run costs about as much
    again as a student)."""
    runs = []
    for assignment in sorted({job.assignment for job in jobs}):
        graded = sorted(job.student for job in jobs if job.assignment == assignment and job.run.ok)
        everyone = {path.parent.name for path in (out / "autograded").glob(f"*/{assignment}")}
        for share in range(min(runs_per_assignment, len(graded))):
            students = graded[share::runs_per_assignment]
            runs.append((assignment, students, sorted(everyone - set(students))))
    return runs


def write_feedback(out: Path, feedback_run: tuple[str, list[str], list[str]], db_url: str) -> str | None:
    """Feedback for one of feedback_runs; what went wrong, or None."""
    assignment, students, others = feedback_run
    _, secret_env = gradebook.without_password(db_url)
    args = ["generate_feedback", assignment, "--force",
            f"--CourseDirectory.student_id_exclude={','.join(sorted(others))}"]
    done = nbgrader_run.run(out, args, secret_env, FEEDBACK_TIMEOUT)
    return None if done.ok else f"no feedback for {', '.join(students)} / {assignment}: {done.gist()}"
