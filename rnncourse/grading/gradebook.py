"""nbgrader's gradebook, chosen by URL, shared safely by graders working at once.

SQLite (the default: a file in the output folder) serves one machine;
PostgreSQL (`postgresql://user@host/dbname`) serves several graders at once and a
shared grading server. nbgrader opens the gradebook from every one of its
processes, so when several grade at the same time:

- SQLite transactions start with BEGIN IMMEDIATE and wait for the file's lock.
  pysqlite starts them lazily instead, and a reading transaction that then writes
  fails at once with "database is locked" when another process holds the lock
  (SQLite cannot make it wait without risking a deadlock).
- `locked` serialises what must not overlap: preparing the course (the release,
  the gradebook's tables, the students) and grading one assignment. It takes
  file locks in the output folder and, for PostgreSQL, advisory locks in the
  server, which graders on other machines see too.

Only the graders' own nbgrader runs start their transactions with BEGIN
IMMEDIATE (nbgrader_run calls wait_for_sqlite_locks). Formgrader opens a second
gradebook within one request while the first one's session is still open: had
that session taken the lock when it began, the second would wait for its own
process until it gave up (HTTP 500, "database is locked"). Formgrader and
nbgrader's other commands in the output folder only wait longer for another
process's write lock (wait_for_other_writers, from the folder's
nbgrader_config.py); their transactions start as pysqlite starts them, at the
first write.
"""
from __future__ import annotations

import ast
import contextlib
import fcntl
import functools
import hashlib
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import nbgrader.api
import nbgrader.dbutil
from nbgrader.api import Gradebook
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from rnncourse import config

# How long an SQLite transaction waits for another process's lock. Transactions last
# milliseconds; a long wait means a grader is stuck, and then an error is better.
SQLITE_WAIT_MS = 120_000
# How long formgrader waits for a grader's lock (it answers no other request meanwhile).
FORMGRADER_WAIT_MS = 30_000


def default_url(out: Path) -> str:
    return f"sqlite:///{(out / 'gradebook.db').resolve()}"


# The line course.config_text writes into the output folder's nbgrader_config.py.
RECORDED_URL = re.compile(r"^c\.CourseDirectory\.db_url = (.+)$", re.M)


def recorded_url(out: Path) -> str | None:
    """The gradebook OUT was graded with, as its nbgrader_config.py records it (read, not run)."""
    try:
        found = RECORDED_URL.findall((out / "nbgrader_config.py").read_text())
    except OSError:
        return None
    try:
        return ast.literal_eval(found[-1]) if found else None
    except (ValueError, SyntaxError):
        return None


def resolve_url(db: str | None, out: Path) -> str:
    """The gradebook of a grading run into OUT: DB when given, else the one OUT was graded
    with, else the db_url that nbgrader_config.py sets, else SQLite in OUT; checked (see
    check_url). Grading again or refreshing without --db keeps to one gradebook."""
    return check_url(db or recorded_url(out) or config.course_directory_setting("db_url") or default_url(out))


def check_url(url: str) -> str:
    """URL if it names a database this course can use, with PostgreSQL's driver
    made explicit (psycopg, the one in requirements.txt, whatever SQLAlchemy's
    default); else a ValueError saying what is expected."""
    try:
        parsed = make_url(url)
    except Exception:  # SQLAlchemy raises ArgumentError, ValueError... for a malformed URL
        raise ValueError(f"--db {url!r} is not a database URL; expected sqlite:///PATH or "
                         "postgresql://USER@HOST[:PORT]/DBNAME") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"--db {redacted(url)}: the gradebook can be SQLite or PostgreSQL, "
                         f"got {parsed.get_backend_name()}")
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise ValueError(f"--db {url!r} names no file; expected sqlite:///PATH (an in-memory SQLite "
                         "database would vanish with each nbgrader process)")
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def redacted(url: str) -> str:
    """URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """URL without its password, and the environment that gives the password to
    PostgreSQL's client library (PGPASSWORD), so that no file holds it."""
    parsed = make_url(url)
    if parsed.password is None:
        return url, {}
    return parsed._replace(password=None).render_as_string(hide_password=False), {"PGPASSWORD": str(parsed.password)}


def _sqlite_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event below says BEGIN, not pysqlite
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_WAIT_MS}")


def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def wait_for_sqlite_locks() -> None:
    """Make every SQLite transaction of this process take the file's lock first
    and wait for it (SQLAlchemy's recipe for pysqlite transactions)."""
    if not event.contains(Engine, "connect", _sqlite_connect):
        event.listen(Engine, "connect", _sqlite_connect)
        event.listen(Engine, "begin", _sqlite_begin)


def _sqlite_wait(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {FORMGRADER_WAIT_MS}")


def wait_for_other_writers() -> None:
    """Make SQLite connections of this process wait up to FORMGRADER_WAIT_MS for another
    process's write lock (pysqlite gives up after 5 s), and change nothing else (see the
    module's docstring); a grader's own runs keep wait_for_sqlite_locks."""
    if not event.contains(Engine, "connect", _sqlite_connect) and not event.contains(Engine, "connect", _sqlite_wait):
        event.listen(Engine, "connect", _sqlite_wait)


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's 64-bit key for NAME, the same on every machine."""
    return int.from_bytes(hashlib.sha256(f"rnncourse:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def file_locks(out: Path, names: list[str]) -> Iterator[None]:
    """Hold the file locks NAMES in OUT, taken in sorted order (so that two
    graders cannot each hold one the other waits for); freed when the block ends
    or the process dies."""
    (out / ".locks").mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        for name in sorted(set(names)):
            handle = stack.enter_context((out / ".locks" / name).open("a"))
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def locked(out: Path, url: str, names: list[str]) -> Iterator[None]:
    """Hold the locks NAMES: file locks in OUT and, for PostgreSQL, advisory
    locks in the server, for graders on other machines."""
    names = sorted(set(names))
    with contextlib.ExitStack() as stack:
        stack.enter_context(file_locks(out, names))
        if is_postgresql(url):
            # NullPool: closing the connection ends the session, which frees its advisory locks.
            engine = create_engine(url, poolclass=NullPool)
            stack.callback(engine.dispose)
            connection = stack.enter_context(engine.connect())
            for name in names:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(name)})
            connection.commit()
        yield


NBGRADERS_REVISION = nbgrader.api.get_alembic_version  # nbgrader's own: `alembic heads` in a subprocess


@functools.cache
def schema_revision() -> str:
    """The revision of nbgrader's gradebook schema, read from its migration scripts here."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(nbgrader.dbutil.ALEMBIC_DIR).get_current_head()


def revision_in_process() -> None:
    """Make nbgrader read its schema's revision in this process when it makes a gradebook.

    nbgrader stamps every new gradebook with the output of `alembic heads`, run as a
    subprocess: a fresh Python that imports nbgrader and nbformat again, 5 s of CPU for
    a string that is the same for an installed nbgrader (a test compares the two)."""
    nbgrader.api.get_alembic_version = schema_revision


def opened(url: str) -> Gradebook:
    """The course's gradebook at URL (created if needed), for use in a `with` block."""
    revision_in_process()
    return Gradebook(url, config.course_id())


def add_students(url: str, students: dict[str, tuple[str, str | None]]) -> None:
    """Create the gradebook if needed, and every student in it: id -> (full name as
    written, the LMS's id or None). nbgrader keeps a first and a last name: the last
    word of the name is taken for the last.

    nbgrader's autograde creates a missing student itself; two of them doing so
    at once for one student (grading two assignments) would collide.
    """
    with opened(url) as gradebook:
        for student, (name, lms_id) in sorted(students.items()):
            first, _, last = name.strip().rpartition(" ")
            gradebook.update_or_create_student(student, first_name=first or None, last_name=last or None,
                                               lms_user_id=lms_id)


def set_due_dates(url: str, due_dates: dict[str, datetime | None]) -> None:
    """Each assignment's due date in the gradebook (None: no due date), where nbgrader
    reads it for late penalties (as naive UTC, nbgrader's way)."""
    with opened(url) as gradebook:
        for assignment, due in sorted(due_dates.items()):
            utc = due.astimezone(timezone.utc).replace(tzinfo=None) if due else None
            if gradebook.find_assignment(assignment).duedate != utc:
                gradebook.update_or_create_assignment(assignment, duedate=utc)
