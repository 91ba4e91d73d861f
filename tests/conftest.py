"""Shared fixtures: the assignments, and an nbgrader course directory holding them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from rnncourse import config, nbgrader_run
from rnncourse.grading.repair import grade_id  # noqa: F401 (the tests import it from here)

ASSIGNMENTS = config.assignments()


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def student_notebook_path(assignment: str) -> Path:
    return config.NOTEBOOKS_DIR / f"{assignment}.ipynb"


def solution_notebook_path(assignment: str) -> Path:
    return config.SOLUTIONS_DIR / f"{assignment}.ipynb"


@pytest.fixture(scope="session")
def course_dir(tmp_path_factory) -> Path:
    """A course directory holding every master; generate an assignment before grading it."""
    return nbgrader_run.make_course_dir(tmp_path_factory.mktemp("course"), ASSIGNMENTS)
