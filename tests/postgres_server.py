"""A throwaway PostgreSQL server for the tests: Debian's postgresql, listening on
the loopback only, in a temporary data directory that is deleted afterwards.

`unavailable()` says why no server can be started here (then the tests that
need one skip, saying so); `running()` starts one and yields a function that
creates a new, empty database in it and returns its URL.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's newest, or the ones on PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def as_server_user() -> list[str]:
    """The command prefix that runs the server's programs: PostgreSQL refuses to run as root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def unavailable() -> str | None:
    """Why no PostgreSQL server can be started here, or None."""
    try:
        import psycopg  # noqa: F401 (the driver the course's gradebook URLs name)
    except ImportError:
        return "the psycopg driver is not installed"
    if binaries() is None:
        return "PostgreSQL's server is not installed (Debian, Ubuntu: apt-get install postgresql)"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or subprocess.run(
            ["id", "postgres"], capture_output=True).returncode != 0):
        return "running as root, and there is no postgres user to run the server as"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def running() -> Iterator[Callable[[str], str]]:
    """Start a server; yield new_database(name) -> URL; stop the server and delete everything."""
    bin_dir, user = binaries(), as_server_user()
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    home = Path(tempfile.mkdtemp(prefix="rnncourse-postgres-"))
    data, log, port = home / "data", home / "server.log", free_port()
    try:
        if user:
            shutil.chown(home, "postgres")
        run(*user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
            "-E", "UTF8", "--locale=C")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off"
        run(*user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        def new_database(name: str) -> str:
            run(*user, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name)
            return f"postgresql://postgres@127.0.0.1:{port}/{name}"

        try:
            yield new_database
        finally:
            run(*user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)
