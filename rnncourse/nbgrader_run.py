"""Run nbgrader's command line: the one place that does, for the build and for grading.

Each run is a fresh process, because nbgrader's apps are singletons that keep
state between calls, and because one hand-in's run must not be able to stop or
change another's. Importing nbgrader costs about 3 s of CPU, more than grading
a small notebook, so runs are forked from multiprocessing's forkserver with
nbgrader already imported: every run is still a process of its own.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from rnncourse import config

# Imported once, in the forkserver, for every run.
PRELOAD = ["nbgrader.apps.nbgraderapp", "nbgrader.converters", "nbclient", "nbconvert.exporters",
           "rnncourse.grading.settings", "rnncourse.grading.gradebook",
           # what the judge's reference runs import (the notebooks' own imports)
           "numpy", "matplotlib.pyplot", "sklearn.base", "sklearn.datasets", "sklearn.model_selection"]
DONE, FAILED, TIMED_OUT = "done", "failed", "timed out"


@dataclass(frozen=True)
class Run:
    """How one nbgrader run ended: its status (DONE, FAILED or TIMED_OUT) and its log."""

    args: tuple[str, ...]
    status: str
    log: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == DONE

    def gist(self) -> str:
        """What went wrong, in a line."""
        if self.status == TIMED_OUT:
            return f"it took longer than {self.seconds:.0f} s and was stopped"
        return last_error(self.log) if self.log.strip() else f"nbgrader {self.args[0]} failed"


def environment() -> dict[str, str]:
    """The environment for nbgrader, with this Python's `bin` first on PATH.

    nbgrader shells out to `alembic` by name, so without this every command
    that opens the gradebook fails when the virtual environment is not activated.
    """
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


_context: multiprocessing.context.ForkServerContext | None = None


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        os.environ["PATH"] = environment()["PATH"]  # the forkserver, and so every run, inherits it
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _child(course_dir: str, args: list[str], env: dict[str, str], log: str) -> None:
    """In the forked process: nbgrader ARGS in COURSE_DIR, its output to LOG."""
    code = 1
    try:
        os.setsid()  # a process group of its own, to be killed whole on a timeout
        os.chdir(course_dir)
        os.environ.update(env)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        from nbgrader.apps.nbgraderapp import NbGraderApp

        from rnncourse.grading.gradebook import wait_for_sqlite_locks

        wait_for_sqlite_locks()  # several graders may share the gradebook (not in formgrader: it would hang)
        NbGraderApp.launch_instance(argv=args)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 (reported in the run's log)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run(course_dir: Path, args: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> Run:
    """`nbgrader ARGS` in COURSE_DIR with ENV added, stopped after TIMEOUT seconds.

    A failure is returned, not raised: one hand-in's failure must not stop the others.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnncourse-run-") as tmp:
        log = Path(tmp) / "nbgrader.log"
        process = _forkserver().Process(target=_child, args=(str(course_dir), list(args), dict(env or {}), str(log)))
        process.start()
        process.join(timeout)
        timed_out = process.exitcode is None
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.join()
        text = log.read_text(errors="replace") if log.exists() else ""
    status = TIMED_OUT if timed_out else DONE if process.exitcode == 0 else FAILED
    return Run(tuple(args), status, text, time.monotonic() - started)


def check(done: Run, course_dir: Path) -> Run:
    """DONE, or a RuntimeError with nbgrader's log."""
    if not done.ok:
        raise RuntimeError(f"`nbgrader {' '.join(done.args)}` {done.status} in {course_dir}:\n{done.log}")
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
    """Release ASSIGNMENT; return the path of the student notebook."""
    check(run(course_dir, ["generate_assignment", assignment, "--force"]), course_dir)
    return course_dir / "release" / assignment / f"{assignment}.ipynb"


# The last line of a Python traceback: `RuntimeError: ...`, `nbgrader.api.MissingEntry: ...`.
_EXCEPTION = ("Error", "Exception", "Entry", "Exit")
# nbgrader's closing line after a traceback, which says nothing itself.
_SEE_ABOVE = "Please see the the above traceback"


def last_error(log: str) -> str:
    """The gist of a failed run's LOG: the last exception it printed, else its last error line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    exceptions = [line for line in lines
                  if line.split(":")[0].split(".")[-1].endswith(_EXCEPTION) and " " not in line.split(":")[0]]
    errors = [line for line in lines if ("ERROR" in line or "Error" in line) and _SEE_ABOVE not in line]
    return (exceptions or errors or lines or ["no output"])[-1][:300]
