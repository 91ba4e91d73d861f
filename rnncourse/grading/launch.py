"""Start a hand-in's kernel: the first program of its kernel spec, run with the
grader's rights before the sandbox exists.

    python -I -S launch.py SETTINGS CONNECTION_FILE COMMAND...

It puts itself in the hand-in's control group (every process the kernel starts
follows it there), and, when the sandbox runs as an unprivileged user of its own
(the grader is root): makes the connection file that user's, and, in a mount
namespace of its own, binds each folder that user may not walk to (a Python
under /root, say) at a staging path it may, for bubblewrap to bind from there.
Then it becomes COMMAND. It imports only the standard library, so it starts in
milliseconds (-S: no site-packages).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


def mount(libc, source: str | None, target: str, flags: int) -> None:
    if libc.mount(source and source.encode(), target.encode(), None, flags, None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def stage(staged: list[list[str]]) -> None:
    """Bind each (folder, staging path) in a mount namespace of this process's own."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    mount(libc, None, "/", MS_REC | MS_PRIVATE)  # nothing mounted here reaches the grader's namespace
    for source, target in staged:
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()  # a file is bound onto a file
        mount(libc, source, target, MS_BIND | MS_REC)


def main(settings: dict, connection_file: str, command: list[str]) -> None:
    for procs in settings["procs"]:
        with open(procs, "w") as stream:
            stream.write(str(os.getpid()))
    if settings["owner"] is not None:
        os.chown(connection_file, *settings["owner"])
    if settings["stage"]:
        stage(settings["stage"])
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:])
