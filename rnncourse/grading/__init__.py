"""`rnncourse grade`: a folder or zip of hand-ins in, grades and feedback out.

One thin function, `grade`, calls the steps in order, each a module of its own:

    intake      hand-ins in (files, names): whose, which assignment, the newest copy; rebuilt by repair
    course      the output folder, an nbgrader course folder, and the release
    autograde   each hand-in in an nbgrader run of its own, its kernel in the sandbox; feedback
    results     gradebook -> rows; table: grades.csv and the summary; lms_export: Canvas, Moodle
    similarity  answers alike (the published reference's, other students'): similarity.html

`refresh` brings grades.csv, the feedback and the exports up to date after hand
grading in formgrader. The output folder is an nbgrader course folder
(formgrader runs there for the answers graded by hand); its gradebook is SQLite
or PostgreSQL (gradebook). The steps are imported when grading starts, so that
the command says something at once.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rnncourse import config
from rnncourse.grading.bounds import Limits

if TYPE_CHECKING:
    from rnncourse.grading.course import Term
    from rnncourse.grading.intake import NotGraded
    from rnncourse.grading.results import Row

__all__ = ["GradingRun", "Report", "grade", "refresh"]


def _default_patterns() -> list[str]:
    from rnncourse.grading import names

    return names.default_patterns(config.assignments())


@dataclass(frozen=True)
class GradingRun:
    """What one `grade` is asked to do."""

    source: Path | None  # a folder or zip of hand-ins (None for a refresh)
    out: Path  # the output folder
    patterns: list[str] = field(default_factory=_default_patterns)
    sandboxed: bool = True
    cell_timeout: int = 30  # seconds one cell may run
    timeout: float = 900  # seconds one hand-in's grading may take
    assignments: list[str] | None = None  # default: every assignment in source/
    workers: int = 1  # hand-ins graded at the same time
    db: str | None = None  # the gradebook's URL (see gradebook.resolve_url)
    seed: int | None = None  # the judge's seed for this run (default: a fresh one); the same seed draws
    # the same hidden-test inputs again, to reproduce a grade
    limits: Limits = field(default_factory=Limits)  # what one hand-in may use, all its processes together
    log: Callable[[str], None] = print
    progress: bool = False  # a progress bar on stderr
    term: Term | None = None  # due dates and the LMS's time zone; default: nbgrader_config.py's

    @property
    def db_url(self) -> str:
        from rnncourse.grading import gradebook

        return gradebook.resolve_url(self.db, self.out)


@dataclass
class Report:
    """What a run did: its rows, the files it did not grade, and the LMS exports it wrote."""

    rows: list[Row]
    not_graded: list[NotGraded] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)


def grade(run: GradingRun) -> Report:
    """Grade every hand-in of RUN. OUT/grades.csv gets this run's rows, merged with the
    rows already there for other students and assignments; the LMS exports follow."""
    import nbformat
    from tqdm import tqdm

    from rnncourse import nbgrader_run
    from rnncourse.grading import autograde, course, gradebook, intake, isolation, repair, results, similarity

    out, db_url, log = run.out, run.db_url, run.log
    # A sandbox that is asked for must be in force: never a kernel as root, or one that could remount.
    problem = isolation.sandbox_problem(run.limits) if run.sandboxed else None
    if problem:
        raise RuntimeError(f"the sandbox is not in force here: {problem}; grade without it (--no-sandbox) "
                           "only if you trust every hand-in")
    # This process opens the gradebook too: with nbgrader's environment, waiting for other graders' locks.
    os.environ["PATH"] = nbgrader_run.environment()["PATH"]
    gradebook.wait_for_sqlite_locks()
    everything = config.assignments()
    term = run.term or course.term()
    log(f"Reading the hand-ins in {run.source}")
    found, not_graded = intake.collect(run.source, run.patterns, everything, term.zone)
    # Recognised on the committed student notebooks; only the assignments handed in are released
    # (all of them for no hand-in: the output folder is then made ready for any).
    known = {a: nbformat.read(config.NOTEBOOKS_DIR / f"{a}.ipynb", as_version=4) for a in run.assignments or everything}
    recognised, unusable = intake.recognise(found, known, everything, log)
    named = {item.assignment for item in not_graded + unusable if item.who and item.assignment in known}
    assignments = sorted(run.assignments or {a for _, a in recognised} | named or everything)
    contexts = {a: repair.master_context(nbformat.read(config.SOURCE_DIR / a / f"{a}.ipynb", as_version=4))
                for a in assignments}
    seed = run.seed if run.seed is not None else secrets.randbits(48)
    log(f"Hidden tests drawn with seed {seed} (grade again with --seed {seed} to draw the same inputs)")

    # One grader per assignment at a time; preparing the course, one grader at a time.
    with gradebook.locked(out, db_url, [f"assignment-{a}" for a in assignments]):
        with gradebook.locked(out, db_url, ["course"]):
            log(f"Preparing {out} for {', '.join(assignments)}")
            released = course.prepare(out, assignments, db_url, term.due_dates)
            jobs = intake.jobs(recognised, released, contexts)
            gradebook.add_students(db_url, {job.student: (job.handin.who.name, job.student if job.handin.who.lms
                                                          in ("moodle", "canvas") else None) for job in jobs})
            for job in jobs:
                course.submit(out, job.student, job.assignment, job.rebuilt.notebook, job.handin.submitted)

        def autograde_one(job: intake.Job) -> intake.Job:
            return autograde.autograde(out, job, db_url, run.sandboxed, run.cell_timeout, run.timeout, seed,
                                       run.limits)

        # No more nbgrader runs at a time than there are hand-ins.
        workers = max(1, min(run.workers, len(jobs)))
        with tqdm(total=len(jobs), unit="hand-in", disable=not run.progress, dynamic_ncols=True) as bar:
            for job in autograde.in_parallel(jobs, workers, autograde_one):
                bar.update()
                log(f"{job.run.status:9} {job.student} / {job.assignment} ({job.path}): {job.run.seconds:.1f} s")
        feedback = autograde.feedback_runs(out, jobs, workers)
        log(f"Writing feedback for {sum(len(f[1]) for f in feedback)} hand-ins")
        for problem in autograde.in_parallel(feedback, workers, lambda f: autograde.write_feedback(out, f, db_url)):
            if problem:
                log(problem)

        max_of = results.maxima(db_url, assignments)
        rows = [results.row_of(out, job, db_url, released[job.assignment], max_of[job.assignment]) for job in jobs]
        rows, not_graded = with_failures(rows, not_graded + unusable, max_of)
        exports = save(out, db_url, rows, set(max_of), everything)
        flagged = similarity.write(out)  # flags copied answers; changes no grade
        log(f"Similarity report: {out / 'similarity.html'} ({len(flagged)} pairs of answers flagged)")
    return Report(rows, not_graded, exports)


def with_failures(rows: list[Row], problems: list[NotGraded], max_of: dict[str, float],
                  ) -> tuple[list[Row], list[NotGraded]]:
    """ROWS with a 'failed' row for each student and assignment graded now that has only
    files that could not be graded, and 'missing' rows; and the files left for the summary
    (whose student or assignment is unknown, or whose student has a copy that was graded)."""
    from rnncourse.grading import results

    rows = list(rows)
    pairs = {(row.student, row.assignment) for row in rows}
    left = []
    for item in problems:
        pair = (item.who.student, item.assignment) if item.who else None
        if pair and item.assignment in max_of and pair not in pairs:
            rows.append(results.failed_row(item, item.assignment, max_of[item.assignment]))
            pairs.add(pair)
        else:
            left.append(item)
    rows += results.missing_rows(rows, max_of)
    return sorted(rows, key=lambda row: (row.student, row.assignment)), left


def save(out: Path, db_url: str, rows: list[Row], graded_now: set[str], everything: list[str]) -> list[str]:
    """Merge ROWS into OUT/grades.csv (under its lock) and write the LMS exports."""
    from rnncourse.grading import gradebook, lms_export, results, table

    with gradebook.file_locks(out, ["csv"]):
        earlier = table.read_csv(out / "grades.csv")
        graded_before = sorted({row.assignment for row in earlier} & set(everything) - graded_now)
        max_of = results.maxima(db_url, sorted(graded_now | set(graded_before)))
        merged = table.merged(earlier, rows, max_of)
        table.write_csv(merged, out / "grades.csv")
        return lms_export.write_exports(merged, out)


def refresh(run: GradingRun) -> Report:
    """Bring OUT/grades.csv, the feedback and the LMS exports up to date with the gradebook
    (the points and comments graded by hand in formgrader)."""
    from rnncourse import nbgrader_run
    from rnncourse.grading import autograde, course, gradebook, results, table

    out, db_url = run.out, run.db_url
    if not (out / "grades.csv").is_file():
        raise FileNotFoundError(f"{out / 'grades.csv'}: no grades to refresh; grade hand-ins into {out} first")
    os.environ["PATH"] = nbgrader_run.environment()["PATH"]
    gradebook.wait_for_sqlite_locks()
    rows = table.read_csv(out / "grades.csv")
    assignments = sorted({row.assignment for row in rows} & set(config.assignments()))
    with gradebook.locked(out, db_url, [f"assignment-{a}" for a in assignments]):
        runs = []
        for assignment in assignments:
            everyone = course.autograded_students(out, assignment)
            for share in range(run.workers):
                students = everyone[share::run.workers]
                if students:
                    runs.append((assignment, students, sorted(set(everyone) - set(students))))
        run.log(f"Writing feedback for {sum(len(r[1]) for r in runs)} hand-ins")
        for problem in autograde.in_parallel(runs, run.workers, lambda f: autograde.write_feedback(out, f, db_url)):
            if problem:
                run.log(problem)
        max_of = results.maxima(db_url, assignments)
        rows = [results.refreshed(row, db_url, max_of.get(row.assignment)) for row in rows]
        exports = save(out, db_url, rows, set(max_of), config.assignments())
    return Report(rows, [], exports)


def __getattr__(name: str):
    if name == "Row":  # the rows' class, loaded with the steps
        from rnncourse.grading.results import Row

        return Row
    raise AttributeError(name)
