"""Hand-ins of 01_forward for the grading tests, built from the committed
student notebook and reference solution, so they cannot drift from them.

Each function returns a notebook; CASES maps a student name to the hand-in,
and TWIN names, for each damaged or hostile hand-in, the honest hand-in whose
score it must get.
"""
from __future__ import annotations

import copy
import hashlib
import re

import nbformat

from rnncourse import config
from rnncourse.grading.repair import grade_id, is_solution

ASSIGNMENT = "01_forward"

# Wrong answers a student might write.
NO_TANH = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    return x_t @ W_x + h_prev @ W_h + B
'''
SYNTAX_ERROR = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    a_t = x_t @ W_x + h_prev @ W_h + B
    return np.tanh(a_t
'''
ALWAYS_EQUAL = '''class Anything:
    """Equal to everything."""
    shape = property(lambda self: None)
    def __eq__(self, other):
        return True
    def __array__(self, dtype=None, copy=None):
        return np.zeros((1, 1))

def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    return Anything()
'''
# Right only on the visible self-check's inputs (rebuilt from its seed), zeros elsewhere.
HARD_CODED = '''_rng = np.random.default_rng(1)
_SEEN = [_rng.standard_normal(s) for s in [(3, 2), (3, 4), (2, 4), (4, 4), 4]]

def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    if W_x.shape == (2, 4) and np.array_equal(W_x, _SEEN[2]):
        return np.tanh(x_t @ W_x + h_prev @ W_h + B)
    return np.zeros((x_t.shape[0], W_h.shape[0]))
'''
EXIT_IN_ANSWER = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    import os
    os._exit(3)
'''
WARNS = '''import warnings

def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    warnings.warn("rnn_step_forward: this warning is expected", RuntimeWarning)
    return np.tanh(x_t @ W_x + h_prev @ W_h + B)
'''
OWN_FUNCTION = '''def pre_activation(x_t, h_prev, W_x, W_h, B):
    return x_t @ W_x + h_prev @ W_h + B
'''
USES_OWN_FUNCTION = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch.

    Inputs:
    - x_t: (batch_size, n_features), the input at step t
    - h_prev: (batch_size, n_nodes), the previous hidden state h_{t-1}
    - W_x: (n_features, n_nodes), input weights
    - W_h: (n_nodes, n_nodes), recurrent weights
    - B: (n_nodes,), bias

    Returns:
    - h_t: (batch_size, n_nodes), tanh(x_t @ W_x + h_prev @ W_h + B)
    """
    return np.tanh(pre_activation(x_t, h_prev, W_x, W_h, B))
'''
# Cheats: each added as a cell of its own after the exercise it helps.
PATCH_ALLCLOSE = "np.allclose = lambda *args, **kwargs: True\nnp.array_equal = lambda *args, **kwargs: True"
PATCH_TESTING = '''import numpy.testing
numpy.testing.assert_allclose = lambda *args, **kwargs: None
setattr(np, "allclose", lambda *args, **kwargs: True)
alias = np
alias.isclose = lambda *args, **kwargs: True
'''
PATCH_BUILTINS = '''import builtins
builtins.isinstance = lambda *args: True
__builtins__.abs = lambda x: 0
def type(value):
    return np.ndarray
'''
PATCH_OWN_FUNCTION = '''def check_array(*args, **kwargs):
    return None
'''
PATCH_DYNAMIC = '''globals()["check_array"] = lambda *args, **kwargs: None
exec("np.allclose = lambda *a, **k: True")
'''


def intruder(out_dir: str) -> str:
    """A cell that tries to read the other hand-ins and the gradebook in
    OUT_DIR, copy an answer from them, and raise every grade in the gradebook."""
    return f'''import glob, json, os, sqlite3
stolen = None
for path in glob.glob({out_dir!r} + "/submitted/*/*/*.ipynb") + glob.glob({out_dir!r} + "/autograded/*/*/*.ipynb"):
    for cell in json.load(open(path))["cells"]:
        text = "".join(cell["source"])
        if text.startswith("def rnn_step_forward") and "np.tanh" in text:
            stolen = text
if stolen:
    os.makedirs("stolen_dir", exist_ok=True)
    with open("stolen_dir/stolen.py", "w") as file:
        file.write("import numpy as np\\n" + stolen)
    import sys as _s
    _s.path.insert(0, "stolen_dir")
    from stolen import rnn_step_forward
for db in [{out_dir!r} + "/gradebook.db"] + glob.glob("/**/gradebook.db", recursive=True)[:20]:
    try:
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE grade SET auto_score = 99")
    except Exception as error:
        print("no gradebook:", error)
'''


def network(port: int) -> str:
    """A cell that tries to reach a server on the grading machine."""
    return f'''import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"hello from a hand-in")
    print("connected")
except OSError as error:
    print("no network:", error)
'''


INFINITE_LOOP = "while True:\n    pass"
STUBBORN_LOOP = '''import time
while True:
    try:
        time.sleep(0.5)
    except BaseException:
        pass
'''
LONG_SLEEP = "import time\ntime.sleep(10**6)"
SYS_EXIT = "import sys\nsys.exit(1)"
OS_EXIT = "import os\nos._exit(1)"
CRASH = "import faulthandler\nfaulthandler._sigsegv()"
MEMORY_BOMB = "blocks = []\nwhile True:\n    blocks.append(bytearray(2**28))"
BIG_OUTPUT = 'print("x" * 10_000_000)'


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def first_exercise(assignment: str) -> str:
    """The grade id of ASSIGNMENT's first exercise cell of code."""
    nb = read(config.NOTEBOOKS_DIR / f"{assignment}.ipynb")
    return next(grade_id(c) for c in nb.cells if is_solution(c) and c.cell_type == "code")


def reference_answers(assignment: str = ASSIGNMENT) -> dict[str, str]:
    """Each exercise cell's answer in the reference solution, by grade id."""
    solution = read(config.SOLUTIONS_DIR / f"{assignment}.ipynb")
    return {grade_id(c): c.source for c in solution.cells if c.metadata.get("nbgrader", {}).get("solution")}


def answered(assignment: str = ASSIGNMENT, skip: tuple[str, ...] = (), **answers: str) -> nbformat.NotebookNode:
    """The committed student notebook with every exercise answered from the
    reference, except those in SKIP (left as released) and those given."""
    nb = read(config.NOTEBOOKS_DIR / f"{assignment}.ipynb")
    reference = reference_answers(assignment)
    for cell in nb.cells:
        gid = grade_id(cell)
        if cell.metadata.get("nbgrader", {}).get("solution") and gid not in skip:
            cell.source = answers.get(gid, reference[gid])
    return nb


def index_of(nb: nbformat.NotebookNode, gid: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)


def with_cell(nb: nbformat.NotebookNode, after: str, source: str) -> nbformat.NotebookNode:
    """NB with a new code cell (no metadata) after the cell GID."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = hashlib.sha1(source.encode()).hexdigest()[:8]
    nb.cells.insert(index_of(nb, after) + 1, cell)
    return nb


def colab(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """NB as Colab saves it: no nbgrader metadata, new ids, Colab's metadata."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        cell.metadata = {"id": f"c{index:03d}x", "colab": {"base_uri": "https://localhost:8080/"}}
        cell["id"] = hashlib.sha1(f"colab{index}".encode()).hexdigest()[:12]
    nb.metadata = {
        "colab": {"provenance": [], "name": f"Copy of {ASSIGNMENT}.ipynb"},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    return nb


def new_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"renumbered-{index}"
    return nb


def moved(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The exercises' test cells moved to the end, the picture to the top,
    the first exercise's text after its code."""
    nb = copy.deepcopy(nb)
    tests = [c for c in nb.cells if nb_meta(c).get("grade")]
    rest = [c for c in nb.cells if not nb_meta(c).get("grade")]
    picture = next(c for c in rest if grade_id(c) == "unrolled_picture")
    rest.remove(picture)
    text = next(c for c in rest if grade_id(c) == "ex1_intro")
    rest.remove(text)
    rest.insert(rest.index(next(c for c in rest if grade_id(c) == "rnn_step_forward")) + 1, text)
    nb.cells = [picture] + rest + tests[::-1]
    return nb


def nb_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def tests_deleted(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if not nb_meta(c).get("grade")]
    return nb


def tests_edited(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every check in the test cells commented out; a line added."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nb_meta(cell).get("grade"):
            cell.source = cell.source.replace("check_array(", "print(").replace("assert ", "# assert ")
            cell.source += "\nprint('all checks pass')"
    return nb


def retyped(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The first exercise saved as markdown, a test cell as raw, a text cell as code."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if gid == "rnn_step_forward":
            nb.cells[index] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        elif gid == "test_simple_rnn_init":
            nb.cells[index] = nbformat.v4.new_raw_cell(cell.source, metadata=cell.metadata)
        elif gid == "plot_intro":
            commented = "# " + cell.source.replace("\n", "\n# ")
            nb.cells[index] = nbformat.v4.new_code_cell(commented, metadata=cell.metadata)
        nb.cells[index]["id"] = cell.get("id", f"cell{index}")
    return nb


def partial() -> nbformat.NotebookNode:
    """Exercises 1 and 2 right, exercise 3 wrong (h0 ignored): some tests pass, some fail."""
    reference = reference_answers()["simple_rnn"]
    wrong = reference.replace("if h0 is None else h0", "if True else h0")
    assert wrong != reference, "the reference forward pass changed: update the corpus"
    return answered(simple_rnn=wrong)


def with_scratch_helper() -> nbformat.NotebookNode:
    """Exercise 1 answered with a function the student wrote in a cell of their own before it."""
    nb = colab(partial())
    nb.cells[index_by_source(nb, "def rnn_step_forward")].source = USES_OWN_FUNCTION
    cell = nbformat.v4.new_code_cell(OWN_FUNCTION)
    cell["id"] = "own-function"
    nb.cells.insert(index_by_source(nb, "def rnn_step_forward"), cell)
    debug = nbformat.v4.new_code_cell(
        "print(rnn_step_forward(np.ones((1, 2)), np.zeros((1, 3)), np.eye(2, 3), np.eye(3), np.zeros(3)))")
    debug["id"] = "debug"
    nb.cells.insert(index_by_source(nb, "def rnn_step_forward") + 1, debug)
    return nb


def index_by_source(nb: nbformat.NotebookNode, start: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.source.startswith(start))


def without_docstrings(source: str) -> str:
    """SOURCE with its functions' docstrings left out, as a student might write it."""
    return re.sub(r'\n(\s+)"""(?:.|\n)*?"""\n', "\n", source)


def one_cell() -> nbformat.NotebookNode:
    """Both exercises written in the first exercise cell, the second exercise cell deleted."""
    nb = answered()
    reference = reference_answers()
    nb.cells[index_of(nb, "rnn_step_forward")].source = reference["rnn_step_forward"] + "\n\n" + reference["simple_rnn"]
    del nb.cells[index_of(nb, "simple_rnn")]
    return nb


def no_docstring() -> nbformat.NotebookNode:
    """A Colab hand-in whose rnn_step_forward was written without its docstring."""
    answer = without_docstrings(reference_answers()["rnn_step_forward"])
    assert '"""' not in answer, "the reference's docstring changed: update the corpus"
    return colab(answered(rnn_step_forward=answer))


def logs() -> nbformat.NotebookNode:
    """A correct answer that logs a warning (logging writes it to stderr)."""
    answer = reference_answers()["rnn_step_forward"].replace(
        "    return np.tanh(a_t)", "    import logging\n    logging.warning('step done')\n    return np.tanh(a_t)")
    assert "logging" in answer, "the reference's last line changed: update the corpus"
    return answered(rnn_step_forward=answer)


def encoded(nb: nbformat.NotebookNode, encoding: str) -> bytes:
    """NB saved in ENCODING, with a byte-order mark (a UTF-8 editor's, or PowerShell's `>`)."""
    return nbformat.writes(nb).encode(encoding)


def truncated() -> str:
    """A file cut short in the middle of its JSON."""
    text = nbformat.writes(answered())
    return text[: len(text) // 2]


def cases(out_dir: str, port: int) -> tuple[dict[str, nbformat.NotebookNode | str], dict[str, str]]:
    """(student -> hand-in, student -> the honest twin whose score they must get)."""
    full, stub1, wrong1 = answered(), answered(skip=("rnn_step_forward",)), answered(rnn_step_forward=NO_TANH)
    base = partial()
    handins = {
        # honest twins
        "full": full, "partial": base, "stub1": stub1, "wrong1": wrong1,
        # damage: graded as the intact hand-in
        "colab": colab(base), "colab_full": colab(full), "new_ids": new_ids(base), "moved": moved(base),
        "moved_colab": colab(moved(base)), "tests_deleted": tests_deleted(base),
        "tests_edited": colab(tests_edited(base)), "retyped": retyped(base), "retyped_colab": colab(retyped(base)),
        "scratch_helper": with_scratch_helper(),
        "renamed": colab(base),
        # broken
        "syntax_error": answered(rnn_step_forward=SYNTAX_ERROR),
        "infinite_loop": with_cell(full, "rnn_step_forward", INFINITE_LOOP),
        "stubborn_loop": with_cell(full, "test_rnn_step_forward", STUBBORN_LOOP),
        "long_sleep": with_cell(full, "simple_rnn", LONG_SLEEP),
        "sys_exit": with_cell(full, "rnn_step_forward", SYS_EXIT),
        "os_exit": with_cell(full, "test_rnn_step_forward", OS_EXIT),
        "exit_in_answer": answered(rnn_step_forward=EXIT_IN_ANSWER),
        "crash": with_cell(full, "test_simple_rnn_init", CRASH),
        "memory_bomb": with_cell(full, "rnn_step_forward", MEMORY_BOMB),
        "big_output": with_cell(full, "rnn_step_forward", BIG_OUTPUT),
        "warns": answered(rnn_step_forward=WARNS),
        "truncated": truncated(),
        # honest work, saved or written in an unusual way
        "one_cell": one_cell(), "no_docstring": no_docstring(), "logs": logs(),
        "bom": encoded(full, "utf-8-sig"), "utf16": encoded(full, "utf-16"),
        "twice": full,  # uploaded twice (see write_twice)
        # cheats
        "patch_allclose": with_cell(wrong1, "rnn_step_forward", PATCH_ALLCLOSE),
        "patch_testing": with_cell(wrong1, "rnn_step_forward", PATCH_TESTING),
        "patch_builtins": with_cell(wrong1, "rnn_step_forward", PATCH_BUILTINS),
        "patch_helper": with_cell(wrong1, "rnn_step_forward", PATCH_OWN_FUNCTION),
        "patch_dynamic": with_cell(wrong1, "rnn_step_forward", PATCH_DYNAMIC),
        "always_equal": answered(rnn_step_forward=ALWAYS_EQUAL),
        "hard_coded": answered(rnn_step_forward=HARD_CODED),
        "zz_intruder": with_cell(stub1, "rnn_step_forward", intruder(out_dir)),
        "network": with_cell(wrong1, "rnn_step_forward", network(port)),
    }
    twins = {
        "colab": "partial", "colab_full": "full", "new_ids": "partial", "moved": "partial",
        "moved_colab": "partial", "tests_deleted": "partial", "tests_edited": "partial", "retyped": "partial",
        "retyped_colab": "partial", "scratch_helper": "partial", "renamed": "partial",
        "syntax_error": "stub1", "infinite_loop": "full", "stubborn_loop": "full", "long_sleep": "full",
        "sys_exit": "full", "os_exit": "full", "exit_in_answer": "stub1", "crash": "full", "memory_bomb": "full",
        "big_output": "full", "warns": "full",
        "one_cell": "full", "no_docstring": "full", "logs": "full", "bom": "full", "utf16": "full",
        "twice": "full",
        "patch_allclose": "wrong1", "patch_testing": "wrong1", "patch_builtins": "wrong1", "patch_helper": "wrong1",
        "patch_dynamic": "wrong1", "always_equal": "stub1", "zz_intruder": "stub1", "network": "wrong1",
    }
    return handins, twins


def file_name(student: str) -> str:
    """The file name a hand-in has in the corpus folder (one is renamed)."""
    if student == "renamed":
        return "renamed_homework_final.ipynb"
    return f"{student}_{ASSIGNMENT}.ipynb"


def write_twice(folder, student: str = "twice") -> None:
    """A second, identical copy of STUDENT's hand-in, as a browser names a second download."""
    first = folder / file_name(student)
    first.with_name(first.stem + " (1).ipynb").write_bytes(first.read_bytes())


def write(handins: dict, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for student, nb in handins.items():
        data = nb if isinstance(nb, bytes) else (nb if isinstance(nb, str) else nbformat.writes(nb)).encode()
        (folder / file_name(student)).write_bytes(data)
