"""Shared fixtures: the assignments, and an nbgrader course directory holding them; the order
in which the test files are handed to xdist's workers."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from rnncourse import config, nbgrader_run
from rnncourse.grading.repair import grade_id  # noqa: F401 (the tests import it from here)

ASSIGNMENTS = config.assignments()

# Seconds each file takes on two busy cores (`pytest --durations=0`, summed by file), longest
# first. xdist (--dist loadfile, --no-loadscope-reorder in pyproject) gives each worker the next
# file in this order as it runs out of work: long files first and short ones last let the two
# workers finish together (in xdist's own order, by number of tests, a long file of few tests
# came last while the other worker sat idle). A file not listed comes after these, in collection
# order; the figures need only be roughly right.
SECONDS = {"tests/test_grade.py": 385, "tests/test_cheats.py": 355, "tests/test_grade_scale.py": 310,
           "tests/test_formgrader.py": 215, "tests/test_build.py": 140, "tests/test_sandbox.py": 130,
           "tests/test_mutation.py": 105, "tests/test_autograde.py": 100, "tests/test_colab.py": 50,
           "tests/test_similarity.py": 40, "tests/test_class_report.py": 35, "tests/test_language_model.py": 35,
           "tests/test_grade_units.py": 33, "tests/test_grading_parts.py": 26, "solutions/05_language_model.ipynb": 18}


def pytest_collection_modifyitems(items) -> None:
    """The longest files first (see SECONDS), each file's tests in their own order."""
    items.sort(key=lambda item: -SECONDS.get(item.nodeid.split("::")[0], 0))


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
