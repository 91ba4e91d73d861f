"""grades.csv, read and written whole, and the summary the command prints.

grades.csv keeps one row per student and assignment, keyed by the student's id
(the LMS's id where the hand-ins came from an LMS) with their name shown, and
the rows of earlier runs for the students and assignments not graded now.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from rnncourse.grading.intake import NotGraded, owner_label
from rnncourse.grading.results import Row, missing_rows

CSV_FIELDS = ["student", "name", "lms", "assignment", "score", "max_score", "to_grade_by_hand", "status",
              "submitted", "late", "file", "note"]


def read_csv(path: Path) -> list[Row]:
    """The rows of an existing grades.csv (none if there is none; older files lack columns)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as stream:
        return [Row(line["student"], line["assignment"], float(line["score"]), float(line["max_score"]),
                    line["status"], line["note"], float(line.get("to_grade_by_hand") or 0), line.get("name") or "",
                    line.get("lms") or "", line.get("submitted") or "", line.get("late") or "", line.get("file") or "")
                for line in csv.DictReader(stream)]


def write_csv(rows: list[Row], path: Path) -> None:
    """Write ROWS to PATH in one step (a reader sees the old file or the new one), in UTF-8."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with temporary.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_FIELDS)
        for row in rows:
            writer.writerow([row.student, row.name, row.lms, row.assignment, f"{row.score:g}", f"{row.max_score:g}",
                             f"{row.waiting:g}", row.status, row.submitted, row.late, row.file, row.note])
    os.replace(temporary, path)


def merged(earlier: list[Row], rows: list[Row], max_of: dict[str, float]) -> list[Row]:
    """ROWS, with the EARLIER rows of grades.csv for every other student and
    assignment (graded before, or by another grader at the same time), and a
    'missing' row wherever a student has no hand-in."""
    latest = {(row.student, row.assignment): row for row in earlier if row.status != "missing"}
    latest.update({(row.student, row.assignment): row for row in rows})
    everything = list(latest.values())
    return sorted(everything + missing_rows(everything, max_of), key=lambda row: (row.student, row.assignment))


def label(row: Row) -> str:
    """How the summary names a row's student: the name, and the id when it says more."""
    return row.student if not row.name else f"{row.name} ({row.student})" if row.name != row.student else row.name


def summary(rows: list[Row], not_graded: list[NotGraded] = ()) -> str:
    """The table the command prints (student x assignment: score/max and status), the notes,
    and the files not graded."""
    assignments = sorted({row.assignment for row in rows})
    people = sorted({(row.student, label(row)) for row in rows}, key=lambda p: (p[1].casefold(), p[0]))
    cell = {(row.student, row.assignment): row for row in rows}

    def shown(row: Row | None) -> str:
        if row is None:
            return ""
        hand = f" (+{row.waiting:g} by hand)" if row.waiting else ""
        return f"{row.score:g}/{row.max_score:g}{hand} {row.status}{', late' if row.late else ''}"

    table = [["student", *assignments]] + [[name, *(shown(cell.get((s, a))) for a in assignments)]
                                           for s, name in people]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    said = sorted((row for row in rows if row.late or (row.note and row.status != "missing")),
                  key=lambda row: (label(row).casefold(), row.student, row.assignment))
    notes = [f"{label(row)} {row.assignment} ({row.status}): {'; '.join(filter(None, [row.late, row.note]))}"
             for row in said]
    skipped = [f"  {item.path}: {item.why}" + (f" (handed in by {owner_label(item.who)})" if item.who else "")
               for item in not_graded]
    return "\n".join(lines + ([""] + notes if notes else []) + (["", "Not graded:"] + skipped if skipped else []))
