"""Run nbgrader's command line in a course directory of our making.

We call the `nbgrader` command rather than its Python API so that each run
gets a fresh process: nbgrader's apps are singletons that keep state
between calls.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from rnncourse import config


def environment() -> dict[str, str]:
    """The environment for nbgrader, with this Python's `bin` first on PATH.

    nbgrader shells out to `alembic` by name, so without this every command
    that opens the gradebook fails when the virtual environment is not
    activated.
    """
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


def nbgrader(course_dir: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in COURSE_DIR; raise with nbgrader's log if it fails."""
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(
        command, cwd=course_dir, env=environment(), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`nbgrader {' '.join(args)}` failed (exit {done.returncode}) in {course_dir}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done


def make_course_dir(course_dir: Path, assignments: list[str]) -> Path:
    """Lay out an nbgrader course directory holding the masters of ASSIGNMENTS."""
    course_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(config.NBGRADER_CONFIG, course_dir / "nbgrader_config.py")
    for assignment in assignments:
        target = course_dir / "source" / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(config.SOURCE_DIR / assignment, target)
    return course_dir


def generate_assignment(course_dir: Path, assignment: str) -> Path:
    """Run generate_assignment; return the path of the released student notebook."""
    nbgrader(course_dir, "generate_assignment", assignment, "--force")
    return course_dir / "release" / assignment / f"{assignment}.ipynb"
