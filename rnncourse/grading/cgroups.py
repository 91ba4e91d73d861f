"""Control groups: a hand-in's kernel and everything it starts in a group of its
own, bounded as a whole (processes, memory, CPU) and killed as a whole.

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

import contextlib
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from rnncourse.grading.bounds import Limits

V1_CONTROLLERS = ("pids", "memory", "cpu", "cpuacct", "freezer")
V2_CONTROLLERS = ("pids", "memory", "cpu")
PREFIX = "rnncourse-"
CFS_PERIOD_US = 100_000


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


def write(path: Path, value: str | int) -> None:
    path.write_text(f"{value}\n")


def limit_files(version: int, limits: Limits) -> dict[str, list[tuple[str, str]]]:
    """controller -> the files to write and their values, in order."""
    quota = max(1000, int(limits.cpus * CFS_PERIOD_US))
    if version == 1:
        return {"pids": [("pids.max", str(limits.processes))],
                "memory": [("memory.limit_in_bytes", str(limits.memory_bytes)),
                           ("memory.memsw.limit_in_bytes", str(limits.memory_bytes))],  # no swap on top
                "cpu": [("cpu.shares", "1024"), ("cpu.cfs_period_us", str(CFS_PERIOD_US)),
                        ("cpu.cfs_quota_us", str(quota))]}
    return {"pids": [("pids.max", str(limits.processes))],
            "memory": [("memory.max", str(limits.memory_bytes)), ("memory.swap.max", "0")],
            "cpu": [("cpu.weight", "100"), ("cpu.max", f"{quota} {CFS_PERIOD_US}")]}


@dataclass
class Group:
    """One hand-in's control group: a folder per controller (in v2 one folder for all)."""

    version: int
    dirs: dict[str, Path]

    @property
    def folders(self) -> list[Path]:
        return sorted(set(self.dirs.values()))

    def procs_files(self) -> list[Path]:
        """The files a process writes its pid to, to join the group."""
        return [folder / "cgroup.procs" for folder in self.folders]

    def cpu_usage_file(self) -> Path | None:
        if self.version == 2:
            return self.folders[0] / "cpu.stat"
        return self.dirs["cpuacct"] / "cpuacct.usage" if "cpuacct" in self.dirs else None

    def memory_peak(self) -> int | None:
        """The most memory the group held at once, where the kernel says."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        with contextlib.suppress(OSError, KeyError, ValueError):
            return int((self.dirs["memory"] / name).read_text())
        return None

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(FileNotFoundError):
                found |= {int(pid) for pid in procs.read_text().split()}
        return found

    def _freeze(self, frozen: bool) -> bool:
        """Freeze or thaw every process; whether this group can."""
        if self.version == 2:
            target = self.folders[0] / "cgroup.freeze"
            if not target.exists():
                return False
            write(target, int(frozen))
            return True
        if "freezer" not in self.dirs:
            return False
        write(self.dirs["freezer"] / "freezer.state", "FROZEN" if frozen else "THAWED")
        deadline = time.monotonic() + 2
        while frozen and (self.dirs["freezer"] / "freezer.state").read_text().strip() != "FROZEN":
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return True

    def kill(self, wait: float = 10) -> set[int]:
        """Kill every process in the group, at once where the kernel can (v2's
        cgroup.kill, or frozen first so none can fork meanwhile); what was still
        alive after WAIT seconds."""
        kill_file = self.folders[0] / "cgroup.kill" if self.version == 2 else None
        deadline = time.monotonic() + wait
        while (left := self.pids()) and time.monotonic() < deadline:
            if kill_file is not None and kill_file.exists():
                write(kill_file, 1)
            else:
                frozen = self._freeze(True)
                for pid in self.pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                if frozen:
                    self._freeze(False)
            time.sleep(0.02)
        return self.pids() if left else set()

    def remove(self) -> None:
        """Kill what is left and remove the group's folders."""
        self.kill()
        for folder in self.folders:
            deadline = time.monotonic() + 5
            while folder.exists():
                try:
                    folder.rmdir()
                except OSError:  # busy for a moment while the last processes are reaped
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)


def create(place: Place, limits: Limits, name: str | None = None) -> Group:
    """A new group in PLACE, bounded by LIMITS; a failure to bound it is raised."""
    name = name or f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    controllers = [c for c in place.bases]
    group = Group(place.version or 1, {c: place.bases[c] / name for c in controllers})
    try:
        for folder in group.folders:
            folder.mkdir()
        for controller, settings in limit_files(group.version, limits).items():
            if controller not in group.dirs:
                continue
            for file_name, value in settings:
                path = group.dirs[controller] / file_name
                if path.exists() or file_name not in ("memory.memsw.limit_in_bytes", "memory.swap.max"):
                    write(path, value)  # swap files exist only where the machine has swap accounting
    except OSError:
        with contextlib.suppress(OSError):
            group.remove()
        raise
    return group


def cpu_seconds(usage_file: Path) -> float:
    """The CPU seconds a group has used, from v1's cpuacct.usage or v2's cpu.stat."""
    text = usage_file.read_text()
    if usage_file.name == "cpuacct.usage":
        return int(text) / 1e9
    usage = next(line.split()[1] for line in text.splitlines() if line.startswith("usage_usec "))
    return int(usage) / 1e6


def stale_groups(place: Place) -> list[Path]:
    """Groups left by graders that are gone (killed before they could clean up)."""
    stale = []
    for base in set(place.bases.values()):
        for folder in base.glob(f"{PREFIX}*-*"):
            owner = folder.name.removeprefix(PREFIX).split("-")[0]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                stale.append(folder)
    return stale
