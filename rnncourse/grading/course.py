"""The output folder of a grading run: an nbgrader course folder of our making.

It holds the masters (source/), their release, the hand-ins as nbgrader wants
them (submitted/), what nbgrader writes (autograded/, feedback/), and an
nbgrader_config.py: the repository's, plus the gradebook's URL. Formgrader and
every nbgrader command work there as in any course folder.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat

from rnncourse import build, config, expected, nbgrader_run
from rnncourse.grading import gradebook

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
            + f"c.CourseDirectory.db_url = {url!r}\n")


def prepare(out: Path, assignments: list[str], db_url: str) -> dict[str, nbformat.NotebookNode]:
    """Make OUT a course folder holding ASSIGNMENTS, released; return each assignment's
    student notebook (the release with its Colab badge).

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
    return released


def submitted_path(out: Path, student: str, assignment: str) -> Path:
    return out / "submitted" / student / assignment / f"{assignment}.ipynb"


def autograded_path(out: Path, student: str, assignment: str) -> Path:
    return out / "autograded" / student / assignment / f"{assignment}.ipynb"


def feedback_path(out: Path, student: str, assignment: str) -> Path:
    return out / "feedback" / student / assignment / f"{assignment}.html"


def submit(out: Path, student: str, assignment: str, nb: nbformat.NotebookNode) -> None:
    """Put NB where nbgrader's autograde looks for STUDENT's hand-in of ASSIGNMENT."""
    path = submitted_path(out, student, assignment)
    if path.parent.exists():
        shutil.rmtree(path.parent)
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
