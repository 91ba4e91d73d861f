"""Write the sample hand-ins in examples/ from the committed notebooks.

    .venv/bin/python examples/make_examples.py

Then see the whole grading flow with `python -m rnncourse grade examples`.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rnncourse import config  # noqa: E402

ASSIGNMENT = "01_forward"
HERE = Path(__file__).resolve().parent


def answered(**answers: str) -> nbformat.NotebookNode:
    """The student notebook with each exercise answered from the reference
    solution, or with the text given for its grade id."""
    nb = nbformat.read(config.NOTEBOOKS_DIR / f"{ASSIGNMENT}.ipynb", as_version=4)
    solution = nbformat.read(config.SOLUTIONS_DIR / f"{ASSIGNMENT}.ipynb", as_version=4)
    reference = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in solution.cells}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers.get(grade_id, reference[grade_id])
    return nb


def as_colab_saves_it(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """No nbgrader metadata, new cell ids, Colab's notebook metadata."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        cell.metadata = {"id": f"cell{index:02d}"}
        cell["id"] = f"cell{index:02d}"
    nb.metadata = {
        "colab": {"provenance": [], "name": f"Copy of {ASSIGNMENT}.ipynb"},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    return nb


def main() -> None:
    reference = answered()
    forward = next(c.source for c in reference.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "simple_rnn")
    h0_ignored = forward.replace("if h0 is None else h0", "if True else h0")
    syntax_error = next(
        c.source for c in reference.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_step_forward"
    ).replace("return np.tanh(a_t)", "return np.tanh(a_t")
    assert h0_ignored != forward and syntax_error.count("np.tanh(a_t") == 1, "the reference changed: update this script"
    colab = as_colab_saves_it(reference)
    trying = ("# trying it out\n"
              "print(rnn_step_forward(np.ones((1, 2)), np.zeros((1, 3)), np.ones((2, 3)), np.eye(3), np.zeros(3)))")
    colab.cells.insert(8, nbformat.v4.new_code_cell(trying))
    colab.cells[8]["id"] = "scratch"
    samples = {
        "ada_01_forward.ipynb": reference,  # complete
        "ben_01_forward.ipynb": answered(simple_rnn=h0_ignored),  # partial: forward ignores h0
        "cleo_01_forward.ipynb": answered(rnn_step_forward=syntax_error),  # broken: a syntax error
        f"Dana Doe_4711_assignsubmission_file_Copy of {ASSIGNMENT}.ipynb": colab,  # saved by Colab, from Moodle
    }
    for name, nb in samples.items():
        nbformat.write(nb, HERE / name)
        print(f"wrote examples/{name}")


if __name__ == "__main__":
    main()
