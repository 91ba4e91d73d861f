"""From the gradebook and the autograded notebooks to rows: one per student and assignment.

A row's score is what nbgrader's gradebook holds: the autograded points and
the points graded by hand so far (formgrader), less nbgrader's late penalty;
its maximum is the assignment's, written answers included; `waiting` counts the
points of written answers still to be graded by hand. After hand grading,
`refreshed` brings a row up to date (`rnncourse grade --refresh`).
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from rnncourse import nbgrader_run
from rnncourse.grading import course, execute, gradebook, repair
from rnncourse.grading.intake import Job, NotGraded

STATUSES = ("graded", "repaired", "missing", "timed out", "failed")
# The note of a file that never reached nbgrader: its row is not refreshed from the gradebook.
NOT_GRADED = "not graded: "
CANVAS_LATE = "marked late by Canvas"


@dataclass
class Row:
    """One line of grades.csv: a student's result on an assignment."""

    student: str  # the id: the LMS's (Moodle participant, Canvas user), nbgrader's folder, or the name's
    assignment: str
    score: float
    max_score: float
    status: str
    note: str
    waiting: float = 0.0  # points of written answers still to be graded by hand
    name: str = ""  # as written in the LMS's names
    lms: str = ""  # where the id comes from: moodle, canvas, nbgrader, or "" (the file's name)
    submitted: str = ""  # the time the LMS recorded, UTC
    late: str = ""  # how late, by the due date in nbgrader_config.py, or as the LMS marked it
    file: str = ""  # the file graded, as it was in the hand-ins


@dataclass(frozen=True)
class Grades:
    """What the gradebook holds for one submission."""

    score: float  # less the late penalty
    waiting: float
    seconds_late: float
    penalty: float


def grades_of(db_url: str, assignment: str, student: str) -> Grades | None:
    """The gradebook's grades of STUDENT's ASSIGNMENT, or None when it has none."""
    with gradebook.opened(db_url) as book:
        try:
            submission = book.find_submission(assignment, student)
        except MissingEntry:
            return None
        penalty = submission.late_submission_penalty or 0.0
        waiting = sum(g.max_score for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade)
        return Grades(max(0.0, submission.score - penalty), waiting, submission.total_seconds_late or 0.0, penalty)


def maxima(db_url: str, assignments: list[str]) -> dict[str, float]:
    """The maximum score of each of ASSIGNMENTS that the gradebook holds."""
    found = {}
    with gradebook.opened(db_url) as book:
        for assignment in assignments:
            with contextlib.suppress(MissingEntry):
                found[assignment] = book.find_assignment(assignment).max_score
    return found


def run_problems(autograded: Path, exercises: set[str]) -> tuple[list[str], list[str], list[str]]:
    """From an autograded notebook: cells that killed the kernel, cells cut at
    the time limit, and errors in the exercise cells."""
    died, slow, errors = [], [], []
    nb = nbformat.read(autograded, as_version=4)
    for index, cell in enumerate(nb.cells):
        name = repair.grade_id(cell) or f"cell {index + 1}"
        enames = [out.get("ename") for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        if execute.KERNEL_DIED in enames or execute.NOT_RUN in enames:
            died.append(name)
        elif execute.TIMED_OUT in enames:
            slow.append(name)
        elif enames and repair.grade_id(cell) in exercises:
            kind = "unanswered" if enames[-1] == "NotImplementedError" else enames[-1]
            errors.append(f"{name} ({kind})")
    return died, slow, errors


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or "< 1 min"


def lateness(grades: Grades | None, canvas_late: bool) -> str:
    """How late a hand-in is: by the due date, with nbgrader's penalty, and Canvas's mark."""
    said = []
    if grades and grades.seconds_late > 0:
        said.append(f"{duration(grades.seconds_late)} after the due date"
                    + (f", {grades.penalty:g} points off" if grades.penalty else ""))
    if canvas_late:
        said.append(CANVAS_LATE)
    return "; ".join(said)


def row_of(out: Path, job: Job, db_url: str, released: nbformat.NotebookNode, maximum: float) -> Row:
    """JOB's line of grades.csv, from the gradebook and the autograded notebook."""
    who = job.handin.who
    graded = grades_of(db_url, job.assignment, job.student) if job.run.ok else None
    submitted = f"{job.handin.submitted.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC" if job.handin.submitted else ""
    base = Row(job.student, job.assignment, 0.0, maximum, "failed", "", 0.0, who.name, who.lms, submitted,
               lateness(graded, who.late), job.path)
    repairs, remarks = job.rebuilt.repairs, job.notes + job.rebuilt.remarks
    if graded is None:
        if job.run.status == nbgrader_run.TIMED_OUT:
            status, why = "timed out", f"grading took longer than {job.run.seconds:.0f} s and was stopped"
        else:
            status, why = "failed", "nbgrader could not grade it: " + job.run.gist()
        return dataclasses.replace(base, status=status, note="; ".join([why] + repairs + remarks))
    exercises = {repair.grade_id(c) for c in released.cells if repair.is_solution(c)}
    died, slow, errors = run_problems(course.autograded_path(out, job.student, job.assignment), exercises)
    problems = []
    if died:
        problems.append(f"the kernel stopped in {', '.join(died)}: counted as an error, "
                        "the rest graded in a fresh kernel")
    if slow:
        problems.append(f"stopped at the time limit: {', '.join(slow)}")
    if errors:
        remarks = remarks + [f"errors in exercise cells: {', '.join(errors)}"]
    status = "failed" if died else "timed out" if slow else "repaired" if repairs else "graded"
    return dataclasses.replace(base, score=graded.score, waiting=graded.waiting, status=status,
                               note="; ".join(problems + repairs + remarks))


def failed_row(item: NotGraded, assignment: str, maximum: float) -> Row:
    """The row of a file that could not be graded: 0 points, and why."""
    who = item.who
    return Row(who.student, assignment, 0.0, maximum, "failed", f"{NOT_GRADED}{item.path}: {item.why}",
               name=who.name, lms=who.lms, file=item.path)


def refreshed(row: Row, db_url: str, maximum: float | None) -> Row:
    """ROW with the gradebook's grades as they are now (hand grading included)."""
    if row.status == "missing" or row.note.startswith(NOT_GRADED) or maximum is None:
        return row
    graded = grades_of(db_url, row.assignment, row.student)
    if graded is None:
        return dataclasses.replace(row, max_score=maximum)
    return dataclasses.replace(row, score=graded.score, max_score=maximum, waiting=graded.waiting,
                               late=lateness(graded, CANVAS_LATE in row.late))


def missing_rows(rows: list[Row], max_of: dict[str, float]) -> list[Row]:
    """A 'missing' row for each student without a hand-in of an assignment others handed in.

    Not for Moodle's ids: a participant id is Moodle's for one assignment only."""
    people = {row.student: row for row in rows if row.lms != "moodle"}
    handed_in = {(row.student, row.assignment) for row in rows}
    assignments = sorted({row.assignment for row in rows if row.assignment in max_of})
    return [Row(student, assignment, 0.0, max_of[assignment], "missing", "no hand-in", 0.0, who.name, who.lms)
            for student, who in sorted(people.items()) for assignment in assignments
            if (student, assignment) not in handed_in]
