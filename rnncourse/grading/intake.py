"""Hand-ins in: whose each file is (names), which assignment it holds, and which copy counts.

Every file read (files) ends up graded, as an extra copy named in the note of
the copy graded, or reported as not graded with the reason: nothing a student
handed in is dropped without a word, and two students are never merged (their
ids come from the LMS; see names).

Of several copies of one assignment by one student, the newest is graded: by
the time the LMS recorded (its zip entry, nbgrader's timestamp.txt), else the
file's time; among equal times Canvas's later upload, then the higher copy
number. That recorded time is the submission time nbgrader's late penalties
use (course.submit writes it to timestamp.txt). A zip whose entries all carry
one time says when it was made, not when each file came (Canvas's zips do):
its times decide nothing.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path

import nbformat

from rnncourse import nbgrader_run
from rnncourse.grading import files, names, repair

# Minimum share of an assignment's recognisable cells a hand-in must hold to be taken for it.
RECOGNISED = 0.3
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class HandIn:
    """One notebook handed in: where it is, whose it is, and when it was handed in."""

    path: str
    who: names.Identity
    data: bytes
    time: datetime | None = None  # the LMS's time, else the file's: orders the copies
    submitted: datetime | None = None  # the time the LMS recorded, for nbgrader's late penalties
    assignment: str | None = None  # what its name says; then what it was recognised as

    @property
    def student(self) -> str:
        return self.who.student


@dataclass(frozen=True)
class NotGraded:
    """A file that is not graded, and why; whose and which assignment when that is known."""

    path: str
    who: names.Identity | None
    assignment: str | None
    why: str


def collect(source: Path, patterns: list[str], assignments: list[str],
            zone: tzinfo | None = None) -> tuple[list[HandIn], list[NotGraded]]:
    """The notebooks handed in in SOURCE (a folder or a zip), and the files that are not."""
    # One top folder that is a student's (Moodle's, for one student) is not an LMS export's.
    found = files.read_source(source, zone, lambda top: names.from_lms([top], 0, assignments) is not None)
    folders = names.nbgrader_folders([f.path for f in found], assignments)
    stamps = nbgrader_stamps(found, folders)
    handins, refused = [], []
    for item in found:
        notebook_like = not item.path.lower().endswith(".ipynb") and looks_like_notebook(item.data)
        who = names.identify(as_notebook_name(item.path) if notebook_like else item.path, patterns, assignments,
                             folders)
        named = who.assignment if who else names.assignment_in(item.path.rsplit("/", 1)[-1], assignments)
        if item.problem:
            refused.append(NotGraded(item.path, who, named, item.problem))
        elif item.path.rsplit("/", 1)[-1] == "timestamp.txt" and item.path.rsplit("/", 1)[0] in folders:
            continue  # nbgrader's record of the submission time, read above
        elif not (item.path.lower().endswith(".ipynb") or notebook_like):
            refused.append(NotGraded(item.path, who, named, "not a notebook"))
        elif who is None:
            refused.append(NotGraded(item.path, None, named, "no pattern says whose it is"))
        else:
            when, recorded = lms_time(item, who)
            recorded = stamps.get(item.path.rsplit("/", 1)[0], recorded)
            handins.append(HandIn(item.path, who, item.data, recorded or when, recorded, who.assignment))
    return separate_lms(handins), refused


def lms_time(item: files.Found, who: names.Identity) -> tuple[datetime | None, datetime | None]:
    """(the time that orders ITEM among a student's copies, the time the LMS recorded or None).

    Inside the part of the path that is the student's, their own zip's time counts (as its
    container recorded it), not the times their zip tool wrote inside it."""
    when, recorded = item.time, item.recorded
    for part, zip_time, zip_recorded in item.zips:
        if part > who.part:
            when, recorded = zip_time, zip_recorded
            break
    # Canvas stamps its zips' entries when it makes the zip.
    return when, when if recorded and who.lms != "canvas" else None


def nbgrader_stamps(found: list[files.Found], folders: set[str]) -> dict[str, datetime]:
    """folder -> the submission time in nbgrader's timestamp.txt there."""
    from nbgrader.utils import parse_utc

    stamps = {}
    for item in found:
        folder, _, name = item.path.rpartition("/")
        if name == "timestamp.txt" and folder in folders and item.data:
            try:
                stamps[folder] = parse_utc(item.data.decode().strip()).replace(tzinfo=timezone.utc)
            except (ValueError, UnicodeDecodeError, OverflowError):
                continue
    return stamps


def separate_lms(handins: list[HandIn]) -> list[HandIn]:
    """HANDINS, with ids that two sources give (Moodle participant 7 and Canvas user 7) told
    apart by their source's name, so that two students are never merged."""
    kinds: dict[str, set[str]] = {}
    for handin in handins:
        kinds.setdefault(handin.student, set()).add(handin.who.lms)
    for handin in handins:
        if len(kinds[handin.student]) > 1 and handin.who.lms:
            who = handin.who
            handin.who = names.Identity(f"{who.lms}-{who.student}", who.name, who.lms, who.assignment, who.part,
                                        who.late, who.upload)
    return handins


def as_notebook_name(path: str) -> str:
    """PATH named as the notebook it holds: `a_01_forward.ipynb.txt`, `a_01_forward.json` -> `a_01_forward.ipynb`."""
    stem = re.sub(r"(?:\.ipynb)?(?:\.[A-Za-z0-9]{1,5})?$", "", path)
    return stem + ".ipynb"


def looks_like_notebook(data: bytes | None) -> bool:
    """Whether DATA, whatever the file's name (`01_forward.ipynb.txt`), is a notebook's JSON."""
    if not data or len(data) > files.MAX_BYTES:
        return False
    try:
        text, _ = files.decode(data)
        content = json.loads(text)
    except ValueError:
        return False
    return isinstance(content, dict) and "cells" in content and "nbformat" in content


def read_notebook(data: bytes) -> tuple[nbformat.NotebookNode, str | None]:
    """A hand-in's notebook and the encoding it was saved in when not UTF-8; ValueError
    with the reason when it cannot be read."""
    try:
        text, encoding = files.decode(data)
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many kinds for a damaged file
        raise ValueError(f"not a readable notebook ({type(error).__name__}: {str(error)[:200]})") from None
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell.setdefault("metadata", {})
        cell.setdefault("source", "")
    return nb, encoding


def identify(nb: nbformat.NotebookNode, named: str | None, released: dict) -> tuple[str | None, str | None]:
    """The assignment NB is for, and a note when its name did not say so. The name is
    believed when the content matches it at least as well as any other assignment (a
    later notebook holds the code of earlier ones, read-only)."""
    if named in released and repair.content_score(nb, released[named]) == 1.0:
        return named, None  # no other assignment can match better
    scores = {a: repair.content_score(nb, rel) for a, rel in released.items()}
    best = max(scores, key=lambda a: (scores[a], a == named), default=None)
    if best is None or scores[best] < RECOGNISED:
        return named, None
    if named is None:
        return best, f"assignment recognised as {best} by its content (the file name does not say)"
    if best != named:
        return best, f"the file name says {named} but the content is {best}: graded as {best}"
    return named, None


def shown_time(when: datetime | None) -> str:
    return f"{when.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" if when else "no time recorded"


def pick_newest(found: list[HandIn]) -> tuple[HandIn, str | None]:
    """Of several files of one student and assignment, the newest (see the module's docstring)."""
    ordered = sorted(found, key=lambda h: (h.time or EARLIEST, h.who.upload, names.copy_number(h.path), h.path))
    chosen = ordered[-1]
    if len(found) == 1:
        return chosen, None
    others = "; ".join(f"{h.path} ({shown_time(h.time)})" for h in reversed(ordered[:-1]))
    return chosen, f"{len(found)} files handed in: graded the newest, {chosen.path} ({shown_time(chosen.time)}); " \
                   f"not graded: {others}"


@dataclass
class Job:
    """One hand-in to autograde, rebuilt from its content, and how its grading went."""

    handin: HandIn
    assignment: str
    rebuilt: repair.Repair
    notes: list[str] = field(default_factory=list)  # remarks, not repairs
    run: nbgrader_run.Run | None = None  # set once autograded

    @property
    def student(self) -> str:
        return self.handin.student

    @property
    def path(self) -> str:
        return self.handin.path


def recognise(found: list[HandIn], known: dict[str, nbformat.NotebookNode], everything: list[str],
              log: Callable[[str], None]) -> tuple[dict[tuple[str, str], list], list[NotGraded]]:
    """Read every hand-in and tell which of KNOWN's assignments (name -> student notebook) it
    holds: (student, assignment) -> [(hand-in, notebook, notes)], and the files that cannot be
    graded. A hand-in named for an assignment of EVERYTHING not in KNOWN is left out, said in LOG."""
    named: dict[tuple[str, str], list] = {}
    unusable = []
    for handin in found:
        if handin.assignment in everything and handin.assignment not in known:
            log(f"skipped {handin.path}: {handin.assignment} is not being graded")
            continue
        hint = handin.assignment if handin.assignment in known else None
        try:
            nb, encoding = read_notebook(handin.data)
        except ValueError as error:
            unusable.append(NotGraded(handin.path, handin.who, hint, str(error)))
            continue
        assignment, note = identify(nb, hint, known)
        if assignment is None:
            unusable.append(NotGraded(handin.path, handin.who, None, "cannot tell which assignment this is"))
            continue
        handin.assignment = assignment
        saved = f"saved as {encoding}: read as such" if encoding else None
        named.setdefault((handin.student, assignment), []).append((handin, nb, [n for n in (note, saved) if n]))
    return named, unusable


def jobs(recognised: dict[tuple[str, str], list], released: dict, contexts: dict) -> list[Job]:
    """One job per student and assignment of RECOGNISED: the newest copy, rebuilt on the release."""
    found = []
    for (_, assignment), versions in sorted(recognised.items()):
        chosen, duplicates = pick_newest([h for h, _, _ in versions])
        nb, notes = next((nb, notes) for h, nb, notes in versions if h is chosen)
        rebuilt = repair.rebuild(nb, released[assignment], contexts[assignment])
        found.append(Job(chosen, assignment, rebuilt, notes + ([duplicates] if duplicates else [])))
    return found


def owner_label(who: names.Identity | None) -> str:
    """How a student is shown: their name, and the id when it says more."""
    if who is None:
        return "?"
    return who.name if re.sub(r"\W", "", who.name.casefold()) == who.student else f"{who.name} ({who.student})"
