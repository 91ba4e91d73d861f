"""Pieces of the grader on tiny fixture notebooks, each on its own: the Execute that survives a
dead kernel and caps output, the feedback step that hides hidden tests, the grades.csv merge, the
gradebook's stamp."""
from __future__ import annotations

import nbformat
import numpy as np
import pytest
import sqlalchemy

from rnncourse import nbgrader_run
from rnncourse.build import QUIET_KERNEL
from rnncourse.grading import execute, feedback, gradebook, results, table


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def run(nb: nbformat.NotebookNode, tmp_path, **options) -> nbformat.NotebookNode:
    step = execute.GradingExecute(**{"timeout": 20, "extra_arguments": QUIET_KERNEL, **options})
    nb, _ = step.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    return nb


def texts(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


def enames(cell) -> list[str]:
    return [output.ename for output in cell.outputs if output.output_type == "error"]


def test_a_dead_kernel_costs_only_its_cell(tmp_path):
    nb = run(notebook("x = 41", "import os\nos._exit(1)", "print(x + 1)"), tmp_path)
    assert enames(nb.cells[1]) == [execute.KERNEL_DIED]
    assert texts(nb.cells[2]) == "42\n"  # the cells before it ran again in a fresh kernel


def test_a_cell_that_ignores_the_interrupt_is_cut_and_the_rest_runs(tmp_path):
    stubborn = "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n    except BaseException:\n        pass"
    nb = run(notebook("x = 1", stubborn, "print(x)"), tmp_path, timeout=2, responsive_timeout=2)
    assert execute.TIMED_OUT in enames(nb.cells[1])
    assert texts(nb.cells[2]) == "1\n"


def test_printing_without_end_is_cut(tmp_path):
    nb = run(notebook("for _ in range(50):\n    print('x' * 10_000)"), tmp_path, max_output_chars=30_000)
    text = texts(nb.cells[0])
    assert len(text) < 31_000 and "[output cut by the grader: too much printed]" in text


def test_feedback_hides_the_hidden_region_and_its_traceback():
    cell = nbformat.v4.new_code_cell(
        "# Hidden tests: fresh shapes.\n### BEGIN HIDDEN TESTS\nassert secret_check(), 'h0 is ignored'\n"
        "### END HIDDEN TESTS", metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="h0 is ignored",
                                           traceback=["line 3: assert secret_check(), 'h0 is ignored'"])]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = feedback.HideHiddenTests().preprocess(nb, {})
    shown = nb.cells[0]
    assert "secret_check" not in shown.source and feedback.HIDDEN_NOTE in shown.source
    assert shown.outputs[0].traceback == ["AssertionError: h0 is ignored"]


ROW = results.Row


@pytest.mark.parametrize("earlier, now, expected", [
    # A new grade replaces the old one of the same student and assignment; others stay.
    ([ROW("ann", "01", 3, 11, "graded", ""), ROW("bob", "01", 5, 11, "graded", "")],
     [ROW("ann", "01", 11, 11, "graded", "")],
     [("ann", "01", 11, "graded"), ("bob", "01", 5, "graded")]),
    # A student graded on one assignment only is missing the other; a stale 'missing' goes.
    ([ROW("ann", "01", 11, 11, "graded", ""), ROW("bob", "02", 0, 9, "missing", "no hand-in")],
     [ROW("bob", "02", 4, 9, "graded", "")],
     [("ann", "01", 11, "graded"), ("ann", "02", 0, "missing"), ("bob", "01", 0, "missing"),
      ("bob", "02", 4, "graded")]),
])
def test_grades_csv_merge(earlier, now, expected):
    merged = table.merged(earlier, now, {"01": 11.0, "02": 9.0})
    assert [(r.student, r.assignment, r.score, r.status) for r in merged] == expected


def test_grades_csv_round_trips(tmp_path):
    rows = [ROW("ann", "01", 7.5, 11, "repaired", "cells were moved, put back; 1 cell of her own kept")]
    table.write_csv(rows, tmp_path / "grades.csv")
    assert table.read_csv(tmp_path / "grades.csv") == rows


# ---- the judge's comparison, on records made by judge_runtime itself
from rnncourse.grading import judge_runtime, verdicts  # noqa: E402


def reference_records(*checks) -> list[dict]:
    """Records as the judge's reference run makes them: CHECKS are (name, value, mistakes)."""
    run = judge_runtime.Judge("cell", 0)
    for name, value, mistakes in checks:
        run.check(name, lambda value=value: value, mistakes=(lambda m=mistakes: m) if mistakes else None)
    return run.records


def kernel_records(*checks) -> list[dict]:
    """Records as the student's kernel sends them: CHECKS are (name, value)."""
    sent = []
    run = judge_runtime.Judge("cell", 0, emit=sent.append, namespace={})
    for name, value in checks:
        run.check(name, lambda value=value: value)
    return sent


def problems(reference, got) -> list[str | None]:
    return [found for _, found in verdicts.decide(reference, got, [], True).checks]


def test_the_judge_passes_equal_results_and_names_a_known_mistake():
    right, wrong = np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
    reference = reference_records(("a", right, [(wrong, "the bias is not added")]), ("b", 2.5, None))
    assert problems(reference, kernel_records(("a", right), ("b", 2.5))) == [None, None]
    assert problems(reference, kernel_records(("a", wrong), ("b", 2.5))) == ["is wrong: the bias is not added", None]


def test_checks_of_one_name_are_paired_in_order_and_extra_records_fail():
    reference = reference_records(("same", np.ones(2), None), ("same", np.zeros(2), None))
    assert problems(reference, kernel_records(("same", np.ones(2)), ("same", np.zeros(2)))) == [None, None]
    forged = kernel_records(("same", np.ones(2)), ("same", np.zeros(2)), ("same", np.zeros(2)))
    assert all("cannot be trusted" in found for found in problems(reference, forged))


def test_what_is_not_plain_data_fails():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    reference = reference_records(("a", np.ones(3), None), ("b", 1.0, None), ("c", np.ones(3), None))
    got = kernel_records(("a", np.ones(3).view(Liar)), ("b", np.ones(3)), ("c", [1.0, 1.0, 1.0]))
    assert problems(reference, got) == ["should be a NumPy array (np.ndarray), got Liar",
                                        "should be a number, got an array of shape (3,)",
                                        "should be a NumPy array (np.ndarray), got a tuple or list"]


def test_missing_malformed_and_unanswered_records_fail():
    reference = reference_records(("a", np.ones(3), None), ("b", np.ones(3), None), ("c", np.ones(3), None))
    malformed = {"cell": "cell", "check": "b", "value": {"kind": "array", "dtype": "f", "shape": [3], "data": "!!"}}
    unanswered = kernel_records(("c", None))
    unanswered[0]["value"] = judge_runtime.error_record(NotImplementedError())
    assert problems(reference, [malformed] + unanswered) == [
        "not checked: the cell stopped before it", "is not a readable array",
        "is not answered yet (raised NotImplementedError)"]


def test_the_outputs_give_the_share_of_points_to_nbgrader():
    outcome = verdicts.decide(reference_records(("a", 1.0, None), ("b", 2.0, None), ("c", 3.0, None)),
                              kernel_records(("a", 1.0), ("b", 2.0), ("c", 0.0)), [], True)
    report, score = verdicts.outputs(outcome, 3.0)
    assert report.text.startswith("Hidden tests: 2 of 3 checks passed (2 of 3 points).")
    assert score.output_type == "execute_result" and score.data["text/plain"] == "2"
    assert len(verdicts.outputs(verdicts.decide(reference_records(("a", 1.0, None)),
                                                kernel_records(("a", 1.0)), [], True), 3.0)) == 1


def test_a_new_gradebook_is_stamped_as_nbgrader_stamps_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", nbgrader_run.environment()["PATH"])  # nbgrader runs `alembic` by name
    with gradebook.opened(f"sqlite:///{tmp_path / 'gradebook.db'}") as book:
        stamped = book.db.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert stamped == gradebook.NBGRADERS_REVISION() == gradebook.schema_revision()
