"""Mutation testing of the course's graded exercises, without nbgrader or Jupyter.

A *mutant* is the reference answer of one exercise (one `### BEGIN SOLUTION` ...
`### END SOLUTION` region of a master notebook) with one small change made on its
syntax tree: an operator swapped, a term or a transpose dropped, an axis changed, an
accumulation turned into an overwrite, a statement deleted... Each mutant is run the
way the grader runs a hand-in: every code cell of the master in order, in one
namespace, hidden tests included, with the region replaced. It *loses points* when a
graded test cell that passes for the reference fails for it (or when the run takes
longer than the time limit, as nbgrader's cell timeout would cut it).

Every run happens in a forked child process, so a mutant cannot affect the next one;
warnings are silenced there (the course's grader ignores them) and output discarded.

The catalogue of equivalent mutants, correct alternatives and classic mistakes is in
mutation_catalog.py; tests/mutation_report.py prints the full table and
tests/test_mutation.py runs a fixed subset in CI.
"""

from __future__ import annotations

import ast
import copy
import functools
import multiprocessing
import multiprocessing.connection
import os
import re
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncourse import expected
from rnncourse.grading import judge, verdicts

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO_ROOT / "source"

BEGIN_SOLUTION = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*### END SOLUTION\s*$")
# The generic message of check_array when no named mistake matched.
GENERIC_FALLBACK = re.compile(r"at index \(.*\) expected .*, got ")
# A notebook run slower than this is cut and loses points, as nbgrader's cell timeout would.
RUN_TIMEOUT = 60.0
# The judge's seed for every mutant: fixed, so that a report can be repeated.
SEED = 20261201
# The name under which a run's hidden cells send their records (judge.kernel_source's emit).
EMIT = "__mutation_records__"


# ---------------------------------------------------------------- the masters


@dataclass
class Cell:
    cell_id: str  # the nbgrader grade_id
    source: str
    graded: bool  # an autograded test cell (grade: true, solution: false)
    index: int = -1  # its position among the master's cells
    judged: bool = False  # hidden tests decided by the judge (rnncourse/grading/judge.py)


@dataclass
class Exercise:
    """One solution region of an exercise cell: what a mutant replaces."""

    assignment: str
    name: str  # the function it lies in ("SimpleRNN.forward"), or the cell's grade_id
    cell_id: str
    index: int  # the region's number in its cell
    text: str  # the reference answer, dedented
    indent: str
    params: tuple[str, ...]  # the enclosing function's parameters

    @property
    def key(self) -> tuple[str, int]:
        return (self.cell_id, self.index)


def read_cells(assignment: str) -> list[Cell]:
    """The master's code cells in order, up to its last graded test cell (what comes after
    it cannot change a grade)."""
    nb = master(assignment)
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        graded = bool(meta.get("grade")) and not meta.get("solution")
        cells.append(Cell(meta.get("grade_id", cell.get("id", "")), cell.source, graded, index, judge.is_judged(cell)))
    last = max(i for i, cell in enumerate(cells) if cell.graded)
    return cells[: last + 1]


@functools.cache
def master(assignment: str) -> nbformat.NotebookNode:
    """ASSIGNMENT's master as the grader runs it: self-checks with the build's expected values."""
    return expected.filled(nbformat.read(SOURCE_DIR / assignment / f"{assignment}.ipynb", as_version=4))


@functools.cache
def expected_records(assignment: str) -> dict[str, list[dict]]:
    """The judge's reference records of ASSIGNMENT's hidden cells, for the fixed SEED."""
    return judge.expected(master(assignment), SEED)


def _regions(source: str) -> list[tuple[int, int, str]]:
    """(first line, end line, indent) of every solution region in SOURCE (lines between the markers)."""
    lines = source.split("\n")
    found, start = [], None
    for number, line in enumerate(lines):
        match = BEGIN_SOLUTION.match(line)
        if match:
            start, indent = number + 1, match.group(1)
        elif END_SOLUTION.match(line) and start is not None:
            found.append((start, number, indent))
            start = None
    return found


def _enclosing_function(tree: ast.Module, line: int) -> tuple[str | None, tuple[str, ...]]:
    """The qualified name and parameters of the innermost function holding LINE (1-based)."""
    best: tuple[str | None, tuple[str, ...]] = (None, ())

    def visit(node: ast.AST, prefix: str) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)) and child.lineno <= line <= child.end_lineno:
                name = f"{prefix}{child.name}"
                if isinstance(child, ast.FunctionDef):
                    arguments = child.args
                    params = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
                    best = (name, tuple(params))
                visit(child, name + ".")

    visit(tree, "")
    return best


@functools.cache
def exercises(assignment: str) -> tuple[Exercise, ...]:
    """Every solution region of ASSIGNMENT's master, in notebook order."""
    found = []
    for cell in read_cells(assignment):
        regions = _regions(cell.source)
        if not regions or cell.graded:
            continue
        tree = ast.parse(cell.source)
        lines = cell.source.split("\n")
        for index, (start, end, indent) in enumerate(regions):
            name, params = _enclosing_function(tree, start + 1)
            text = textwrap.dedent("\n".join(lines[start:end])) + "\n"
            found.append(Exercise(assignment, name or cell.cell_id, cell.cell_id, index, text, indent, params))
    return tuple(found)


def all_exercises(assignments: list[str] | None = None) -> list[Exercise]:
    names = assignments or sorted(p.parent.name for p in SOURCE_DIR.glob("*/*.ipynb") if p.stem == p.parent.name)
    return [exercise for assignment in names for exercise in exercises(assignment)]


def exercise_named(name: str) -> Exercise:
    matches = [e for e in all_exercises() if e.name == name]
    if len(matches) != 1:
        raise KeyError(f"no single exercise named {name!r}: {[e.name for e in all_exercises()]}")
    return matches[0]


def splice(cell: Cell, replacements: dict[int, str]) -> str:
    """CELL's source with its solution regions replaced (by region index) with dedented code."""
    lines = cell.source.split("\n")
    out, cursor = [], 0
    for index, (start, end, indent) in enumerate(_regions(cell.source)):
        out.extend(lines[cursor:start])
        if index in replacements:
            body = replacements[index].rstrip("\n").split("\n")
            out.extend(indent + line if line.strip() else line for line in body)
        else:
            out.extend(lines[start:end])
        cursor = end
    out.extend(lines[cursor:])
    return "\n".join(out)


def program(assignment: str, replacements: dict[tuple[str, int], str]) -> list[Cell]:
    """The cells to run: the master with the given regions ((cell_id, index) -> code) replaced."""
    cells = read_cells(assignment)
    unknown = set(replacements) - {(c.cell_id, i) for c in cells for i in range(len(_regions(c.source)))}
    if unknown:
        raise KeyError(f"no solution region {sorted(unknown)} in {assignment}")
    result = []
    for cell in cells:
        mine = {index: code for (cell_id, index), code in replacements.items() if cell_id == cell.cell_id}
        source = splice(cell, mine) if mine else cell.source
        if cell.judged:  # as the grader runs it: the runtime copied in, records sent to the run
            source = judge.kernel_source(master(assignment), cell.index, SEED, emit=EMIT)
        result.append(Cell(cell.cell_id, source, cell.graded, cell.index, cell.judged))
    return result


# ---------------------------------------------------------------- mutation operators


@dataclass(frozen=True)
class Mutant:
    exercise: Exercise
    mutant_id: str
    operator: str
    code: str  # the mutated region, dedented

    def __hash__(self) -> int:
        return hash(self.mutant_id)


SWAP_OPS: dict[type, list[type]] = {
    ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add], ast.Div: [ast.Mult, ast.FloorDiv],
    ast.MatMult: [ast.Mult], ast.Pow: [ast.Mult], ast.FloorDiv: [ast.Div], ast.Mod: [ast.FloorDiv],
}
DROP_OPERAND_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult)
AUG_OPS: dict[type, list[type | None]] = {
    ast.Add: [None, ast.Sub], ast.Sub: [None, ast.Add], ast.Mult: [None, ast.Div], ast.Div: [None, ast.Mult],
}
COMPARE_OPS: dict[type, list[type]] = {
    ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt, ast.Lt], ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.Gt],
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Is: [ast.IsNot], ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn], ast.NotIn: [ast.In],
}
# Functions (by their dotted name) whose call can be replaced by its only argument.
UNWRAPPABLE = {
    "np.tanh", "np.exp", "np.log", "np.sqrt", "np.square", "np.abs", "np.asarray", "np.array", "np.copy",
    "float", "reversed", "list", "tuple", "np.float64", "softmax", "np.negative", "np.concatenate", "np.stack",
}
FUNCTION_SWAPS = {
    "np.max": ["np.min", "np.mean"], "np.min": ["np.max"], "np.sum": ["np.mean", "np.max"],
    "np.mean": ["np.sum"], "np.argmax": ["np.argmin"], "np.maximum": ["np.minimum"],
    "np.minimum": ["np.maximum"], "np.zeros": ["np.ones"], "np.ones": ["np.zeros"],
    "np.zeros_like": ["np.ones_like"], "np.concatenate": ["np.stack"], "np.stack": ["np.concatenate"],
    "np.exp": ["np.exp2"], "np.log": ["np.log2"], "np.dot": ["np.multiply"],
}
METHOD_SWAPS = {"sum": ["mean", "max"], "mean": ["sum"], "max": ["min", "mean"], "min": ["max"],
                "argmax": ["argmin"]}
REDUCTIONS = {"sum", "mean", "max", "min"}
ACTIVATION_SWAPS = {
    "np.tanh": [("sigmoid", "1 / (1 + np.exp(-({x})))"), ("ReLU", "np.maximum({x}, 0)")],
}


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


class _Sites:
    """Every mutation of one region's syntax tree, as (operator, node index, change) triples.

    A change is a function of (node, parent map) that edits a deep copy of the tree in place.
    """

    def __init__(self, exercise: Exercise):
        self.exercise = exercise
        self.tree = ast.parse(exercise.text)
        self.nodes = list(ast.walk(self.tree))
        stored = {n.id for n in self.nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.variables = sorted((set(exercise.params) - {"self"}) | stored)
        self.loop_vars = {
            n.target.id for n in self.nodes if isinstance(n, ast.For) and isinstance(n.target, ast.Name)
        }
        # Attribute names used on each base (self.W_x, self.W_h ...), for attribute swaps.
        self.attributes: dict[str, set[str]] = {}
        called = {id(n.func) for n in self.nodes if isinstance(n, ast.Call)}
        for n in self.nodes:
            if isinstance(n, ast.Attribute) and id(n) not in called and n.attr != "T":
                base = dotted(n.value)
                if base is not None and base not in ("np", "np.random", "np.linalg"):
                    self.attributes.setdefault(base, set()).add(n.attr)
        # Where each name becomes bound: after its whole assignment, or after a loop's iterable.
        self.bindings: dict[str, list[tuple[int, int]]] = {}
        for n in self.nodes:
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                end = (n.end_lineno, n.end_col_offset)
            elif isinstance(n, ast.For):
                targets, end = [n.target], (n.iter.end_lineno, n.iter.end_col_offset)
            else:
                continue
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        self.bindings.setdefault(name.id, []).append(end)
        # The statement lists (bodies) each statement belongs to.
        self.blocks: dict[int, list] = {}
        for n in self.nodes:
            for _, value in ast.iter_fields(n):
                if isinstance(value, list) and value and all(isinstance(v, ast.stmt) for v in value):
                    for statement in value:
                        self.blocks[id(statement)] = value
        self.sites: list[tuple[str, int, object]] = []
        for index, node in enumerate(self.nodes):
            for operator, change in self._changes(node):
                self.sites.append((operator, index, change))

    # -- helpers that edit the copied tree

    @staticmethod
    def replace(parents: dict, node: ast.AST, new: ast.AST | list) -> None:
        parent = parents[id(node)]
        for name, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, name, new)
                return
            if isinstance(value, list) and any(v is node for v in value):
                position = next(i for i, v in enumerate(value) if v is node)
                value[position : position + 1] = new if isinstance(new, list) else [new]
                return
        raise LookupError("node not found in its parent")

    def _changes(self, node: ast.AST):
        R = self.replace
        if isinstance(node, ast.BinOp):
            for new_op in SWAP_OPS.get(type(node.op), []):
                yield "swap operator", lambda n, p, o=new_op: setattr(n, "op", o())
            if isinstance(node.op, (ast.MatMult, ast.Sub, ast.Div)):
                yield "swap operands", self._swap_operands
            if isinstance(node.op, DROP_OPERAND_OPS):
                yield "drop operand", lambda n, p: R(p, n, n.left)
                yield "drop operand", lambda n, p: R(p, n, n.right)
            if isinstance(node.op, ast.MatMult):
                for side in ("left", "right"):
                    operand = getattr(node, side)
                    if isinstance(operand, ast.Attribute) and operand.attr == "T":
                        continue  # dropping it is the 'drop transpose' mutant
                    yield "add transpose", lambda n, p, s=side: setattr(
                        n, s, ast.Attribute(getattr(n, s), "T", ast.Load()))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            yield "drop unary operator", lambda n, p: R(p, n, n.operand)
        elif isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                for new_op in COMPARE_OPS.get(type(op), []):
                    yield "swap comparison", lambda n, p, i=position, o=new_op: n.ops.__setitem__(i, o())
        elif isinstance(node, ast.BoolOp):
            yield "swap boolean operator", lambda n, p: setattr(n, "op", ast.Or() if isinstance(n.op, ast.And)
                                                                  else ast.And())
        elif isinstance(node, ast.IfExp):
            yield "conditional to its 'if' value", lambda n, p: R(p, n, n.body)
            yield "conditional to its 'else' value", lambda n, p: R(p, n, n.orelse)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, str) and node.value is not None:
            value = node.value
            if isinstance(value, bool):
                candidates = [not value]
            elif isinstance(value, int):
                candidates = [value + 1, value - 1, 0, -value]
            elif isinstance(value, float):
                candidates = [value * 2, value / 2, 0.0, -value, value + 1]
            else:
                candidates = []
            seen = {value}
            for new in candidates:
                if new in seen:
                    continue
                seen.add(new)
                yield "change constant", lambda n, p, v=new: setattr(n, "value", v)
        elif isinstance(node, ast.Call):
            yield from self._call_changes(node)
        elif isinstance(node, ast.Attribute):
            if node.attr == "T":
                yield "drop transpose", lambda n, p: R(p, n, n.value)
            base = dotted(node.value)
            if base in self.attributes and node.attr in self.attributes[base] and isinstance(node.ctx, ast.Load):
                for other in sorted(self.attributes[base] - {node.attr}):
                    yield "swap attribute", lambda n, p, a=other: setattr(n, "attr", a)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in self.variables:
            for other in self.variables:
                if other != node.id and self._bound_before(node, other):
                    yield "swap variable", lambda n, p, o=other: setattr(n, "id", o)
        elif isinstance(node, ast.Subscript):
            yield from self._subscript_changes(node)
        elif isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) >= 2:
            for i in range(len(node.elts) - 1):
                yield "swap elements", lambda n, p, i=i: n.elts.__setitem__(slice(i, i + 2), n.elts[i: i + 2][::-1])
        elif isinstance(node, ast.Dict) and len(node.values) >= 2:
            for i in range(len(node.values) - 1):
                yield "swap dict values", lambda n, p, i=i: n.values.__setitem__(
                    slice(i, i + 2), n.values[i: i + 2][::-1])
        if isinstance(node, ast.stmt):
            yield from self._statement_changes(node)

    def _call_changes(self, node: ast.Call):
        R = self.replace
        name = dotted(node.func)
        if name in UNWRAPPABLE and len(node.args) == 1:
            yield "drop call", lambda n, p: R(p, n, n.args[0])
        for new_name in FUNCTION_SWAPS.get(name, []):
            yield "swap function", lambda n, p, f=new_name: setattr(n, "func", expr(f))
        for label, template in ACTIVATION_SWAPS.get(name, []):
            if len(node.args) == 1:
                yield f"activation to {label}", lambda n, p, t=template: R(
                    p, n, expr(t.format(x=ast.unparse(n.args[0]))))
        if isinstance(node.func, ast.Attribute) and name not in FUNCTION_SWAPS and not (name or "").startswith("np."):
            method = node.func.attr
            for new in METHOD_SWAPS.get(method, []):
                yield "swap method", lambda n, p, m=new: setattr(n.func, "attr", m)
            if method in REDUCTIONS or method == "copy":
                yield "drop method call", lambda n, p: R(p, n, n.func.value)
        if name in ("np.sum", "np.max", "np.mean", "np.min") and node.args:
            yield "drop reduction", lambda n, p: R(p, n, n.args[0])
        reduction = name in ("np.sum", "np.max", "np.mean", "np.min", "np.argmax") or (
            isinstance(node.func, ast.Attribute) and node.func.attr in REDUCTIONS | {"argmax"})
        keywords = {k.arg for k in node.keywords}
        if reduction and "axis" not in keywords:
            for axis in (0, 1):
                yield "add axis", lambda n, p, a=axis: n.keywords.append(ast.keyword("axis", ast.Constant(a)))
        for position, keyword in enumerate(node.keywords):
            if keyword.arg is None:
                continue
            yield "drop keyword", lambda n, p, i=position: n.keywords.pop(i)
            if keyword.arg == "axis":
                current = ast.unparse(keyword.value)
                for axis in ("0", "1", "-1", "None"):
                    if axis != current:
                        yield "change axis", lambda n, p, i=position, a=axis: setattr(n.keywords[i], "value", expr(a))
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(positional) == len(node.args) >= 2:
            for i in range(len(node.args) - 1):
                yield "swap arguments", lambda n, p, i=i: n.args.__setitem__(slice(i, i + 2), n.args[i: i + 2][::-1])
        if name == "range":
            if len(node.args) == 1:
                yield "change range", lambda n, p: setattr(n, "args", [expr(f"{ast.unparse(n.args[0])} - 1")])
                yield "change range", lambda n, p: setattr(n, "args", [expr(f"{ast.unparse(n.args[0])} + 1")])
                yield "change range", lambda n, p: setattr(n, "args", [ast.Constant(1), n.args[0]])
            elif len(node.args) >= 2:
                yield "change range", lambda n, p: n.args.__setitem__(1, expr(f"{ast.unparse(n.args[1])} - 1"))
                yield "change range", lambda n, p: n.args.__setitem__(0, expr(f"{ast.unparse(n.args[0])} + 1"))

    def _subscript_changes(self, node: ast.Subscript):
        index = node.slice
        # x[:, t] -> x[t]: the leading ':' dropped, so the wrong axis is indexed.
        if isinstance(index, ast.Tuple) and len(index.elts) >= 2 and isinstance(index.elts[0], ast.Slice):
            first = index.elts[0]
            if first.lower is None and first.upper is None and first.step is None:
                yield "index the wrong axis", lambda n, p: setattr(
                    n, "slice", n.slice.elts[1] if len(n.slice.elts) == 2 else ast.Tuple(n.slice.elts[1:], ast.Load()))
        # a[i:i + 1] -> a[i]: the axis dropped.
        if isinstance(index, ast.Slice) and index.lower is not None and index.upper is not None:
            yield "slice to index", lambda n, p: setattr(n, "slice", n.slice.lower)
        # the loop index off by one.
        for sub in ast.walk(index):
            if isinstance(sub, ast.Name) and sub.id in self.loop_vars:
                position = next(i for i, candidate in enumerate(ast.walk(node)) if candidate is sub)
                for shift in ("- 1", "+ 1"):
                    yield "index off by one", lambda n, p, k=position, s=shift: self._shift(n, k, s)

    def _shift(self, subscript: ast.Subscript, position: int, shift: str) -> None:
        parents = {id(c): parent for parent in ast.walk(subscript) for c in ast.iter_child_nodes(parent)}
        target = list(ast.walk(subscript))[position]
        self.replace(parents, target, expr(f"{target.id} {shift}"))

    def _statement_changes(self, node: ast.stmt):
        R = self.replace
        yield "delete statement", lambda n, p: R(p, n, ast.Pass())
        block = self.blocks.get(id(node))
        if block is not None and block.index(node) + 1 < len(block):
            yield "swap statements", self._swap_with_next
        if isinstance(node, ast.AugAssign):
            for new_op in AUG_OPS.get(type(node.op), []):
                if new_op is None:
                    yield "accumulation to overwrite", lambda n, p: R(p, n, ast.Assign([n.target], n.value))
                else:
                    yield "swap operator", lambda n, p, o=new_op: setattr(n, "op", o())
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target in self.variables and self._bound_before(node, target):
                yield "write into the existing array", lambda n, p: R(p, n, ast.Assign(
                    [ast.Subscript(ast.Name(n.targets[0].id, ast.Load()), ast.Constant(Ellipsis), ast.Store())],
                    n.value))
            value = node.value
            if (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub, ast.Mult, ast.Div))
                    and isinstance(value.left, ast.Name) and value.left.id in self.variables
                    and value.left.id != target):
                yield "update in place", lambda n, p: R(p, n, [
                    ast.AugAssign(ast.Name(n.value.left.id, ast.Store()), n.value.op, n.value.right),
                    ast.Assign([ast.Name(n.targets[0].id, ast.Store())], ast.Name(n.value.left.id, ast.Load()))])
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            value = node.value
            if isinstance(value, ast.BinOp) and ast.unparse(value.left) == ast.unparse(node.targets[0]):
                yield "update in place", lambda n, p: R(p, n, ast.AugAssign(
                    n.targets[0], n.value.op, n.value.right))

    @staticmethod
    def _swap_operands(node: ast.BinOp, parents: dict) -> None:
        node.left, node.right = node.right, node.left

    @staticmethod
    def _swap_with_next(node: ast.stmt, parents: dict) -> None:
        parent = parents[id(node)]
        for _, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(v is node for v in value):
                i = next(i for i, v in enumerate(value) if v is node)
                value[i], value[i + 1] = value[i + 1], value[i]
                return

    def _bound_before(self, node: ast.AST, name: str) -> bool:
        """Is NAME a parameter, or assigned earlier in the region than NODE?"""
        if name in self.exercise.params:
            return True
        return any(where <= (node.lineno, node.col_offset) for where in self.bindings.get(name, []))


def _statement_of(node: ast.AST, parents: dict) -> ast.stmt | None:
    while node is not None and not isinstance(node, ast.stmt):
        node = parents.get(id(node))
    return node


# Python 3.10's ast.unparse writes a tuple target in parentheses, `(a, b) = ...` and
# `for (a, b) in ...` (comprehensions too); later ones do not.
BRACKETED_TARGETS = [
    (re.compile(r"^\(([^()]*)\)(?= = )"), r"\1"),
    (re.compile(r"\bfor \(([^()]*)\) in "), r"for \1 in "),
]


def _header(statement: ast.stmt) -> str:
    """A statement as one line, as every Python version writes it: compound statements by their
    header only."""
    if isinstance(statement, (ast.For, ast.While, ast.If, ast.With, ast.FunctionDef, ast.ClassDef)):
        shallow = copy.copy(statement)
        shallow.body = [ast.Expr(ast.Constant(Ellipsis))]
        if hasattr(shallow, "orelse"):
            shallow.orelse = []
        text = ast.unparse(shallow).split("\n")[0].rstrip(":")
    else:
        text = " ".join(ast.unparse(statement).split())
    for bracketed, plain in BRACKETED_TARGETS:
        text = bracketed.sub(plain, text)
    return text


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shorten(before: str, after: str, limit: int = 80, context: int = 24) -> tuple[str, str]:
    """BEFORE and AFTER, when long, cut to the part that differs with a little context."""
    if len(before) <= limit and len(after) <= limit:
        return before, after
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(before), len(after)) - prefix
           and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]):
        suffix += 1
    start = max(0, prefix - context)
    cut = []
    for text in (before, after):
        end = min(len(text), len(text) - suffix + context)
        cut.append(("..." if start > 0 else "") + text[start:end] + ("..." if end < len(text) else ""))
    return cut[0], cut[1]


def mutants(exercise: Exercise) -> list[Mutant]:
    """Every distinct mutant of EXERCISE, with stable ids that name the change.

    An id reads `<exercise>: <operator>: "<statement before>" -> "<statement after>"`;
    two changes giving the same code are one mutant (the first id is kept).
    """
    sites = _Sites(exercise)
    reference = ast.dump(sites.tree)
    found: dict[str, Mutant] = {}
    codes: set[str] = set()
    counts: dict[str, int] = {}
    for operator, index, change in sites.sites:
        tree = copy.deepcopy(sites.tree)
        nodes = list(ast.walk(tree))
        parents = {id(child): parent for parent in nodes for child in ast.iter_child_nodes(parent)}
        node = nodes[index]
        before_statement = _statement_of(node, parents)
        before = _header(before_statement) if before_statement is not None else ""
        position = next(i for i, n in enumerate(ast.walk(tree)) if n is before_statement)
        change(node, parents)
        ast.fix_missing_locations(tree)
        if ast.dump(tree) == reference:
            continue
        try:
            code = ast.unparse(tree) + "\n"
            # Inside a function, as the region is ('return' is allowed there).
            compile("def _mutant():\n" + textwrap.indent(code, "    "), "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, TypeError):
            continue
        if code in codes:
            continue
        codes.add(code)
        # The statement after the change: the one now at the old statement's place, if any.
        after_nodes = list(ast.walk(tree))
        after_statement = after_nodes[position] if position < len(after_nodes) else None
        if operator == "delete statement":
            label = f'{exercise.name}: delete "{_clip(before)}"'
        elif operator == "swap statements":
            following = sites.blocks[id(sites.nodes[index])]
            second = following[following.index(sites.nodes[index]) + 1]
            label = f'{exercise.name}: swap statements: "{_clip(before, 50)}" <-> "{_clip(_header(second), 50)}"'
        else:
            after = _header(after_statement) if isinstance(after_statement, ast.stmt) else "?"
            if operator == "update in place" and isinstance(after_statement, ast.AugAssign):
                after = _header(after_statement) + "; ..."
            label = '{}: {}: "{}" -> "{}"'.format(exercise.name, operator, *_shorten(before, after))
        counts[label] = counts.get(label, 0) + 1
        if counts[label] > 1:
            label = f"{label} (#{counts[label]})"
        found[label] = Mutant(exercise, label, operator, code)
    return list(found.values())


@functools.cache
def _mutants_of(exercise_name: str) -> dict[str, Mutant]:
    return {mutant.mutant_id: mutant for mutant in mutants(exercise_named(exercise_name))}


def mutant_by_id(mutant_id: str) -> Mutant:
    exercise_name = mutant_id.split(":", 1)[0]
    found = _mutants_of(exercise_name).get(mutant_id)
    if found is not None:
        return found
    raise KeyError(
        f"mutant {mutant_id!r} no longer exists: the reference answer of {exercise_name} changed. "
        "Update the ids in tests/mutation_catalog.py (`.venv/bin/python -m tests.mutation_report --list "
        f"{exercise_name}` prints the current ones)."
    )


# ---------------------------------------------------------------- running notebooks


@dataclass
class Job:
    """One notebook run: ASSIGNMENT with some solution regions replaced."""

    label: str
    assignment: str
    replacements: dict[tuple[str, int], str] = field(default_factory=dict)
    stop_on_failure: bool = True  # stop at the first graded cell that fails (its points are lost)


@dataclass
class Outcome:
    label: str
    results: dict[str, tuple[bool, str]]  # graded cell id -> (passed, message)
    errors: dict[str, str]  # ungraded cell id -> message, for cells that raised
    timed_out: bool
    seconds: float

    def failed(self) -> list[str]:
        return [cell for cell, (passed, _) in self.results.items() if not passed]


def _describe(error: BaseException) -> str:
    if isinstance(error, AssertionError):
        return str(error) or "AssertionError"
    return f"{type(error).__name__}: {error}"


def _judged(cell: Cell, records: list[dict], expected: dict[str, list[dict]]) -> tuple[bool, str]:
    """A hidden cell's verdict, as the judge gives it: (every check passed, what failed)."""
    outcome = verdicts.decide(expected.get(cell.cell_id, []), records, [], True)
    stopped = [f"the cell stopped: {outcome.stopped}"] if outcome.stopped else []
    return outcome.fraction == 1.0, "; ".join(stopped + outcome.summary()["failed"][:3])


def _child(cells: list[Cell], stop_on_failure: bool, conn, expected: dict[str, list[dict]]) -> None:
    """Run CELLS in one namespace (in a forked process), reporting each graded cell on CONN."""
    import sys

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = open(os.devnull, "w")  # lives as long as this process
    sys.stderr = sys.stdout
    warnings.simplefilter("ignore")
    plt.show = lambda *args, **kwargs: None
    records: list[dict] = []
    namespace: dict = {"__name__": "__main__", EMIT: records.append}
    for cell in cells:
        records.clear()
        try:
            exec(compile(cell.source, f"<{cell.cell_id}>", "exec"), namespace)
            passed, message = True, ""
        except BaseException as error:  # a mutant may raise anything, SystemExit included
            passed, message = False, _describe(error)
        finally:
            plt.close("all")
        if cell.judged:
            passed, message = _judged(cell, list(records), expected)
        if cell.graded:
            conn.send(("cell", cell.cell_id, passed, message))
        elif not passed:
            conn.send(("error", cell.cell_id, passed, message))
        if cell.graded and not passed and stop_on_failure:
            break
    conn.send(("done",))
    conn.close()
    os._exit(0)


def _preload() -> None:
    """Import what the notebooks import, once, so that every forked child has it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import sklearn.base  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.utils.validation  # noqa: F401
    import threadpoolctl  # noqa: F401
    import tqdm.auto  # noqa: F401


def run_jobs(jobs: list[Job], workers: int = 2, timeout: float = RUN_TIMEOUT, progress=None) -> list[Outcome]:
    """Run every job in a forked child, WORKERS at a time; outcomes in the order of JOBS."""
    _preload()
    context = multiprocessing.get_context("fork")
    programs = {}
    pending = list(enumerate(jobs))
    running: dict = {}  # connection -> (position, process, start, results, errors)
    outcomes: list[Outcome | None] = [None] * len(jobs)

    def finish(conn, timed_out: bool) -> None:
        position, process, start, results, errors = running.pop(conn)
        if timed_out or process.is_alive():
            process.kill()
        process.join()
        conn.close()
        outcomes[position] = Outcome(jobs[position].label, results, errors, timed_out, time.perf_counter() - start)
        if progress:
            progress(outcomes[position])

    while pending or running:
        while pending and len(running) < workers:
            position, job = pending.pop(0)
            key = (job.assignment, tuple(sorted(job.replacements.items())))
            if key not in programs:
                programs = {key: program(job.assignment, job.replacements)}  # keep one: they are big
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_child, args=(programs[key], job.stop_on_failure, send, expected_records(job.assignment)),
                daemon=True)
            with warnings.catch_warnings():
                # Python 3.12 warns that fork() in a process with threads may deadlock; the child
                # only runs notebook code, with its own copies of the modules it needs.
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
            send.close()
            running[receive] = (position, process, time.perf_counter(), {}, {})
        now = time.perf_counter()
        deadline = min(entry[2] for entry in running.values()) + timeout
        ready = multiprocessing.connection.wait(list(running), timeout=max(0.0, deadline - now))
        for conn in ready:
            try:
                message = conn.recv()
            except EOFError:  # the child died without saying so (os._exit in a mutant, a crash)
                finish(conn, timed_out=False)
                continue
            if message[0] == "done":
                finish(conn, timed_out=False)
            else:
                kind, cell_id, passed, text = message
                (running[conn][3] if kind == "cell" else running[conn][4])[cell_id] = (passed, text)
        now = time.perf_counter()
        for conn, entry in list(running.items()):
            if now - entry[2] > timeout:
                finish(conn, timed_out=True)
    return outcomes  # type: ignore[return-value]


# ---------------------------------------------------------------- verdicts


def reference_outcomes(assignments: list[str], workers: int = 2) -> dict[str, Outcome]:
    jobs = [Job(f"{a}: reference", a, stop_on_failure=False) for a in assignments]
    return {job.assignment: outcome for job, outcome in zip(jobs, run_jobs(jobs, workers), strict=True)}


def loses_points(outcome: Outcome, reference: Outcome) -> bool:
    """Does the run lose a point the reference earns: a graded cell passing for the reference
    fails (or never runs, the run being cut at the time limit)?"""
    if outcome.timed_out:
        return True
    earned = [cell for cell, (passed, _) in reference.results.items() if passed]
    return any(not outcome.results.get(cell, (False, ""))[0] for cell in earned)


def mutant_job(mutant: Mutant, **options) -> Job:
    exercise = mutant.exercise
    return Job(mutant.mutant_id, exercise.assignment, {exercise.key: mutant.code}, **options)


def names_the_mistake(message: str) -> bool:
    """Is MESSAGE a named mistake, not check_array's generic fallback?"""
    return bool(message) and not GENERIC_FALLBACK.search(message)



# ---------------------------------------------------------------- alternatives and classic mistakes


def classic_code(classic) -> str:
    """The solution-region code of a classic mistake (see mutation_catalog.Classic)."""
    if classic.mutant is not None:
        return mutant_by_id(classic.mutant).code
    return classic.code


def classic_job(classic) -> Job:
    exercise = exercise_named(classic.exercise)
    return Job(f"{classic.exercise}: {classic.mistake}", exercise.assignment, {exercise.key: classic_code(classic)})


def classic_problem(classic, visible_cell: str, outcome: Outcome, reference: Outcome) -> str | None:
    """What is wrong with how the grading treats a classic mistake, or None when it loses points
    and the exercise's visible self-check names it (the judge decides the points)."""
    if not loses_points(outcome, reference):
        return "earns every point"
    if outcome.timed_out:
        return "loses points by timing out, with no message"
    message = (outcome.errors.get(visible_cell) or outcome.results.get(visible_cell) or (True, ""))[1]
    if not message:
        failed = "; ".join(f"{cell}: {outcome.results[cell][1][:200]}" for cell in outcome.failed())
        return f"the self-check {visible_cell} passes, so a student is not told; the grader says: {failed}"
    if not names_the_mistake(message) or classic.names not in message:
        return f"the self-check's message does not name the mistake ({classic.names!r}): {message!r}"
    return None


def alternative_jobs(alternatives: dict[str, dict[str, str]], assignment: str) -> list[Job]:
    """One run per alternative number k: the k-th alternative of every exercise of ASSIGNMENT
    that has one, all in the same notebook (so several are checked together)."""
    mine = [(exercise_named(name), options) for name, options in alternatives.items()
            if exercise_named(name).assignment == assignment]
    jobs = []
    for k in range(max((len(options) for _, options in mine), default=0)):
        chosen = [(exercise, list(options.items())[k]) for exercise, options in mine if k < len(options)]
        label = "; ".join(f"{exercise.name}: {title}" for exercise, (title, _) in chosen)
        replacements = {exercise.key: code for exercise, (_, code) in chosen}
        jobs.append(Job(label, assignment, replacements, stop_on_failure=False))
    return jobs


def alternative_job(exercise_name: str, title: str, code: str) -> Job:
    exercise = exercise_named(exercise_name)
    return Job(f"{exercise_name}: {title}", exercise.assignment, {exercise.key: code}, stop_on_failure=False)
