"""The files handed in, read from a folder or a zip: every one of them, and nothing else.

Zips inside (a student's own zip, an LMS's zip in a folder) are opened, up to
MAX_DEPTH deep. Symbolic links and other special files are refused and
reported, never followed: a link to /etc/passwd or to the reference solution
is not a hand-in. Each file keeps the time it was recorded with: its zip
entry's time (the LMS's, for an LMS's zip), else its modification time.
Nothing is written anywhere: a zip's member named `../x` is only a name.
"""
from __future__ import annotations

import codecs
import io
import os
import stat
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path

MAX_BYTES = 100 * 2**20  # a larger file is refused: no notebook of this course is near it
MAX_DEPTH = 3  # zips inside zips
# What operating systems and Jupyter leave among files: not the students' work.
JUNK = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Found:
    """One file among the hand-ins: its path there, its bytes, and when it was recorded."""

    path: str  # relative, `/` between folders; a zip inside counts as a folder: `a.zip/b.ipynb`
    data: bytes | None  # None when it is refused
    time: datetime | None  # aware; None when nothing recorded one
    recorded: bool = False  # the time is a zip entry's (an LMS's record), not the file's own
    zips: tuple[tuple[int, datetime | None, bool], ...] = ()  # each zip it came out of: (path part, time, recorded)
    problem: str | None = None  # why it is refused


def is_junk(name: str) -> bool:
    return name in JUNK or name.startswith("._")


def read_source(source: Path, zone: tzinfo | None = None, keep_top: Callable[[str], bool] = lambda top: False,
                ) -> list[Found]:
    """Every file in SOURCE (a folder or a zip), sorted by path. ZONE is the time zone of
    zip entries' times (a zip records local time without saying which; default: this machine's).
    A zip's one top folder is left out of the paths unless KEEP_TOP(its name)."""
    if source.is_dir():
        found = read_folder(source, zone)
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            found = without_top_folder(read_zip(archive, "", 0, (), zone), keep_top)
    else:
        raise FileNotFoundError(f"{source}: expected a folder or a zip file of hand-ins, got neither")
    return sorted(found, key=lambda f: f.path)


def read_folder(folder: Path, zone: tzinfo | None) -> list[Found]:
    """Every file under FOLDER, links not followed."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        for name in sorted(dirs):
            path = here / name
            relative = path.relative_to(folder).as_posix()
            if is_junk(name):
                dirs.remove(name)
            elif path.is_symlink() or name.startswith("."):
                dirs.remove(name)
                why = "a symbolic link: not followed" if path.is_symlink() else "a hidden folder: not read"
                found.append(Found(relative, None, None, problem=why))
        for name in sorted(files):
            if not is_junk(name):
                found.extend(read_file(here / name, (here / name).relative_to(folder).as_posix(), zone))
    return found


def read_file(path: Path, relative: str, zone: tzinfo | None) -> list[Found]:
    """The file at PATH (a zip: its files), or the reason it is refused."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return [Found(relative, None, None, problem=f"a symbolic link (to {os.readlink(path)}): not followed")]
    if not stat.S_ISREG(info.st_mode):
        return [Found(relative, None, None, problem="not a regular file (a pipe, socket or device): not read")]
    when = datetime.fromtimestamp(info.st_mtime, timezone.utc)
    if info.st_size > MAX_BYTES:
        return [Found(relative, None, when, problem=f"{info.st_size} bytes, more than {MAX_BYTES}: not read")]
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as stream:
        data = stream.read(MAX_BYTES + 1)
    return opened(Found(relative, data, when), 0, zone)


def opened(found: Found, depth: int, zone: tzinfo | None) -> list[Found]:
    """FOUND, or the files inside it when it is a zip."""
    if not (found.path.lower().endswith(".zip") and found.data and zipfile.is_zipfile(io.BytesIO(found.data))):
        return [found]
    if depth >= MAX_DEPTH:
        return [refused(found, f"a zip inside {depth} zips: not opened")]
    try:
        with zipfile.ZipFile(io.BytesIO(found.data)) as archive:
            part = (found.path.count("/"), found.time, found.recorded)
            return read_zip(archive, found.path + "/", depth + 1, found.zips + (part,), zone)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        return [refused(found, f"a damaged zip ({error})")]


def refused(found: Found, why: str) -> Found:
    return Found(found.path, None, found.time, found.recorded, found.zips, why)


def read_zip(archive: zipfile.ZipFile, prefix: str, depth: int, zips: tuple, zone: tzinfo | None) -> list[Found]:
    """The files of ARCHIVE, their paths under PREFIX."""
    members = [info for info in sorted(archive.infolist(), key=lambda i: i.filename)
               if not info.is_dir() and not any(is_junk(part) for part in member_name(info).split("/"))]
    times = {info.filename: entry_time(info, zone) for info in members}
    # Entries that all carry one time were stamped when the zip was made: that time says nothing.
    recorded = len(members) < 2 or len(set(times.values())) > 1
    found = []
    for info in members:
        name = member_name(info)
        item = Found(prefix + name, None, times[info.filename], recorded, zips)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            found.append(refused(item, "a symbolic link: not followed"))
        elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # many zips give permissions without a type
            found.append(refused(item, "not a regular file: not read"))
        elif name.startswith("/") or ".." in name.split("/"):
            found.append(refused(item, "a path that leaves the zip: not read"))
        elif info.flag_bits & 0x1:
            found.append(refused(item, "encrypted: not read"))
        elif info.file_size > MAX_BYTES:
            found.append(refused(item, f"{info.file_size} bytes, more than {MAX_BYTES}: not read"))
        else:
            found.extend(read_member(archive, info, item, depth, zone))
    return found


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, found: Found, depth: int,
                zone: tzinfo | None) -> list[Found]:
    """One member of ARCHIVE, read at most MAX_BYTES (a zip may claim a small size and lie)."""
    try:
        with archive.open(info) as stream:
            data = stream.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        return [refused(found, f"cannot be read from the zip ({error})")]
    if len(data) > MAX_BYTES:
        return [refused(found, f"more than {MAX_BYTES} bytes: not read")]
    return opened(Found(found.path, data, found.time, found.recorded, found.zips), depth, zone)


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as it was written: a zip without the UTF-8 flag has its names read
    as code page 437, which turns a UTF-8 `María` into `Mar├¡a`."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def entry_time(info: zipfile.ZipInfo, zone: tzinfo | None) -> datetime | None:
    """A member's time: the UTC time of its extended-timestamp field when it has one,
    else its local time in ZONE (the machine's when None)."""
    extra = info.extra
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        body, extra = extra[4:4 + size], extra[4 + size:]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], timezone.utc)
    try:
        local = datetime(*info.date_time)
    except ValueError:
        return None
    return local.replace(tzinfo=zone) if zone else local.astimezone()


def without_top_folder(found: list[Found], keep_top: Callable[[str], bool]) -> list[Found]:
    """FOUND without the one top folder everything in an LMS's zip often sits in."""
    tops = {f.path.split("/")[0] for f in found}
    if len(tops) != 1 or not all("/" in f.path for f in found) or keep_top(next(iter(tops))):
        return found
    cut = len(tops.pop()) + 1
    return [Found(f.path[cut:], f.data, f.time, f.recorded, tuple((i - 1, t, r) for i, t, r in f.zips), f.problem)
            for f in found]


BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def decode(data: bytes) -> tuple[str, str | None]:
    """DATA as text, and the encoding when it is not plain UTF-8. A byte-order mark says
    the encoding (PowerShell's `>` writes UTF-16); without one, UTF-8, else UTF-16 when
    every other byte is zero, else Windows-1252. ValueError when none fits."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec), codec.removesuffix("-sig").upper() + " with a byte-order mark"
    # UTF-16 text without a byte-order mark is valid UTF-8 too, its zero bytes included.
    for codec, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if zeros and zeros.count(0) == len(zeros):
            try:
                return data.decode(codec), "UTF-16"
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise ValueError("not text in UTF-8, UTF-16 or Windows-1252") from None
