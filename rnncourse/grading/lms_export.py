"""Grades an LMS imports, keyed by its own ids: written after every run and refresh.

Canvas (Grades -> Import): one CSV for the course. Canvas reads the header row
`Student, ID, SIS User ID, SIS Login ID, Section` and then one column per
assignment; it finds each student by the ID column (its user id, which its
submission zips put in every file name) and each assignment by its title, or by
`Title (id)`. A title it does not know becomes a new assignment: name the
Canvas assignment like the notebook (`01_forward`), or rename the column. A
blank cell changes nothing.

Moodle (the assignment's View all submissions -> Upload grading worksheet,
with Offline grading worksheet enabled in its feedback types): one CSV per
assignment, in the columns of the worksheet it downloads. Moodle reads
`Identifier` (`Participant 4711`: the participant id its submission zips put in
every file name), `Grade` and `Last modified (grade)` (a grade changed in Moodle
after that time is kept unless "Ignore last modified date" is ticked); the
other columns are for people. Participant ids belong to one Moodle assignment,
so each worksheet holds the rows of the students graded from that assignment's
zip.

Rows with no hand-in are left out; a Canvas anonymous id (`anon_...`) names no
user and is left out too, with a note.
"""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

from rnncourse.grading.results import Row

CANVAS_FILE = "canvas_grades.csv"
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = ["Identifier", "Full name", "Status", "Grade", "Maximum Grade", "Last modified (grade)"]


def moodle_file(assignment: str) -> str:
    return f"moodle_{assignment}.csv"


def canvas_rows(rows: list[Row]) -> tuple[list[list[str]], list[str]]:
    """The Canvas import's lines for ROWS (header first), and the ids left out."""
    graded = [row for row in rows if row.lms == "canvas" and row.status != "missing"]
    assignments = sorted({row.assignment for row in graded})
    students = sorted({(row.student, row.name) for row in graded if not row.student.startswith("anon_")})
    left_out = sorted({row.student for row in graded if row.student.startswith("anon_")})
    score = {(row.student, row.assignment): f"{row.score:g}" for row in graded}
    lines = [CANVAS_HEADER + assignments]
    lines += [[name, student, "", "", "", *(score.get((student, a), "") for a in assignments)]
              for student, name in students]
    return lines, left_out


def moodle_rows(rows: list[Row], assignment: str, now: datetime) -> list[list[str]]:
    """The grading worksheet of ASSIGNMENT for ROWS (header first)."""
    stamp = now.astimezone(timezone.utc).isoformat(timespec="seconds")
    graded = sorted((row for row in rows if row.lms == "moodle" and row.assignment == assignment
                     and row.status != "missing"), key=lambda row: int(row.student))
    return [MOODLE_HEADER] + [[f"Participant {row.student}", row.name, row.status, f"{row.score:g}",
                               f"{row.max_score:g}", stamp] for row in graded]


def write(lines: list[list[str]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(lines)


def write_exports(rows: list[Row], out: Path, now: datetime | None = None) -> list[str]:
    """Write OUT's imports for every LMS that ROWS come from; say what was written."""
    said = []
    canvas, left_out = canvas_rows(rows)
    if len(canvas) > 1:
        write(canvas, out / CANVAS_FILE)
        said.append(f"Canvas (Grades -> Import): {out / CANVAS_FILE}")
    if left_out:
        said.append(f"Canvas's anonymous ids name no user and are not in {CANVAS_FILE}: {', '.join(left_out)}")
    for assignment in sorted({row.assignment for row in rows if row.lms == "moodle"}):
        worksheet = moodle_rows(rows, assignment, now or datetime.now(timezone.utc))
        if len(worksheet) > 1:
            write(worksheet, out / moodle_file(assignment))
            said.append(f"Moodle ({assignment}: Upload grading worksheet): {out / moodle_file(assignment)}")
    return said
