"""`python -m rnncourse grade` on a corpus of 01_forward hand-ins: damaged ones
score as the intact hand-in, broken and hostile ones get their honest score,
and nobody else's result changes.

Two grading runs serve every test here: the honest hand-ins alone (from an
LMS zip, twice, to check that a re-run gives the same results), one at a time,
and the whole corpus in one batch, those honest hand-ins included, two at a
time: each honest hand-in must score as it did alone.
"""
from __future__ import annotations

import csv
import html as html_module
import re
import socket
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from rnncourse import config, grading
from rnncourse.grading import sandbox
from rnncourse.grading import table as grades_csv
from tests import handin_corpus as corpus

pytestmark = [pytest.mark.slow, pytest.mark.skipif(corpus.ASSIGNMENT not in config.assignments(),
                                                  reason="01_forward is not in source/")]

NO_SANDBOX = sandbox.bwrap_problem()
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"needs the bubblewrap sandbox: {NO_SANDBOX}")
HONEST = ["full", "partial", "stub1", "wrong1"]
# Short, for the loops to be cut soon; long enough for the setup cell (NumPy, matplotlib) on a busy machine.
CELL_TIMEOUT = 10
# Only a sandbox keeps these from the grader's files and network.
SANDBOX_ONLY = ["zz_intruder", "network"]


def run(source: Path, out: Path, workers: int) -> dict[str, grading.Row]:
    report = grading.grade(grading.GradingRun(
        source, out, sandboxed=NO_SANDBOX is None, cell_timeout=CELL_TIMEOUT, timeout=600,
        assignments=[corpus.ASSIGNMENT], workers=workers, log=lambda *args: None,
    ))
    return {row.student: row for row in report.rows}


class Listener:
    """A TCP server on the loopback that records whoever connects."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        self.stop.set()
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The honest hand-ins alone, from a Moodle zip, graded twice in one output folder."""
    tmp = tmp_path_factory.mktemp("baseline")
    archive = tmp / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for number, student in enumerate(HONEST):
            name = f"submissions/{student.title()} Doe_{1000 + number}_assignsubmission_file_{corpus.ASSIGNMENT}.ipynb"
            zipped.writestr(name, nbformat.writes(corpus.cases("", 0)[0][student]))
    out = tmp / "out"
    first = run(archive, out, workers=1)
    first_csv = (out / "grades.csv").read_text()
    second = run(archive, out, workers=1)
    # Moodle's participant ids are the students' ids; their names are kept as written.
    assert sorted(first) == [str(1000 + number) for number in range(len(HONEST))]
    return {row.name.removesuffix(" Doe").lower(): row for row in first.values()}, first_csv, second, out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    out = tmp / "out"
    listener = Listener()
    try:
        cases, twins = corpus.cases(str(out), listener.port)
        if NO_SANDBOX is not None:
            for student in SANDBOX_ONLY:
                cases.pop(student)
        corpus.write(cases, tmp / "handins")
        corpus.write_twice(tmp / "handins")
        rows = run(tmp / "handins", out, workers=2)
    finally:
        listener.close()
    return rows, twins, out, listener.connections


def test_baseline_scores_are_sensible(baseline):
    rows, *_ = baseline
    assert set(rows) == set(HONEST)
    full = rows["full"]
    assert full.status == "graded" and full.score == full.max_score > 0
    assert 0 < rows["partial"].score < full.score
    assert 0 <= rows["stub1"].score < rows["partial"].score
    assert rows["wrong1"].score == rows["stub1"].score


def test_rerun_gives_the_same_results(baseline):
    _, first_csv, second, out = baseline
    assert (out / "grades.csv").read_text() == first_csv
    assert (out / "gradebook.db").is_file()


def test_honest_handins_score_the_same_in_the_hostile_batch(baseline, batch):
    honest, *_ = baseline
    rows, *_ = batch
    for student in HONEST:
        alone, in_batch = honest[student], rows[student]
        assert (in_batch.score, in_batch.max_score, in_batch.status, in_batch.note) == (
            alone.score, alone.max_score, alone.status, alone.note)


DAMAGED = ["colab", "colab_full", "new_ids", "moved", "moved_colab", "tests_deleted", "tests_edited", "retyped",
           "retyped_colab", "scratch_helper", "renamed"]


@pytest.mark.parametrize("student", DAMAGED)
def test_damaged_handin_scores_as_the_intact_one(batch, student):
    rows, twins, *_ = batch
    row, twin = rows[student], rows[twins[student]]
    assert (row.score, row.max_score) == (twin.score, twin.max_score), row.note
    expected = "graded" if student == "new_ids" else "repaired"
    assert row.status == expected, row.note


def test_repair_notes_say_what(batch):
    rows, *_ = batch
    assert "metadata missing" in rows["colab"].note
    assert "moved" in rows["moved"].note
    assert "test cells deleted" in rows["tests_deleted"].note
    assert "test cells edited" in rows["tests_edited"].note
    assert "cell type changed" in rows["retyped"].note
    assert "recognised as 01_forward by its content" in rows["renamed"].note


BROKEN = {
    "syntax_error": "graded", "infinite_loop": "timed out", "stubborn_loop": "timed out", "long_sleep": "timed out",
    "sys_exit": "graded", "os_exit": "failed", "exit_in_answer": "failed", "crash": "failed",
    # A MemoryError once the kernel's address space is full; filling it may take longer than the time limit.
    "memory_bomb": ("graded", "timed out"), "big_output": "graded", "warns": "graded",
}


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_broken_handin_gets_its_honest_score(batch, student):
    rows, twins, *_ = batch
    row, twin = rows[student], rows[twins[student]]
    assert (row.score, row.max_score) == (twin.score, twin.max_score), row.note
    expected = BROKEN[student]
    assert row.status in (expected if isinstance(expected, tuple) else (expected,)), row.note


# Honest work, written or saved in an unusual way: the intact twin's score, and the status it deserves.
HONEST_WORK = {"one_cell": "repaired", "no_docstring": "repaired", "logs": "graded", "bom": "graded",
               "utf16": "graded", "twice": "graded"}


@pytest.mark.parametrize("student", sorted(HONEST_WORK))
def test_honest_work_is_graded_right(batch, student):
    rows, twins, *_ = batch
    row, twin = rows[student], rows[twins[student]]
    assert (row.score, row.max_score, row.status) == (twin.score, twin.max_score, HONEST_WORK[student]), row.note


def test_notes_say_what_was_unusual(batch):
    rows, *_ = batch
    assert "answered in the cell of rnn_step_forward" in rows["one_cell"].note
    assert "saved as UTF-16 with a byte-order mark" in rows["utf16"].note
    assert "2 files handed in" in rows["twice"].note and "twice_01_forward (1).ipynb" in rows["twice"].note


def test_unreadable_file_fails_with_zero(batch):
    rows, *_ = batch
    row = rows["truncated"]
    assert (row.status, row.score) == ("failed", 0.0)
    assert "not a readable notebook" in row.note


def test_big_output_is_cut(batch):
    _, _, out, _ = batch
    autograded = out / "autograded" / "big_output" / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.ipynb"
    assert autograded.stat().st_size < 1_000_000


CHEATS = ["patch_allclose", "patch_testing", "patch_builtins", "patch_helper", "patch_dynamic", "always_equal"]


@pytest.mark.parametrize("student", CHEATS)
def test_cheat_earns_nothing(batch, student):
    rows, twins, *_ = batch
    row, twin = rows[student], rows[twins[student]]
    assert row.score == twin.score, row.note
    if student.startswith("patch"):
        assert row.status == "graded" and "suspicious code in" in row.note


def test_suspicious_code_is_reported_not_removed(batch):
    _, _, out, _ = batch
    text = (out / "submitted" / "patch_allclose" / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.ipynb").read_text()
    assert "np.allclose = lambda" in text


def cell_scores(out: Path, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(corpus.ASSIGNMENT, corpus.ASSIGNMENT, student)
        return {g.name: g.auto_score for g in notebook.grades}


def test_hard_coding_the_visible_values_earns_nothing(batch):
    rows, _, out, _ = batch
    assert cell_scores(out, "hard_coded")["test_rnn_step_forward_hidden"] == 0
    assert rows["hard_coded"].score == rows["stub1"].score


@pytest.mark.sandbox
@needs_sandbox
def test_intruder_reaches_no_gradebook_and_no_handin(batch):
    rows, _, out, _ = batch
    assert rows["zz_intruder"].score == rows["stub1"].score
    for student, row in rows.items():
        if row.status not in ("failed", "timed out"):
            assert sum(cell_scores(out, student).values()) == row.score, student


@pytest.mark.sandbox
@needs_sandbox
def test_network_is_unreachable(batch):
    rows, _, _, connections = batch
    assert connections == 0
    assert rows["network"].score == rows["wrong1"].score


def test_csv_and_feedback(batch):
    rows, _, out, _ = batch
    with (out / "grades.csv").open() as stream:
        table = list(csv.DictReader(stream))
    assert list(table[0]) == grades_csv.CSV_FIELDS
    assert {line["student"] for line in table} == set(rows)
    for row in rows.values():
        if row.status != "failed" or "kernel" in row.note:
            assert (out / "feedback" / row.student / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.html").is_file()


def test_feedback_hides_hidden_tests_but_says_why_they_failed(batch):
    _, _, out, _ = batch
    html = (out / "feedback" / "partial" / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.html").read_text()
    autograded = nbformat.read(out / "autograded" / "partial" / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.ipynb",
                               as_version=4)
    hidden = next(c for c in autograded.cells if corpus.grade_id(c) == "test_simple_rnn_forward_hidden")
    report = next(o for o in hidden.outputs if o.output_type == "stream").text
    assert "h0 is ignored" in report
    assert "h0 is ignored" in html
    text = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    master = nbformat.read(config.SOURCE_DIR / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.ipynb", as_version=4)
    visible = next(c for c in master.cells if corpus.grade_id(c) == "test_rnn_step_forward")
    assert visible.source.splitlines()[1] in text  # the check below can see code
    shown = "\n".join(c.source for c in master.cells if "BEGIN HIDDEN TESTS" not in c.source)
    hidden_regions = [c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
                      for c in master.cells if "BEGIN HIDDEN TESTS" in c.source]
    secret_lines = [line.strip() for region in hidden_regions for line in region.splitlines()
                    if len(line.strip()) > 20 and line.strip() not in shown]
    assert len(secret_lines) > 10
    for line in secret_lines:
        assert line not in text, line
