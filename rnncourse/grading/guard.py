"""Advice for the instructor: statements in a student's cell that try to change how the tests judge.

Nothing here decides a grade and nothing is removed: the judge (judge.py) decides
outside the kernel, so such a statement earns nothing. But a student who writes
`np.allclose = lambda *a, **k: True` or rebinds `check_array` probably meant to,
and the instructor should hear of it. Reported, in the note of the hand-in:

- rebinding an attribute or item of a module, of a name the locked cells define
  (e.g. `check_array`), or of an alias of one (`t = np.testing; t.x = ...`),
  directly or with setattr/delattr;
- rebinding, at the top level, a name the locked cells rely on (`np`,
  `check_array`, builtins such as `isinstance`), except re-importing the same
  module under the same name;
- reaching the interpreter's internals: exec, eval, compile, globals, vars,
  __import__, IPython magics, the modules builtins, ctypes, gc, importlib,
  inspect, and dunder attributes such as __dict__, __code__ or __globals__.

Honest code for this course needs none of these. The reading is static: it names
the doors it knows; the judge and the sandbox do not depend on it.
"""
from __future__ import annotations

import ast
import builtins

FORBIDDEN_NAMES = {"exec", "eval", "compile", "globals", "vars", "locals", "__import__", "__builtins__",
                   "get_ipython", "breakpoint", "__loader__", "__spec__"}
FORBIDDEN_MODULES = {"builtins", "ctypes", "gc", "importlib", "inspect", "__main__", "_ctypes", "posix"}
FORBIDDEN_ATTRS = {"__dict__", "__code__", "__globals__", "__builtins__", "__closure__", "__defaults__",
                   "__kwdefaults__", "__setattr__", "__delattr__", "__subclasses__", "__bases__", "__mro__",
                   "__base__", "__class__", "__getattribute__", "__import__", "__loader__", "__spec__",
                   "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "modules"}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def root_name(node: ast.AST) -> str | None:
    """The name an attribute/item chain starts from (`np` for np.testing.x[0]);
    None when it starts from a call or another expression."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def bound_names(target: ast.AST) -> list[str]:
    """The plain names an assignment target binds (`a, b` in `a, b = ...`; none in `a.x = ...`)."""
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)]


def imported(stmt: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(bound name, what it is bound to) for each alias of an import statement."""
    pairs = []
    for alias in stmt.names:
        if isinstance(stmt, ast.Import):
            bound = alias.asname or alias.name.split(".")[0]
            what = alias.name if alias.asname else alias.name.split(".")[0]
        else:
            bound, what = alias.asname or alias.name, f"{stmt.module}.{alias.name}"
        pairs.append((bound, what))
    return pairs


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def free_names(tree: ast.AST) -> set[str]:
    """Names a cell reads without binding them itself (an over-approximation is fine)."""
    loaded, stored = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            stored.update(bound for bound, _ in imported(node))
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
    return loaded - stored


def top_level_bindings(tree: ast.Module) -> set[str]:
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update(bound for bound, _ in imported(stmt))
        else:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    names.add(node.id)
    return names


def locked_context(locked_sources: list[str], answer_sources: list[str]) -> tuple[set[str], dict[str, str]]:
    """From the locked code cells (tests, checking functions) and the master's answers:
    the names the locked cells rely on and may not be rebound, and the
    imports they make (name -> module), which a student may repeat."""
    trees = [tree for tree in map(parse, locked_sources) if tree is not None]
    relied_on = set().union(*(free_names(tree) for tree in trees)) if trees else set()
    defined = set().union(*(top_level_bindings(tree) for tree in trees)) if trees else set()
    answers = set()
    for tree in filter(None, map(parse, answer_sources)):
        answers |= top_level_bindings(tree)
    protected = (relied_on & (defined | set(dir(builtins)))) - answers
    imports = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.update(imported(node))
    return protected, imports


def module_like(sources: list[str], protected: set[str]) -> set[str]:
    """PROTECTED, every imported name, and names assigned from one of those
    (aliases such as `t = np.testing`), in any of SOURCES."""
    names = set(protected)
    trees = [tree for tree in map(parse, sources) if tree is not None]
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update(bound for bound, _ in imported(node))
    for _ in range(3):  # aliases of aliases
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    if root_name(node.value) in names or any(
                        isinstance(n, ast.Name) and n.id in names for n in ast.walk(node.value)
                        if isinstance(node.value, (ast.Tuple, ast.List))
                    ):
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        for target in targets:
                            names.update(bound_names(target))
    return names


def header_nodes(stmt: ast.stmt):
    """Every expression node of STMT that is not inside a nested statement."""
    for child in ast.iter_child_nodes(stmt):
        if isinstance(child, ast.stmt):
            continue
        if isinstance(child, ast.ExceptHandler):
            if child.type is not None:
                yield from ast.walk(child.type)
            continue
        yield from ast.walk(child)


def expression_offence(node: ast.AST, modules: set[str], protected: set[str]) -> str | None:
    if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
        return f"uses {node.id}"
    if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
        return f"uses .{node.attr}"
    if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
        root = root_name(node)
        if root is None or root in modules:
            return f"changes {root or 'an object it did not create'}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"setattr", "delattr"}:
        root = root_name(node.args[0]) if node.args else None
        if root is None or root in modules:
            return f"changes {root or 'an object it did not create'} with {node.func.id}"
    if isinstance(node, ast.NamedExpr) and node.target.id in protected:
        return f"rebinds {node.target.id}"
    return None


def statement_offence(stmt: ast.stmt, top_level: bool, modules: set[str], protected: set[str],
                      imports: dict[str, str]) -> str | None:
    """Why STMT (its own header, not its nested statements) is suspicious, or None."""
    if isinstance(stmt, (ast.Global, ast.Nonlocal)):
        hit = sorted(set(stmt.names) & protected)
        return f"declares {', '.join(hit)} global" if hit else None
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        names = [alias.name for alias in stmt.names]
        module = stmt.module if isinstance(stmt, ast.ImportFrom) else None
        for name in ([module] if module else names):
            if name.split(".")[0] in FORBIDDEN_MODULES:
                return f"imports {name.split('.')[0]}"
        if top_level:
            if "*" in names:
                return "imports * (could rebind the notebook's names)"
            for bound, what in imported(stmt):
                if bound in protected and imports.get(bound) != what:
                    return f"rebinds {bound}"
    if top_level:
        bound: list[str] = []
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = [stmt.name]
        elif isinstance(stmt, ast.Assign):
            bound = [n for t in stmt.targets for n in bound_names(t)]
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            bound = bound_names(stmt.target)
        elif isinstance(stmt, ast.Delete):
            bound = [n for t in stmt.targets for n in bound_names(t)]
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            bound = [n for item in stmt.items if item.optional_vars for n in bound_names(item.optional_vars)]
        elif isinstance(stmt, ast.Try):
            bound = [h.name for h in stmt.handlers if h.name]
        hit = sorted(set(bound) & protected)
        if hit:
            return f"rebinds {', '.join(hit)}"
    reasons = [r for r in (expression_offence(node, modules, protected) for node in header_nodes(stmt)) if r]
    # Name the way in (exec, globals, ...) before what it changes.
    return next((r for r in reasons if r.startswith("uses")), reasons[0] if reasons else None)


def offending_statements(tree: ast.Module, modules: set[str], protected: set[str],
                         imports: dict[str, str]) -> list[tuple[ast.stmt, str]]:
    """The outermost statements to report, with the reason."""
    found = []

    def visit(body: list[ast.stmt], top_level: bool) -> None:
        for stmt in body:
            reason = statement_offence(stmt, top_level, modules, protected, imports)
            if reason:
                found.append((stmt, reason))
                continue
            nested_top = top_level and not isinstance(stmt, SCOPES)
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(stmt, field, []) or [], nested_top)
            for handler in getattr(stmt, "handlers", []) or []:
                visit(handler.body, nested_top)
            for case in getattr(stmt, "cases", []) or []:
                visit(case.body, nested_top)

    visit(tree.body, True)
    return found


def python_source(source: str) -> str:
    """SOURCE with IPython's magics and shell escapes turned into Python (calls to get_ipython)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def suspicious(source: str, modules: set[str], protected: set[str], imports: dict[str, str]) -> list[str]:
    """The statements of SOURCE that try to change how the tests judge: line, text and reason."""
    tree = parse(source)
    if tree is None:
        source = python_source(source)
        tree = parse(source)
        if tree is None:
            return []  # a syntax error: the cell does not run at all
    lines = source.split("\n")
    found = []
    for stmt, reason in sorted(offending_statements(tree, modules, protected, imports), key=lambda f: f[0].lineno):
        shown = lines[stmt.lineno - 1].strip()
        found.append(f"line {stmt.lineno} `{shown if len(shown) <= 60 else shown[:57] + '...'}` ({reason})")
    return found
