"""Find the hand-ins in a folder or an LMS zip: whose they are and for which assignment.

A file's path (relative to the folder or the zip, with `/` between folders)
is matched against regular expressions with the named groups `student` and
(optionally) `assignment`; the first that matches wins. The default
patterns, tried in order, accept:

    doejane_01_forward.ipynb                                  <student>_<assignment>.ipynb
    doejane/01_forward/01_forward.ipynb                       nbgrader's layout (nbgrader collect)
    Jane Doe_12345_assignsubmission_file_01_forward.ipynb     Moodle
    doejane_12345_67890_01_forward.ipynb                      Canvas
    doejane_LATE_12345_67890_01_forward-1.ipynb               Canvas, late and uploaded twice
    doejane_01_forward (1).ipynb                              a browser's second download
    doejane/Copy of 01_forward.ipynb                          Colab's name for a copy
    doejane/01_forward.ipynb                                  a folder per student
    Jane Doe_12345_assignsubmission_file_/01_forward.ipynb    Moodle, a folder per student
    doejane_homework.ipynb, doejane/homework.ipynb            renamed: the assignment is
                                                              recognised by the content

where <assignment> is the name of one of the course's assignments.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncourse import nbgrader_run
from rnncourse.grading import repair

# Minimum share of an assignment's recognisable cells a hand-in must hold to be taken for it.
RECOGNISED = 0.3

# What an LMS puts after a student's name: ids, markers of lateness and of Moodle.
LMS_TAIL = r"(?:_LATE)?(?:_\d+)*(?:_assignsubmission_[a-z]+)?(?:_LATE)?"
# What a browser, Canvas or Colab add around a file name.
COPY_PREFIX = r"(?:Copy[ _]of[ _])?"
COPY_SUFFIX = r"(?:\s*\(\d+\)|-\d+)?"


def default_patterns(assignments: list[str]) -> list[str]:
    """The default file-name patterns for the course's ASSIGNMENTS (see the module's docstring)."""
    names = "|".join(re.escape(a) for a in sorted(assignments, key=len, reverse=True))
    return [
        rf"^(?:.*/)?(?P<student>[^/]+)/(?P<assignment>{names})/(?P=assignment)\.ipynb$",
        rf"^(?:.*/)?(?P<student>[^/]+?){LMS_TAIL}_{COPY_PREFIX}(?P<assignment>{names}){COPY_SUFFIX}\.ipynb$",
        rf"^(?:.*/)?(?P<student>[^/]+?){LMS_TAIL}_?/{COPY_PREFIX}(?P<assignment>{names}){COPY_SUFFIX}\.ipynb$",
        rf"^(?:.*/)?(?P<student>[^/]+?){LMS_TAIL}_?/[^/]+\.ipynb$",
        rf"^(?:.*/)?(?P<student>[^/_]+?){LMS_TAIL}_[^/]*\.ipynb$",
        r"^(?:.*/)?(?P<student>[^/]+?)\.ipynb$",
    ]


@dataclass
class HandIn:
    """One file handed in: its path in the hand-ins, and what its name says."""

    path: str
    student: str
    assignment: str | None
    text: str


def student_id(name: str) -> str:
    """A student's name as an nbgrader id: lower case, letters, digits and `_`."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug or "unknown"


def parse_name(path: str, patterns: list[str]) -> tuple[str, str | None] | None:
    """(student id, assignment or None) from the first pattern that matches PATH."""
    for pattern in patterns:
        found = re.search(pattern, path)
        if found:
            groups = found.groupdict()
            return student_id(groups["student"]), groups.get("assignment")
    return None


def read_files(source: Path) -> dict[str, str]:
    """Every .ipynb in SOURCE (a folder or a zip): relative path -> text.

    When everything in a zip sits in one top folder (as an LMS's export often
    has it), that folder is left out of the paths. (Not in a folder: there,
    one top folder is as likely to be the only student's.)
    """
    files: dict[str, str] = {}
    if source.is_dir():
        for path in sorted(source.rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts and not path.name.startswith("."):
                files[path.relative_to(source).as_posix()] = path.read_text(errors="replace")
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                name = info.filename
                if name.endswith(".ipynb") and "__MACOSX" not in name and ".ipynb_checkpoints" not in name:
                    files[name] = archive.read(info).decode("utf-8", errors="replace")
        tops = {name.split("/")[0] for name in files}
        if len(tops) == 1 and all("/" in name for name in files):
            top = tops.pop() + "/"
            files = {name[len(top):]: text for name, text in files.items()}
    else:
        raise FileNotFoundError(f"{source}: not a folder or a zip file")
    return files


def collect(source: Path, patterns: list[str]) -> tuple[list[HandIn], list[str]]:
    """The hand-ins in SOURCE, and the files that no pattern could name."""
    handins, unnamed = [], []
    for path, text in read_files(source).items():
        parsed = parse_name(path, patterns)
        if parsed is None:
            unnamed.append(path)
        else:
            handins.append(HandIn(path, parsed[0], parsed[1], text))
    return handins, unnamed


def read_notebook(text: str) -> nbformat.NotebookNode:
    """A hand-in's notebook; raises ValueError with the reason when it cannot be read."""
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many kinds for a damaged file
        raise ValueError(f"not a readable notebook ({type(error).__name__}: {str(error)[:200]})") from None
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell.setdefault("metadata", {})
        cell.setdefault("source", "")
    return nb


def copy_number(path: str) -> int:
    """The browser's ` (N)` or Canvas' `-N` copy number in PATH's name (0 when none)."""
    found = re.search(r"(?:\((\d+)\)|-(\d+))\.ipynb$", path)
    return int(found.group(1) or found.group(2)) if found else 0


@dataclass
class Job:
    """One hand-in to autograde, rebuilt from its content, and how its grading went."""

    student: str
    assignment: str
    path: str
    rebuilt: repair.Repair
    notes: list[str] = field(default_factory=list)
    run: nbgrader_run.Run | None = None  # set once autograded


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


def pick_latest(found: list[HandIn]) -> tuple[HandIn, str | None]:
    """Of several files for one student and assignment, the last copy."""
    ordered = sorted(found, key=lambda h: (copy_number(h.path), h.path))
    chosen = ordered[-1]
    if len(found) == 1:
        return chosen, None
    return chosen, f"{len(found)} files handed in; graded {chosen.path}"


def jobs(found: list[HandIn], released: dict, everything: list[str], contexts: dict,
         log) -> tuple[list[Job], list[tuple[HandIn, str | None, str]]]:
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
            nb = read_notebook(handin.text)
        except ValueError as error:
            unusable.append((handin, handin.assignment if handin.assignment in released else None, str(error)))
            continue
        assignment, note = identify(nb, handin.assignment if handin.assignment in released else None, released)
        if assignment is None:
            unusable.append((handin, None, "cannot tell which assignment this is"))
            continue
        handin.assignment = assignment
        named.setdefault((handin.student, assignment), []).append((handin, nb, note))
    found_jobs = []
    for (student, assignment), versions in sorted(named.items()):
        chosen, duplicate_note = pick_latest([h for h, _, _ in versions])
        nb, note = next((nb, note) for h, nb, note in versions if h is chosen)
        rebuilt = repair.rebuild(nb, released[assignment], contexts[assignment])
        found_jobs.append(Job(student, assignment, chosen.path, rebuilt, [n for n in (note, duplicate_note) if n]))
    return found_jobs, unusable
