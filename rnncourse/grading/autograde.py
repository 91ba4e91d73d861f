"""Autograde hand-ins, each in an nbgrader run of its own with its kernel in the
sandbox, and write their feedback; several at a time.

One run per hand-in, each in a confinement of its own (isolation.handin: its
control group, its scratch folder, killed and removed afterwards), means none
can stop, slow down or change another's grading. Everything that decides a
result is done before or after, in order, so results do not depend on the
number of workers. Feedback runs are shared among students; a shared run that
fails is done again one student at a time, so one hand-in cannot cost another
its feedback.
"""
from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from rnncourse import nbgrader_run
from rnncourse.grading import course, gradebook, isolation
from rnncourse.grading.bounds import Limits
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
              seed: int, limits: Limits | None = None) -> Job:
    """Autograde JOB (submitted in OUT) in an nbgrader run of its own, its kernel confined and
    bounded by LIMITS, the judge drawing the hidden tests' inputs from SEED and the student; its
    Run in job.run."""
    _, secret_env = gradebook.without_password(db_url)
    with isolation.handin(limits or Limits(), sandboxed) as space:
        args = ["autograde", job.assignment, "--student", job.student, "--create", "--force",
                f"--Execute.timeout={cell_timeout}", f"--JudgeSetup.run_seed={seed}", *space.options]
        job.run = nbgrader_run.run(out, args, {**space.env, **secret_env}, timeout)
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


def _feedback_run(out: Path, assignment: str, students: list[str], others: list[str],
                  db_url: str) -> nbgrader_run.Run:
    _, secret_env = gradebook.without_password(db_url)
    args = ["generate_feedback", assignment, "--force",
            f"--CourseDirectory.student_id_exclude={','.join(sorted(others))}"]
    return nbgrader_run.run(out, args, secret_env, FEEDBACK_TIMEOUT)


def write_feedback(out: Path, feedback_run: tuple[str, list[str], list[str]], db_url: str) -> str | None:
    """Feedback for one of feedback_runs; what went wrong, or None. When the shared
    run fails, or leaves a student without feedback, each of its students is done
    alone: only a student whose own run fails goes without."""
    assignment, students, others = feedback_run
    done = _feedback_run(out, assignment, students, others, db_url)
    missing = [s for s in students if not course.feedback_path(out, s, assignment).is_file()]
    if done.ok and not missing:
        return None
    problems = []
    for student in students if not done.ok else missing:
        course.feedback_path(out, student, assignment).unlink(missing_ok=True)  # no stale feedback either
        alone = _feedback_run(out, assignment, [student], sorted(set(others) | set(students) - {student}), db_url)
        if not alone.ok or not course.feedback_path(out, student, assignment).is_file():
            problems.append(f"no feedback for {student} / {assignment}: {alone.gist()}")
    return "; ".join(problems) or None
