"""Feedback that says which checks failed and why, without the hidden tests' source.

nbgrader's generate_feedback shows every executed test cell as it ran, hidden
tests included, with tracebacks that quote their lines. HideHiddenTests runs
in generate_feedback (set in the grading folder's nbgrader_config.py): it
removes the hidden region with nbgrader's own ClearHiddenTests and shortens
those cells' tracebacks to the error's name and message.
"""
from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests

HIDDEN_NOTE = "# Hidden tests: their code is not shown. If they failed, the message below says why."


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for executed notebooks: also hide the tracebacks' code."""

    def preprocess_cell(self, cell, resources, cell_index):
        hidden = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden:
            cell.source = (cell.source.rstrip("\n") + "\n" + HIDDEN_NOTE).lstrip("\n")
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources

