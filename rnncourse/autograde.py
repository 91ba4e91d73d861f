"""Autograde hand-ins with nbgrader in a course directory of our making."""
from __future__ import annotations

import shutil
from pathlib import Path

from nbgrader.api import Gradebook

from rnncourse import nbgrader_run


def submit(course_dir: Path, assignment: str, student: str, notebook: Path) -> None:
    """Place NOTEBOOK where nbgrader looks for STUDENT's hand-in of ASSIGNMENT."""
    target = course_dir / "submitted" / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, target / f"{assignment}.ipynb")


def scores(course_dir: Path, assignment: str) -> dict[str, tuple[float, float]]:
    """Each graded student's (score, max_score) for ASSIGNMENT, from the gradebook."""
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        return {
            submission.student_id: (submission.score, submission.max_score)
            for submission in gradebook.assignment_submissions(assignment)
        }


def autograde(course_dir: Path, assignment: str, hand_ins: dict[str, Path]) -> dict[str, tuple[float, float]]:
    """Grade HAND_INS (student id -> notebook) of ASSIGNMENT; return their scores.

    COURSE_DIR must already hold the assignment (see nbgrader_run.make_course_dir
    and generate_assignment).
    """
    for student, notebook in hand_ins.items():
        submit(course_dir, assignment, student, notebook)
    nbgrader_run.nbgrader(course_dir, "autograde", assignment, "--create", "--force")
    graded = scores(course_dir, assignment)
    return {student: graded[student] for student in hand_ins}
