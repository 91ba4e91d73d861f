"""The class report: OUT/class_report.html, written after every run and refresh.

For each assignment: the score distribution of every graded cell (from the gradebook,
hand-graded points included), and the mistakes most students made, each named as the
notebook names it, with the number of students ("dB is not summed over the batch: 9
students"), so that an instructor sees what to teach again.

A student's mistake in an exercise is counted only where the judge took points off
that exercise (the judge decides outside the kernel, so a message a student prints
cannot add to the count), as it names them: the mistakes the hidden tests named (the
judge's words), else the one the visible self-check names, when it names one in words
the course wrote (the texts of the released self-check, a placeholder filled with at
most PLACEHOLDER characters). A self-check's "h_t is wrong: the bias B is not added"
and a hidden test's alike count as "the bias B is not added". Everything a student's
notebook holds is escaped, and messages are cut to a line.
"""
from __future__ import annotations

import ast
import base64
import html
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from rnncourse.grading import course, gradebook

REPORT = "class_report.html"
MOST = 10  # mistakes listed per assignment
LONGEST = 240  # characters of a message shown
PLACEHOLDER = 40  # characters a placeholder of a self-check's message may take
WRONG = " is wrong: "  # check_array's messages: NAME is wrong: MISTAKE
HIDDEN = "_hidden"  # the hidden cell of exercise X is test_X_hidden, its self-check test_X
# check_array's messages that name no mistake (a value or a shape was off).
GENERIC = re.compile(r"\bis wrong: (at index|expected)|should have shape|should be a NumPy array|holds NaN")


@dataclass
class Cell:
    """One graded cell of an assignment, across the class."""

    name: str
    max_score: float
    by_hand: bool
    scores: list[float] = field(default_factory=list)


@dataclass
class Assignment:
    name: str
    students: int = 0
    cells: dict[str, Cell] = field(default_factory=dict)
    mistakes: Counter = field(default_factory=Counter)  # (exercise, message) -> students


def first_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= LONGEST else text[:LONGEST - 1] + "…"


def written_texts(source: str) -> list[re.Pattern]:
    """Every string SOURCE (a released self-check) writes, as a pattern of its text with
    whitespace as first_line leaves it: a constant as it is, an f-string with each
    placeholder standing for up to PLACEHOLDER characters."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    strings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
               or isinstance(node, ast.Constant) and isinstance(node.value, str)]
    inside = {id(value) for node in strings if isinstance(node, ast.JoinedStr) for value in node.values}
    patterns = []
    for node in strings:
        if id(node) in inside:
            continue
        pieces = [v.value if isinstance(v, ast.Constant) else None for v in getattr(node, "values", [node])]
        pieces = [re.sub(r"\s+", " ", piece) if piece is not None else None for piece in pieces]
        if pieces[0] is not None:
            pieces[0] = pieces[0].lstrip()
        if pieces[-1] is not None:
            pieces[-1] = pieces[-1].rstrip()
        pattern = "".join(re.escape(piece) if piece is not None else f".{{1,{PLACEHOLDER}}}?" for piece in pieces)
        if pattern:
            patterns.append(re.compile(pattern))
    return patterns


def course_wrote(message: str, texts: list[re.Pattern]) -> str | None:
    """The mistake MESSAGE names if the course wrote it (one of TEXTS, or NAME is wrong:
    MISTAKE with both among them): MISTAKE, or the whole message; else None."""
    def one_of(text: str) -> bool:
        return any(pattern.fullmatch(text) for pattern in texts)

    at = message.find(WRONG)
    while at >= 0:
        if one_of(message[:at]) and one_of(message[at + len(WRONG):]):
            return message[at + len(WRONG):]
        at = message.find(WRONG, at + 1)
    return message if one_of(message) else None


def self_check_message(cell, texts: list[re.Pattern]) -> str | None:
    """The mistake a visible self-check's error names, or None (it passed, was unanswered,
    said only that a value was off, or said what the course did not write: TEXTS)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and output.get("ename") == "AssertionError":
            message = " ".join(str(output.get("evalue", "")).split())
            mistake = None if not message or GENERIC.search(message) else course_wrote(message, texts)
            return mistake and first_line(mistake)
    return None


def hidden_mistakes(cell) -> list[str]:
    """The mistakes the judge named in a hidden cell (its summary in the cell's metadata)."""
    summary = cell.get("metadata", {}).get("rnncourse", {}).get("judge", {})
    named = [problem.split(WRONG.lstrip(), 1)[1] for problem in summary.get("failed", []) if WRONG.lstrip() in problem]
    return sorted({first_line(m) for m in named if not GENERIC.search(WRONG.lstrip() + m)})


def grade_ids(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells}


def released_texts(out: Path, assignment: str) -> dict[str, list[re.Pattern]]:
    """The texts of each self-check of ASSIGNMENT's release in OUT, by grade id."""
    release = out / "release" / assignment / f"{assignment}.ipynb"
    return released_texts_of(nbformat.read(release, as_version=4)) if release.is_file() else {}


def released_texts_of(nb: nbformat.NotebookNode) -> dict[str, list[re.Pattern]]:
    return {gid: written_texts(cell.source) for gid, cell in grade_ids(nb).items() if gid and cell.cell_type == "code"}


def mistakes_of(nb: nbformat.NotebookNode, lost: set[str], texts: dict[str, list[re.Pattern]]
                ) -> set[tuple[str, str]]:
    """(exercise, message) for each exercise whose hidden cell is in LOST (it lost points);
    TEXTS: what each self-check of the release writes."""
    cells = grade_ids(nb)
    found = set()
    for hidden in lost:
        if not hidden.endswith(HIDDEN) or hidden not in cells:
            continue
        check = hidden[: -len(HIDDEN)]
        exercise = check.removeprefix("test_")
        named = hidden_mistakes(cells[hidden])
        if not named and check in cells:
            named = [m for m in [self_check_message(cells[check], texts.get(check, []))] if m]
        found.update((exercise, mistake) for mistake in named)
    return found


def collect(out: Path, db_url: str, assignments: list[str]) -> list[Assignment]:
    """What the report shows, from the gradebook and the autograded notebooks in OUT."""
    report = []
    with gradebook.opened(db_url) as book:
        for name in assignments:
            summary = Assignment(name)
            texts = released_texts(out, name)
            for student in course.autograded_students(out, name):
                try:
                    notebook = book.find_submission_notebook(name, name, student)
                except MissingEntry:  # autograded into another gradebook: not this one's class
                    continue
                path = course.autograded_path(out, student, name)
                nb = nbformat.read(path, as_version=4) if path.is_file() else nbformat.v4.new_notebook()
                order = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
                summary.students += 1
                lost = set()
                for grade in sorted(notebook.grades, key=lambda g: (order.get(g.name, len(order)), g.name)):
                    cell = summary.cells.setdefault(grade.name, Cell(grade.name, grade.max_score,
                                                                     grade.auto_score is None))
                    if grade.score is not None:
                        cell.scores.append(float(grade.score))
                        if grade.score < grade.max_score:
                            lost.add(grade.name)
                summary.mistakes.update(mistakes_of(nb, lost, texts))
            report.append(summary)
    return report


def picture(summary: Assignment) -> str:
    """A PNG of each cell's score distribution, as a data URL."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = list(summary.cells.values())
    columns = min(4, len(cells))
    rows = -(-len(cells) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.2 * rows), squeeze=False)
    for ax, cell in zip(axes.ravel(), cells, strict=False):
        top = max(cell.max_score, 1e-9)
        bins = [top * i / 4 for i in range(5)]
        ax.hist(cell.scores, bins=bins, color="#c58a2a" if cell.by_hand else "#3b6ea5", edgecolor="white")
        ax.set_title(cell.name.removeprefix("test_").removesuffix(HIDDEN), fontsize=9)
        ax.set_xlim(0, top)
        ax.set_xlabel(f"points of {cell.max_score:g}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(cells):]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("students", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "–"


def section(summary: Assignment) -> str:
    e = html.escape
    if not summary.students:
        return f"<h2>{e(summary.name)}</h2><p>No hand-in graded.</p>"
    rows = "".join(
        f"<tr><td>{e(c.name.removeprefix('test_').removesuffix(HIDDEN))}{' (by hand)' if c.by_hand else ''}</td>"
        f"<td>{c.max_score:g}</td><td>{len(c.scores)}</td><td>{mean(c.scores)}</td>"
        f"<td>{sum(s >= c.max_score for s in c.scores)}</td><td>{sum(s == 0 for s in c.scores)}</td></tr>"
        for c in summary.cells.values())
    common = summary.mistakes.most_common(MOST)
    said = "".join(f"<li><b>{e(exercise)}</b>: {e(message)}: <b>{count} student{'s' if count > 1 else ''}</b></li>"
                   for (exercise, message), count in common)
    mistakes = f"<ol class='mistakes'>{said}</ol>" if said else "<p>No exercise lost points to a named mistake.</p>"
    return (f"<h2>{e(summary.name)}</h2><p>{summary.students} hand-ins graded.</p>"
            f"<img alt='score distribution of each graded cell of {e(summary.name)}' src='{picture(summary)}'>"
            "<table><tr><th>cell</th><th>points</th><th>graded</th><th>mean</th><th>full marks</th><th>zero</th></tr>"
            f"{rows}</table><h3>Most common mistakes</h3>{mistakes}")


STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
         "img{max-width:100%}.mistakes li{margin:.3em 0}")


def render(report: list[Assignment]) -> str:
    sections = "".join(section(summary) for summary in report) or "<p>Nothing graded yet.</p>"
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class report</title>"
            f"<style>{STYLE}</style></head><body><h1>Class report</h1>"
            "<p>Each graded cell's scores (blue: graded automatically; orange: by hand), and the mistakes the "
            "notebooks named, counted once per student, where the exercise lost points.</p>"
            f"{sections}</body></html>\n")


def write(out: Path, db_url: str, assignments: list[str]) -> Path:
    """Write OUT/class_report.html for those of ASSIGNMENTS graded in OUT; its path."""
    path = out / REPORT
    graded = [a for a in assignments if course.autograded_students(out, a)]
    path.write_text(render(collect(out, db_url, graded)), encoding="utf-8")
    return path
