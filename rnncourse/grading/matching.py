"""Which cell of a hand-in is which cell of the released notebook (see repair).

By nbgrader id when a cell still has one. An exercise is found by what it
defines (the functions, classes and names its solution in the master
defines), not by its docstring or its cell: one cell may answer two
exercises, and an answer without its docstring is still the answer. Other
cells are found by the lines of the released cell a student does not write
(all but the stubs), found in order in the hand-in cell with difflib; an
answer cell with nothing to recognise it by takes the free cell between its
matched neighbours.
"""
from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field

import nbformat

# The stubs nbgrader_config.py gives ClearSolutions: what a student replaces.
STUB_LINES = {"# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE"}
MATCH_THRESHOLD = 0.5
# A hand-in cell this much like a locked or test cell is a copy of it, whatever it defines.
COPY_THRESHOLD = 0.8
DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=(?!=)", re.M)


@dataclass
class Matching:
    """Hand-in cells matched to released cells: one to one, and the exercise cells answered
    in a cell already matched to another exercise."""

    cells: dict[int, int]  # hand-in cell index -> released cell index
    shared: dict[int, int] = field(default_factory=dict)  # released exercise index -> hand-in cell index


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


def defined_names(source: str) -> set[str]:
    """The names a cell's code defines at its top level: functions, classes, assigned names.
    Code that does not parse (a syntax error, magics) is read line by line."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return {function or name for function, name in DEFINITION.findall(source)}
    return names_in(body)


def names_in(body: list[ast.stmt]) -> set[str]:
    """The names statements BODY define, looking into top-level if, try and with blocks."""
    found: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            found |= names_in(node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", []))
    return found


def match_cells(released: list, handin: list, defines: dict[str, set[str]] | None = None) -> Matching:
    """Hand-in cells matched to released cells (see the module's docstring). DEFINES is
    Context.defines; without it exercises are found by their text alone."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    by_id = {grade_id(cell): index for index, cell in enumerate(released) if grade_id(cell)}
    for h, cell in enumerate(handin):
        r = by_id.get(grade_id(cell))
        if r is not None and r not in taken:
            matched[h], taken = r, taken | {r}
    scores = text_scores(released, handin, matched, taken)
    shared = match_by_definitions(released, handin, defines or {}, matched, taken, scores)
    for *_, h, r in sorted((-score, handin[h].cell_type != released[r].cell_type, -h, h, r)
                           for (r, h), score in scores.items()):
        # Best score first; among equals, the same cell type, then the later copy (the one run last).
        if h not in matched and r not in taken:
            matched[h] = r
            taken.add(r)
    match_by_position(released, handin, matched, taken)
    return Matching(matched, shared)


def text_scores(released: list, handin: list, matched: dict[int, int], taken: set[int]) -> dict[tuple[int, int], float]:
    """(released index, hand-in index) -> similarity, for the unmatched pairs that match."""
    scores = {}
    for r, rcell in enumerate(released):
        if r in taken:
            continue
        lines = anchors(rcell)
        for h, hcell in enumerate(handin):
            if h not in matched:
                score = similarity(lines, hcell.source)
                if score >= MATCH_THRESHOLD:
                    scores[r, h] = score
    return scores


def match_by_definitions(released: list, handin: list, defines: dict[str, set[str]], matched: dict[int, int],
                         taken: set[int], scores: dict[tuple[int, int], float]) -> dict[int, int]:
    """Exercise cells matched to the hand-in cells that define most of their names; an
    exercise whose names a cell already matched to another exercise defines shares it."""
    shared: dict[int, int] = {}
    copies = {h for (r, h), score in scores.items() if score >= COPY_THRESHOLD and not is_solution(released[r])}
    # Prose is not code: a cell of text defines only what it writes with def or class.
    defined = [defined_names(cell.source) if cell.cell_type == "code"
               else {n for n in defined_names(cell.source) if re.search(rf"(?:def|class)\s+{n}\b", cell.source)}
               for cell in handin]
    for r, rcell in enumerate(released):
        wanted = defines.get(grade_id(rcell) or "", set())
        if r in taken or not is_solution(rcell) or not wanted:
            continue
        candidates = [h for h in range(len(handin)) if defined[h] & wanted and h not in copies
                      and (h not in matched or is_solution(released[matched[h]]))]
        if not candidates:
            continue
        best = max(candidates, key=lambda h: (len(defined[h] & wanted), scores.get((r, h), 0.0), h))
        if best in matched:
            shared[r] = best
        else:
            matched[best] = r
        taken.add(r)
    return shared


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



def content_score(handin: nbformat.NotebookNode, released: nbformat.NotebookNode) -> float:
    """How much of RELEASED's recognisable cells HANDIN holds (0..1)."""
    cells = [c for c in released.cells if len(anchors(c)) > 2]
    if not cells:
        return 0.0
    hcells = [c for c in handin.cells if c.get("source", "").strip()]
    matched = match_cells(cells, hcells).cells
    return len(set(matched.values())) / len(cells)
