"""No answer in plain view: no line of a reference answer appears anywhere in the student
notebook (prose, docstrings, self-checks, their messages, provided code), except the lines
listed here with the reason they give nothing away.

A line is compared with spaces normalised, so a formula written into a message or a comment
is caught; lines too short or too plain to be an answer (`return h`, `else:`) are not compared.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from rnncourse import config
from tests import mutation

PLAIN = re.compile(r"^(return \(?\w+(, \w+)*\)?|pass|else:|try:|\w+ = \[\]|\w+ = \{\})$")
SHORTEST = 12
FORWARD_OF_THE_EXAMPLE = "the forward pass of the worked example; the task is its gradient"
# (assignment, line): why the student may see it.
ALLOWED = {
    ("01_forward", "rng = np.random.default_rng(random_state)"):
        "the exercise asks for weights drawn from a generator seeded with random_state: naming the API is the task",
    ("01_forward", "for t in range(n_sequences):"): "a loop over the steps, drawn in the picture of the input array",
    ("02_small_array", "W_x = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100"): "the assignment's given data",
    ("02_small_array", "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100"):
        "the assignment's given data",
    ("02_small_array", "B = np.array([1, 1, 1, 1])"): "the assignment's given data",
    ("02_small_array", "h_final = layer.forward(x)"): "the given layer's own method, named in the task",
    ("02_small_array", "batch_size, n_sequences, _ = x.shape"): "the shapes, as the provided layer reads them",
    ("02_small_array", "for t in range(n_sequences):"): "a loop over the steps, as in the provided layer",
    ("03_bptt", "h1 = np.tanh(x1 * w_x + h0 * w_h + b)"): FORWARD_OF_THE_EXAMPLE,
    ("03_bptt", "h2 = np.tanh(x2 * w_x + h1 * w_h + b)"): FORWARD_OF_THE_EXAMPLE,
    ("03_bptt", "for t in reversed(range(x.shape[1])):"): (
        "the order of the steps, shown in the plot of vanishing gradients"),
    ("04_classifier", "self._sgd_step(grads)"): "the method fit must call, named in a self-check's message",
    ("04_classifier", "if X_val is not None:"): "the provided base class's own test of its argument",
}


def normalised(line: str) -> str:
    return " ".join(line.split())


def answer_lines(assignment: str) -> set[str]:
    lines = {normalised(line) for exercise in mutation.exercises(assignment) for line in exercise.text.splitlines()}
    return {line for line in lines if len(line) >= SHORTEST and not PLAIN.match(line) and not line.startswith("#")}


@pytest.mark.parametrize("assignment", config.assignments())
def test_no_line_of_an_answer_is_in_the_student_notebook(assignment):
    student = nbformat.read(config.NOTEBOOKS_DIR / f"{assignment}.ipynb", as_version=4)
    shown = [(cell.get("id", "?"), normalised(line)) for cell in student.cells for line in cell.source.splitlines()]
    leaks = sorted({(line, where) for line in answer_lines(assignment) if (assignment, line) not in ALLOWED
                    for where, text in shown if line in text})
    said = "\n".join(f"  {line!r} in cell {where}" for line, where in leaks)
    assert not leaks, f"answer lines in plain view:\n{said}"


def test_every_allowed_line_is_still_an_answer_line():
    stale = [key for key in ALLOWED if key[0] in config.assignments() and key[1] not in answer_lines(key[0])]
    assert not stale, f"ALLOWED lists lines no answer has any more: {stale}"
