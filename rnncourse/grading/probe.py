"""Run in the sandbox exactly as a kernel is, before any grading: everything a
kernel must not be able to do, tried. Prints a JSON list of what succeeded (the
problems); an empty list means the sandbox is in force.

This file is run as a script (`python -c`), never imported inside the sandbox:
it imports nothing of rnncourse, which the sandbox hides.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import json
import os
import socket
import sys

MS_BIND, MS_REMOUNT = 4096, 32
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000


def privileges() -> list[str]:
    problems = []
    ids = (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
    if 0 in ids:
        problems.append(f"the kernel would run as root inside the sandbox (uid, euid, gid, egid = {ids})")
    with open("/proc/self/status") as stream:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in stream if ":\t" in line)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(status.get(cap, "0"), 16):
            problems.append(f"the kernel would hold capabilities ({cap} {status[cap]})")
    if status.get("NoNewPrivs", "0").strip() != "1":
        problems.append("the kernel could gain privileges (no_new_privs is not set)")
    return problems


def mounting(libc, readonly: list[str], userns_disabled: bool) -> list[str]:
    problems = []
    attempts = [(b"none", b"/scratch", b"tmpfs", 0)] + [(None, p.encode(), None, MS_REMOUNT | MS_BIND)
                                                        for p in readonly]
    for source, target, fstype, flags in attempts:
        if libc.mount(source, target, fstype, flags, None) == 0:
            problems.append(f"the kernel could mount on {target.decode()}")
    if userns_disabled and libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:
        problems.append("the kernel could make a user namespace of its own (and be root in it)")
    with open("/proc/self/mountinfo") as stream:
        for line in stream:
            fields = line.split()
            if "nosuid" not in fields[5].split(","):
                problems.append(f"{fields[4]} is mounted without nosuid")
    return problems


def writing(readonly: list[str], writable: list[str], owner_file: str) -> list[str]:
    problems = []
    for folder in readonly:
        path = os.path.join(folder, ".rnncourse-probe.pth")
        try:
            with open(path, "w") as stream:
                stream.write("# written by the sandbox probe\n")
        except OSError:
            continue
        problems.append(f"the kernel could write into {folder}")
        os.remove(path)
    for folder in writable:
        if not os.access(folder, os.W_OK):
            problems.append(f"the kernel could not write its own folder {folder}")
    with open(owner_file, "w") as stream:
        stream.write("owner\n")  # the grader checks whose it is outside
    return problems


def seeing(privileged: list[str], hidden_package: str) -> list[str]:
    problems = []
    for path in privileged:
        if os.path.exists(path) and os.stat(path).st_mode & 0o6000:
            problems.append(f"the setuid program {path} is reachable")
    try:
        found = importlib.util.find_spec(f"{hidden_package}.grading")
    except ImportError:
        found = None
    if found is not None:
        problems.append(f"the kernel could import the grader's own code ({found.origin})")
    interfaces = [name for _, name in socket.if_nameindex() if name != "lo"]
    if interfaces:
        problems.append(f"the kernel has network interfaces: {', '.join(interfaces)}")
    processes = [p for p in os.listdir("/proc") if p.isdigit()]
    if len(processes) > 3:  # bubblewrap's init, the probe, perhaps a shell
        problems.append(f"the kernel sees {len(processes)} processes: other processes are in sight")
    return problems


def main(expect: dict) -> list[str]:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return (privileges() + mounting(libc, expect["readonly"], expect["userns_disabled"])
            + writing(expect["readonly"], expect["writable"], expect["owner_file"])
            + seeing(expect["privileged"], expect["hidden_package"]))


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
