"""From the gradebook and the autograded notebooks to rows: grades.csv and the summary."""
from __future__ import annotations

import contextlib
import csv
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from rnncourse import nbgrader_run
from rnncourse.grading import course, execute, gradebook, repair
from rnncourse.grading.intake import HandIn, Job

STATUSES = ("graded", "repaired", "missing", "timed out", "failed")
CSV_FIELDS = ["student", "assignment", "score", "max_score", "status", "note"]


@dataclass
class Row:
    """One line of grades.csv: a student's result on an assignment."""

    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    note: str
    by_hand: float = 0.0  # points of answers graded by hand later, not in max_score


def grades_of(db_url: str, assignment: str, student: str) -> tuple[float, float] | None:
    """(autograded score, points graded by hand) from the gradebook, or None."""
    with gradebook.opened(db_url) as book:
        try:
            notebook = book.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return None
        return (sum(g.auto_score for g in notebook.grades if g.auto_score is not None),
                sum(g.max_score for g in notebook.grades if g.auto_score is None))


def max_scores(db_url: str, assignment: str) -> tuple[float, float]:
    """(autograded points, points graded by hand) of ASSIGNMENT."""
    with gradebook.opened(db_url) as book:
        notebook = book.find_notebook(assignment, assignment)
        cells = {cell.name: cell for cell in notebook.source_cells}
        auto = by_hand = 0.0
        for cell in notebook.grade_cells:
            if cell.cell_type == "markdown" or bool(getattr(cells.get(cell.name), "solution", False)):
                by_hand += cell.max_score
            else:
                auto += cell.max_score
        return auto, by_hand


def maxima(db_url: str, assignments: list[str]) -> dict[str, tuple[float, float]]:
    """max_scores of each of ASSIGNMENTS that the gradebook holds."""
    found = {}
    for assignment in assignments:
        with contextlib.suppress(MissingEntry):
            found[assignment] = max_scores(db_url, assignment)
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


def row_of(out: Path, job: Job, db_url: str, released: nbformat.NotebookNode,
           maximum: tuple[float, float]) -> Row:
    """JOB's line of grades.csv, from the gradebook and the autograded notebook."""
    graded = grades_of(db_url, job.assignment, job.student) if job.run.ok else None
    auto_max, by_hand = maximum
    repairs = job.notes + job.rebuilt.repairs
    remarks = list(job.rebuilt.remarks)
    if graded is None:
        if job.run.status == nbgrader_run.TIMED_OUT:
            status, why = "timed out", f"grading took longer than {job.run.seconds:.0f} s and was stopped"
        else:
            status, why = "failed", "nbgrader could not grade it: " + job.run.gist()
        return Row(job.student, job.assignment, 0.0, auto_max, status, "; ".join([why] + repairs + remarks), by_hand)

    # The autograded maximum comes from the assignment, the same for everyone: nbgrader
    # scores a written answer left as released 0 by itself, which is not a point to add.
    score, by_hand = graded
    exercises = {repair.grade_id(c) for c in released.cells if repair.is_solution(c)}
    died, slow, errors = run_problems(course.autograded_path(out, job.student, job.assignment), exercises)
    problems = []
    if died:
        problems.append(f"the kernel stopped in {', '.join(died)}: counted as an error, "
                        "the rest graded in a fresh kernel")
    if slow:
        problems.append(f"stopped at the time limit: {', '.join(slow)}")
    if errors:
        remarks.append(f"errors in exercise cells: {', '.join(errors)}")
    if by_hand:
        remarks.append(f"{by_hand:g} more points for written answers are graded by hand")
    status = "failed" if died else "timed out" if slow else "repaired" if repairs else "graded"
    return Row(job.student, job.assignment, score, auto_max, status, "; ".join(problems + repairs + remarks), by_hand)


def failed_row(handin: HandIn, assignment: str | None, why: str, maxima: dict) -> Row:
    auto_max, by_hand = maxima.get(assignment, (0.0, 0.0))
    return Row(handin.student, assignment or "?", 0.0, auto_max, "failed", f"{handin.path}: {why}", by_hand)


def missing_rows(rows: list[Row], max_of: dict[str, tuple[float, float]]) -> list[Row]:
    """A 'missing' row for each student without a hand-in of an assignment others handed in."""
    students = sorted({row.student for row in rows})
    handed_in = {(row.student, row.assignment) for row in rows}
    assignments = sorted({row.assignment for row in rows if row.assignment in max_of})
    return [
        Row(student, assignment, 0.0, max_of[assignment][0], "missing", "no hand-in", max_of[assignment][1])
        for student in students for assignment in assignments if (student, assignment) not in handed_in
    ]


def read_csv(path: Path) -> list[Row]:
    """The rows of an existing grades.csv (none if there is none)."""
    if not path.is_file():
        return []
    with path.open(newline="") as stream:
        return [Row(line["student"], line["assignment"], float(line["score"]), float(line["max_score"]),
                    line["status"], line["note"]) for line in csv.DictReader(stream)]


def write_csv(rows: list[Row], path: Path) -> None:
    """Write ROWS to PATH in one step (a reader sees the old file or the new one)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with temporary.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_FIELDS)
        for row in rows:
            writer.writerow([row.student, row.assignment, f"{row.score:g}", f"{row.max_score:g}", row.status, row.note])
    os.replace(temporary, path)


def merged(earlier: list[Row], rows: list[Row], max_of: dict[str, tuple[float, float]]) -> list[Row]:
    """ROWS, with the EARLIER rows of grades.csv for every other student and
    assignment (graded before, or by another grader at the same time), and a
    'missing' row wherever a student has no hand-in."""
    latest = {(row.student, row.assignment): row for row in earlier if row.status != "missing"}
    latest.update({(row.student, row.assignment): row for row in rows})
    everything = list(latest.values())
    return sorted(everything + missing_rows(everything, max_of), key=lambda row: (row.student, row.assignment))


def summary(rows: list[Row]) -> str:
    """The table the command prints: student x assignment, score/max and status."""
    assignments = sorted({row.assignment for row in rows})
    students = sorted({row.student for row in rows})
    cell = {(row.student, row.assignment): row for row in rows}

    def shown(row: Row | None) -> str:
        if row is None:
            return ""
        hand = f" (+{row.by_hand:g} by hand)" if row.by_hand and row.status != "missing" else ""
        return f"{row.score:g}/{row.max_score:g}{hand} {row.status}"

    table = [["student", *assignments]] + [[s, *(shown(cell.get((s, a))) for a in assignments)] for s in students]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"{row.student} {row.assignment} ({row.status}): {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))
