"""The generated notebooks: in sync with source/, deterministic, and safe to publish."""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from rnncourse import build, config, provided
from tests.conftest import ASSIGNMENTS, grade_id, read_notebook, solution_notebook_path, student_notebook_path


@pytest.fixture(scope="module")
def fresh_build() -> dict:
    """Every generated file as a build with executed solutions writes it."""
    return build.build(ASSIGNMENTS)


@pytest.mark.slow
def test_committed_files_are_in_sync_with_source(fresh_build):
    assert build.out_of_sync(ASSIGNMENTS, fresh_build) == []


def test_sync_check_notices_a_hand_edit(tmp_path, monkeypatch):
    copy = tmp_path / "notebooks"
    shutil.copytree(config.NOTEBOOKS_DIR, copy)
    edited = copy / f"{ASSIGNMENTS[0]}.ipynb"
    edited.write_text(edited.read_text().replace("YOUR CODE HERE", "YOUR CODE THERE", 1))
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", copy)
    assert build.out_of_sync(ASSIGNMENTS[:1]) == [f"{edited}: differs from a fresh build"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_build_is_byte_identical_when_run_twice(assignment, fresh_build):
    second = build.build([assignment])
    for path, text in second.items():
        assert text == fresh_build[path], f"{path.name} differs between two builds"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_hides_solutions_and_hidden_tests(assignment):
    text = student_notebook_path(assignment).read_text()
    for marker in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "BEGIN HIDDEN TESTS",
        "END HIDDEN TESTS",
        "BEGIN MARK SCHEME",
    ):
        assert marker not in text, f"{marker} left in the student notebook"
    master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    student = read_notebook(student_notebook_path(assignment))
    solution_cells = [cell for cell in master.cells if cell.metadata.get("nbgrader", {}).get("solution")]
    assert solution_cells, "the master has no exercise"
    by_id = {grade_id(cell): cell for cell in student.cells}
    for cell in solution_cells:
        released = by_id[grade_id(cell)]
        assert released.source != cell.source, f"exercise {grade_id(cell)} is released with its answer"


def test_model_written_answers_are_published_neither_to_students_nor_in_solutions():
    published = 0
    for assignment in ASSIGNMENTS:
        master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
        solution = {grade_id(cell): cell for cell in read_notebook(solution_notebook_path(assignment)).cells}
        texts = ["\n".join(cell.source for cell in read_notebook(path).cells)
                 for path in (student_notebook_path(assignment), solution_notebook_path(assignment))]
        for cell in master.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "markdown" or not (meta.get("solution") and meta.get("grade")):
                continue
            published += 1
            model = [line.strip() for line in cell.source.splitlines() if len(line.strip()) > 30
                     and "### " not in line]
            assert model, f"{grade_id(cell)} has no model answer"
            assert not [line for line in model if any(line in text for text in texts)], \
                f"{assignment}: the model answer of {grade_id(cell)} is published"
            assert solution[grade_id(cell)].source == build.MODEL_ANSWER_NOTE.format(assignment=assignment)
    assert published, "no written answer graded by hand in any master"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_opens_in_colab_from_its_first_cell(assignment):
    first = read_notebook(student_notebook_path(assignment)).cells[0]
    assert first.cell_type == "markdown"
    assert config.colab_url(assignment) in first.source
    assert (
        f"github/{config.GITHUB_REPOSITORY}/blob/{config.GITHUB_BRANCH}/notebooks/{assignment}.ipynb"
        in first.source
    )
    assert config.colab_badge(assignment) in config.README.read_text()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_is_worth_points(assignment):
    master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    ids = [grade_id(cell) for cell in master.cells if grade_id(cell)]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    graded = [cell for cell in master.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        assert cell.metadata["nbgrader"].get("points", 0) > 0, f"{grade_id(cell)} has no points"


def test_build_names_a_repeated_cell_id(tmp_path, monkeypatch):
    source = tmp_path / "source"
    shutil.copytree(config.SOURCE_DIR / ASSIGNMENTS[0], source / ASSIGNMENTS[0])
    master_path = source / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb"
    master = nbformat.read(master_path, as_version=4)
    graded = [cell for cell in master.cells if grade_id(cell)]
    graded[1].metadata.nbgrader.grade_id = grade_id(graded[0])
    nbformat.write(master, master_path)
    monkeypatch.setattr(config, "SOURCE_DIR", source)
    with pytest.raises(ValueError, match=f"used more than once: '{grade_id(graded[0])}' \\(cells 1, 2\\)"):
        build.build(ASSIGNMENTS[:1])


def test_sync_check_refuses_outputs_in_a_master(tmp_path, monkeypatch):
    source = tmp_path / "source"
    shutil.copytree(config.SOURCE_DIR / ASSIGNMENTS[0], source / ASSIGNMENTS[0])
    master_path = source / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb"
    master = nbformat.read(master_path, as_version=4)
    code = next(cell for cell in master.cells if cell.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="left over\n")]
    nbformat.write(master, master_path)
    monkeypatch.setattr(config, "SOURCE_DIR", source)
    assert build.masters_with_outputs(ASSIGNMENTS[:1]) == [
        f"source/{ASSIGNMENTS[0]}/{ASSIGNMENTS[0]}.ipynb: cell {code.id} holds outputs; "
        "clear them (Jupyter: Edit > Clear Outputs of All Cells) before committing"
    ]


def test_every_provided_copy_equals_its_source():
    masters = provided.read_masters()
    copies = [cell for nb in masters.values() for cell in nb.cells if provided.spec(cell)]
    assert len(copies) >= 6, "the masters should take their shared code from one source"
    assert provided.stale(masters) == []


def test_copies_check_notices_a_hand_edit():
    masters = provided.read_masters()
    cell = next(c for c in masters["04_classifier"].cells if "01_forward:SimpleRNN" in provided.spec(c))
    cell.source = cell.source.replace("self.B = np.zeros(n_nodes)", "self.B = np.ones(n_nodes)", 1)
    assert provided.stale(masters) == [
        f"source/04_classifier/04_classifier.ipynb: cell {grade_id(cell)} differs from "
        f"{', '.join(provided.spec(cell))}; run `rnncourse build`"]


def fixture_master(source: str, pieces: list[str]) -> nbformat.NotebookNode:
    """A master of two cells: an exercise with SOURCE, and a provided cell made of PIECES."""
    exercise = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade_id": "ex", "solution": True}})
    copy = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "copy", "locked": True},
                                                   "rnncourse": {"provided": pieces}})
    return nbformat.v4.new_notebook(cells=[exercise, copy])


def test_a_copy_leaves_out_solution_markers_and_keeps_decorators():
    exercise = ("def step(a):\n    \"\"\"Contract.\"\"\"\n    ### BEGIN SOLUTION\n    return a + 1\n"
                "    ### END SOLUTION\n\n\n@add_to_class(Layer)\ndef grow(self):\n    return 2\n")
    filled = provided.filled({"00_x": fixture_master(exercise, []),
                              "01_y": fixture_master("", ["00_x:step", "00_x:grow"])})
    text = filled["01_y"].cells[1].source
    assert text.splitlines()[:2] == ["# Provided, read-only (do not change this cell):",
                                     "#   from notebook 00_x: step, grow"]
    assert "### BEGIN SOLUTION" not in text and "    return a + 1" in text
    assert "@add_to_class(Layer)\ndef grow(self):" in text


def test_a_helper_brings_the_helpers_it_calls():
    text = provided.filled({"00_x": fixture_master("", ["notebook_code:check_array"])})["00_x"].cells[1].source
    assert "def check_array(" in text and "def shape_hint(" in text and "def add_to_class(" not in text


@pytest.mark.parametrize("piece, says", [("00_x:nothing", "defines no function or class 'nothing'"),
                                          ("99_z:step", "no master '99_z'")])
def test_a_wrong_piece_is_named(piece, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        provided.filled({"00_x": fixture_master("def step():\n    pass\n", [piece])})
