"""The judge: hidden tests decided outside the student's kernel, on inputs fresh for every run.

nbgrader runs each hidden test cell in the student's kernel, and scores it by whether it
raised. Here a hidden cell only computes: `JudgeSetup` (before Execute) copies
judge_runtime into it with a seed chosen for this run and student, and the reference
answers of the earlier exercises it names in `judge.using(...)`; the cell hands out what
the student's code returned as plain data. `Judge` (after Execute) runs the same hidden
code with the master's reference answers, in the grader's own process, compares the two
record by record (verdicts), and writes the outcome as the cell's only outputs: a report,
and the partial score nbgrader reads from an execute_result. Anything the kernel printed,
raised or forged in that cell is dropped; a missing or malformed record fails its check.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import io
import json
import re
import secrets
import textwrap

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from rnncourse import provided
from rnncourse.grading import judge_runtime, verdicts

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN = re.compile(rf"^(.*?^[ \t]*{BEGIN}[^\n]*\n)(.*?)(^[ \t]*{END}.*)$", re.S | re.M)
INJECTED = "# ---- judge_runtime, copied in by the grader for this run ----"


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_judged(cell) -> bool:
    """A graded test cell with hidden tests: the judge decides it."""
    return (cell.cell_type == "code" and bool(meta(cell).get("grade")) and not meta(cell).get("solution")
            and HIDDEN.match(cell.source) is not None)


def hidden_code(source: str) -> str:
    return textwrap.dedent(HIDDEN.match(source).group(2))


def cell_seed(seed: int, cell: str) -> int:
    """The seed of one hidden cell's generator: every cell draws fresh numbers of its own."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{cell}".encode()).digest()[:8], "big")


def student_seed(run_seed: int, student: str, notebook: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{run_seed}:{student}:{notebook}".encode()).digest()[:7], "big")


def used_names(code: str) -> list[str]:
    """The names a hidden cell asks for with judge.using("name", ...)."""
    names = []
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "using"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "judge"):
            names += [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    return names


def reference_sources(master: nbformat.NotebookNode, index: int, names: list[str]) -> list[str]:
    """The definitions of NAMES (`f`, or the class of `Class.method`) in MASTER's cells
    before INDEX, solution markers left out, in notebook order."""
    wanted = {name.partition(".")[0] for name in names}
    earlier = nbformat.v4.new_notebook(cells=master.cells[:index])
    found = provided.master_definitions(earlier)
    missing = wanted - set(found)
    if missing:
        raise ValueError(f"judge.using({', '.join(sorted(missing))}): no earlier cell of the master defines it")
    return [text for name, text in found.items() if name in wanted]


def body(code: str) -> str:
    """Hidden CODE as the body of a function of `judge`: its names stay out of the notebook."""
    return "def __judge_body__(judge):\n" + textwrap.indent(code, "    ") + "\n    pass\n"


def kernel_source(master: nbformat.NotebookNode, index: int, seed: int, emit: str | None = None) -> str:
    """The hidden cell at INDEX of MASTER as the kernel runs it: the runtime, then its code.
    Its records go out as display outputs, or to the global callable named EMIT."""
    cell = master.cells[index]
    before, code, after = HIDDEN.match(cell.source).groups()
    code = textwrap.dedent(code)
    runtime = textwrap.indent(inspect.getsource(judge_runtime), "    ")
    references = reference_sources(master, index, used_names(code))
    return (f"{before}{INJECTED}\ndef __rnncourse_judge__():\n{runtime}\n    return Judge, display\n\n\n"
            f"{body(code)}\n"
            "__judge_class__, __judge_display__ = __rnncourse_judge__()\n"
            f"__judge_class__({meta(cell)['grade_id']!r}, {cell_seed(seed, meta(cell)['grade_id'])}, "
            f"{emit or '__judge_display__'}, globals(), {references!r}).run(__judge_body__)\n"
            "del __rnncourse_judge__, __judge_body__, __judge_class__, __judge_display__\n"
            f"{after}")


def definitions_only(source: str) -> str:
    """A locked cell's statements the hidden tests may rely on: imports, functions, classes
    (and blocks that import); not its plots, prints or training runs."""
    lines = source.splitlines()
    kept = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)) or (
                isinstance(node, (ast.With, ast.If, ast.Try))
                and any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node))):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            kept.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n".join(kept)


def expected(master: nbformat.NotebookNode, seed: int) -> dict[str, list[dict]]:
    """Each judged cell's records from the reference answers (every solution cell, and the
    definitions of the locked cells before it), for SEED."""
    with contextlib.redirect_stdout(io.StringIO()):  # what the reference prints is not a record
        return _expected(master, seed)


def _expected(master: nbformat.NotebookNode, seed: int) -> dict[str, list[dict]]:
    namespace: dict = {"__name__": "__main__"}
    found = {}
    judged = [index for index, cell in enumerate(master.cells) if is_judged(cell)]
    for cell in master.cells[:judged[-1] + 1 if judged else 0]:
        if cell.cell_type != "code":
            continue
        if is_judged(cell):
            name = meta(cell)["grade_id"]
            exec(compile(body(hidden_code(cell.source)), f"<hidden tests {name}>", "exec"), namespace)
            judge = judge_runtime.Judge(name, cell_seed(seed, name))
            judge.run(namespace.pop("__judge_body__"))
            found[name] = judge.records
        elif meta(cell).get("solution"):
            exec(compile(cell.source, f"<{meta(cell).get('grade_id')}>", "exec"), namespace)
        elif not meta(cell).get("grade"):
            exec(compile(definitions_only(cell.source), f"<{meta(cell).get('grade_id')}>", "exec"), namespace)
    return found


def records_of(cell, name: str) -> list[dict]:
    """The records a cell's outputs hold for it (anything else it printed is not one)."""
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {}).get(judge_runtime.MIME) if output.get("output_type") == "display_data" else None
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = None
        if isinstance(data, dict) and data.get("cell") == name:
            found.append(data)
    return found


def master_of(config, resources: dict) -> nbformat.NotebookNode:
    info = resources["nbgrader"]
    course = CourseDirectory(config=config)
    folder = course.format_path(course.source_directory, ".", info["assignment"])
    return nbformat.read(f"{folder}/{info['notebook']}.ipynb", as_version=4)


class JudgeSetup(NbGraderPreprocessor):
    """Before Execute: choose the seed and copy the runtime into every hidden cell."""

    seed = Integer(None, allow_none=True, help="One seed for every hand-in (to reproduce a grade); "
                   "by default each is derived from run_seed and the student").tag(config=True)
    run_seed = Integer(None, allow_none=True, help="This grading run's seed (default: a random one)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        seed = self.seed if self.seed is not None else student_seed(
            self.run_seed if self.run_seed is not None else secrets.randbits(48), info["student"], info["notebook"])
        nb.metadata.setdefault("rnncourse", {})["judge"] = {"seed": seed}
        master = master_of(self.config, resources)
        by_name = {meta(cell).get("grade_id"): i for i, cell in enumerate(master.cells) if is_judged(cell)}
        for cell in nb.cells:
            index = by_name.get(meta(cell).get("grade_id"))
            if index is not None and cell.cell_type == "code":
                cell.source = kernel_source(master, index, seed)
        return nb, resources


class Judge(NbGraderPreprocessor):
    """After Execute: decide every hidden cell from its records and the reference's."""

    def preprocess(self, nb, resources):
        master = master_of(self.config, resources)
        seed = nb.metadata.get("rnncourse", {}).get("judge", {}).get("seed")
        wanted = expected(master, seed) if seed is not None else {}
        originals = {meta(cell).get("grade_id"): cell.source for cell in master.cells if is_judged(cell)}
        for cell in nb.cells:
            name = meta(cell).get("grade_id")
            if name in originals and cell.cell_type == "code":
                outcome = verdicts.decide(wanted.get(name, []), records_of(cell, name),
                                          cell.get("outputs", []), seed is not None)
                cell.source = originals[name]
                cell.outputs = verdicts.outputs(outcome, float(meta(cell).get("points", 0)))
                cell.metadata.setdefault("rnncourse", {})["judge"] = outcome.summary()
        return nb, resources
