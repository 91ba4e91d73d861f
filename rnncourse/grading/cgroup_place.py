"""Where this process may make control groups for hand-ins (see cgroups.py).

Both versions of the kernel's interface are used. v1 has a hierarchy per
controller (`/sys/fs/cgroup/memory`, `pids`, ...): groups are made under this
process's own group in each, so a limit set on it by whoever started the grader
still holds. v2 has one hierarchy, and a group with processes in it cannot give
controllers to children: groups are made under the nearest ancestor of this
process's group that already gives its children the controllers and lets this
process write (the root group as root; a delegated group otherwise, as systemd's
`Delegate=yes` or `.ci/run` make). What cannot be used is said, with why.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

V1_CONTROLLERS = ("pids", "memory", "cpu", "cpuacct", "freezer")
V2_CONTROLLERS = ("pids", "memory", "cpu")
PREFIX = "rnncourse-"


@dataclass(frozen=True)
class Place:
    """Where this process may make hand-in groups: a folder per controller."""

    version: int | None  # 1, 2, or None: no control group this process may use
    bases: dict[str, Path] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # controller -> why it cannot be used

    def has(self, controller: str) -> bool:
        return controller in self.bases


def _unescape(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda found: chr(int(found.group(1), 8)), path)


def mounts(text: str) -> list[tuple[str, str, str, set[str]]]:
    """/proc/self/mountinfo's cgroup mounts: (root in the hierarchy, mount point, type, options)."""
    found = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((_unescape(fields[3]), _unescape(fields[4]), tail[0], set(tail[2].split(","))))
    return found


def own_groups(text: str) -> dict[str, str]:
    """/proc/self/cgroup: controller -> this process's group ("" for v2)."""
    groups = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                groups[controller] = parts[2]
    return groups


def _inside(mount_point: str, mount_root: str, group: str) -> Path:
    relative = group[len(mount_root):] if group.startswith(mount_root) and mount_root != "/" else group
    return Path(mount_point) / relative.lstrip("/")


def _can_make_groups(base: Path) -> str | None:
    """Why no group can be made in BASE, or None when one can."""
    trial = base / f"{PREFIX}check-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        trial.mkdir()
        trial.rmdir()
    except OSError as error:
        return f"cannot make a group in {base} ({error.strerror or error})"
    return None


def _v1_place(found: list, own: dict[str, str]) -> Place:
    bases, missing = {}, {}
    for controller in V1_CONTROLLERS:
        mount = next((m for m in found if m[2] == "cgroup" and controller in m[3]), None)
        if mount is None:
            missing[controller] = "no v1 hierarchy has it"
            continue
        base = _inside(mount[1], mount[0], own.get(controller, "/"))
        problem = _can_make_groups(base)
        if problem:
            missing[controller] = problem
        else:
            bases[controller] = base
    return Place(1 if bases else None, bases, missing)


def _v2_place(found: list, own: dict[str, str]) -> Place:
    mount = next((m for m in found if m[2] == "cgroup2"), None)
    if mount is None:
        return Place(None, {}, dict.fromkeys(V2_CONTROLLERS, "no cgroup2 mount"))
    group = Path(_inside(mount[1], mount[0], own.get("", "/")))
    best: Place | None = None
    for folder in [group, *group.parents]:
        if not str(folder).startswith(mount[1]):
            break
        try:
            given = set((folder / "cgroup.subtree_control").read_text().split()) & set(V2_CONTROLLERS)
        except OSError:
            continue
        if not given or (best and len(given) <= len(best.bases)) or _can_make_groups(folder) is not None:
            continue
        missing = {c: f"{folder} does not give it to its children" for c in V2_CONTROLLERS if c not in given}
        best = Place(2, dict.fromkeys(sorted(given), folder), missing)
        if not missing:
            break
    return best or Place(None, {}, dict.fromkeys(
        V2_CONTROLLERS, f"no ancestor of {group} gives it to its children and lets this process write"))


def find_place(mountinfo: str | None = None, own: str | None = None) -> Place:
    """Where hand-in groups go on this machine (read from /proc unless given)."""
    found = mounts(mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text())
    groups = own_groups(own if own is not None else Path("/proc/self/cgroup").read_text())
    v2 = _v2_place(found, groups)
    if v2.version and not v2.missing:
        return v2
    v1 = _v1_place(found, groups)
    if v1.version:
        return v1
    return v2 if v2.version else Place(None, {}, {**v2.missing, **v1.missing})


def stale_groups(place: Place) -> list[Path]:
    """Groups left by graders that are gone (killed before they could clean up)."""
    stale = []
    for base in set(place.bases.values()):
        for folder in base.glob(f"{PREFIX}*-*"):
            owner = folder.name.removeprefix(PREFIX).split("-")[0]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                stale.append(folder)
    return stale
