"""The grading command's parts that need no nbgrader run: recognising and rebuilding
hand-ins from their content, the guard, the summary. (Reading and naming them: test_intake.)"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from rnncourse import cli, config, grading
from rnncourse.grading import guard, intake, repair, results, sandbox, table
from tests import handin_corpus as corpus
from tests.conftest import ASSIGNMENTS, read_notebook, solution_notebook_path, student_notebook_path


def released(assignment: str) -> nbformat.NotebookNode:
    """The committed student notebook: the release with its badge, as grading.course.prepare makes it."""
    return read_notebook(student_notebook_path(assignment))


def answered_colab(assignment: str) -> nbformat.NotebookNode:
    """The student notebook answered from the reference, saved as Colab saves it."""
    return corpus.colab(corpus.answered(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_handin_is_recognised_by_content(assignment):
    everything = {a: released(a) for a in ASSIGNMENTS}
    for nb in (answered_colab(assignment), read_notebook(solution_notebook_path(assignment))):
        assert intake.identify(nb, None, everything)[0] == assignment
    scores = {a: repair.content_score(answered_colab(assignment), rel) for a, rel in everything.items()}
    assert all(scores[assignment] > score for a, score in scores.items() if a != assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_colab_handin_is_rebuilt_as_released_with_the_answers(assignment):
    master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    rebuilt = repair.rebuild(answered_colab(assignment), released(assignment), repair.master_context(master))
    assert rebuilt.notebook.cells[0].id == repair.GRADER_CELL_ID
    ids = [corpus.grade_id(c) for c in rebuilt.notebook.cells[1:]]
    assert ids == [corpus.grade_id(c) for c in released(assignment).cells]
    answers = corpus.reference_answers(assignment)
    for cell in rebuilt.notebook.cells:
        if repair.is_solution(cell):
            assert cell.source == answers[corpus.grade_id(cell)]
    with_metadata = [c for c in released(assignment).cells if corpus.grade_id(c)]
    assert rebuilt.repairs == [f"nbgrader metadata missing or changed in {len(with_metadata)} cells"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_intact_handin_needs_no_repair(assignment):
    master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    rebuilt = repair.rebuild(corpus.answered(assignment), released(assignment), repair.master_context(master))
    assert rebuilt.repairs == [] and rebuilt.remarks == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_guard_finds_nothing_in_honest_code(assignment):
    master = read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb")
    protected, imports, _ = repair.master_context(master)
    code = [c.source for c in master.cells if c.cell_type == "code"]
    modules = guard.module_like(code, protected)
    for source in corpus.reference_answers(assignment).values():
        assert guard.suspicious(source, modules, protected, imports) == []


def test_scratch_cells_stay_after_the_cell_they_followed():
    nb = corpus.with_scratch_helper()
    master = read_notebook(config.SOURCE_DIR / "01_forward" / "01_forward.ipynb")
    rebuilt = repair.rebuild(nb, released("01_forward"), repair.master_context(master)).notebook
    sources = [c.source for c in rebuilt.cells]
    own = sources.index(corpus.OWN_FUNCTION)
    exercise = next(i for i, c in enumerate(rebuilt.cells) if corpus.grade_id(c) == "rnn_step_forward")
    assert own < exercise and sources[exercise] == corpus.USES_OWN_FUNCTION
    assert sources[exercise + 1].startswith("print(rnn_step_forward")


GUARD_CASES = {
    "np.allclose = lambda *a, **k: True": "changes np",
    "import numpy.testing\nnumpy.testing.assert_allclose = print": "changes numpy",
    "setattr(np, 'allclose', print)": "with setattr",
    "t = np.testing\nt.assert_allclose = print": "changes t",
    "def check_array(*a, **k):\n    pass": "rebinds check_array",
    "isinstance = lambda *a: True": "rebinds isinstance",
    "import builtins": "imports builtins",
    "__builtins__.abs = print": "uses __builtins__",
    "globals()['check_array'] = print": "uses globals",
    "exec('np.allclose = print')": "uses exec",
    "check_array.__code__ = print.__code__": "uses .__code__",
    "def f():\n    global np\n    np = None": "declares np global",
    "%time np.allclose = print": "uses get_ipython",
    "import numpy as check_array": "rebinds check_array",
    "for np in range(3):\n    pass": "rebinds np",
}


@pytest.mark.parametrize("source", sorted(GUARD_CASES))
def test_guard_names_statements_that_try_to_change_the_judge(source):
    master = read_notebook(config.SOURCE_DIR / "01_forward" / "01_forward.ipynb")
    protected, imports, _ = repair.master_context(master)
    assert {"np", "check_array", "isinstance"} <= protected
    modules = guard.module_like([c.source for c in master.cells if c.cell_type == "code"] + [source], protected)
    found = guard.suspicious(source, modules, protected, imports)
    assert found and GUARD_CASES[source] in found[-1]


def test_guard_names_only_the_suspicious_line():
    master = read_notebook(config.SOURCE_DIR / "01_forward" / "01_forward.ipynb")
    protected, imports, _ = repair.master_context(master)
    source = "import numpy as np\nx = np.ones(3)\nnp.allclose = print\nself_made = {}\nself_made['a'] = 1"
    assert guard.suspicious(source, guard.module_like([source], protected), protected, imports) == [
        "line 3 `np.allclose = print` (changes np)"]


def test_missing_rows_for_students_without_a_handin():
    rows = [results.Row("ann", "01_forward", 5, 11, "graded", ""),
            results.Row("bob", "02_small_array", 3, 13, "graded", "", name="Bob Stone", lms="canvas"),
            results.Row("4711", "02_small_array", 3, 13, "graded", "", name="Cy Moss", lms="moodle")]
    missing = results.missing_rows(rows, {"01_forward": 11.0, "02_small_array": 13.0})
    # A Moodle participant id is one assignment's: whether that student handed in another is unknown.
    assert [(r.student, r.name, r.assignment, r.score, r.max_score, r.status) for r in missing] == [
        ("ann", "", "02_small_array", 0.0, 13.0, "missing"), ("bob", "Bob Stone", "01_forward", 0.0, 11.0, "missing")]
    shown = table.summary(rows + missing)
    assert "0/13 missing" in shown and "5/11 graded" in shown and "Bob Stone (bob)" in shown


def test_summary_shows_points_waiting_for_a_hand_grade():
    row = results.Row("ann", "02_small_array", 5, 9, "graded", "", waiting=4)
    assert "5/9 (+4 by hand) graded" in table.summary([row])


def test_command_says_plainly_when_there_is_no_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    seen = {}

    def fake_grade(run):
        seen["sandboxed"] = run.sandboxed
        return grading.Report([])

    monkeypatch.setattr(grading, "grade", fake_grade)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert seen["sandboxed"] is False
    assert "No sandbox: bubblewrap (bwrap) is not installed" in capsys.readouterr().out


def test_bwrap_problem_names_a_missing_bwrap(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert sandbox.bwrap_problem() == "bubblewrap (bwrap) is not installed"


def test_sandbox_kernel_spec_binds_no_course_folder(tmp_path):
    sandbox.write_kernel_spec(tmp_path, sandboxed=True)
    spec = json.loads((tmp_path / "kernels" / "python3" / "kernel.json").read_text())
    command = spec["argv"]
    assert "--unshare-all" in command and "--die-with-parent" in command
    bound = [command[i + 1] for i, arg in enumerate(command) if arg in ("--bind", "--ro-bind")]
    for path in bound:
        assert not str(config.REPO_ROOT / "source").startswith(path.rstrip("/") + "/") or path == "/"
        assert path != str(config.REPO_ROOT) and path != "/"
    assert spec["interrupt_mode"] == "message"


def context(assignment: str) -> repair.Context:
    return repair.master_context(read_notebook(config.SOURCE_DIR / assignment / f"{assignment}.ipynb"))


def code_exercises(nb) -> list[str]:
    return [corpus.grade_id(c) for c in nb.cells if repair.is_solution(c) and c.cell_type == "code"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_answer_is_found_without_its_docstring(assignment):
    answers = {gid: corpus.without_docstrings(source) for gid, source in corpus.reference_answers(assignment).items()
               if gid in code_exercises(released(assignment))}
    assert any(answers[gid] != source for gid, source in corpus.reference_answers(assignment).items()
               if gid in answers), "no docstring to leave out"
    rebuilt = repair.rebuild(corpus.colab(corpus.answered(assignment, **answers)), released(assignment),
                             context(assignment))
    for cell in rebuilt.notebook.cells:
        if corpus.grade_id(cell) in answers:
            assert cell.source == answers[corpus.grade_id(cell)]
    assert all("not found" not in remark for remark in rebuilt.remarks)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_cell_may_answer_every_exercise(assignment):
    """Every code exercise written in the first exercise cell, the others deleted."""
    exercises = code_exercises(released(assignment))
    reference = corpus.reference_answers(assignment)
    nb = corpus.answered(assignment)
    nb.cells[corpus.index_of(nb, exercises[0])].source = "\n\n".join(reference[gid] for gid in exercises)
    nb.cells = [c for c in nb.cells if corpus.grade_id(c) not in exercises[1:]]
    rebuilt = repair.rebuild(corpus.colab(nb), released(assignment), context(assignment))
    cells = {corpus.grade_id(c): c.source for c in rebuilt.notebook.cells}
    assert cells[exercises[0]] == "\n\n".join(reference[gid] for gid in exercises)
    for gid in exercises[1:]:
        assert cells[gid].startswith("# Answered in the cell of") and "\n" not in cells[gid]
        assert f"{gid} answered in the cell of {exercises[0]}" in "; ".join(rebuilt.repairs)


def test_a_later_notebook_named_for_an_earlier_one_is_graded_as_what_it_is():
    everything = {a: released(a) for a in ASSIGNMENTS}
    later = read_notebook(solution_notebook_path(ASSIGNMENTS[-1]))
    # It holds the earlier notebooks' code, read-only: enough to look like them.
    assert repair.content_score(later, everything[ASSIGNMENTS[0]]) >= intake.RECOGNISED
    assignment, note = intake.identify(later, ASSIGNMENTS[0], everything)
    assert assignment == ASSIGNMENTS[-1]
    assert note == f"the file name says {ASSIGNMENTS[0]} but the content is {ASSIGNMENTS[-1]}: graded as {assignment}"


def test_the_command_says_something_within_a_second(tmp_path):
    """Importing nbgrader takes seconds: the first line comes before, and before any heavy import."""
    imported = subprocess.run([sys.executable, "-c", "import sys, rnncourse.cli; print(sorted(m for m in "
                               "('nbformat', 'nbgrader', 'sqlalchemy', 'tqdm') if m in sys.modules))"],
                              capture_output=True, text=True, check=True)
    assert imported.stdout == "[]\n"
    handins, out = tmp_path / "handins", tmp_path / "out"
    handins.mkdir()
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "rnncourse", "grade", str(handins), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        first = process.stdout.readline()
        elapsed = time.monotonic() - started
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert first == f"Grading {handins} into {out} ...\n"
    assert elapsed < 1.0


def test_the_examples_are_made_from_the_committed_notebooks():
    from examples import make_examples

    expected = make_examples.samples()
    folder = config.REPO_ROOT / "examples" / "handins"
    assert sorted(path.name for path in folder.iterdir()) == sorted(expected)
    for name, data in expected.items():
        assert (folder / name).read_bytes() == data, f"examples/handins/{name} is stale: " \
                                                     "run python -m examples.make_examples"
