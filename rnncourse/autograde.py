"""Autograde hand-ins with nbgrader in a course directory of our making."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from rnncourse import nbgrader_run


def submit(course_dir: Path, assignment: str, student: str, notebook: Path) -> None:
    """Place NOTEBOOK where nbgrader looks for STUDENT's hand-in of ASSIGNMENT."""
    target = course_dir / "submitted" / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, target / f"{assignment}.ipynb")


def scores(course_dir: Path, assignment: str) -> dict[str, tuple[float, float]]:
    """Each graded student's (score, max_score) for ASSIGNMENT, from the gradebook."""
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        return {
            submission.student_id: (submission.score, submission.max_score)
            for submission in gradebook.assignment_submissions(assignment)
        }


def autograde(course_dir: Path, assignment: str, hand_ins: dict[str, Path]) -> dict[str, tuple[float, float]]:
    """Grade HAND_INS (student id -> notebook) of ASSIGNMENT; return their scores.

    COURSE_DIR must already hold the assignment (see nbgrader_run.make_course_dir
    and generate_assignment).
    """
    for student, notebook in hand_ins.items():
        submit(course_dir, assignment, student, notebook)
    nbgrader_run.nbgrader(course_dir, "autograde", assignment, "--create", "--force")
    graded = scores(course_dir, assignment)
    return {student: graded[student] for student in hand_ins}


def run_nbgrader(course_dir: Path, args: list[str], env: dict[str, str],
                 timeout: float) -> subprocess.CompletedProcess | None:
    """Run `nbgrader ARGS` in COURSE_DIR with ENV added; None if it ran past TIMEOUT seconds.

    Unlike nbgrader_run.nbgrader, a failure is returned, not raised: one
    hand-in's failure must not stop the others. The run gets a process group of
    its own, so that on a timeout it can be killed whole.
    """
    command = [sys.executable, "-m", "nbgrader", *args]
    process = subprocess.Popen(
        command, cwd=course_dir, env={**nbgrader_run.environment(), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def autograde_student(course_dir: Path, assignment: str, student: str, env: dict[str, str],
                      options: list[str], timeout: float, runner=run_nbgrader) -> subprocess.CompletedProcess | None:
    """Autograde one student's submitted ASSIGNMENT in an nbgrader run of its own.

    RUNNER runs nbgrader: run_nbgrader, or nbgrader_fork.forking's faster one.
    """
    args = ["autograde", assignment, "--student", student, "--create", "--force", *options]
    return runner(course_dir, args, env, timeout)


def generate_feedback(course_dir: Path, assignment: str, others: list[str], env: dict[str, str], options: list[str],
                      timeout: float, runner=run_nbgrader) -> subprocess.CompletedProcess:
    """nbgrader's generate_feedback for ASSIGNMENT's autograded students but OTHERS.

    One run for many students: each run costs about as much again as a student.
    """
    args = ["generate_feedback", assignment, "--force", *options,
            f"--CourseDirectory.student_id_exclude={','.join(sorted(others))}"]
    done = runner(course_dir, args, env, timeout)
    return done or subprocess.CompletedProcess([], 1, "", f"generate_feedback took longer than {timeout:.0f} s")


# The last line of a Python traceback: `RuntimeError: ...`, `nbgrader.api.MissingEntry: ...`.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Entry|Exit)\b.*")
# nbgrader's closing line after a traceback, which says nothing itself.
SEE_ABOVE = "Please see the the above traceback"


def last_error(done: subprocess.CompletedProcess) -> str:
    """The gist of a failed nbgrader run: the last exception it printed, else its last error line."""
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    exceptions = [line for line in lines if EXCEPTION_LINE.match(line)]
    errors = [line for line in lines if ("ERROR" in line or "Error" in line) and SEE_ABOVE not in line]
    return (exceptions or errors or lines or [f"exit {done.returncode}"])[-1][:300]
