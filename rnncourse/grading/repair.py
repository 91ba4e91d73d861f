"""Rebuild a hand-in from its content, so that nbgrader grades what the student wrote.

Google Colab drops the cells' nbgrader metadata and renumbers their ids;
students move, delete, retype and edit cells and add their own. nbgrader
needs none of that to be undone if the metadata survives, and can do nothing
if it does not: a cell without metadata is not graded. So every hand-in is
rebuilt from the released student notebook:

1. each hand-in cell is matched to a released cell, by its nbgrader id when it
   has one, else by content: the lines of the released cell that a student
   does not write (for an exercise: its `def` line and docstring, not the
   `YOUR CODE HERE` stub), found in the hand-in cell with difflib;
2. the released notebook is copied, with the student's text put into each
   exercise cell; tests and other locked cells come from the release (nbgrader
   then overwrites them from the master anyway);
3. the student's own cells (scratch work, functions of their own) are kept, each placed after
   the released cell that the cell before it matched, so code still runs
   before the code that uses it;
4. guard.suspicious reports, from the student's cells, statements that try to
   change how the tests judge (advice for the instructor; nothing is removed).

What was repaired is reported, so the instructor can see it.
"""
from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field

import nbformat

from rnncourse.grading import guard

# The stubs nbgrader_config.py gives ClearSolutions: what a student replaces.
STUB_LINES = {"# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE"}
MATCH_THRESHOLD = 0.5


@dataclass
class Repair:
    """A rebuilt notebook, the repairs it needed, and other things worth saying."""

    notebook: nbformat.NotebookNode
    repairs: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: nbformat.NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("grade")) and not is_solution(cell)


def text_lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if line.strip()]


def anchors(released_cell: nbformat.NotebookNode) -> list[str]:
    """The lines of a released cell that a hand-in keeps: all but the stubs."""
    return [line for line in text_lines(released_cell.source) if line not in STUB_LINES]


def similarity(anchor_lines: list[str], source: str) -> float:
    """The share of ANCHOR_LINES found, in order, in SOURCE (0 when there are none)."""
    if not anchor_lines:
        return 0.0
    matcher = difflib.SequenceMatcher(None, anchor_lines, text_lines(source), autojunk=False)
    found = sum(block.size for block in matcher.get_matching_blocks())
    score = found / len(anchor_lines)
    # One or two lines prove little unless all of them are there.
    return score if len(anchor_lines) > 2 or score == 1.0 else 0.0


def match_cells(released: list, handin: list) -> dict[int, int]:
    """hand-in cell index -> released cell index, one to one."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    by_id = {grade_id(cell): index for index, cell in enumerate(released) if grade_id(cell)}
    for h, cell in enumerate(handin):
        r = by_id.get(grade_id(cell))
        if r is not None and r not in taken:
            matched[h], taken = r, taken | {r}
    candidates = []
    for r, rcell in enumerate(released):
        if r in taken:
            continue
        lines = anchors(rcell)
        for h, hcell in enumerate(handin):
            if h in matched:
                continue
            score = similarity(lines, hcell.source)
            if score >= MATCH_THRESHOLD:
                same_type = hcell.cell_type == rcell.cell_type
                # Best score first; among equals, the same cell type, then the
                # later copy (it is the one the student ran last).
                candidates.append((-score, not same_type, -h, h, r))
    for *_, h, r in sorted(candidates):
        if h not in matched and r not in taken:
            matched[h] = r
            taken.add(r)
    match_by_position(released, handin, matched, taken)
    return matched


def match_by_position(released: list, handin: list, matched: dict[int, int], taken: set[int]) -> None:
    """Answer cells with nothing to recognise them by (a bare `YOUR ANSWER HERE`)
    take the first unmatched hand-in cell between their matched neighbours."""
    where = {r: h for h, r in matched.items()}
    for r, rcell in enumerate(released):
        if r in taken or not is_solution(rcell) or anchors(rcell):
            continue
        before = max((where[i] for i in range(r) if i in where), default=-1)
        after = min((where[i] for i in range(r + 1, len(released)) if i in where), default=len(handin))
        for h in range(before + 1, after):
            if h not in matched and handin[h].cell_type == rcell.cell_type:
                matched[h], where[r] = r, h
                taken.add(r)
                break


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


def rebuild(handin: nbformat.NotebookNode, released: nbformat.NotebookNode,
            context: tuple[set[str], dict[str, str]]) -> Repair:
    """HANDIN rebuilt on RELEASED (see the module's docstring).

    CONTEXT is guard.locked_context of the master: the names the tests rely
    on and the imports they make.
    """
    rcells, hcells = released.cells, [c for c in handin.cells if c.get("source", "").strip()]
    matched = match_cells(rcells, hcells)
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
        out.cells.append(cell)
        for scratch in after.get(r, []):
            out.cells.append(as_cell(scratch.cell_type, scratch.source))
            student_cells.append(out.cells[-1])
    for number, cell in enumerate(c for c in student_cells if not nbgrader_meta(c)):
        cell["id"] = f"student-{number + 1}"  # fixed ids: the same hand-in always gives the same notebook

    result = Repair(out, repairs=damage(rcells, hcells, matched))
    missing = [describe(c) for r, c in enumerate(rcells) if is_solution(c) and r not in answers]
    if missing:
        result.remarks.append(f"exercise cells not found (graded as unanswered): {', '.join(missing)}")
    scratch_count = sum(len(cells) for cells in after.values())
    if scratch_count:
        result.remarks.append(f"{scratch_count} {'cell' if scratch_count == 1 else 'cells'} of the student's own "
                              "kept in place")
    result.remarks += advise_cells(out, student_cells, context)
    return result


def advise_cells(nb: nbformat.NotebookNode, student_cells: list, context: tuple[set[str], dict[str, str]]) -> list[str]:
    """guard.suspicious of the student's code cells, for the instructor (nothing is removed)."""
    protected, imports = context
    modules = guard.module_like([cell.source for cell in nb.cells if cell.cell_type == "code"], protected)
    notes = []
    for cell in student_cells:
        if cell.cell_type == "code":
            found = guard.suspicious(cell.source, modules, protected, imports)
            if found:
                notes.append(f"suspicious code in {describe(cell)} (it earns nothing; the judge decides outside "
                             f"the kernel): {'; '.join(found)}")
    return notes


def master_context(master: nbformat.NotebookNode) -> tuple[set[str], dict[str, str]]:
    """guard.locked_context of a master notebook."""
    locked = [c.source for c in master.cells if c.cell_type == "code" and not is_solution(c)]
    answers = [c.source for c in master.cells if c.cell_type == "code" and is_solution(c)]
    return guard.locked_context(locked, answers)


def content_score(handin: nbformat.NotebookNode, released: nbformat.NotebookNode) -> float:
    """How much of RELEASED's recognisable cells HANDIN holds (0..1)."""
    cells = [c for c in released.cells if len(anchors(c)) > 2]
    if not cells:
        return 0.0
    hcells = [c for c in handin.cells if c.get("source", "").strip()]
    matched = match_cells(cells, hcells)
    return len(set(matched.values())) / len(cells)
