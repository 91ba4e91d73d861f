"""What the sandbox sees of the host: the Python installation and a few system
folders, read-only; not the setuid programs in them, not the grader's own package.

When the sandbox runs as a user of its own (the grader is root), that user may
not be allowed to walk to a folder it needs (a Python under /root): Binds stages
such a folder first, through the launcher (launch.py).
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

# Read-only binds besides the Python installation: fonts for matplotlib, time zones.
SYSTEM_PATHS = ["/usr", "/etc/fonts", "/etc/ld.so.cache", "/etc/localtime"]


def python_executable() -> str:
    """This Python's path without `..` (the sandbox has no folders to walk through),
    symbolic links kept (a virtual environment is found through them)."""
    return os.path.abspath(sys.executable)


def python_paths() -> list[str]:
    """The folders the kernel's Python needs: its installation and its environment."""
    paths = {str(Path(p).resolve()) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    paths.add(sys.prefix)  # the environment's own path, as its scripts name it
    return sorted(p for p in paths if not p.startswith("/usr/") and p != "/usr")


def under(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def grader_package_paths(bound: list[str]) -> list[str]:
    """The grader's own package where the sandbox would see it: masked, so student
    code cannot import the code that grades it."""
    import rnncourse

    found = {str(Path(p).resolve()) for p in rnncourse.__path__} | {str(Path(p)) for p in rnncourse.__path__}
    return sorted(p for p in found if under(p, bound))


@functools.cache
def privileged_files(folders: tuple[str, ...]) -> list[str]:
    """Setuid and setgid files in FOLDERS: masked in the sandbox. (They could not
    raise privileges there anyway: no_new_privs, nosuid mounts.)"""
    existing = [f for f in folders if Path(f).exists()]
    if not existing:
        return []
    if shutil.which("find"):  # findutils: a second or two for /usr, several times faster than os.walk
        done = subprocess.run(["find", *existing, "-xdev", "-type", "f", "-perm", "/6000"],
                              capture_output=True, text=True, timeout=300)
        return sorted(done.stdout.split())
    found = []
    for top in existing:
        for folder, _, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    if stat.S_ISREG(os.lstat(path).st_mode) and os.lstat(path).st_mode & 0o6000:
                        found.append(path)
    return sorted(found)


def bound_paths() -> list[str]:
    """The host folders the sandbox sees, read-only."""
    return [p for p in SYSTEM_PATHS + python_paths() if Path(p).exists()]


def reachable(path: str | Path, read: bool = True) -> bool:
    """Whether any user may walk to PATH (its folders searchable by others) and, with
    READ, read it."""
    path = Path(path)
    try:
        folders = all(os.stat(p).st_mode & stat.S_IXOTH for p in path.parents)
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
        return False
    return folders and (not read or bool(mode & stat.S_IROTH))


class Binds:
    """bubblewrap's bind options. When the sandbox runs as a user of its own, who
    may not walk to a folder, the launcher binds that folder at a staging path
    first (see launch.py), and bubblewrap binds it from there."""

    def __init__(self, stage_root: Path | None) -> None:
        self.stage_root = stage_root
        self.staged: list[list[str]] = []

    def bind(self, source: str | Path, dest: str | Path, writable: bool = False) -> list[str]:
        if self.stage_root is not None and not reachable(source):
            staging = self.stage_root / str(len(self.staged))
            self.staged.append([str(source), str(staging)])
            source = staging
        return ["--bind" if writable else "--ro-bind", str(source), str(dest)]
