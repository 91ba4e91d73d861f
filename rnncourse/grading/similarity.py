"""The similarity report: answers that match the published reference or another student's.

The masters and solutions are public, so a hand-in can copy them. For every exercise each
student's answer is compared with the reference and with every other student's, once
normalised as copying would change it (answer_code): the score is the share of tokens the two
have in common, in order (difflib's ratio). Written answers are compared word by word.
`grade` writes OUT/similarity.html and OUT/similarity.csv for every hand-in graded in OUT.
It flags; it never changes a grade.
"""
from __future__ import annotations

import csv
import difflib
import html
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from rnncourse.grading import answer_code, gradebook
from rnncourse.grading.repair import grade_id, is_solution

# Code answers scoring this much are flagged. The mutation catalogue's independently written
# correct answers score at most 0.775 against each other and the reference; a copy with its
# names, comments, layout and independent statements' order changed scores 1.0, and still
# more than 0.9 with a statement or two added (`python -m tests.test_similarity`).
THRESHOLD = 0.9
# Shorter than this, independent answers are often the same (`return np.tanh(x_t @ W_x + ...)`).
MIN_TOKENS = 25
# Written answers: nearly the same text, word for word, over enough words to mean something.
PROSE_THRESHOLD = 0.9
MIN_WORDS = 30
REFERENCE = "published reference"


@dataclass(frozen=True)
class Answer:
    assignment: str
    exercise: str
    who: str  # a student, or REFERENCE
    shown: str  # as written
    tokens: tuple[str, ...]  # normalised
    prose: bool = False


@dataclass(frozen=True)
class Match:
    first: Answer
    second: Answer
    score: float


def _written(assignment: str, exercise: str, text: str, who: str) -> list[Answer]:
    """A written answer, its stub and markers left out; none when nothing is written."""
    lines = [line for line in text.split("\n") if line.strip() not in answer_code.STUBS
             and not answer_code.BEGIN.match(line) and not answer_code.END.match(line)]
    words = tuple(re.findall(r"\w+", "\n".join(lines).lower()))
    return [Answer(assignment, exercise, who, "\n".join(lines).strip(), words, prose=True)] if words else []


def _code(assignment: str, master_cell: nbformat.NotebookNode, source: str, who: str) -> list[Answer]:
    """WHO's answer in SOURCE to each exercise of MASTER_CELL that it answers."""
    found = []
    for qualname, provided in answer_code.exercises(master_cell.source):
        try:
            added = answer_code.statements(source, qualname, provided) or []
            tokens = answer_code.normalised(added, answer_code.params(master_cell.source, qualname)) if added else ()
        except RecursionError:  # nested deeper than ast can copy: not compared
            continue
        if tokens:
            lines = source.split("\n")[added[0].lineno - 1:max(s.end_lineno for s in added)]
            found.append(Answer(assignment, qualname or grade_id(master_cell), who,
                                textwrap.dedent("\n".join(lines)), tokens))
    return found


def answers(assignment: str, master: nbformat.NotebookNode, nb: nbformat.NotebookNode, who: str) -> list[Answer]:
    """WHO's answer in NB to every exercise of MASTER (pass MASTER as NB for the reference's)."""
    theirs = {grade_id(c): c for c in nb.cells if grade_id(c)}
    found = []
    for cell in (c for c in master.cells if is_solution(c) and grade_id(c) in theirs):
        source = theirs[grade_id(cell)].source
        found += (_written(assignment, grade_id(cell), source, who) if cell.cell_type == "markdown"
                  else _code(assignment, cell, source, who))
    return found


def score(first: Answer, second: Answer) -> float:
    return difflib.SequenceMatcher(None, first.tokens, second.tokens, autojunk=False).ratio()


def comparable(answer: Answer) -> bool:
    """Long enough that independent answers are not alike by necessity."""
    return len(answer.tokens) >= (MIN_WORDS if answer.prose else MIN_TOKENS)


def matches(every: list[Answer]) -> list[Match]:
    """The flagged pairs among EVERY answer: of one exercise, long enough, scoring the threshold;
    the reference's first, then by score."""
    groups: dict[tuple[str, str], list[Answer]] = {}
    for answer in filter(comparable, every):
        groups.setdefault((answer.assignment, answer.exercise), []).append(answer)
    found = []
    for group in groups.values():
        group.sort(key=lambda a: (a.who != REFERENCE, a.who))
        limit = PROSE_THRESHOLD if group[0].prose else THRESHOLD
        pair = difflib.SequenceMatcher(autojunk=False)
        for j, second in enumerate(group):
            pair.set_seq2(second.tokens)  # indexed once for every answer before it
            for first in group[:j]:
                pair.set_seq1(first.tokens)
                # The cheap upper bounds first: most pairs end there.
                if pair.real_quick_ratio() >= limit and pair.quick_ratio() >= limit and pair.ratio() >= limit:
                    found.append(Match(first, second, round(pair.ratio(), 3)))
    return sorted(found, key=lambda m: (m.first.assignment, m.first.exercise, m.first.who != REFERENCE,
                                        -m.score, m.first.who, m.second.who))


# ---------------------------------------------------------------- the report

STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:90em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}
.pair{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.5em 1em}
.sides{display:flex;gap:1em}.sides figure{flex:1;margin:0;min-width:0}
figcaption{font-weight:600}pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap}"""


def _table(head: list[str], rows: list[list[object]], table_id: str) -> str:
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr>{cells}</table>'


def _pair(match: Match) -> str:
    sides = "".join(f"<figure><figcaption>{html.escape(a.who)}</figcaption><pre>{html.escape(a.shown)}</pre></figure>"
                    for a in (match.first, match.second))
    return (f'<section class="pair"><h4>{html.escape(match.first.who)} and {html.escape(match.second.who)}: '
            f'{match.score:.2f}</h4><div class="sides">{sides}</div></section>')


def _flagged(found: list[Match]) -> list[list[str]]:
    """Per student and assignment flagged: the exercises matching the reference, and another's."""
    seen: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for m in found:
        for mine, other in ((m.first, m.second), (m.second, m.first)):
            if mine.who != REFERENCE:
                ref, peers = seen.setdefault((mine.who, mine.assignment), ([], []))
                (ref if other.who == REFERENCE else peers).append(
                    mine.exercise + ("" if other.who == REFERENCE else f" ({other.who})"))
    return [[who, assignment, ", ".join(ref) or "-", ", ".join(peers) or "-"]
            for (who, assignment), (ref, peers) in sorted(seen.items())]


def render(every: list[Answer], found: list[Match], skipped: Sequence[str] = ()) -> str:
    """The page: how it compares, who is flagged, then per assignment each exercise's pairs side by side."""
    handins = {(a.who, a.assignment) for a in every if a.who != REFERENCE}
    flagged = _flagged(found)
    parts = [f"<h1>Similarity of answers</h1><p>{len(handins)} hand-ins compared, exercise by exercise, with the "
             "published reference and with each other. The score of two answers is the share of tokens they have "
             "in common, in order, once comments, docstrings, layout, the order of independent statements and "
             f"the names of local variables are set aside. A pair is flagged from {THRESHOLD:.2f} for code and "
             f"{PROSE_THRESHOLD:.2f} (word by word) for written answers; answers shorter than {MIN_TOKENS} tokens "
             f"or {MIN_WORDS} words are not compared, since independent answers that short are often the same. "
             "<strong>This report flags; it changes no grade.</strong> Read each pair before deciding anything.</p>",
             "<h2>Flagged hand-ins</h2>",
             _table(["student", "assignment", "answers that match the published reference",
                     "answers that match another student's"], flagged, "flagged") if flagged
             else "<p>No answer matches the published reference or another student's.</p>"]
    if skipped:
        parts.append("<h2>Not compared</h2><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in skipped) + "</ul>")
    exercises = dict.fromkeys((a.assignment, a.exercise) for a in every)
    for assignment in sorted({a for a, _ in exercises}):
        rows, pairs = [], []
        for exercise in (e for a, e in exercises if a == assignment):
            group = [a for a in every if (a.assignment, a.exercise, a.who != REFERENCE) == (assignment, exercise, True)]
            mine = [m for m in found if (m.first.assignment, m.first.exercise) == (assignment, exercise)]
            rows.append([exercise, len(group), sum(not comparable(a) for a in group), len(mine)])
            pairs += [f"<h3>{html.escape(exercise)}</h3>" + "".join(map(_pair, mine))] if mine else []
        parts += [f"<h2>{html.escape(assignment)}</h2>",
                  _table(["exercise", "answers", "too short to compare", "pairs flagged"], rows, assignment), *pairs]
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Similarity report</title>'
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")


def collect(out: Path) -> tuple[list[Answer], list[str]]:
    """The reference's and every graded hand-in's answers in the course folder OUT, and the hand-ins
    that could not be read (left out, so that one cannot stop the report)."""
    every, skipped = [], []
    for path in sorted((out / "source").glob("*/*.ipynb")):
        assignment = path.parent.name
        if path.stem == assignment:
            master = nbformat.read(path, as_version=4)
            every += answers(assignment, master, master, REFERENCE)
            for handin in sorted((out / "submitted").glob(f"*/{assignment}/{assignment}.ipynb")):
                student = handin.parent.parent.name
                try:
                    every += answers(assignment, master, nbformat.read(handin, as_version=4), student)
                except Exception as error:  # whatever one hand-in holds, the others are compared
                    skipped.append(f"{student} / {assignment} ({type(error).__name__}: {error})")
    return every, skipped


def write(out: Path) -> list[Match]:
    """OUT/similarity.html and OUT/similarity.csv (a row per flagged pair) for every hand-in graded
    in OUT so far; return the flagged pairs."""
    if not list((out / "source").glob("*/*.ipynb")):
        raise FileNotFoundError(f"no master notebooks in {out / 'source'}: is {out} a folder `grade` wrote?")
    with gradebook.file_locks(out, ["course", "similarity"]):  # no hand-in half written while read
        every, skipped = collect(out)
        found = matches(every)
        with (out / "similarity.csv").open("w", newline="") as file:
            table = csv.writer(file)
            table.writerow(["assignment", "exercise", "student", "other", "score"])
            for m in found:
                one, other = (m.second, m.first) if m.first.who == REFERENCE else (m.first, m.second)
                table.writerow([m.first.assignment, m.first.exercise, one.who, other.who, m.score])
        (out / "similarity.html").write_text(render(every, found, skipped))
    return found
