"""Start many nbgrader runs quickly: a resident process imports nbgrader once,
then forks a fresh process for each run.

Each hand-in is graded in an nbgrader run of its own, so that one cannot stop
or change another; nbgrader's apps are singletons, so a run must be a process
of its own. Importing nbgrader costs about 3 s of CPU, more than grading a
small notebook; forking a process that has already imported it saves that
every time, and each run is still a fresh process.

Run as `python -m rnncourse.nbgrader_fork`, the resident process reads one JSON request
per line on stdin ({"args", "cwd", "env", "log"}), answers {"pid"} when the
run starts and {"code"} when it ends.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from rnncourse import nbgrader_run

Runner = Callable[[Path, list[str], dict[str, str], float], "subprocess.CompletedProcess | None"]


def child(request: dict) -> None:
    """In the forked process: run nbgrader with REQUEST's arguments, then exit."""
    code = 1
    try:
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.update(request["env"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        from nbgrader.apps.nbgraderapp import NbGraderApp

        NbGraderApp.launch_instance(argv=request["args"])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 (reported in the run's log)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """The resident process's loop: fork a run per request, report its pid and exit code."""
    import nbclient  # noqa: F401 (imported once, here, for every run)
    import nbconvert.exporters  # noqa: F401
    import nbgrader.apps.nbgraderapp  # noqa: F401
    import nbgrader.converters  # noqa: F401

    import rnncourse.execute  # noqa: F401
    import rnncourse.feedback  # noqa: F401

    answer = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            child(request)
        answer.write(json.dumps({"pid": pid}) + "\n")
        answer.flush()
        _, status = os.waitpid(pid, 0)
        answer.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        answer.flush()


def read_line(fd: int, timeout: float | None) -> bytes | None:
    """One line from FD, or None when none has come within TIMEOUT seconds."""
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, 1)
        if not chunk:
            raise RuntimeError("the resident nbgrader process stopped")
        line += chunk
    return line


@contextlib.contextmanager
def forking() -> Iterator[Runner]:
    """A function that runs `nbgrader ARGS` in a course folder, with ENV added,
    as a fresh fork of a resident process: (course_dir, args, env, timeout) ->
    CompletedProcess (its log in stderr), or None when it ran past TIMEOUT
    seconds and was killed."""
    server = subprocess.Popen(
        [sys.executable, "-m", "rnncourse.nbgrader_fork"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        env={**nbgrader_run.environment(), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    out_fd = server.stdout.fileno()

    def run(course_dir: Path, args: list[str], env: dict[str, str], timeout: float):
        with tempfile.TemporaryDirectory(prefix="rnng-log-") as tmp:
            log = Path(tmp) / "nbgrader.log"
            request = {"args": args, "cwd": str(course_dir), "env": env, "log": str(log)}
            server.stdin.write((json.dumps(request) + "\n").encode())
            server.stdin.flush()
            pid = json.loads(read_line(out_fd, 60))["pid"]
            finished = read_line(out_fd, timeout)
            if finished is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                read_line(out_fd, 60)
                return None
            text = log.read_text(errors="replace") if log.exists() else ""
            return subprocess.CompletedProcess(["nbgrader", *args], json.loads(finished)["code"], "", text)

    try:
        yield run
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


if __name__ == "__main__":
    serve()
