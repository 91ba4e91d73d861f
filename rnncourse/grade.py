"""`python -m rnncourse grade`: a folder or zip of hand-ins in, grades and feedback out.

The output folder is an nbgrader course folder (the submitted, autograded and
feedback folders, an nbgrader_config.py; formgrader runs there for the answers
graded by hand), plus grades.csv; its gradebook is SQLite (gradebook.db) or
PostgreSQL (gradebook). Each hand-in is read, named (handins), rebuilt from
its content (repair) and autograded in an nbgrader run of its own, with its
kernel in a sandbox (sandbox, execute), so that no hand-in can stop, slow down
or change another's grading. Hand-ins are graded several at a time, one per
worker; everything that decides a result is done before or after, in order, so
the results do not depend on the number of workers.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import os
import queue
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from rnncourse import (
    autograde,
    build,
    config,
    execute,
    gradebook,
    handins,
    nbgrader_fork,
    nbgrader_run,
    repair,
    sandbox,
)

STATUSES = ("graded", "repaired", "missing", "timed out", "failed")
CSV_FIELDS = ["student", "assignment", "score", "max_score", "status", "note"]
# Minimum share of an assignment's recognisable cells a hand-in must hold to be taken for it.
RECOGNISED = 0.3
# Time limits of the nbgrader runs that execute no student code.
RELEASE_TIMEOUT = 600
FEEDBACK_TIMEOUT = 300

GRADING_SETTINGS = '''
# ---- Grading (written by `python -m rnncourse grade`) ----
# Hand-ins are rebuilt from their content before nbgrader sees them, and run
# by an Execute that survives a dead kernel; feedback hides hidden tests.
import sys
sys.path.insert(0, {repo!r})
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, GetGrades
from rnncourse.execute import GradingExecute
from rnncourse.feedback import HideHiddenTests
from rnncourse.gradebook import wait_for_sqlite_locks

c.CourseDirectory.db_url = {db_url!r}
# Several graders may use the gradebook at once (see rnncourse/gradebook.py).
wait_for_sqlite_locks()
c.Autograde.autograde_preprocessors = [
    GradingExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
# A warning a student's code prints in a test cell does not cost the test's points
# (nbgrader counts anything on stderr as a failure); errors still do.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\\w+Warning: "
'''


@dataclass
class Row:
    """One line of grades.csv: a student's result on an assignment."""

    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    note: str
    by_hand: float = 0.0  # points of answers graded by hand later, not in max_score


@dataclass
class Job:
    """One hand-in to autograde, rebuilt from its content, and how its grading went."""

    student: str
    assignment: str
    path: str
    rebuilt: repair.Repair
    notes: list[str]
    done: object = None  # the autograde run's CompletedProcess, None if it timed out
    seconds: float = 0.0


def write_if_changed(path: Path, text: str) -> None:
    """Write TEXT to PATH in one step, so a grader reading it at the same time sees
    the old or the new file, never half of one."""
    if path.is_file() and path.read_text() == text:
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, path)


def prepare_course(out: Path, assignments: list[str], db_url: str, runner) -> dict[str, nbformat.NotebookNode]:
    """Make OUT an nbgrader course folder holding ASSIGNMENTS, released; return
    each assignment's student notebook (the release with its Colab badge).

    Call with the course lock held (gradebook.locked): it writes shared files.
    """
    out.mkdir(parents=True, exist_ok=True)
    url, secret_env = gradebook.without_password(db_url)
    settings = GRADING_SETTINGS.format(repo=str(config.REPO_ROOT), db_url=url)
    write_if_changed(out / "nbgrader_config.py", config.NBGRADER_CONFIG.read_text() + settings)
    released = {}
    for assignment in assignments:
        master = config.SOURCE_DIR / assignment / f"{assignment}.ipynb"
        copy = out / "source" / assignment / f"{assignment}.ipynb"
        release = out / "release" / assignment / f"{assignment}.ipynb"
        if not (release.is_file() and copy.is_file() and copy.read_bytes() == master.read_bytes()):
            if copy.parent.exists():
                shutil.rmtree(copy.parent)
            shutil.copytree(master.parent, copy.parent)
            done = runner(out, ["generate_assignment", assignment, "--force"], secret_env, RELEASE_TIMEOUT)
            if done is None or done.returncode != 0:
                why = "it took too long" if done is None else autograde.last_error(done)
                raise RuntimeError(f"nbgrader could not release {assignment} in {out}: {why}")
        nb = nbformat.read(release, as_version=4)
        nb.cells.insert(0, build.badge_cell(assignment))
        released[assignment] = nb
    return released


def identify(nb: nbformat.NotebookNode, named: str | None, released: dict) -> tuple[str | None, str | None]:
    """The assignment NB is for, and a repair note when its name did not say so."""
    if named in released and repair.content_score(nb, released[named]) >= RECOGNISED:
        return named, None
    scores = {a: repair.content_score(nb, rel) for a, rel in released.items()}
    best = max(scores, key=scores.get, default=None)
    if best is None or scores[best] < RECOGNISED:
        return named, None
    if named is None:
        return best, f"assignment recognised as {best} by its content (the file name does not say)"
    if best != named:
        return best, f"the file name says {named} but the content is {best}: graded as {best}"
    return named, None


def pick_latest(found: list[handins.HandIn]) -> tuple[handins.HandIn, str | None]:
    """Of several files for one student and assignment, the last copy."""
    ordered = sorted(found, key=lambda h: (handins.copy_number(h.path), h.path))
    chosen = ordered[-1]
    if len(found) == 1:
        return chosen, None
    return chosen, f"{len(found)} files handed in; graded {chosen.path}"


def grades_of(db_url: str, assignment: str, student: str) -> tuple[float, float, float] | None:
    """(auto score, auto max, points graded by hand) from the gradebook, or None."""
    with gradebook.opened(db_url) as book:
        try:
            notebook = book.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return None
        auto = [g for g in notebook.grades if g.auto_score is not None]
        by_hand = [g for g in notebook.grades if g.auto_score is None]
        return (sum(g.auto_score for g in auto), sum(g.max_score for g in auto),
                sum(g.max_score for g in by_hand))


def max_scores(db_url: str, assignment: str) -> tuple[float, float]:
    """(autograded points, points graded by hand) of ASSIGNMENT."""
    with gradebook.opened(db_url) as book:
        notebook = book.find_notebook(assignment, assignment)
        cells = {cell.name: cell for cell in notebook.source_cells}
        auto = by_hand = 0.0
        for cell in notebook.grade_cells:
            manual = cell.cell_type == "markdown" or bool(getattr(cells.get(cell.name), "solution", False))
            if manual:
                by_hand += cell.max_score
            else:
                auto += cell.max_score
        return auto, by_hand


def maxima(db_url: str, assignments: list[str]) -> dict[str, tuple[float, float]]:
    """max_scores of each of ASSIGNMENTS that the gradebook holds."""
    found = {}
    for assignment in assignments:
        with contextlib.suppress(MissingEntry):
            found[assignment] = max_scores(db_url, assignment)
    return found


def run_problems(autograded: Path, exercises: set[str]) -> tuple[list[str], list[str], list[str]]:
    """From an autograded notebook: cells that killed the kernel, cells cut at
    the time limit, and errors in the exercise cells."""
    died, slow, errors = [], [], []
    nb = nbformat.read(autograded, as_version=4)
    for index, cell in enumerate(nb.cells):
        name = repair.grade_id(cell) or f"cell {index + 1}"
        enames = [out.get("ename") for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        if execute.KERNEL_DIED in enames or execute.NOT_RUN in enames:
            died.append(name)
        elif execute.TIMED_OUT in enames:
            slow.append(name)
        elif enames and repair.grade_id(cell) in exercises:
            kind = "unanswered" if enames[-1] == "NotImplementedError" else enames[-1]
            errors.append(f"{name} ({kind})")
    return died, slow, errors


def submit(out: Path, job: Job) -> None:
    """Put JOB's rebuilt notebook where nbgrader's autograde looks for it."""
    submitted = out / "submitted" / job.student / job.assignment / f"{job.assignment}.ipynb"
    if submitted.parent.exists():
        shutil.rmtree(submitted.parent)
    submitted.parent.mkdir(parents=True)
    nbformat.write(job.rebuilt.notebook, submitted)


def autograde_job(out: Path, job: Job, db_url: str, sandboxed: bool, cell_timeout: int, timeout: float,
                  runner) -> Job:
    """Autograde JOB in an nbgrader run of its own."""
    url, secret_env = gradebook.without_password(db_url)
    settings = [f"--CourseDirectory.db_url={url}", f"--Execute.timeout={cell_timeout}"]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnng-") as run_dir:
        env = {**sandbox.write_kernel_spec(Path(run_dir), sandboxed), **secret_env}
        job.done = autograde.autograde_student(out, job.assignment, job.student, env,
                                               settings + sandbox.kernel_options(Path(run_dir)), timeout, runner)
    job.seconds = time.monotonic() - started
    return job


def feedback_runs(out: Path, jobs: list[Job], runs_per_assignment: int) -> list[tuple[str, list[str], list[str]]]:
    """The generate_feedback runs for the students autograded now: (assignment, students,
    every other student autograded in OUT, whom the run leaves alone), the students of an
    assignment shared among up to RUNS_PER_ASSIGNMENT runs."""
    runs = []
    for assignment in sorted({job.assignment for job in jobs}):
        graded = sorted(job.student for job in jobs
                        if job.assignment == assignment and job.done is not None and job.done.returncode == 0)
        everyone = {path.parent.name for path in (out / "autograded").glob(f"*/{assignment}")}
        for share in range(min(runs_per_assignment, len(graded))):
            students = graded[share::runs_per_assignment]
            runs.append((assignment, students, sorted(everyone - set(students))))
    return runs


def write_feedback(out: Path, run: tuple[str, list[str], list[str]], db_url: str, runner) -> str | None:
    """Feedback for one of feedback_runs; what went wrong, or None."""
    assignment, students, others = run
    url, secret_env = gradebook.without_password(db_url)
    done = autograde.generate_feedback(out, assignment, others, secret_env, [f"--CourseDirectory.db_url={url}"],
                                       FEEDBACK_TIMEOUT, runner)
    if done.returncode == 0:
        return None
    return f"no feedback for {', '.join(students)} / {assignment}: {autograde.last_error(done)}"


def row_of(out: Path, job: Job, db_url: str, released: nbformat.NotebookNode, timeout: float,
           maxima: tuple[float, float]) -> Row:
    """JOB's line of grades.csv, from the gradebook and the autograded notebook."""
    done = job.done
    graded = grades_of(db_url, job.assignment, job.student) if done is not None and done.returncode == 0 else None
    auto_max, by_hand = maxima
    repairs = job.notes + job.rebuilt.repairs
    remarks = list(job.rebuilt.remarks)
    if graded is None:
        if done is None:
            status, why = "timed out", f"grading took longer than {timeout:.0f} s and was stopped"
        else:
            status, why = "failed", "nbgrader could not grade it: " + autograde.last_error(done)
        return Row(job.student, job.assignment, 0.0, auto_max, status, "; ".join([why] + repairs + remarks), by_hand)

    # The autograded maximum comes from the assignment, the same for everyone: nbgrader
    # scores a written answer left as released 0 by itself, which is not a point to add.
    score, _, by_hand = graded
    exercises = {repair.grade_id(c) for c in released.cells if repair.is_solution(c)}
    autograded = out / "autograded" / job.student / job.assignment / f"{job.assignment}.ipynb"
    died, slow, errors = run_problems(autograded, exercises)
    problems = []
    if died:
        problems.append(f"the kernel stopped in {', '.join(died)}: counted as an error, "
                        "the rest graded in a fresh kernel")
    if slow:
        problems.append(f"stopped at the time limit: {', '.join(slow)}")
    if errors:
        remarks.append(f"errors in exercise cells: {', '.join(errors)}")
    if by_hand:
        remarks.append(f"{by_hand:g} more points for written answers are graded by hand")
    status = "failed" if died else "timed out" if slow else "repaired" if repairs else "graded"
    return Row(job.student, job.assignment, score, auto_max, status, "; ".join(problems + repairs + remarks), by_hand)


def failed_row(handin: handins.HandIn, assignment: str | None, why: str, maxima: dict) -> Row:
    auto_max, by_hand = maxima.get(assignment, (0.0, 0.0))
    return Row(handin.student, assignment or "?", 0.0, auto_max, "failed", f"{handin.path}: {why}", by_hand)


def missing_rows(rows: list[Row], max_of: dict[str, tuple[float, float]]) -> list[Row]:
    """A 'missing' row for each student without a hand-in of an assignment others handed in."""
    students = sorted({row.student for row in rows})
    handed_in = {(row.student, row.assignment) for row in rows}
    assignments = sorted({row.assignment for row in rows if row.assignment in max_of})
    return [
        Row(student, assignment, 0.0, max_of[assignment][0], "missing", "no hand-in", max_of[assignment][1])
        for student in students for assignment in assignments if (student, assignment) not in handed_in
    ]


def read_csv(path: Path) -> list[Row]:
    """The rows of an existing grades.csv (none if there is none)."""
    if not path.is_file():
        return []
    with path.open(newline="") as stream:
        return [Row(line["student"], line["assignment"], float(line["score"]), float(line["max_score"]),
                    line["status"], line["note"]) for line in csv.DictReader(stream)]


def write_csv(rows: list[Row], path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with temporary.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_FIELDS)
        for row in rows:
            writer.writerow([row.student, row.assignment, f"{row.score:g}", f"{row.max_score:g}", row.status, row.note])
    os.replace(temporary, path)


def merged(earlier: list[Row], rows: list[Row], max_of: dict[str, tuple[float, float]]) -> list[Row]:
    """ROWS, with the EARLIER rows of grades.csv for every other student and
    assignment (graded before, or by another grader at the same time), and a
    'missing' row wherever a student has no hand-in."""
    latest = {(row.student, row.assignment): row for row in earlier if row.status != "missing"}
    latest.update({(row.student, row.assignment): row for row in rows})
    everything = list(latest.values())
    return sorted(everything + missing_rows(everything, max_of), key=lambda row: (row.student, row.assignment))


def summary(rows: list[Row]) -> str:
    """The table the command prints: student x assignment, score/max and status."""
    assignments = sorted({row.assignment for row in rows})
    students = sorted({row.student for row in rows})
    cell = {(row.student, row.assignment): row for row in rows}

    def shown(row: Row | None) -> str:
        if row is None:
            return ""
        hand = f" (+{row.by_hand:g} by hand)" if row.by_hand and row.status != "missing" else ""
        return f"{row.score:g}/{row.max_score:g}{hand} {row.status}"

    table = [["student", *assignments]] + [[s, *(shown(cell.get((s, a))) for a in assignments)] for s in students]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"{row.student} {row.assignment} ({row.status}): {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def name_handins(found: list[handins.HandIn], released: dict, everything: list[str], contexts: dict,
                 log) -> tuple[list[Job], list[tuple[handins.HandIn, str | None, str]]]:
    """Read, recognise and rebuild every hand-in: the jobs to autograde (one per
    student and assignment, the latest copy), and the files that cannot be graded
    (hand-in, assignment or None, why)."""
    named: dict[tuple[str, str], list] = {}
    unusable = []
    for handin in found:
        if handin.assignment in everything and handin.assignment not in released:
            log(f"skipped {handin.path}: {handin.assignment} is not being graded")
            continue
        try:
            nb = handins.read_notebook(handin.text)
        except ValueError as error:
            unusable.append((handin, handin.assignment if handin.assignment in released else None, str(error)))
            continue
        assignment, note = identify(nb, handin.assignment if handin.assignment in released else None, released)
        if assignment is None:
            unusable.append((handin, None, "cannot tell which assignment this is"))
            continue
        handin.assignment = assignment
        named.setdefault((handin.student, assignment), []).append((handin, nb, note))
    jobs = []
    for (student, assignment), versions in sorted(named.items()):
        chosen, duplicate_note = pick_latest([h for h, _, _ in versions])
        nb, note = next((nb, note) for h, nb, note in versions if h is chosen)
        rebuilt = repair.rebuild(nb, released[assignment], contexts[assignment])
        jobs.append(Job(student, assignment, chosen.path, rebuilt, [n for n in (note, duplicate_note) if n]))
    return jobs, unusable


def in_parallel(items: list, runners: list, work) -> Iterator:
    """WORK(item, runner) for every item, as many at a time as there are RUNNERS (each
    runner serves one at a time); the results in the order of ITEMS, each as soon as it
    and those before it are done."""
    free: queue.Queue = queue.Queue()
    for runner in runners:
        free.put(runner)

    def one(item):
        runner = free.get()
        try:
            return work(item, runner)
        finally:
            free.put(runner)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(runners)) as pool:
        yield from pool.map(one, items)


def grade(source: Path, out: Path, patterns: list[str], sandboxed: bool, cell_timeout: int, timeout: float,
          assignments: list[str] | None = None, workers: int = 1, db_url: str | None = None,
          log=print) -> list[Row]:
    """Grade every hand-in in SOURCE into OUT; return the rows of this run.

    ASSIGNMENTS: grade only these (default: every assignment in source/).
    WORKERS: hand-ins graded at the same time. DB_URL: the gradebook (default:
    SQLite in OUT). OUT/grades.csv gets this run's rows, merged with the rows
    already there for other students and assignments.
    """
    everything = config.assignments()
    assignments = sorted(assignments or everything)
    db_url = gradebook.check_url(db_url or gradebook.default_url(out))
    gradebook.wait_for_sqlite_locks()
    # This process opens the gradebook too, and nbgrader's Gradebook runs `alembic` by name.
    os.environ["PATH"] = nbgrader_run.environment()["PATH"]
    contexts = {a: repair.master_context(nbformat.read(config.SOURCE_DIR / a / f"{a}.ipynb", as_version=4))
                for a in assignments}
    found, unnamed = handins.collect(source, patterns)
    for path in unnamed:
        log(f"skipped {path}: no pattern gives its student")

    with contextlib.ExitStack() as stack:
        # A worker is a resident nbgrader process (3 s of start-up): no more than there are hand-ins.
        runners = [stack.enter_context(nbgrader_fork.forking()) for _ in range(max(1, min(workers, len(found))))]
        # One grader per assignment at a time; preparing the course, one grader at a time.
        stack.enter_context(gradebook.locked(out, db_url, [f"assignment-{a}" for a in assignments]))
        with gradebook.locked(out, db_url, ["course"]):
            released = prepare_course(out, assignments, db_url, runners[0])
            jobs, unusable = name_handins(found, released, everything, contexts, log)
            gradebook.add_students(db_url, [job.student for job in jobs] + [h.student for h, _, _ in unusable])
            for job in jobs:
                submit(out, job)

        for job in in_parallel(jobs, runners, lambda job, runner: autograde_job(
                out, job, db_url, sandboxed, cell_timeout, timeout, runner)):
            status = "timed out" if job.done is None else "done" if job.done.returncode == 0 else "failed"
            log(f"{status:9} {job.student} / {job.assignment} ({job.path}): {job.seconds:.1f} s")
        for problem in in_parallel(feedback_runs(out, jobs, len(runners)), runners,
                                   lambda run, runner: write_feedback(out, run, db_url, runner)):
            if problem:
                log(problem)

        max_of = maxima(db_url, assignments)
        rows = [row_of(out, job, db_url, released[job.assignment], timeout, max_of[job.assignment]) for job in jobs]
        # A damaged extra copy does not count against a copy that was graded.
        graded_pairs = {(row.student, row.assignment) for row in rows}
        rows += [failed_row(handin, assignment, why, max_of) for handin, assignment, why in unusable
                 if (handin.student, assignment) not in graded_pairs]
        rows = sorted(rows + missing_rows(rows, max_of), key=lambda row: (row.student, row.assignment))
        with gradebook.file_locks(out, ["csv"]):
            earlier = read_csv(out / "grades.csv")
            graded_before = sorted({row.assignment for row in earlier} & set(everything) - set(max_of))
            write_csv(merged(earlier, rows, {**maxima(db_url, graded_before), **max_of}), out / "grades.csv")
    return rows
