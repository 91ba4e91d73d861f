"""The student notebook, answered with the reference code, runs top to bottom
as in Colab: alone in an empty folder, in a kernel that has no nbgrader, and
every visible self-check passes without a word on stderr."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from rnncourse.build import QUIET_KERNEL
from tests.conftest import ASSIGNMENTS, grade_id, read_notebook, solution_notebook_path, student_notebook_path

pytestmark = pytest.mark.slow

NO_NBGRADER = "raise ImportError('nbgrader is not installed here (as in Colab)')\n"


def answered_student_notebook(assignment: str) -> nbformat.NotebookNode:
    """The student notebook with every exercise cell filled in from the reference."""
    student = read_notebook(student_notebook_path(assignment))
    answers = {
        grade_id(cell): cell.source for cell in read_notebook(solution_notebook_path(assignment)).cells
    }
    for cell in student.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[grade_id(cell)]
    return student


@pytest.fixture
def colab_env(tmp_path) -> dict[str, str]:
    """The environment of a kernel in which `import nbgrader` fails."""
    blocker = tmp_path / "site" / "nbgrader"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(NO_NBGRADER)
    return dict(os.environ, PYTHONPATH=str(tmp_path / "site"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answered_student_notebook_runs_without_nbgrader(assignment, tmp_path, colab_env):
    workdir = tmp_path / "colab"
    workdir.mkdir()

    nb = answered_student_notebook(assignment)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        extra_arguments=QUIET_KERNEL,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=colab_env)

    test_cells = [
        cell
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"
    ]
    assert test_cells
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", (
                f"cell {grade_id(cell)} wrote to stderr: {output.get('text')}"
            )
    assert os.listdir(workdir) == [], "the notebook wrote files beside itself"


def test_the_kernel_really_has_no_nbgrader(colab_env):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import nbgrader")])
    client = NotebookClient(nb, timeout=60, kernel_name="python3", extra_arguments=QUIET_KERNEL)
    with pytest.raises(Exception, match="nbgrader is not installed here"):
        client.execute(env=colab_env)
