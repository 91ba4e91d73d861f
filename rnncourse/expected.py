"""Expected values of the visible self-checks, computed by the build from the reference answers.

A self-check that computed its expected values in plain view would show the answer (the
recurrence, the gradient formula). So a master's self-check gets them by calling the
exercise itself, between

    ### BEGIN EXPECTED
    expected_h = rnn_step_forward(x_t_s, h_prev_s, W_x_s, W_h_s, B_s)
    no_bias = rnn_step_forward(x_t_s, h_prev_s, W_x_s, W_h_s, 0 * B_s)   # a likely mistake
    ### END EXPECTED

and the build runs that with the reference answers (the master's cells run in order, as the
reference solution does) and writes, in place of the
region, the values it assigned, as numbers (only the names that hold data: a name that holds a
layer or a generator only helped): the student sees `expected_h = np.array([[...]])`.
The master keeps the calls, which show no answer, so the numbers can never drift from the
reference. The grader and the mutation tests use the notebook as the build fills it
(`filled`), never the calls, which in a student's kernel would call the student's own code.
"""
from __future__ import annotations

import ast
import contextlib
import io
import re

import nbformat
import numpy as np

from rnncourse.grading import judge

REGION = re.compile(r"^([ \t]*)### BEGIN EXPECTED[^\n]*\n(.*?)^[ \t]*### END EXPECTED[^\n]*(\n|$)", re.S | re.M)
SIGNIFICANT = 10  # digits kept: far finer than any self-check's tolerance (1e-6)


def assigned(code: str) -> list[str]:
    """The names a region assigns, in order."""
    names: list[str] = []
    for statement in ast.parse(code).body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in names:
                names.append(node.id)
    return names


def literal(value) -> str:
    """VALUE as Python source that rebuilds it: numbers, arrays, tuples, lists and dicts of them."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            return f"np.array({value.tolist()!r})"
        return f"np.array({literal(value.tolist())})"
    if isinstance(value, (float, np.floating)):
        return repr(float(f"{float(value):.{SIGNIFICANT}g}"))
    if isinstance(value, (bool, int, np.integer, str)) or value is None:
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(literal(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {literal(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"an expected value must be numbers, arrays or containers of them, got {type(value).__name__}")


def is_data(value) -> bool:
    """Numbers, text, arrays of numbers, and containers of them: what a region writes out
    (a name holding anything else only helped to compute them)."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iubf"
    if isinstance(value, (list, tuple)):
        return all(is_data(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_data(item) for key, item in value.items())
    return value is None or isinstance(value, (bool, int, float, str, np.integer, np.floating))


def wrapped(name: str, text: str, indent: str, width: int = 100) -> str:
    """`NAME = TEXT`, broken after commas so that no line is much longer than WIDTH."""
    line, lines = f"{indent}{name} = ", []
    for part in re.split(r"(?<=,) ", text):
        if len(line) + len(part) > width and line.strip():
            lines.append(line.rstrip())
            line = indent + "    "
        line += part + " "
    return "\n".join(lines + [line.rstrip()])


def has_region(cell) -> bool:
    return cell.cell_type == "code" and REGION.search(cell.source) is not None


def filled(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """MASTER with every expected region replaced by the values it computes: the master's cells run
    in order with the reference answers, as the solution runs (hidden tests left out), up to the
    last cell with a region."""
    nb = nbformat.from_dict(master)
    last = max((i for i, cell in enumerate(nb.cells) if has_region(cell)), default=-1)
    if last < 0:
        return nb
    import matplotlib.pyplot as plt

    namespace: dict = {"__name__": "__main__"}
    show, plt.show = plt.show, lambda *args, **kwargs: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # what the reference prints is the notebook's business
            for cell in nb.cells[:last + 1]:
                fill_code_cell(cell, namespace)
    finally:
        plt.show = show
        plt.close("all")
    return nb


def fill_code_cell(cell, namespace: dict) -> None:
    """Run one master cell with the reference answers into NAMESPACE, filling its regions."""
    if cell.cell_type != "code" or judge.is_judged(cell):
        return
    if has_region(cell):
        cell.source = fill_cell(cell.source, namespace)
    else:
        exec(compile(cell.source, f"<{judge.meta(cell).get('grade_id')}>", "exec"), namespace)


def fill_cell(source: str, namespace: dict) -> str:
    """SOURCE with its regions replaced by literals; the code above each region runs first, and
    the rest of the cell after the last one, in NAMESPACE."""
    local = namespace
    done, cursor = [], 0
    for match in REGION.finditer(source):
        indent, code = match.group(1), match.group(2)
        exec(compile(source[cursor:match.start()], "<self-check>", "exec"), local)
        exec(compile(_dedent(code, indent), "<expected>", "exec"), local)
        lines = ["# Expected values, computed by the build from the reference answers:"]
        lines += [wrapped(name, literal(local[name]), "") for name in assigned(_dedent(code, indent))
                  if name in local and is_data(local[name])]  # (not a comprehension's own name)
        done.append(source[cursor:match.start()] + "\n".join(indent + line if line else line
                                                            for text in lines for line in text.split("\n")) + "\n")
        cursor = match.end()
    exec(compile(source[cursor:], "<self-check>", "exec"), local)
    return "".join(done) + source[cursor:]


def _dedent(code: str, indent: str) -> str:
    return "\n".join(line[len(indent):] if line.startswith(indent) else line for line in code.split("\n"))
