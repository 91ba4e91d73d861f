"""nbgrader's autograde gives the reference solution every automatically graded
point and the untouched student notebook zero, without an error.

Written answers (manually graded answer cells, and task cells) count in
nbgrader's max_score but score nothing until an instructor grades them, so the
reference's score is compared with the points of the automatically graded
cells, read from the master."""
from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS, read_notebook, solution_notebook_path, student_notebook_path
from rnncourse import config, nbgrader_run
from rnncourse.autograde import autograde


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
