"""`rnncourse grade`: a folder or zip of hand-ins in, grades and feedback out.

One thin function, `grade`, calls the steps in order, each a module of its own:

    intake      hand-ins in: whose, which assignment, the latest copy; rebuilt by repair
    course      the output folder, an nbgrader course folder, and the release
    autograde   each hand-in in an nbgrader run of its own, its kernel in the sandbox; feedback
    results     gradebook -> rows, grades.csv and the summary
    similarity  answers alike (the published reference's, other students'): similarity.html

The output folder is an nbgrader course folder (formgrader runs there for the
answers graded by hand); its gradebook is SQLite or PostgreSQL (gradebook).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncourse import config, nbgrader_run
from rnncourse.grading import autograde, course, gradebook, intake, repair, results, similarity
from rnncourse.grading.results import Row

__all__ = ["GradingRun", "Row", "grade"]


@dataclass(frozen=True)
class GradingRun:
    """What one `grade` is asked to do."""

    source: Path  # a folder or zip of hand-ins
    out: Path  # the output folder
    patterns: list[str] = field(default_factory=lambda: intake.default_patterns(config.assignments()))
    sandboxed: bool = True
    cell_timeout: int = 30  # seconds one cell may run
    timeout: float = 900  # seconds one hand-in's grading may take
    assignments: list[str] | None = None  # default: every assignment in source/
    workers: int = 1  # hand-ins graded at the same time
    db: str | None = None  # the gradebook's URL (see gradebook.resolve_url)
    seed: int | None = None  # the judge's seed for this run (default: a fresh one); the same seed draws
    # the same hidden-test inputs again, to reproduce a grade
    log: Callable[[str], None] = print

    @property
    def db_url(self) -> str:
        return gradebook.resolve_url(self.db, self.out)


def grade(run: GradingRun) -> list[Row]:
    """Grade every hand-in of RUN; return this run's rows. OUT/grades.csv gets them,
    merged with the rows already there for other students and assignments."""
    out, db_url, log = run.out, run.db_url, run.log
    # This process opens the gradebook too: with nbgrader's environment, waiting for other graders' locks.
    os.environ["PATH"] = nbgrader_run.environment()["PATH"]
    gradebook.wait_for_sqlite_locks()
    everything = config.assignments()
    assignments = sorted(run.assignments or everything)
    contexts = {a: repair.master_context(nbformat.read(config.SOURCE_DIR / a / f"{a}.ipynb", as_version=4))
                for a in assignments}
    found, unnamed = intake.collect(run.source, run.patterns)
    for path in unnamed:
        log(f"skipped {path}: no pattern gives its student")
    # No more nbgrader runs at a time than there are hand-ins.
    workers = max(1, min(run.workers, len(found)))
    seed = run.seed if run.seed is not None else secrets.randbits(48)
    log(f"hidden tests drawn with seed {seed} (grade again with --seed {seed} to draw the same inputs)")

    # One grader per assignment at a time; preparing the course, one grader at a time.
    with gradebook.locked(out, db_url, [f"assignment-{a}" for a in assignments]):
        with gradebook.locked(out, db_url, ["course"]):
            released = course.prepare(out, assignments, db_url)
            jobs, unusable = intake.jobs(found, released, everything, contexts, log)
            gradebook.add_students(db_url, [job.student for job in jobs] + [h.student for h, _, _ in unusable])
            for job in jobs:
                course.submit(out, job.student, job.assignment, job.rebuilt.notebook)

        def autograde_one(job: intake.Job) -> intake.Job:
            return autograde.autograde(out, job, db_url, run.sandboxed, run.cell_timeout, run.timeout, seed)

        for job in autograde.in_parallel(jobs, workers, autograde_one):
            log(f"{job.run.status:9} {job.student} / {job.assignment} ({job.path}): {job.run.seconds:.1f} s")
        feedback = autograde.feedback_runs(out, jobs, workers)
        for problem in autograde.in_parallel(feedback, workers, lambda f: autograde.write_feedback(out, f, db_url)):
            if problem:
                log(problem)

        max_of = results.maxima(db_url, assignments)
        rows = [results.row_of(out, job, db_url, released[job.assignment], max_of[job.assignment]) for job in jobs]
        # A damaged extra copy does not count against a copy that was graded.
        graded_pairs = {(row.student, row.assignment) for row in rows}
        rows += [results.failed_row(handin, assignment, why, max_of) for handin, assignment, why in unusable
                 if (handin.student, assignment) not in graded_pairs]
        rows = sorted(rows + results.missing_rows(rows, max_of), key=lambda row: (row.student, row.assignment))
        with gradebook.file_locks(out, ["csv"]):
            earlier = results.read_csv(out / "grades.csv")
            graded_before = sorted({row.assignment for row in earlier} & set(everything) - set(max_of))
            merged = results.merged(earlier, rows, {**results.maxima(db_url, graded_before), **max_of})
            results.write_csv(merged, out / "grades.csv")
        flagged = similarity.write(out)  # flags copied answers; changes no grade
        log(f"similarity report: {out / 'similarity.html'} ({len(flagged)} pairs of answers flagged)")
    return rows
