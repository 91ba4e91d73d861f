"""Control groups: a hand-in's kernel and everything it starts in a group of its
own, bounded as a whole (processes, memory, CPU) and killed as a whole, under
the place cgroup_place.find_place finds (v1 or v2).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading.bounds import Limits
from rnncourse.grading.cgroup_place import PREFIX, Place

__all__ = ["PREFIX", "Group", "create", "cpu_seconds", "limit_files"]

CFS_PERIOD_US = 100_000


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
