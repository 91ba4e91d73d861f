"""Cheating hand-ins of every notebook through `grade`, in the sandbox: none earns a point its
honest twin does not, and a table of memorised outputs is worth nothing on a run's fresh inputs.

One batch holds the cheats (tests/cheat_corpus.py), their honest twins and two table lookups,
graded with two workers; the notebook-01 part is graded again with one worker.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest

from rnncourse import config, grading
from rnncourse.grading import judge, results, sandbox, verdicts
from tests import cheat_corpus
from tests import handin_corpus as corpus

NO_SANDBOX = sandbox.bwrap_problem()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(NO_SANDBOX is not None, reason=f"needs the bubblewrap sandbox: {NO_SANDBOX}")]
RUN_SEED = 20261201
PUBLISHED_SEED = 12345  # a seed a cheater could have seen: not this run's


def lookup_table(student: str, run_seed: int) -> dict[str, list]:
    """rnn_step_forward's outputs in the hidden tests of STUDENT graded with RUN_SEED, by input x_t:
    what a cheater who knew the inputs could memorise."""
    master = nbformat.read(config.SOURCE_DIR / "01_forward" / "01_forward.ipynb", as_version=4)
    records = judge.expected(master, judge.student_seed(run_seed, student, "01_forward"))
    table = {}
    for record in records["test_rnn_step_forward_hidden"]:
        value = record["value"]
        if value["kind"] == "mapping" and "the inputs after the call" in value["items"]:
            x_t = verdicts.decode_array(value["items"]["the inputs after the call"]["items"][0])
            h_t = verdicts.decode_array(value["items"]["h_t"])
            table[hashlib.sha256(x_t.tobytes()).hexdigest()] = h_t.tolist()
    assert len(table) >= 5
    return table


def lookup_handin(table: dict[str, list]) -> nbformat.NotebookNode:
    """Every exercise unanswered but rnn_step_forward, which looks its answer up in TABLE."""
    answer = (f"import hashlib\n_TABLE = {table!r}\n\n\ndef rnn_step_forward(x_t, h_prev, W_x, W_h, B):\n"
              "    key = hashlib.sha256(np.asarray(x_t, dtype=np.float64).tobytes()).hexdigest()\n"
              "    if key in _TABLE:\n        return np.array(_TABLE[key])\n"
              "    return np.zeros((np.shape(x_t)[0], np.shape(W_h)[0]))\n")
    return corpus.answered("01_forward", skip=("simple_rnn",), rnn_step_forward=answer)


def handins() -> dict[str, tuple[str, nbformat.NotebookNode]]:
    found = {student: (assignment, nb) for student, (assignment, nb, _) in cheat_corpus.cheats().items()}
    found.update(cheat_corpus.twins())
    found["empty01"] = ("01_forward", corpus.read(config.NOTEBOOKS_DIR / "01_forward.ipynb"))
    found["lookup"] = ("01_forward", lookup_handin(lookup_table("lookup", PUBLISHED_SEED)))
    found["lookup_knows_the_seed"] = ("01_forward", lookup_handin(lookup_table("lookup_knows_the_seed", RUN_SEED)))
    return found


def grade(folder: Path, out: Path, workers: int) -> dict[str, results.Row]:
    rows = grading.grade(grading.GradingRun(folder, out, cell_timeout=20, timeout=600, workers=workers,
                                            seed=RUN_SEED, log=lambda *args: None)).rows
    return {row.student: row for row in rows if row.status != "missing"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict[str, results.Row], dict[str, results.Row], Path]:
    tmp = tmp_path_factory.mktemp("cheats")
    everything, first_notebook = tmp / "all", tmp / "01"
    for student, (assignment, nb) in handins().items():
        for folder in [everything] + ([first_notebook] if assignment == "01_forward" else []):
            folder.mkdir(exist_ok=True)
            nbformat.write(nb, folder / f"{student}_{assignment}.ipynb")
    return grade(everything, tmp / "out-2", workers=2), grade(first_notebook, tmp / "out-1", workers=1), tmp / "out-2"


def score(rows: dict[str, results.Row], student: str, assignment: str, honest: bool = True) -> float:
    """STUDENT's score; an honest hand-in must have been graded (a cheat's kernel may have died)."""
    row = rows[student]
    assert row.assignment == assignment, (student, row.assignment)
    assert row.status in ("graded", "repaired") or not honest, (student, row.status, row.note)
    return row.score


CHEATS = cheat_corpus.cheats()


def test_the_corpus_covers_every_notebook_and_kind():
    assert len(CHEATS) >= 30
    assert {assignment for assignment, _, _ in CHEATS.values()} == set(config.assignments()[:4])
    kinds = {student.split("_")[0].rstrip("0123456789") for student in CHEATS}
    assert {"rebind", "hook", "liar", "forged", "lookup"} <= kinds


@pytest.mark.parametrize("student", sorted(CHEATS))
def test_a_cheat_scores_no_more_than_its_honest_twin(graded, student):
    two_workers, one_worker, _ = graded
    assignment, _, twin = CHEATS[student]
    for rows in (two_workers, one_worker) if assignment == "01_forward" else (two_workers,):
        assert score(rows, student, assignment, honest=False) <= score(rows, twin, assignment), rows[student].note


def test_honest_twins_score_as_their_mistake_says(graded):
    rows, _, _ = graded
    # A wrong answer costs its own exercise only: the later ones are graded with the reference's.
    full = {a: rows[s].max_score for s, (a, _) in cheat_corpus.twins().items()}
    assert rows["wrong01"].score == rows["stub01_step"].score == full["01_forward"] - 4
    assert rows["stub02"].score == full["02_small_array"] - 5
    assert rows["stub03"].score == full["03_bptt"] - 5
    assert rows["stub04"].score == full["04_classifier"] - 4


def test_one_and_two_workers_give_the_same_rows(graded):
    two_workers, one_worker, _ = graded
    for student, row in one_worker.items():
        assert (row.score, row.status, row.note) == (two_workers[student].score, two_workers[student].status,
                                                     two_workers[student].note), student


def test_memorised_outputs_earn_nothing_on_fresh_inputs(graded):
    rows, _, _ = graded
    # The table would have worked had the inputs been known (the same seed): the attack is real ...
    assert score(rows, "lookup_knows_the_seed", "01_forward") > score(rows, "empty01", "01_forward")
    # ... but a table of any other run's outputs scores no more than an empty notebook.
    assert score(rows, "lookup", "01_forward") <= score(rows, "empty01", "01_forward")


def test_the_seed_is_recorded_for_each_hand_in(graded):
    *_, out = graded
    nb = nbformat.read(out / "autograded" / "wrong01" / "01_forward" / "01_forward.ipynb", as_version=4)
    assert nb.metadata["rnncourse"]["judge"]["seed"] == judge.student_seed(RUN_SEED, "wrong01", "01_forward")
