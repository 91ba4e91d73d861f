"""nbgrader's autograde gives the reference solution every automatically graded
point and the untouched student notebook zero, without an error.

Written answers (manually graded answer cells, and task cells) count in
nbgrader's max_score but score nothing until an instructor grades them, so the
reference's score is compared with the points of the automatically graded
cells, read from the master."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from rnncourse import config, nbgrader_run
from tests.conftest import ASSIGNMENTS, read_notebook, solution_notebook_path, student_notebook_path


def autograde(course_dir: Path, assignment: str, hand_ins: dict[str, Path]) -> dict[str, tuple[float, float]]:
    """Plain `nbgrader autograde` of HAND_INS (student id -> notebook) in COURSE_DIR (which holds
    the released assignment and the repository's nbgrader_config.py): each student's (score, max)."""
    for student, notebook in hand_ins.items():
        target = course_dir / "submitted" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, target / f"{assignment}.ipynb")
    nbgrader_run.check(nbgrader_run.run(course_dir, ["autograde", assignment, "--create", "--force"]), course_dir)
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        graded = {s.student_id: (s.score, s.max_score) for s in gradebook.assignment_submissions(assignment)}
    return {student: graded[student] for student in hand_ins}


def master_points(assignment: str) -> tuple[float, float]:
    """(automatically graded points, all points) of ASSIGNMENT's master notebook."""
    master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    automatic = total = 0.0
    for cell in master.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("task"):
            total += meta.get("points", 0)
        if meta.get("grade") and not meta.get("solution"):
            automatic += meta["points"]
    return automatic, total


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_full_marks_and_untouched_notebook_zero(course_dir, assignment):
    nbgrader_run.generate_assignment(course_dir, assignment)
    scores = autograde(
        course_dir,
        assignment,
        {
            "reference": solution_notebook_path(assignment),
            "untouched": student_notebook_path(assignment),
        },
    )
    automatic, total = master_points(assignment)
    score, max_score = scores["reference"]
    assert automatic > 0
    assert max_score == total, f"nbgrader counts {max_score} points, the master {total}"
    assert score == automatic, (
        f"reference solution scored {score}/{max_score}; its automatically graded cells are worth {automatic}"
    )
    assert scores["untouched"] == (0.0, max_score)
