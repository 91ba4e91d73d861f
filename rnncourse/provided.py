"""Provided code, written once and copied into the masters by the build.

A locked code cell of a master whose metadata says

    "rnncourse": {"provided": ["notebook_code:check_array", "01_forward:SimpleRNN"]}

holds copies of those definitions and nothing else: `notebook_code:NAME` is a
definition in rnncourse/notebook_code.py, `<assignment>:NAME` a top-level
definition (function or class, its decorators included) in that assignment's
master, with the `### BEGIN/END SOLUTION` markers left out, so a later notebook
gets an earlier one's reference answers as read-only code. The build writes
these cells (`build`), and `build --check` and the tests fail when a copy
differs from its source.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from rnncourse import config

PACKAGE = "notebook_code"
PACKAGE_FILE = Path(__file__).with_name("notebook_code.py")
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def spec(cell: nbformat.NotebookNode) -> list[str]:
    """The pieces a cell is made of, or [] for a cell written by hand."""
    return list(cell.get("metadata", {}).get("rnncourse", {}).get("provided", []))


def definitions(source: str) -> dict[str, str]:
    """Every top-level function and class of SOURCE, by name: its text, decorators
    included, without solution markers."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines = source.splitlines()
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            text = [line for line in lines[first - 1:node.end_lineno] if line.strip() not in MARKERS]
            found[node.name] = "\n".join(text)
    return found


def master_definitions(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Every definition in a master's code cells, test cells left out."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and not (meta.get("grade") and not meta.get("solution")):
            found.update(definitions(cell.source))
    return found


def header(pieces: list[str]) -> str:
    """The comment that opens a provided cell: what it holds and where from."""
    by_origin: dict[str, list[str]] = {}
    for piece in pieces:
        origin, name = piece.split(":", 1)
        by_origin.setdefault(origin, []).append(name)
    lines = [f"#   {'the course' + chr(39) + 's helpers' if origin == PACKAGE else 'from notebook ' + origin}: "
             + ", ".join(names) for origin, names in by_origin.items()]
    return "\n".join(["# Provided, read-only (do not change this cell):", *lines])


def with_helpers(names: list[str], package: dict[str, str]) -> list[str]:
    """NAMES with the package definitions they use, those first, in the module's order:
    a helper copied into a notebook brings what it calls."""
    wanted, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in wanted or name not in package:
            continue
        wanted.add(name)
        used = {node.id for node in ast.walk(ast.parse(package[name])) if isinstance(node, ast.Name)}
        todo.extend(used & set(package))
    return [name for name in package if name in wanted]


def source_of(pieces: list[str], masters: dict[str, nbformat.NotebookNode]) -> str:
    """The text of a cell made of PIECES, taken from the package and from MASTERS."""
    package = definitions(PACKAGE_FILE.read_text())
    asked = [piece.partition(":")[2] for piece in pieces if piece.startswith(PACKAGE + ":")]
    helpers = [f"{PACKAGE}:{name}" for name in with_helpers(asked, package)]
    pieces = [piece for piece in pieces if not piece.startswith(PACKAGE + ":")]
    pieces = helpers + pieces
    texts = []
    for piece in pieces:
        origin, _, name = piece.partition(":")
        if origin == PACKAGE:
            found = package
        elif origin in masters:
            found = master_definitions(masters[origin])
        else:
            raise ValueError(f"provided piece {piece!r}: no master {origin!r} (expected {PACKAGE}:NAME "
                             f"or ASSIGNMENT:NAME with one of {', '.join(sorted(masters))})")
        if name not in found:
            raise ValueError(f"provided piece {piece!r}: {origin} defines no function or class {name!r}")
        texts.append(found[name])
    return header(pieces) + "\n" + "\n\n\n".join(texts)


def filled(masters: dict[str, nbformat.NotebookNode]) -> dict[str, nbformat.NotebookNode]:
    """MASTERS (assignment -> notebook, in course order) with every provided cell
    rewritten from its sources; a copy of an earlier master's copy is up to date too."""
    done: dict[str, nbformat.NotebookNode] = {}
    for assignment, nb in masters.items():
        nb = nbformat.from_dict(nb)
        for cell in nb.cells:
            pieces = spec(cell)
            if pieces:
                earlier = {**masters, **done, assignment: nb}
                cell.source = source_of(pieces, earlier)
        done[assignment] = nb
    return done


def stale(masters: dict[str, nbformat.NotebookNode]) -> list[str]:
    """The provided cells of MASTERS that differ from their sources: '<assignment>: <cell>'."""
    fresh = filled(masters)
    problems = []
    for assignment, nb in masters.items():
        for old, new in zip(nb.cells, fresh[assignment].cells, strict=True):
            if spec(old) and old.source != new.source:
                cell = old.get("metadata", {}).get("nbgrader", {}).get("grade_id", old.get("id"))
                problems.append(f"source/{assignment}/{assignment}.ipynb: cell {cell} differs from "
                                f"{', '.join(spec(old))}; run `rnncourse build`")
    return problems


def read_masters() -> dict[str, nbformat.NotebookNode]:
    return {a: nbformat.read(config.SOURCE_DIR / a / f"{a}.ipynb", as_version=4) for a in config.assignments()}
