"""Whose a hand-in is, and which assignment its name says: from its path alone.

A file belongs to the student whose LMS folder or LMS file-name prefix holds
it, never to a name written inside a file name the student chose. The parts
of a path (relative to the hand-ins, `/` between folders, a zip inside the
hand-ins counting as a folder) are read from the outside in, and the first
that says whose it is wins:

    Jane Doe_4711_assignsubmission_file_...               Moodle: participant 4711
    Jane Doe_4711_assignsubmission_file_/...              Moodle, a folder per student
    doejane_12345_67890_...                               Canvas: user 12345 (upload 67890)
    doejane_LATE_12345_67890_...                          Canvas, handed in late
    doejane/01_forward/01_forward.ipynb                   nbgrader's layout: student doejane
                                                          (a folder holding <assignment>.ipynb
                                                          or timestamp.txt; all under it is theirs)

Anywhere else the file's own name says whose it is, by the first pattern
(regular expressions with the groups `student` and `assignment`) that matches:

    doejane_01_forward.ipynb, doejane_01_forward (1).ipynb    <student>_<assignment>
    doejane/01_forward.ipynb, doejane/Copy of 01_forward.ipynb a folder per student
    doejane_homework.ipynb, doejane/homework.ipynb            renamed: the assignment is
                                                              recognised by the content

The assignment is the one whose name the file's name holds (Colab's `Copy of`
and a browser's ` (1)` around it), else it is recognised by the content.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

MOODLE = re.compile(r"^(?P<name>[^_/]+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<rest>.*)$")
CANVAS = [  # anonymous grading first: `anon_` would pass for a name
    re.compile(r"^(?P<name>)(?:(?P<late>LATE)_)?(?P<id>anon_[A-Za-z0-9]+)_(?P<upload>\d+)_(?P<rest>.+)$"),
    re.compile(r"^(?:(?P<name>\w*?)_)?(?:(?P<late>LATE)_)?(?P<id>\d+)_(?P<upload>\d+)_(?P<rest>.+)$"),
]
COPY_PREFIX = r"(?:Copy[ _]of[ _])?"
COPY_SUFFIX = r"(?:\s*\(\d+\)|-\d+)?"
COPY_NUMBER = re.compile(r"(?:\((\d+)\)|-(\d+))\.[^./]+$")


@dataclass(frozen=True)
class Identity:
    """Whose a file is, as its path says."""

    student: str  # the student's id in nbgrader: the LMS's id, nbgrader's folder, or the name made an id
    name: str  # the student's name as written (UTF-8), for display and export
    lms: str  # where the id comes from: "moodle", "canvas", "nbgrader" or "" (a file name)
    assignment: str | None  # the assignment the name says, or None
    part: int  # the index of the path part that says whose it is
    late: bool = False  # Canvas marked it late
    upload: int = 0  # Canvas's attachment id: a later upload has a larger one


def default_patterns(assignments: list[str]) -> list[str]:
    """The default file-name patterns for the course's ASSIGNMENTS (see the module's docstring)."""
    names = alternatives(assignments)
    return [
        rf"^(?:.*/)?(?P<student>[^/]+?)_{COPY_PREFIX}(?P<assignment>{names}){COPY_SUFFIX}\.ipynb$",
        rf"^(?:.*/)?(?P<student>[^/]+?)/{COPY_PREFIX}(?P<assignment>{names}){COPY_SUFFIX}\.ipynb$",
        r"^(?:.*/)?(?P<student>[^/]+?)/[^/]+\.ipynb$",
        r"^(?:.*/)?(?P<student>[^/_]+?)_[^/]*\.ipynb$",
        r"^(?:.*/)?(?P<student>[^/]+?)\.ipynb$",
    ]


def alternatives(assignments: list[str]) -> str:
    """A regular expression matching any of ASSIGNMENTS, the longest first."""
    return "|".join(re.escape(a) for a in sorted(assignments, key=len, reverse=True))


def student_id(name: str) -> str:
    """A name as an nbgrader id: lower case, letters (any script) and digits, `_` between
    words. Two names never give one id unless they differ only in case and punctuation;
    a name of no letters at all gets an id from its hash."""
    written = unicodedata.normalize("NFC", name)
    slug = re.sub(r"[\W_]+", "_", written.casefold()).strip("_")
    return slug or "student_" + hashlib.sha256(written.encode()).hexdigest()[:8]


def assignment_in(text: str, assignments: list[str]) -> str | None:
    """The one assignment whose name TEXT holds as a word of its own, or None."""
    found = {m.group(1) for m in re.finditer(rf"(?<![A-Za-z0-9])({alternatives(assignments)})(?![A-Za-z0-9])", text)}
    return found.pop() if len(found) == 1 else None


def copy_number(path: str) -> int:
    """The browser's ` (N)` or Canvas's `-N` copy number in PATH's name (0 when none)."""
    found = COPY_NUMBER.search(path)
    return int(found.group(1) or found.group(2)) if found else 0


def nbgrader_folders(paths: list[str], assignments: list[str]) -> set[str]:
    """The folders `<student>/<assignment>` of nbgrader's layout among PATHS: those that
    hold `<assignment>.ipynb` or nbgrader's timestamp.txt."""
    folders = set()
    for path in paths:
        parts = path.split("/")
        if len(parts) >= 3 and parts[-2] in assignments and parts[-1] in (f"{parts[-2]}.ipynb", "timestamp.txt"):
            folders.add("/".join(parts[:-1]))
    return folders


def from_lms(parts: list[str], index: int, assignments: list[str]) -> Identity | None:
    """The identity that part INDEX of a path gives as a Moodle or Canvas name, or None."""
    part = parts[index]
    named = assignment_in(re.sub(r"\.[^./]+$", "", parts[-1]), assignments)
    moodle = MOODLE.match(part)
    if moodle:
        name = moodle["name"] if moodle["name"] != "Participant" else f"Participant {moodle['id']}"
        return Identity(moodle["id"], name, "moodle", named, index)
    canvas = next(filter(None, (pattern.match(part) for pattern in CANVAS)), None)
    # `bob_1_01_forward.ipynb` is Bob's hand-in, not Canvas user 1's.
    after_id = f"{canvas['upload']}_{canvas['rest']}" if canvas else ""
    if canvas and not re.match(rf"(?:{alternatives(assignments)})(?![A-Za-z0-9])", after_id):
        return Identity(canvas["id"], canvas["name"] or canvas["id"], "canvas", named, index,
                        late=bool(canvas["late"]), upload=int(canvas["upload"]))
    return None


def from_patterns(parts: list[str], patterns: list[str]) -> Identity | None:
    """The identity the first of PATTERNS that matches gives, or None. Zips inside the
    hand-ins are left out of the path matched: `doejane/work.zip/01_forward.ipynb` is doejane's."""
    kept = [i for i, part in enumerate(parts) if i == len(parts) - 1 or not part.lower().endswith(".zip")]
    path = "/".join(parts[i] for i in kept)
    for pattern in patterns:
        found = re.search(pattern, path)
        if found:
            written, named = found["student"], found.groupdict().get("assignment")
            owner = kept[path[:found.start("student")].count("/")]
            return Identity(student_id(written), written, "", named, owner)
    return None


def identify(path: str, patterns: list[str], assignments: list[str], folders: set[str]) -> Identity | None:
    """Whose PATH is (see the module's docstring), or None when nothing says.

    FOLDERS is nbgrader_folders of every path handed in."""
    parts = path.split("/")
    for index in range(len(parts)):
        found = from_lms(parts, index, assignments)
        if found:
            return found
        if index + 2 < len(parts) and "/".join(parts[:index + 2]) in folders:
            return Identity(parts[index], parts[index], "nbgrader", parts[index + 1], index)
    return from_patterns(parts, patterns)
