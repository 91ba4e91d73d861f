"""The output folder of a grading run: an nbgrader course folder of our making.

It holds the masters (source/), their release, the hand-ins as nbgrader wants
them (submitted/, with nbgrader's timestamp.txt where the LMS recorded a time),
what nbgrader writes (autograded/, feedback/), and an nbgrader_config.py: the
repository's, plus the gradebook's URL. Formgrader and every nbgrader command
work there as in any course folder.

The term's settings are in the repository's nbgrader_config.py, the one place
for them: each assignment's due date (put in the gradebook, where nbgrader's
late penalties read it) and the time zone of an LMS's zip times:

    c.Term.due_dates = {"01_forward": "2025-10-06 23:59 Europe/Berlin"}
    c.Term.lms_timezone = "Europe/Berlin"
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path

import nbformat
from dateutil import tz
from traitlets.config.loader import PyFileConfigLoader

from rnncourse import build, config, expected, nbgrader_run
from rnncourse.grading import gradebook

DUE_DATE_FORMAT = "YYYY-MM-DD HH:MM[:SS] TIMEZONE (for example 2025-10-06 23:59 Europe/Berlin)"


@dataclass(frozen=True)
class Term:
    """The term's settings: due dates (aware times) and the time zone of an LMS's zip times."""

    due_dates: dict[str, datetime] = field(default_factory=dict)
    zone: tzinfo | None = None  # None: this machine's


def due_date(assignment: str, text: str) -> datetime:
    """TEXT as an aware time; ValueError saying what is expected when it is not one."""
    date, _, zone_name = str(text).strip().rpartition(" ")
    zone = tz.gettz(zone_name) if zone_name and not zone_name[0].isdigit() else None
    try:
        when = datetime.fromisoformat(date) if zone else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is not None:
        raise ValueError(f"c.Term.due_dates[{assignment!r}] in nbgrader_config.py: expected {DUE_DATE_FORMAT}, "
                         f"got {text!r}")
    return when.replace(tzinfo=zone)


def term(path: Path = config.NBGRADER_CONFIG, assignments: list[str] | None = None) -> Term:
    """The Term that the nbgrader_config.py at PATH sets; ValueError for a setting that is wrong."""
    loaded = PyFileConfigLoader(path.name, path=str(path.parent)).load_config().get("Term", {})
    known = assignments if assignments is not None else config.assignments()
    dates = dict(loaded.get("due_dates", {}))
    unknown = sorted(set(dates) - set(known))
    if unknown:
        raise ValueError(f"c.Term.due_dates in nbgrader_config.py names {', '.join(unknown)}; "
                         f"expected some of: {', '.join(known)}")
    zone_name = loaded.get("lms_timezone")
    zone = tz.gettz(zone_name) if zone_name else None
    if zone_name and zone is None:
        raise ValueError(f"c.Term.lms_timezone in nbgrader_config.py: expected a time zone such as "
                         f"Europe/Berlin or UTC, got {zone_name!r}")
    return Term({a: due_date(a, text) for a, text in dates.items()}, zone)

# Time limit of the release, which executes no student code.
RELEASE_TIMEOUT = 600


def write_if_changed(path: Path, text: str) -> None:
    """Write TEXT to PATH in one step, so a grader reading it at the same time sees
    the old or the new file, never half of one."""
    if path.is_file() and path.read_text() == text:
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, path)


def config_text(db_url: str) -> str:
    """The output folder's nbgrader_config.py: the repository's, and the gradebook.

    A PostgreSQL password is left out (see gradebook.without_password)."""
    url, _ = gradebook.without_password(db_url)
    return (config.NBGRADER_CONFIG.read_text()
            + "\n# ---- Written by `rnncourse grade`: the gradebook of this folder ----\n"
            + f"c.CourseDirectory.db_url = {url!r}\n"
            + "# Formgrader and nbgrader's commands wait for a grader's lock on an SQLite gradebook.\n"
            + "from rnncourse.grading import gradebook as _gradebook  # noqa: E402\n\n"
            + "_gradebook.wait_for_other_writers()\n")


def prepare(out: Path, assignments: list[str], db_url: str, due_dates: dict[str, datetime] | None = None,
            ) -> dict[str, nbformat.NotebookNode]:
    """Make OUT a course folder holding ASSIGNMENTS, released, with their DUE_DATES in the
    gradebook; return each assignment's student notebook (the release with its Colab badge).

    Call with the course lock held (gradebook.locked): it writes shared files.
    """
    out.mkdir(parents=True, exist_ok=True)
    write_if_changed(out / "nbgrader_config.py", config_text(db_url))
    _, secret_env = gradebook.without_password(db_url)
    released = {}
    for assignment in assignments:
        # The master as the build makes the student notebook of it: self-checks' expected values as numbers.
        master = build.to_text(expected.filled(build.read_master(assignment)))
        copy = out / "source" / assignment / f"{assignment}.ipynb"
        release = out / "release" / assignment / f"{assignment}.ipynb"
        if not (release.is_file() and copy.is_file() and copy.read_text() == master):
            if copy.parent.exists():
                shutil.rmtree(copy.parent)
            shutil.copytree(config.SOURCE_DIR / assignment, copy.parent)
            copy.write_text(master)
            done = nbgrader_run.run(out, ["generate_assignment", assignment, "--force"], secret_env, RELEASE_TIMEOUT)
            if not done.ok:
                raise RuntimeError(f"nbgrader could not release {assignment} in {out}: {done.gist()}")
        nb = nbformat.read(release, as_version=4)
        nb.cells.insert(0, build.badge_cell(assignment))
        released[assignment] = nb
    gradebook.set_due_dates(db_url, {a: (due_dates or {}).get(a) for a in assignments})
    return released


def submitted_path(out: Path, student: str, assignment: str) -> Path:
    return out / "submitted" / student / assignment / f"{assignment}.ipynb"


def autograded_path(out: Path, student: str, assignment: str) -> Path:
    return out / "autograded" / student / assignment / f"{assignment}.ipynb"


def feedback_path(out: Path, student: str, assignment: str) -> Path:
    return out / "feedback" / student / assignment / f"{assignment}.html"


def submit(out: Path, student: str, assignment: str, nb: nbformat.NotebookNode,
           submitted: datetime | None = None) -> None:
    """Put NB where nbgrader's autograde looks for STUDENT's hand-in of ASSIGNMENT, with the
    time it was SUBMITTED (when the LMS recorded one) in nbgrader's timestamp.txt."""
    path = submitted_path(out, student, assignment)
    if path.parent.exists():
        shutil.rmtree(path.parent)
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    if submitted is not None:
        (path.parent / "timestamp.txt").write_text(f"{submitted.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S.%f} UTC\n")


def autograded_students(out: Path, assignment: str) -> list[str]:
    """Every student whose hand-in of ASSIGNMENT is autograded in OUT."""
    return sorted(p.parent.parent.name for p in (out / "autograded").glob(f"*/{assignment}/{assignment}.ipynb"))
