"""`python -m rnncourse grade`: a folder or zip of hand-ins in, grades and feedback out.

The output folder is an nbgrader course folder (its gradebook.db, the
submitted, autograded and feedback folders, an nbgrader_config.py; formgrader
runs there for the answers graded by hand), plus grades.csv. Each hand-in is
read, named (handins), rebuilt from its content (repair) and autograded in an
nbgrader run of its own, with its kernel in a sandbox (sandbox, execute), so
that no hand-in can stop, slow down or change another's grading.
"""
from __future__ import annotations

import csv
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from rnncourse import autograde, build, config, execute, handins, nbgrader_fork, nbgrader_run, repair, sandbox

STATUSES = ("graded", "repaired", "missing", "timed out", "failed")
CSV_FIELDS = ["student", "assignment", "score", "max_score", "status", "note"]
# Minimum share of an assignment's recognisable cells a hand-in must hold to be taken for it.
RECOGNISED = 0.3

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

c.Autograde.autograde_preprocessors = [
    GradingExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
# A warning a student's code prints in a test cell does not cost the test's points
# (nbgrader counts anything on stderr as a failure); errors still do.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\\w+Warning: "
c.Execute.timeout = {cell_timeout}
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


def prepare_course(out: Path, assignments: list[str], cell_timeout: int) -> dict[str, nbformat.NotebookNode]:
    """Make OUT an nbgrader course folder holding ASSIGNMENTS, released; return
    each assignment's student notebook (the release with its Colab badge)."""
    out.mkdir(parents=True, exist_ok=True)
    settings = GRADING_SETTINGS.format(repo=str(config.REPO_ROOT), cell_timeout=cell_timeout)
    (out / "nbgrader_config.py").write_text(config.NBGRADER_CONFIG.read_text() + settings)
    released = {}
    for assignment in assignments:
        master = config.SOURCE_DIR / assignment / f"{assignment}.ipynb"
        copy = out / "source" / assignment / f"{assignment}.ipynb"
        release = out / "release" / assignment / f"{assignment}.ipynb"
        if not (release.is_file() and copy.is_file() and copy.read_bytes() == master.read_bytes()):
            if copy.parent.exists():
                shutil.rmtree(copy.parent)
            shutil.copytree(master.parent, copy.parent)
            nbgrader_run.nbgrader(out, "generate_assignment", assignment, "--force")
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


def grades_of(course_dir: Path, assignment: str, student: str) -> tuple[float, float, float] | None:
    """(auto score, auto max, points graded by hand) from the gradebook, or None."""
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return None
        auto = [g for g in notebook.grades if g.auto_score is not None]
        by_hand = [g for g in notebook.grades if g.auto_score is None]
        return (sum(g.auto_score for g in auto), sum(g.max_score for g in auto),
                sum(g.max_score for g in by_hand))


def max_scores(course_dir: Path, assignment: str) -> tuple[float, float]:
    """(autograded points, points graded by hand) of ASSIGNMENT."""
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_notebook(assignment, assignment)
        cells = {cell.name: cell for cell in notebook.source_cells}
        auto = by_hand = 0.0
        for cell in notebook.grade_cells:
            manual = cell.cell_type == "markdown" or bool(getattr(cells.get(cell.name), "solution", False))
            if manual:
                by_hand += cell.max_score
            else:
                auto += cell.max_score
        return auto, by_hand


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


def grade_one(out: Path, handin: handins.HandIn, nb: nbformat.NotebookNode, released: nbformat.NotebookNode,
              context, notes: list[str], sandboxed: bool, timeout: float, runner=autograde.run_nbgrader) -> Row:
    """Rebuild, autograde and score one hand-in."""
    student, assignment = handin.student, handin.assignment
    rebuilt = repair.rebuild(nb, released, context)
    repairs = [n for n in notes if n] + rebuilt.repairs
    submitted = out / "submitted" / student / assignment / f"{assignment}.ipynb"
    if submitted.parent.exists():
        shutil.rmtree(submitted.parent)
    submitted.parent.mkdir(parents=True)
    nbformat.write(rebuilt.notebook, submitted)

    with tempfile.TemporaryDirectory(prefix="rnng-") as run_dir:
        env = sandbox.write_kernel_spec(Path(run_dir), sandboxed)
        done = autograde.autograde_student(out, assignment, student, env, sandbox.kernel_options(Path(run_dir)),
                                           timeout, runner)
    graded = grades_of(out, assignment, student) if done is not None and done.returncode == 0 else None
    auto_max, by_hand = max_scores(out, assignment)
    remarks = list(rebuilt.remarks)
    if graded is None:
        if done is None:
            status, why = "timed out", f"grading took longer than {timeout:.0f} s and was stopped"
        else:
            status, why = "failed", "nbgrader could not grade it: " + autograde.last_error(done)
        return Row(student, assignment, 0.0, auto_max, status, "; ".join([why] + repairs + remarks), by_hand)

    # The autograded maximum comes from the assignment, the same for everyone: nbgrader
    # scores a written answer left as released 0 by itself, which is not a point to add.
    score, _, by_hand = graded
    exercises = {repair.grade_id(c) for c in released.cells if repair.is_solution(c)}
    died, slow, errors = run_problems(out / "autograded" / student / assignment / f"{assignment}.ipynb", exercises)
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
    return Row(student, assignment, score, auto_max, status, "; ".join(problems + repairs + remarks), by_hand)


def failed_row(out: Path, handin: handins.HandIn, assignment: str | None, why: str) -> Row:
    auto_max, by_hand = max_scores(out, assignment) if assignment else (0.0, 0.0)
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


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_FIELDS)
        for row in rows:
            writer.writerow([row.student, row.assignment, f"{row.score:g}", f"{row.max_score:g}", row.status, row.note])


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


def grade(source: Path, out: Path, patterns: list[str], sandboxed: bool, cell_timeout: int,
          timeout: float, assignments: list[str] | None = None, log=print) -> list[Row]:
    """Grade every hand-in in SOURCE into OUT; return the rows of grades.csv.

    ASSIGNMENTS: grade only these (default: every assignment in source/).
    """
    everything = config.assignments()
    assignments = assignments or everything
    released = prepare_course(out, assignments, cell_timeout)
    contexts = {a: repair.master_context(nbformat.read(config.SOURCE_DIR / a / f"{a}.ipynb", as_version=4))
                for a in assignments}
    found, unnamed = handins.collect(source, patterns)
    for path in unnamed:
        log(f"skipped {path}: no pattern gives its student")

    # Read and name every file first, so that duplicates can be resolved.
    named: dict[tuple[str, str], list] = {}
    rows: list[Row] = []
    for handin in found:
        if handin.assignment in everything and handin.assignment not in assignments:
            log(f"skipped {handin.path}: {handin.assignment} is not being graded")
            continue
        try:
            nb = handins.read_notebook(handin.text)
        except ValueError as error:
            assignment = handin.assignment if handin.assignment in released else None
            rows.append(failed_row(out, handin, assignment, str(error)))
            continue
        assignment, note = identify(nb, handin.assignment if handin.assignment in released else None, released)
        if assignment is None:
            rows.append(failed_row(out, handin, None, "cannot tell which assignment this is"))
            continue
        handin.assignment = assignment
        named.setdefault((handin.student, assignment), []).append((handin, nb, note))

    with nbgrader_fork.forking() as runner:
        for (student, assignment), versions in sorted(named.items()):
            handin, duplicate_note = pick_latest([h for h, _, _ in versions])
            nb, note = next((nb, note) for h, nb, note in versions if h is handin)
            started = time.monotonic()
            rows.append(grade_one(out, handin, nb, released[assignment], contexts[assignment],
                                  [note, duplicate_note], sandboxed, timeout, runner))
            log(f"{rows[-1].status:9} {student} / {assignment} ({handin.path}): {time.monotonic() - started:.1f} s")

        # A damaged extra copy does not count against a copy that was graded.
        graded_pairs = {(row.student, row.assignment) for row in rows if row.status != "failed"}
        rows = [row for row in rows if row.status != "failed" or (row.student, row.assignment) not in graded_pairs]
        max_of = {a: max_scores(out, a) for a in assignments}
        rows += missing_rows(rows, max_of)
        rows.sort(key=lambda row: (row.student, row.assignment))
        for assignment in sorted({row.assignment for row in rows if row.status not in ("missing", "failed")}):
            feedback_run = autograde.generate_feedback(out, assignment, runner=runner)
            if feedback_run.returncode != 0:
                log(f"generate_feedback {assignment}: {autograde.last_error(feedback_run)}")
    write_csv(rows, out / "grades.csv")
    return rows
