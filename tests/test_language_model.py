"""Notebook 05_language_model: what the tests of every notebook do not say about it (that no line
of an answer is in plain view is tests/test_no_answer_in_view.py's, for every notebook).

- `rnncourse grade` grades 05 hand-ins: one answered from the reference gets every automatic
  point (the written reflection waits for a hand grade); one saved by Colab (nbgrader's
  metadata gone) whose train_epoch resets the state at every chunk is rebuilt, and loses
  points in train_epoch's hidden tests only;
- a mistake in an early exercise costs only its own points: the later exercises' hidden tests
  run with the reference of the earlier ones (judge.using).
"""
from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from rnncourse import config, grading
from rnncourse.grading import gradebook, sandbox
from tests import handin_corpus as corpus
from tests import mutation

ASSIGNMENT = "05_language_model"
pytestmark = pytest.mark.skipif(ASSIGNMENT not in config.assignments(), reason=f"{ASSIGNMENT} is not in source/")

# train_epoch with the state reset at every chunk: the classic mistake of truncated BPTT.
STATE_RESET = '''h = None
losses, norms = [], []
for inputs, targets in make_chunks(streams, n_steps):
    loss, grads, _ = model.loss_and_gradients(inputs, targets, None)
    clipped, norm = clip_by_global_norm(list(grads.values()), clip_norm)
    parameters = model.parameters()
    for name, grad in zip(grads, clipped):
        parameters[name] -= learning_rate * grad
    losses.append(loss)
    norms.append(norm)
return losses, norms
'''


def with_state_reset():
    """The answered student notebook, its train_epoch replaced by STATE_RESET."""
    reference = corpus.reference_answers(ASSIGNMENT)["train_epoch"]
    head = reference[:reference.index("    h = None")]
    nb = corpus.answered(ASSIGNMENT)
    for cell in nb.cells:
        if corpus.grade_id(cell) == "train_epoch":
            cell.source = head + "".join("    " + line + "\n" for line in STATE_RESET.splitlines())
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A folder with the two hand-ins, graded two at a time: the rows, and each cell's score."""
    tmp = tmp_path_factory.mktemp("handins05")
    handins = tmp / "handins"
    handins.mkdir()
    (handins / f"ada_{ASSIGNMENT}.ipynb").write_text(corpus.nbformat.writes(corpus.answered(ASSIGNMENT)))
    (handins / f"bo_Copy of {ASSIGNMENT}.ipynb").write_text(corpus.nbformat.writes(corpus.colab(with_state_reset())))
    out = tmp / "out"
    run = grading.GradingRun(handins, out, sandboxed=sandbox.bwrap_problem() is None, cell_timeout=120,
                             timeout=600, assignments=[ASSIGNMENT], workers=2, log=lambda *args: None)
    rows = grading.grade(run).rows
    cells = {}
    with Gradebook(gradebook.default_url(out)) as book:
        for row in rows:
            notebook = book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, row.student)
            cells[row.student] = {g.name: (g.auto_score, g.max_score) for g in notebook.grades
                                  if g.auto_score is not None}
    return {row.student: row for row in rows}, cells


@pytest.mark.slow
def test_an_answered_handin_gets_every_automatic_point(graded):
    rows, cells = graded
    assert rows["ada"].status == "graded", rows["ada"].note
    # every automatic point; the written reflection (3 points) waits for a hand grade
    assert rows["ada"].score + rows["ada"].waiting == rows["ada"].max_score > 0, rows["ada"].note
    assert rows["ada"].waiting == 3, rows["ada"].note
    assert all(score == points for score, points in cells["ada"].values()), cells["ada"]


@pytest.mark.slow
def test_a_colab_handin_with_the_state_reset_loses_points_on_train_epoch_only(graded):
    rows, cells = graded
    assert rows["bo"].status == "repaired", rows["bo"].note
    assert "nbgrader metadata missing" in rows["bo"].note
    lost = {cell: (score, points) for cell, (score, points) in cells["bo"].items() if score < points}
    assert list(lost) == ["test_train_epoch_hidden"], lost
    assert rows["bo"].score < rows["ada"].score


# A wrong earlier exercise, and the later exercises' hidden tests that must keep every point.
CASCADES = [
    ("one_hot", "return np.zeros(np.shape(indices) + (vocab_size,))\n",
     ["test_char_rnn_forward_hidden", "test_char_rnn_loss_and_gradients_hidden", "test_train_epoch_hidden",
      "test_sample_hidden"]),
    ("encode", "return np.zeros(len(text), dtype=int)\n", ["test_sample_hidden"]),
    ("char_rnn_forward", "raise NotImplementedError()\n",
     ["test_char_rnn_loss_and_gradients_hidden", "test_train_epoch_hidden", "test_sample_hidden"]),
    ("sequence_loss", "return 0.0, np.zeros(np.shape(logits))\n",
     ["test_char_rnn_loss_and_gradients_hidden", "test_train_epoch_hidden"]),
    ("char_rnn_loss_and_gradients", "raise NotImplementedError()\n", ["test_train_epoch_hidden"]),
    ("make_chunks", "return []\n", ["test_train_epoch_hidden"]),
    ("next_char_probabilities", "return np.full(np.shape(logits), 1.0 / np.shape(logits)[-1])\n",
     ["test_sample_hidden"]),
]


@pytest.mark.slow
def test_a_mistake_costs_only_its_own_exercise():
    exercises = {e.name: e for e in mutation.exercises(ASSIGNMENT)}
    jobs = [mutation.Job(f"{wrong} wrong", ASSIGNMENT, {exercises[wrong].key: code}, stop_on_failure=False)
            for wrong, code, _ in CASCADES]
    problems = []
    for (wrong, _, later), outcome in zip(CASCADES, mutation.run_jobs(jobs), strict=True):
        visible = mutation_catalog_check(wrong)
        if outcome.results[visible + "_hidden"][0]:
            problems.append(f"{wrong} wrong keeps its own points")
        problems += [f"{wrong} wrong costs {cell}: {outcome.results[cell][1]}" for cell in later
                     if outcome.results[cell] != (True, "")]
    assert not problems, "\n".join(problems)


def mutation_catalog_check(exercise: str) -> str:
    from tests import mutation_catalog

    return mutation_catalog.VISIBLE_CHECK[exercise]
