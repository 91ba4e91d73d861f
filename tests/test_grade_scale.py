"""`grade` at scale: a PostgreSQL gradebook and several workers give exactly
the results of SQLite and one worker, and two graders working on different
assignments of one gradebook at the same time lose nothing. (test_grade.py
grades its hostile batch with two workers as well, against a baseline graded
with one.)

The hand-ins cover every assignment: a complete one, one saved by Colab with
its first exercise left as released, and a student who handed in only 01.
"""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnncourse import config, grading
from rnncourse.grading import gradebook, sandbox, table
from tests import handin_corpus as corpus
from tests import postgres_server
from tests.conftest import ASSIGNMENTS

pytestmark = pytest.mark.slow

NO_POSTGRES = postgres_server.unavailable()
needs_postgres = pytest.mark.skipif(NO_POSTGRES is not None, reason=f"needs a PostgreSQL server: {NO_POSTGRES}")
SANDBOXED = sandbox.bwrap_problem() is None
TWO_AT_ONCE = ["01_forward", "02_small_array"]


@pytest.fixture(scope="module")
def handins_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("handins")
    for assignment in ASSIGNMENTS:
        nbformat.write(corpus.answered(assignment), folder / f"ann_{assignment}.ipynb")
        partial = corpus.colab(corpus.answered(assignment, skip=(corpus.first_exercise(assignment),)))
        nbformat.write(partial, folder / f"bob_Copy of {assignment}.ipynb")
    nbformat.write(corpus.answered("01_forward"), folder / "cid_01_forward.ipynb")
    return folder


def hand_graded_points(assignment: str) -> float:
    """The points of ASSIGNMENT's answers graded by hand, from its master's metadata."""
    master = nbformat.read(config.SOURCE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    return sum(c.metadata.nbgrader.get("points", 0) for c in master.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.metadata.nbgrader.get("solution"))


def run(handins_dir: Path, out: Path, workers: int, db_url: str | None = None,
        assignments: list[str] | None = None) -> list[grading.Row]:
    return grading.grade(grading.GradingRun(handins_dir, out, sandboxed=SANDBOXED, cell_timeout=60, timeout=600,
                                            assignments=assignments, workers=workers, db=db_url,
                                            log=lambda *args: None)).rows


def cell_scores(db_url: str) -> dict[tuple[str, str, str], float]:
    """Every autograded cell's score in the gradebook: (student, assignment, cell) -> score."""
    with gradebook.opened(db_url) as book:
        return {(sub.student.id, sub.assignment.name, g.name): g.auto_score
                for assignment in book.assignments for sub in assignment.submissions
                for nb in sub.notebooks for g in nb.grades if g.auto_score is not None}


@pytest.fixture(scope="module")
def sequential(handins_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sequential")
    rows = run(handins_dir, out, workers=1)
    return rows, (out / "grades.csv").read_text(), cell_scores(gradebook.default_url(out))


@pytest.fixture(scope="module")
def postgres_server_here():
    if NO_POSTGRES is not None:
        pytest.skip(f"needs a PostgreSQL server: {NO_POSTGRES}")
    with postgres_server.running() as new_database:
        yield new_database


@pytest.fixture
def postgres_url(postgres_server_here, request) -> str:
    """A new, empty database for the test."""
    return postgres_server_here(request.node.name.lower())


def test_every_assignment_is_graded(sequential):
    rows, _, _ = sequential
    by_key = {(row.student, row.assignment): row for row in rows}
    for assignment in ASSIGNMENTS:
        ann, bob = by_key["ann", assignment], by_key["bob", assignment]
        # Every automatic point; the written answers (the reference's) wait for a hand grade.
        assert ann.status == "graded" and ann.score + ann.waiting == ann.max_score > 0, ann.note
        assert ann.waiting == hand_graded_points(assignment), ann.note
        assert bob.status == "repaired" and 0 < bob.score < ann.score, bob.note
        if assignment != "01_forward":
            assert by_key["cid", assignment].status == "missing"
    assert by_key["cid", "01_forward"].score == by_key["ann", "01_forward"].score


@pytest.mark.postgres
@needs_postgres
def test_postgresql_and_two_workers_give_the_results_of_sqlite_and_one(sequential, handins_dir, tmp_path,
                                                                       postgres_url):
    rows, csv_text, scores = sequential
    # Two assignments are enough to compare gradebooks and worker counts (the database code
    # is the same for every notebook); every assignment is graded above.
    got = run(handins_dir, tmp_path, workers=2, db_url=postgres_url, assignments=TWO_AT_ONCE)
    assert got == [row for row in rows if row.assignment in TWO_AT_ONCE]
    assert csv_rows((tmp_path / "grades.csv").read_text(), None) == csv_rows(csv_text, TWO_AT_ONCE)
    assert not (tmp_path / "gradebook.db").exists()
    assert cell_scores(gradebook.check_url(postgres_url)) == expected_scores(scores, TWO_AT_ONCE)


def grade_at_once(handins_dir: Path, outs: list[Path], db_url: str | None) -> list[subprocess.CompletedProcess]:
    """`python -m rnncourse grade` for each of TWO_AT_ONCE, started together, the i-th writing to OUTS[i]."""
    processes = []
    for assignment, out in zip(TWO_AT_ONCE, outs, strict=True):
        command = [sys.executable, "-m", "rnncourse", "grade", str(handins_dir), "--out", str(out),
                   "--assignment", assignment, "--workers", "1", "--cell-timeout", "60"]
        processes.append(subprocess.Popen(command + (["--db", db_url] if db_url else []), cwd=config.REPO_ROOT,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    started = time.monotonic()
    done = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=900)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    assert time.monotonic() - started < 900
    return done


def csv_rows(csv_text: str, assignments: list[str] | None) -> list[dict[str, str]]:
    """The rows of grades.csv CSV_TEXT (for ASSIGNMENTS only, unless None), by its header's names."""
    rows = csv.DictReader(io.StringIO(csv_text))
    return [row for row in rows if assignments is None or row["assignment"] in assignments]


def expected_scores(scores: dict, assignments: list[str]) -> dict:
    return {key: score for key, score in scores.items() if key[1] in assignments}


def test_two_graders_share_an_sqlite_gradebook(sequential, handins_dir, tmp_path):
    rows, _, scores = sequential
    for done in grade_at_once(handins_dir, [tmp_path, tmp_path], None):
        assert done.returncode == 0, done.stdout + done.stderr
    assert cell_scores(gradebook.default_url(tmp_path)) == expected_scores(scores, TWO_AT_ONCE)
    # grades.csv holds both graders' rows, each written under a lock and merged.
    shown = table.read_csv(tmp_path / "grades.csv")
    expected = [row for row in rows if row.assignment in TWO_AT_ONCE]
    assert [(r.student, r.assignment, r.score, r.status) for r in shown] == [
        (r.student, r.assignment, r.score, r.status) for r in expected]


@pytest.mark.postgres
@needs_postgres
def test_two_graders_on_two_machines_share_a_postgresql_gradebook(sequential, handins_dir, tmp_path, postgres_url):
    _, _, scores = sequential
    outs = [tmp_path / "machine1", tmp_path / "machine2"]
    for done in grade_at_once(handins_dir, outs, postgres_url):
        assert done.returncode == 0, done.stdout + done.stderr
    assert cell_scores(gradebook.check_url(postgres_url)) == expected_scores(scores, TWO_AT_ONCE)


def test_an_output_folder_keeps_to_the_gradebook_it_was_graded_with(tmp_path):
    from rnncourse.grading import course

    assert gradebook.resolve_url(None, tmp_path) == gradebook.default_url(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text(course.config_text("postgresql+psycopg://me:secret@host/db"))
    assert gradebook.resolve_url(None, tmp_path) == "postgresql+psycopg://me@host/db"
    assert gradebook.resolve_url("sqlite:///elsewhere.db", tmp_path) == "sqlite:///elsewhere.db"


def test_bad_database_url_is_refused_with_what_is_expected():
    for url, expected in [("mysql://me@host/db", "can be SQLite or PostgreSQL"),
                          ("sqlite://", "names no file"), ("not a url", "not a database URL")]:
        with pytest.raises(ValueError, match=expected):
            gradebook.check_url(url)
    assert gradebook.check_url("postgresql://me@host/db") == "postgresql+psycopg://me@host/db"
    url, env = gradebook.without_password("postgresql+psycopg://me:secret@host/db")
    assert "secret" not in url and env == {"PGPASSWORD": "secret"}
    assert "secret" not in gradebook.redacted("postgresql+psycopg://me:secret@host/db")
