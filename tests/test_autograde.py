"""nbgrader's autograde gives the reference solution full marks and the
untouched student notebook zero, without an error."""

from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS, solution_notebook_path, student_notebook_path
from rnncourse import nbgrader_run
from rnncourse.autograde import autograde


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
    score, max_score = scores["reference"]
    assert max_score > 0
    assert score == max_score, f"reference solution scored {score}/{max_score}"
    assert scores["untouched"] == (0.0, max_score)
