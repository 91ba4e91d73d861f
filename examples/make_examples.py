"""Write the sample hand-ins in examples/ from the committed notebooks.

    .venv/bin/python -m examples.make_examples

Then see the whole grading flow with `python -m rnncourse grade examples`. The
hand-ins are made as the grading tests make theirs (tests/handin_corpus.py).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from tests import handin_corpus as corpus

HERE = Path(__file__).resolve().parent

ASSIGNMENT = corpus.ASSIGNMENT


def main() -> None:
    reference = corpus.reference_answers(ASSIGNMENT)
    h0_ignored = reference["simple_rnn"].replace("if h0 is None else h0", "if True else h0")
    syntax_error = reference["rnn_step_forward"].replace("return np.tanh(a_t)", "return np.tanh(a_t")
    if h0_ignored == reference["simple_rnn"] or syntax_error == reference["rnn_step_forward"]:
        raise SystemExit("the reference answers changed: update this script")
    colab = corpus.colab(corpus.answered(ASSIGNMENT))
    trying = ("# trying it out\n"
              "print(rnn_step_forward(np.ones((1, 2)), np.zeros((1, 3)), np.ones((2, 3)), np.eye(3), np.zeros(3)))")
    scratch = nbformat.v4.new_code_cell(trying)
    scratch["id"] = "scratch"
    colab.cells.insert(corpus.index_by_source(colab, "def rnn_step_forward") + 1, scratch)
    samples = {
        "ada_01_forward.ipynb": corpus.answered(ASSIGNMENT),  # complete
        "ben_01_forward.ipynb": corpus.answered(ASSIGNMENT, simple_rnn=h0_ignored),  # partial: forward ignores h0
        "cleo_01_forward.ipynb": corpus.answered(ASSIGNMENT, rnn_step_forward=syntax_error),  # broken
        f"Dana Doe_4711_assignsubmission_file_Copy of {ASSIGNMENT}.ipynb": colab,  # saved by Colab, from Moodle
    }
    for name, nb in samples.items():
        nbformat.write(nb, HERE / name)
        print(f"wrote examples/{name}")


if __name__ == "__main__":
    main()
