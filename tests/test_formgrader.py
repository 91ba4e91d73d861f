"""The README's demo as an instructor meets it: `rnncourse grade examples/handins` (a
Moodle zip with two students of one name and a newer copy, a late Canvas hand-in), then a
written answer graded by hand in formgrader, in a real (headless) browser, with an SQLite
gradebook while another `grade` runs, and with PostgreSQL (and a due date: nbgrader's late
machinery reads the time Moodle recorded); then `grade --refresh` brings grades.csv, the
feedback and the Moodle import up to date.

One browser session serves every check; the servers listen on 127.0.0.1 with a token.
"""
from __future__ import annotations

import csv
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from examples import make_examples
from rnncourse import config, grading
from rnncourse.grading import course, gradebook, lms_export, sandbox
from tests import browser, postgres_server
from tests import handin_corpus as corpus

ASSIGNMENT = "02_small_array"
pytestmark = pytest.mark.skipif(not {"01_forward", ASSIGNMENT} <= set(config.assignments()),
                                reason="the demo grades 01_forward and 02_small_array")
DEMO = config.REPO_ROOT / "examples" / "handins"
STUDENT, OTHER = "4811", "4812"  # the two Sam Lees of the demo's Moodle zip
SCORE, COMMENT = 1.5, "The bias dominates a_t: well seen. Say why the last input counts most with B = 0."
SLEEP = 30  # seconds a hand-in of the concurrent grader sleeps: formgrader is used meanwhile
NO_POSTGRES = postgres_server.unavailable()


def written_answer() -> tuple[str, float]:
    """The first answer of ASSIGNMENT graded by hand, and its points (from the master)."""
    master = nbformat.read(config.SOURCE_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    cell = next(c for c in master.cells if c.metadata.get("nbgrader", {}).get("solution")
                and c.metadata.nbgrader.get("grade"))
    return cell.metadata.nbgrader.grade_id, cell.metadata.nbgrader.points


def command(*args: str) -> list[str]:
    sandboxing = [] if sandbox.bwrap_problem() is None else ["--no-sandbox"]
    return [sys.executable, "-m", "rnncourse", "grade", *args, *sandboxing]


def grade(*args: str) -> str:
    """What `rnncourse grade ARGS` prints: the summary on stdout, then the progress bar from stderr."""
    done = subprocess.run(command(*args), cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def rows(out: Path) -> dict[tuple[str, str], dict]:
    with (out / "grades.csv").open(encoding="utf-8") as stream:
        return {(line["student"], line["assignment"]): line for line in csv.DictReader(stream)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "graded"
    return out, grade(str(DEMO), "--out", str(out), "--workers", "2")


@pytest.fixture(scope="module")
def driver():
    with browser.chromium() as chromium:
        yield chromium


def test_the_demo_tells_students_apart_and_grades_the_newest_copy(demo):
    out, printed = demo
    found = rows(out)
    sams = {student: found[student, ASSIGNMENT] for student in (STUDENT, OTHER)}
    assert {line["name"] for line in sams.values()} == {"Sam Lee"} and sams[STUDENT]["file"] != sams[OTHER]["file"]
    assert "Sam Lee (4811)" in printed and "Sam Lee (4812)" in printed
    dana = found["4711", ASSIGNMENT]
    assert dana["file"].endswith("Dana Doe_4711_assignsubmission_file_/02_small_array.ipynb")
    assert "not graded: " in dana["note"] and "Copy of 02_small_array.ipynb (2025-10-08 17:02 UTC)" in dana["note"]
    assert dana["submitted"] == "2025-10-13 22:51:00 UTC"
    assert (out / "submitted" / "4711" / ASSIGNMENT / "timestamp.txt").read_text().startswith("2025-10-13 22:51:00")
    assert found["20417", "01_forward"]["late"] == "marked late by Canvas"
    assert "notes.pdf: not a notebook (handed in by Dana Doe (4711))" in printed
    assert "7/7" in printed and "hand-in" in printed  # tqdm's progress bar: count and rate
    with (out / lms_export.moodle_file(ASSIGNMENT)).open(encoding="utf-8") as stream:
        worksheet = {line["Identifier"]: line for line in csv.DictReader(stream)}
    assert worksheet[f"Participant {STUDENT}"]["Grade"] == sams[STUDENT]["score"]
    with (out / lms_export.CANVAS_FILE).open(encoding="utf-8") as stream:
        assert [line["ID"] for line in csv.DictReader(stream)] == ["20417"]


def hand_grade(driver, server: browser.Server, student: str, cell: str, score: float, comment: str) -> None:
    """In formgrader, as an instructor: Manage Students, the student (by id: two share a name),
    the assignment, its notebook; then a score and a comment for the written answer CELL."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(server.url("/formgrader/manage_students"))
    browser.wait_for(driver, f"//td[contains(@class, 'id') and normalize-space(.) = '{student}']"
                             "/preceding-sibling::td[contains(@class, 'name')]/a", By.XPATH).click()
    browser.wait_for(driver, ASSIGNMENT, By.LINK_TEXT).click()
    browser.wait_for(driver, ASSIGNMENT, By.LINK_TEXT).click()
    # formgrader fetches the grades and comments, then binds its inputs to them: typed earlier,
    # a score is not saved, and is then overwritten with the stored one. (formgrader.loaded
    # waits for MathJax, which comes from a CDN: never, offline.)
    browser.wait_until(driver, "typeof formgrader !== 'undefined' && formgrader.grades && formgrader.grades.loaded"
                               " && formgrader.comments && formgrader.comments.loaded")
    box = browser.wait_for(driver, f"input#{cell}.score")
    box.clear()
    box.send_keys(f"{score:g}", Keys.TAB)
    browser.wait_for(driver, f"textarea#{cell}-comment").send_keys(comment, Keys.TAB)


def read_back(db_url: str, student: str, cell: str, timeout: float = browser.WAIT) -> tuple[float | None, str | None]:
    """The manual score and comment the gradebook holds for STUDENT's CELL, once formgrader saved them."""
    deadline = time.monotonic() + timeout
    while True:
        with gradebook.opened(db_url) as book:
            notebook = book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            grade_ = next(g for g in notebook.grades if g.name == cell)
            comment = next(c for c in notebook.comments if c.name == cell)
            found = (grade_.manual_score, comment.manual_comment)
        if found == (SCORE, COMMENT) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def sleepy_handins(folder: Path) -> Path:
    """A hand-in of 01_forward for a second grader, which takes SLEEP seconds to grade."""
    folder.mkdir()
    nbformat.write(corpus.with_cell(corpus.answered(), "rnn_step_forward", f"import time\ntime.sleep({SLEEP})"),
                   folder / "sleepy_01_forward.ipynb")
    return folder


def one_moodle_handin(folder: Path) -> tuple[Path, datetime]:
    """Sam Lee 4811's file alone in a Moodle zip, as the demo's zip has it: the zip, and the
    time Moodle recorded for the file."""
    folder.mkdir()
    with zipfile.ZipFile(DEMO / "moodle_02_small_array.zip") as archive:
        info = next(i for i in archive.infolist() if i.filename.startswith(f"Sam Lee_{STUDENT}_"))
        with zipfile.ZipFile(folder / "moodle.zip", "w") as single:
            single.writestr(info, archive.read(info))
    return folder / "moodle.zip", make_examples.utc(12, 21, 40)


def test_hand_grading_in_formgrader_with_sqlite_while_another_grade_runs(demo, driver, tmp_path):
    out, _ = demo
    cell, points = written_answer()
    before = rows(out)[STUDENT, ASSIGNMENT]
    with browser.jupyter_server(out) as server:
        other = subprocess.Popen(command(str(sleepy_handins(tmp_path / "more")), "--out", str(out), "--assignment",
                                         "01_forward", "--workers", "1", "--cell-timeout", str(SLEEP * 2)),
                                 cwd=config.REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            while "Preparing" not in other.stdout.readline() and other.poll() is None:
                continue
            hand_grade(driver, server, STUDENT, cell, SCORE, COMMENT)
            assert read_back(gradebook.default_url(out), STUDENT, cell) == (SCORE, COMMENT)
            assert other.poll() is None, "the other grader finished before formgrader saved: not at the same time"
            assert "Lee, Sam" in driver.page_source  # the submission opened is the student's
        finally:
            printed, _ = other.communicate(timeout=900)
    assert other.returncode == 0, printed
    assert rows(out)["sleepy", "01_forward"]["status"] == "graded"

    refreshed = grade("--refresh", "--out", str(out))
    after = rows(out)[STUDENT, ASSIGNMENT]
    assert float(after["score"]) == float(before["score"]) + SCORE
    assert float(after["to_grade_by_hand"]) == float(before["to_grade_by_hand"]) - points
    assert "Sam Lee (4811)" in refreshed
    assert COMMENT in (out / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert COMMENT not in (out / "feedback" / OTHER / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    with (out / lms_export.moodle_file(ASSIGNMENT)).open(encoding="utf-8") as stream:
        worksheet = {line["Identifier"]: line["Grade"] for line in csv.DictReader(stream)}
    assert worksheet[f"Participant {STUDENT}"] == after["score"]


@pytest.mark.skipif(NO_POSTGRES is not None, reason=f"needs a PostgreSQL server: {NO_POSTGRES}")
def test_hand_grading_in_formgrader_with_postgresql_and_a_due_date(driver, tmp_path):
    cell, _ = written_answer()
    handins, submitted = one_moodle_handin(tmp_path / "handins")
    due = submitted - timedelta(hours=9, minutes=40)
    with postgres_server.running() as new_database:
        url, out = gradebook.check_url(new_database("formgrader")), tmp_path / "graded"
        report = grading.grade(grading.GradingRun(handins, out, sandboxed=sandbox.bwrap_problem() is None, db=url,
                                                  term=course.Term({ASSIGNMENT: due}), log=lambda line: None))
        assert not (out / "gradebook.db").exists()
        # nbgrader's late machinery: the due date from the term, the submission time from timestamp.txt.
        (row,) = report.rows
        assert row.late == "9 h 40 min after the due date" and row.submitted == "2025-10-12 21:40:00 UTC"
        with gradebook.opened(url) as book:
            assert book.find_submission(ASSIGNMENT, STUDENT).total_seconds_late == 9 * 3600 + 40 * 60
        with browser.jupyter_server(out) as server:
            hand_grade(driver, server, STUDENT, cell, SCORE, COMMENT)
            assert read_back(url, STUDENT, cell) == (SCORE, COMMENT)
