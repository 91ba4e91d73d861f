"""One exercise's answer out of a code cell, normalised as copying would change it.

An exercise is the function a master's solution region lies in (as tests/mutation.py names
them), or the cell for a region at top level. A student's answer is what their cell adds to that
function as released: its statements less the provided ones, the docstring and the stub.
Normalising undoes what copying changes and keeps what independent answers differ in:
comments, docstrings, blank lines and layout go (the syntax tree keeps none of them);
statements that do not depend on each other are put in one canonical order; local names are
renamed in order of first use; parameters, attributes and the functions called stay.
"""
from __future__ import annotations

import ast
import functools
import heapq
import io
import re
import tokenize
from collections import Counter

BEGIN, END = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$"), re.compile(r"^\s*### END SOLUTION\s*$")
STUBS = {"# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE", "pass"}
# A block this long is left in its order: sorting it costs the square of its length.
MAX_SORTED = 200
Effects = tuple[set[str], set[str], bool]  # what a statement reads, writes, and whether nothing may cross it


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def regions(source: str) -> list[tuple[int, int, str]]:
    """(BEGIN line, END line, indent) of each solution region, lines counted from 0."""
    found, start = [], None
    for number, line in enumerate(source.split("\n")):
        if begin := BEGIN.match(line):
            start, indent = number, begin.group(1)
        elif END.match(line) and start is not None:
            found.append((start, number, indent))
            start = None
    return found


def _released(source: str) -> str:
    """SOURCE as released, each solution region a `pass` so that what stays parses."""
    lines = source.split("\n")
    for start, end, indent in reversed(regions(source)):
        lines[start:end + 1] = [indent + "pass"]
    return "\n".join(lines)


def _qualname(tree: ast.Module, line: int) -> str:
    """The dotted name of the innermost function holding LINE (from 1), or "" at top level."""
    name, node, prefix = "", tree, ""
    while inner := [c for c in ast.iter_child_nodes(node) if isinstance(c, (ast.FunctionDef, ast.ClassDef))
                    and c.lineno <= line <= c.end_lineno]:
        node, prefix = inner[0], f"{prefix}{inner[0].name}."
        name = prefix[:-1] if isinstance(node, ast.FunctionDef) else name
    return name


def _function(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.Module | None:
    """The function QUALNAME (the one Python would call: the last defined), the module for ""."""
    node = tree
    for part in filter(None, qualname.split(".")):
        defined = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.ClassDef)) and s.name == part]
        if not defined:
            return None
        node = defined[-1]
    return node


@functools.cache
def exercises(master_source: str) -> list[tuple[str, Counter]]:
    """(qualified name, provided statements) of each exercise in a master's code cell."""
    tree, released = parse(master_source), parse(_released(master_source))
    if tree is None or released is None:
        return []
    names = dict.fromkeys(_qualname(tree, start + 1) for start, _, _ in regions(master_source))
    return [(name, Counter(ast.dump(s) for s in _function(released, name).body)) for name in names]


@functools.cache
def params(source: str, qualname: str) -> frozenset[str]:
    """The parameters of QUALNAME in SOURCE: the same for every student, so never renamed."""
    tree = parse(source)
    function = _function(tree, qualname) if tree else None
    return frozenset(a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)) \
        if isinstance(function, ast.FunctionDef) else frozenset()


def statements(source: str, qualname: str, provided: Counter) -> list[ast.stmt] | None:
    """What SOURCE adds to the released function QUALNAME; None where it has no such function."""
    tree = parse(source)
    function = _function(tree, qualname) if tree else None
    if function is None:
        return None
    left, kept = provided.copy(), []
    for statement in function.body:
        dumped = ast.dump(statement)
        if left[dumped] > 0:
            left[dumped] -= 1
        elif not (_is_docstring(statement) or ast.unparse(statement) in STUBS):
            kept.append(statement)
    return kept


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _chain(node: ast.AST) -> str | None:
    """`self.W_x.shape` for that attribute chain; None when it does not start at a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _chain(node.value)
        return base and f"{base}.{node.attr}"
    return None


def _effects(statement: ast.stmt) -> Effects:
    reads, writes, inner, barrier = set(), set(), set(), False
    for node in ast.walk(statement):
        barrier |= isinstance(node, (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom,
                                     ast.Global, ast.Nonlocal, ast.Await))
        if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load) and _chain(node.value):
            writes.add(_chain(node.value))  # x[i] = ... changes x
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inner and (name := _chain(node)):
            (reads if isinstance(node.ctx, ast.Load) else writes).add(name)
            inner.update(id(n) for n in ast.walk(node))  # self.W_x.shape, not also self.W_x and self
    if isinstance(statement, ast.AugAssign):
        reads |= writes
    if isinstance(statement, ast.Expr):  # a call made for its effects may change whatever it touches
        writes |= {name.split(".")[0] for name in reads}
    return reads, writes, barrier


def _overlap(names: set[str], others: set[str]) -> bool:
    return any(a == b or a.startswith(b + ".") or b.startswith(a + ".") for a in names for b in others)


def _depends(earlier: Effects, later: Effects) -> bool:
    (reads1, writes1, barrier1), (reads2, writes2, barrier2) = earlier, later
    return barrier1 or barrier2 or _overlap(writes1, reads2 | writes2) or _overlap(writes2, reads1)


def _ordered(block: list[ast.stmt], hidden: set[str]) -> list[ast.stmt]:
    """BLOCK (and the blocks inside it) in a canonical order: of the statements whose turn it may
    be (all they depend on placed), the smallest once local names are hidden; so any order that
    keeps what depends on what gives the same one."""
    for statement in block:
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(statement, field, None), list):
                setattr(statement, field, _ordered(getattr(statement, field), hidden))
        for handler in getattr(statement, "handlers", []):
            handler.body = _ordered(handler.body, hidden)
    if len(block) > MAX_SORTED:
        return block
    effects = [_effects(s) for s in block]
    keys = [_key(s, hidden) for s in block]
    after = [[j for j in range(i + 1, len(block)) if _depends(effects[i], effects[j])] for i in range(len(block))]
    waiting = Counter(j for later in after for j in later)
    ready = [(keys[j], j) for j in range(len(block)) if not waiting[j]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(block[i])
        for j in after[i]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(ready, (keys[j], j))
    return order


def _in_order(node: ast.AST):
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_order(child)


def _bound(block: list[ast.stmt], fixed: frozenset[str]) -> list[str]:
    """The names BLOCK binds, in order of first appearance, those in FIXED left out."""
    found = {}
    for node in (n for statement in block for n in _in_order(statement)):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            found.setdefault(node.id)
        elif isinstance(node, ast.arg):
            found.setdefault(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.ExceptHandler)) and node.name:
            found.setdefault(node.name)
        elif isinstance(node, ast.alias):
            found.setdefault(node.asname or node.name.split(".")[0])
    return [name for name in found if name not in fixed]


def _rename(node: ast.AST, names: dict[str, str]) -> None:
    for inner in (n for n in ast.walk(node) if not isinstance(n, ast.keyword)):  # f(axis=...) is the API's name
        for field in ("id", "arg", "name", "asname"):
            if getattr(inner, field, None) in names:
                setattr(inner, field, names[getattr(inner, field)])


def _key(statement: ast.stmt, hidden: set[str]) -> str:
    """STATEMENT's syntax tree as text, the names in HIDDEN made one: the same whatever they are called."""
    return re.sub(r"(?<!keyword\()\b(id|arg|name|asname)='(\w+)'",
                  lambda m: f"{m[1]}='_'" if m[2] in hidden else m[0], ast.dump(statement))


def normalised(block: list[ast.stmt], fixed: frozenset[str]) -> tuple[str, ...]:
    """The tokens of BLOCK once copying's changes are undone (in BLOCK itself); the names in FIXED are kept."""
    ordered = _ordered(block, set(_bound(block, fixed)))
    module = ast.Module(ordered, type_ignores=[])
    _rename(module, {name: f"v{number}" for number, name in enumerate(_bound(ordered, fixed))})
    text = ast.unparse(module)
    skipped = {tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT}
    return tuple(t.string or tokenize.tok_name[t.type] for t in tokenize.generate_tokens(io.StringIO(text).readline)
                 if t.type not in skipped)
