"""Rebuild a hand-in from its content, so that nbgrader grades what the student wrote.

Google Colab drops the cells' nbgrader metadata and renumbers their ids;
students move, delete, retype and edit cells and add their own. nbgrader
needs none of that to be undone if the metadata survives, and can do nothing
if it does not: a cell without metadata is not graded. So every hand-in is
rebuilt from the released student notebook:

1. each hand-in cell is matched to a released cell, by its nbgrader id when it
   has one, else by content. An exercise is found by what it defines (the
   functions, classes and names its solution in the master defines), not by its
   docstring or its cell: one cell may answer two exercises. Other cells are
   found by the lines of the released cell that a student does not write,
   found in the hand-in cell with difflib;
2. the released notebook is copied, with the student's text put into each
   exercise cell; tests and other locked cells come from the release (nbgrader
   then overwrites them from the master anyway);
3. the student's own cells (scratch work, functions of their own) are kept, each placed after
   the released cell that the cell before it matched, so code still runs
   before the code that uses it;
4. guard.suspicious reports, from the student's cells, statements that try to
   change how the tests judge (advice for the instructor; nothing is removed);
5. a first cell sends log messages to the output, not to stderr (where nbgrader
   would count them as a failed test).

What was repaired is reported, so the instructor can see it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import NamedTuple

import nbformat

from rnncourse.grading import guard
from rnncourse.grading.matching import (  # noqa: F401 (other modules read cells' metadata through repair)
    content_score,
    defined_names,
    grade_id,
    is_solution,
    is_test,
    match_cells,
    nbgrader_meta,
    text_lines,
)

GRADER_CELL_ID = "grader-logging"
GRADER_CELL = """# Set by the grader: log messages go to the output, not to stderr, so that logging costs no points.
import logging as _grader_logging, sys as _grader_sys
_grader_logging.basicConfig(stream=_grader_sys.stdout, level=_grader_logging.WARNING)
del _grader_logging, _grader_sys"""


class Context(NamedTuple):
    """What rebuilding needs from a master: guard.locked_context's names the tests rely on
    and imports they make, and the names each exercise's solution defines."""

    protected: set[str]
    imports: dict[str, str]
    defines: dict[str, set[str]]



@dataclass
class Repair:
    """A rebuilt notebook, the repairs it needed, and other things worth saying."""

    notebook: nbformat.NotebookNode
    repairs: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


def as_cell(cell_type: str, source: str) -> nbformat.NotebookNode:
    if cell_type == "code":
        return nbformat.v4.new_code_cell(source)
    if cell_type == "raw":
        return nbformat.v4.new_raw_cell(source)
    return nbformat.v4.new_markdown_cell(source)


def describe(cell: nbformat.NotebookNode) -> str:
    return grade_id(cell) or cell.get("id", "?")


def damage(released: list, handin: list, matched: dict[int, int]) -> list[str]:
    """What in the hand-in differs from the release in a way nbgrader cares about."""
    found = []
    without = [h for h, r in matched.items() if nbgrader_meta(handin[h]).get("grade_id") != grade_id(released[r])]
    if without:
        found.append(f"nbgrader metadata missing or changed in {len(without)} cells")
    order = [matched[h] for h in sorted(matched)]
    if order != sorted(order):
        found.append("cells were moved: put back in order")
    retyped = [describe(released[r]) for h, r in sorted(matched.items())
               if handin[h].cell_type != released[r].cell_type]
    if retyped:
        found.append(f"cell type changed: {', '.join(retyped)}")
    present = set(matched.values())
    deleted = [describe(cell) for r, cell in enumerate(released) if r not in present and is_test(cell)]
    if deleted:
        found.append(f"test cells deleted: {', '.join(deleted)}")
    edited = [describe(released[r]) for h, r in sorted(matched.items())
              if is_test(released[r]) and text_lines(handin[h].source) != text_lines(released[r].source)]
    if edited:
        found.append(f"test cells edited: {', '.join(edited)}")
    where = {r: h for h, r in matched.items()}
    # Only cells nbgrader knows: the Colab badge is not one, and a hand-in without it lacks nothing.
    locked = [r for r, cell in enumerate(released) if nbgrader_meta(cell) and not is_test(cell)
              and not is_solution(cell)
              and (r not in where or text_lines(handin[where[r]].source) != text_lines(cell.source))]
    if locked:
        found.append(f"{len(locked)} locked cells deleted or edited")
    return found


def rebuild(handin: nbformat.NotebookNode, released: nbformat.NotebookNode, context: Context) -> Repair:
    """HANDIN rebuilt on RELEASED (see the module's docstring); CONTEXT is master_context's."""
    rcells, hcells = released.cells, [c for c in handin.cells if c.get("source", "").strip()]
    matching = match_cells(rcells, hcells, context.defines)
    matched = matching.cells
    answers = {r: hcells[h] for h, r in matched.items() if is_solution(rcells[r])}
    after: dict[int, list] = {}
    anchor = -1
    for h, cell in enumerate(hcells):
        if h in matched:
            anchor = matched[h]
        elif cell.cell_type in ("code", "markdown"):
            after.setdefault(anchor, []).append(cell)

    out = copy.deepcopy(released)
    out.cells = [as_cell(c.cell_type, c.source) for c in after.get(-1, [])]
    student_cells = list(out.cells)
    for r, rcell in enumerate(rcells):
        cell = copy.deepcopy(rcell)
        if r in answers:
            cell.source = answers[r].source
            student_cells.append(cell)
        elif r in matching.shared:
            cell.source = f"# Answered in the cell of {describe(rcells[matched[matching.shared[r]]])}, with it."
        out.cells.append(cell)
        for scratch in after.get(r, []):
            out.cells.append(as_cell(scratch.cell_type, scratch.source))
            student_cells.append(out.cells[-1])
    for number, cell in enumerate(c for c in student_cells if not nbgrader_meta(c)):
        cell["id"] = f"student-{number + 1}"  # fixed ids: the same hand-in always gives the same notebook

    result = Repair(out, repairs=damage(rcells, hcells, matched))
    for r, h in sorted(matching.shared.items()):
        result.repairs.append(f"{describe(rcells[r])} answered in the cell of {describe(rcells[matched[h]])}: "
                              "graded as if each had its own")
    missing = [describe(c) for r, c in enumerate(rcells)
               if is_solution(c) and r not in answers and r not in matching.shared]
    if missing:
        result.remarks.append(f"exercise cells not found (graded as unanswered): {', '.join(missing)}")
    scratch_count = sum(len(cells) for cells in after.values())
    if scratch_count:
        result.remarks.append(f"{scratch_count} {'cell' if scratch_count == 1 else 'cells'} of the student's own "
                              "kept in place")
    result.remarks += advise_cells(out, student_cells, context)
    out.cells.insert(0, grader_cell())
    return result


def grader_cell() -> nbformat.NotebookNode:
    """The first cell of every rebuilt notebook (see the module's docstring, 5)."""
    cell = nbformat.v4.new_code_cell(GRADER_CELL)
    cell["id"] = GRADER_CELL_ID
    return cell


def advise_cells(nb: nbformat.NotebookNode, student_cells: list, context: Context) -> list[str]:
    """guard.suspicious of the student's code cells, for the instructor (nothing is removed)."""
    protected, imports = context.protected, context.imports
    modules = guard.module_like([cell.source for cell in nb.cells if cell.cell_type == "code"], protected)
    notes = []
    for cell in student_cells:
        if cell.cell_type == "code":
            found = guard.suspicious(cell.source, modules, protected, imports)
            if found:
                notes.append(f"suspicious code in {describe(cell)} (it earns nothing; the judge decides outside "
                             f"the kernel): {'; '.join(found)}")
    return notes


def master_context(master: nbformat.NotebookNode) -> Context:
    """The Context of a master notebook."""
    locked = [c.source for c in master.cells if c.cell_type == "code" and not is_solution(c)]
    answers = [c.source for c in master.cells if c.cell_type == "code" and is_solution(c)]
    defines = {grade_id(c): defined_names(c.source) for c in master.cells if c.cell_type == "code" and is_solution(c)}
    return Context(*guard.locked_context(locked, answers), defines)
