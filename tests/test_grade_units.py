"""The grading command's parts that need no nbgrader run: naming hand-ins,
recognising and rebuilding them from their content, the guard, the summary."""
from __future__ import annotations

import json
import zipfile

import nbformat
import pytest

from rnncourse import cli, config, grading
from rnncourse.grading import guard, intake, repair, results, sandbox
from tests import handin_corpus as corpus
from tests.conftest import ASSIGNMENTS, read_notebook, solution_notebook_path, student_notebook_path

PATTERNS = intake.default_patterns(["01_forward", "02_small_array", "03_bptt", "04_classifier"])


@pytest.mark.parametrize("path, student, assignment", [
    ("doejane_01_forward.ipynb", "doejane", "01_forward"),
    ("Jane Doe_12345_assignsubmission_file_01_forward.ipynb", "jane_doe", "01_forward"),
    ("doejane_12345_67890_02_small_array.ipynb", "doejane", "02_small_array"),
    ("doejane_LATE_12345_67890_03_bptt.ipynb", "doejane", "03_bptt"),
    ("doejane_12345_67890_01_forward-1.ipynb", "doejane", "01_forward"),
    ("doejane_01_forward (1).ipynb", "doejane", "01_forward"),
    ("doe_jane_01_forward.ipynb", "doe_jane", "01_forward"),
    ("doejane/01_forward.ipynb", "doejane", "01_forward"),
    ("doejane/01_forward/01_forward.ipynb", "doejane", "01_forward"),
    ("submitted/doe_jane/03_bptt/03_bptt.ipynb", "doe_jane", "03_bptt"),
    ("01_forward/doejane_01_forward.ipynb", "doejane", "01_forward"),
    ("course/01_forward/doejane_01_forward.ipynb", "doejane", "01_forward"),
    ("doejane/Copy of 04_classifier.ipynb", "doejane", "04_classifier"),
    ("Jane Doe_12345_assignsubmission_file_/01_forward.ipynb", "jane_doe", "01_forward"),
    ("Jane Doe_12345_assignsubmission_file_my rnn.ipynb", "jane_doe", None),
    ("doejane_homework.ipynb", "doejane", None),
    ("doejane/homework.ipynb", "doejane", None),
])
def test_default_patterns_name_the_student_and_assignment(path, student, assignment):
    assert intake.parse_name(path, PATTERNS) == (student, assignment)


def test_custom_pattern():
    pattern = r"^(?P<assignment>\d\d_\w+?)-(?P<student>s\d+)\.ipynb$"
    assert intake.parse_name("01_forward-s1234.ipynb", [pattern]) == ("s1234", "01_forward")
    assert intake.parse_name("doejane_01_forward.ipynb", [pattern]) is None


def test_zip_with_one_top_folder(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("course export/doejane_01_forward.ipynb", "{}")
        zipped.writestr("course export/roe/01_forward.ipynb", "{}")
        zipped.writestr("__MACOSX/course export/._doejane_01_forward.ipynb", "x")
    found, unnamed = intake.collect(archive, PATTERNS)
    assert unnamed == []
    assert sorted((h.student, h.assignment) for h in found) == [("doejane", "01_forward"), ("roe", "01_forward")]


def test_a_folder_of_one_student_in_nbgraders_layout(tmp_path):
    (tmp_path / "doejane" / "01_forward").mkdir(parents=True)
    (tmp_path / "doejane" / "01_forward" / "01_forward.ipynb").write_text("{}")
    found, unnamed = intake.collect(tmp_path, PATTERNS)
    assert unnamed == [] and [(h.student, h.assignment) for h in found] == [("doejane", "01_forward")]


def test_latest_copy_is_graded():
    found = [intake.HandIn(p, "doejane", "01_forward", "") for p in
             ["doejane_01_forward (2).ipynb", "doejane_01_forward.ipynb", "doejane_01_forward (1).ipynb"]]
    chosen, note = intake.pick_latest(found)
    assert chosen.path == "doejane_01_forward (2).ipynb" and "3 files" in note


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
    ids = [corpus.grade_id(c) for c in rebuilt.notebook.cells]
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
    protected, imports = repair.master_context(master)
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
    protected, imports = repair.master_context(master)
    assert {"np", "check_array", "isinstance"} <= protected
    modules = guard.module_like([c.source for c in master.cells if c.cell_type == "code"] + [source], protected)
    found = guard.suspicious(source, modules, protected, imports)
    assert found and GUARD_CASES[source] in found[-1]


def test_guard_names_only_the_suspicious_line():
    master = read_notebook(config.SOURCE_DIR / "01_forward" / "01_forward.ipynb")
    protected, imports = repair.master_context(master)
    source = "import numpy as np\nx = np.ones(3)\nnp.allclose = print\nself_made = {}\nself_made['a'] = 1"
    assert guard.suspicious(source, guard.module_like([source], protected), protected, imports) == [
        "line 3 `np.allclose = print` (changes np)"]


def test_missing_rows_for_students_without_a_handin():
    rows = [results.Row("ann", "01_forward", 5, 11, "graded", ""),
            results.Row("bob", "02_small_array", 3, 9, "graded", "")]
    missing = results.missing_rows(rows, {"01_forward": (11.0, 0.0), "02_small_array": (9.0, 4.0)})
    assert [(r.student, r.assignment, r.score, r.max_score, r.status) for r in missing] == [
        ("ann", "02_small_array", 0.0, 9.0, "missing"), ("bob", "01_forward", 0.0, 11.0, "missing")]
    table = results.summary(rows + missing)
    assert "0/9 missing" in table and "5/11 graded" in table


def test_summary_counts_written_answers_apart():
    row = results.Row("ann", "02_small_array", 5, 5, "graded",
                      "4 more points for written answers are graded by hand", 4)
    assert "5/5 (+4 by hand) graded" in results.summary([row])


def test_command_says_plainly_when_there_is_no_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    seen = {}

    def fake_grade(run):
        seen["sandboxed"] = run.sandboxed
        return []

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


def test_every_example_is_named_by_the_default_patterns():
    found, unnamed = intake.collect(config.REPO_ROOT / "examples", intake.default_patterns(config.assignments()))
    assert unnamed == []
    assert sorted((h.student, h.assignment) for h in found) == [
        ("ada", "01_forward"), ("ben", "01_forward"), ("cleo", "01_forward"), ("dana_doe", "01_forward")]
