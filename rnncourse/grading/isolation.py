"""One hand-in's confinement, from before its kernel starts to after it ends.

`handin` makes the hand-in's folder (a tmpfs of the scratch size and number of
files, where this process may mount one), its control group (bounded as a
whole), and its kernel spec; afterwards it kills everything the hand-in started
and removes everything it wrote. `sandbox_problem` probes the sandbox before any
grading; `bounds` says which bound holds on this machine.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import site
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading import cgroup_place, cgroups, probe, sandbox, sandbox_view
from rnncourse.grading.bounds import Bound, Limits, size

# The runtime folder's share of the hand-in's tmpfs: connection file, sockets, kernel spec.
RUNTIME_BYTES = 2**20
RUNTIME_FILES = 64
PROBE_TIMEOUT = 120


@dataclass(frozen=True)
class Machine:
    """What this machine lets this process use to bound a hand-in."""

    place: cgroup_place.Place
    mount_problem: str | None  # why this process cannot mount a tmpfs, or None


def mount_tmpfs(folder: Path, limits: Limits) -> None:
    options = (f"size={limits.scratch_bytes + RUNTIME_BYTES},nr_inodes={limits.scratch_files + RUNTIME_FILES},"
               "mode=0755,nosuid,nodev")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "rnncourse-handin", str(folder)],
                   check=True, capture_output=True, text=True, timeout=30)


def unmount(folder: Path) -> None:
    done = subprocess.run(["umount", str(folder)], capture_output=True, timeout=30)
    if done.returncode != 0:  # busy: detach it now, the kernel frees it once its last user is gone
        subprocess.run(["umount", "--lazy", str(folder)], check=True, capture_output=True, timeout=30)


def _mount_problem() -> str | None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "only root can mount a tmpfs"
    with tempfile.TemporaryDirectory(prefix="rnng-check-") as folder:
        try:
            mount_tmpfs(Path(folder), Limits(memory_bytes=2**20, scratch_bytes=2**20, scratch_files=16))
        except (OSError, subprocess.SubprocessError) as error:
            return f"mount refused a tmpfs ({getattr(error, 'stderr', '') or error})".strip()
        unmount(Path(folder))
    return None


# Set to "off" to grade without control groups where there are some (to measure what they bound).
CGROUPS_SWITCH = "RNNCOURSE_CGROUPS"


@functools.cache
def machine() -> Machine:
    """This machine's means, looked up once per process."""
    if os.environ.get(CGROUPS_SWITCH, "").lower() == "off":
        off = dict.fromkeys(cgroup_place.V1_CONTROLLERS, f"{CGROUPS_SWITCH}=off")
        return Machine(cgroup_place.Place(None, {}, off), _mount_problem())
    place = cgroup_place.find_place()
    for stale in cgroup_place.stale_groups(place):
        with contextlib.suppress(OSError):
            stale.rmdir()
    return Machine(place, _mount_problem())


@dataclass(frozen=True)
class Space:
    """A hand-in's confinement while it is graded."""

    run: sandbox.RunDir
    group: cgroups.Group | None
    env: dict[str, str]  # for nbgrader: where the kernel spec is
    options: list[str]  # for nbgrader: the sockets, and the CPU time the hand-in may use


def run_parent(sandboxed: bool) -> str:
    """Where hand-ins' run folders go: the temporary folder, unless the sandbox's own
    user could not walk to it (a TMPDIR of mode 0700); then /tmp."""
    parent = tempfile.gettempdir()
    if sandboxed and os.geteuid() == 0 and not sandbox_view.reachable(parent, read=False) \
            and sandbox_view.reachable("/tmp"):
        return "/tmp"
    return parent


@contextlib.contextmanager
def handin(limits: Limits, sandboxed: bool) -> Iterator[Space]:
    """A fresh confinement for one hand-in; everything it holds is gone afterwards."""
    means = machine()
    with tempfile.TemporaryDirectory(prefix="rnng-", dir=run_parent(sandboxed)) as folder:
        root = Path(folder)
        on_tmpfs = sandboxed and means.mount_problem is None
        if on_tmpfs:
            mount_tmpfs(root, limits)
        group = None
        try:
            group = cgroups.create(means.place, limits) if means.place.version else None
            run = sandbox.RunDir(root, on_tmpfs)
            env = sandbox.write_kernel_spec(run, sandboxed, limits, group.procs_files() if group else [])
            options = sandbox.kernel_options(run)
            usage = group.cpu_usage_file() if group else None
            if usage is not None:
                options += [f"--GradingExecute.cpu_usage_file={usage}",
                            f"--GradingExecute.cpu_seconds={limits.cpu_seconds}"]
            yield Space(run, group, env, options)
        finally:
            if group is not None:
                group.remove()
            if on_tmpfs:
                unmount(root)


def probe_expectations(run: sandbox.RunDir) -> dict:
    """What the probe must find: the grader's Python unwritable, its scratch writable."""
    python = set(sandbox_view.python_paths()) | set(site.getsitepackages())
    python |= {sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")}
    return {
        "readonly": sorted(p for p in python if Path(p).is_dir()) + ["/usr", "/"],
        "writable": ["/scratch", "/tmp", "/dev/shm", str(run.runtime)],
        "owner_file": str(run.runtime / "probe-owner"),
        "privileged": sandbox_view.privileged_files(tuple(sandbox_view.bound_paths())),
        "hidden_package": "rnncourse",
        "userns_disabled": sandbox.disables_userns(),
    }


def run_probe(limits: Limits) -> str | None:
    """Run the probe as a kernel would be run; what it could do that it must not."""
    with handin(limits, sandboxed=True) as space:
        connection_file = space.run.runtime / "kernel.json"
        connection_file.write_text("{}")
        expect = probe_expectations(space.run)
        program = [sandbox_view.python_executable(), "-c", Path(probe.__file__).read_text(), json.dumps(expect)]
        command = sandbox.kernel_command(space.run, limits, space.group.procs_files() if space.group else [],
                                         True, program)
        command = [str(connection_file) if arg == "{connection_file}" else arg for arg in command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bwrap does not run: {error}"
        if done.returncode != 0:
            return f"bwrap is not permitted here: {done.stderr.strip()[-500:] or f'exit {done.returncode}'}"
        problems = json.loads(done.stdout.strip().splitlines()[-1])
        owner = Path(expect["owner_file"]).stat().st_uid
        expected_owner = sandbox.SANDBOX_UID if sandbox.drops_to_sandbox_user(space.run) else os.geteuid()
        if owner != expected_owner:
            problems.append(f"the kernel's files belong to uid {owner} outside the sandbox, not {expected_owner}")
        usage = space.group.cpu_usage_file() if space.group else None
        if usage is not None and cgroups.cpu_seconds(usage) <= 0:
            problems.append("the kernel was not in its control group")
    return "; ".join(problems) or None


@functools.cache
def _cached_problem(limits: Limits, bwrap: str, setpriv: str | None, euid: int) -> str | None:
    return run_probe(limits)


def sandbox_problem(limits: Limits) -> str | None:
    """Why the sandbox cannot be in force here, or None when the probe finds it in force."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and machine().mount_problem is None and setpriv is None:
        return "setpriv (util-linux) is not installed: without it the kernel would be root outside the sandbox"
    return _cached_problem(limits, bwrap, setpriv, os.geteuid())


def _cgroup_bound(name: str, amount: str, controller: str, how: str) -> Bound:
    place = machine().place
    if place.has(controller):
        return Bound(name, amount, f"cgroup v{place.version} {how}")
    return Bound(name, amount, None, f"no {controller} cgroup this process may use: "
                                     f"{place.missing.get(controller, 'none found')}")


def bounds(limits: Limits, sandboxed: bool, cell_timeout: float, timeout: float) -> list[Bound]:
    """Every bound of a hand-in, and how it holds on this machine (or why it does not)."""
    means = machine()
    on_tmpfs = sandboxed and means.mount_problem is None
    found = [
        _cgroup_bound("processes", f"{limits.processes} at once", "pids", "pids (threads count)"),
        _cgroup_bound("memory", size(limits.memory_bytes), "memory", "memory: its processes and scratch files"),
        _cgroup_bound("CPU time", f"{limits.cpu_seconds:g} s", "cpuacct" if means.place.version == 1 else "cpu",
                      "CPU time used, checked before each cell (a cell may run on to its own time limit)"),
        _cgroup_bound("CPU share", f"{limits.cpus:g} core(s)", "cpu", "cpu: a quota, and the same weight as "
                                                                      "every other hand-in"),
        Bound("wall time", f"{timeout:g} s, {cell_timeout:g} s a cell", "the nbgrader run is stopped; a cell "
                                                                        "is interrupted, then its kernel replaced"),
    ]
    if not sandboxed:
        found += [Bound("scratch folder", size(limits.scratch_bytes), None, "no sandbox: student code writes "
                                                                             "wherever you can"),
                  Bound("privileges", "none", None, "no sandbox: student code runs with your rights")]
    else:
        found += [
            Bound("scratch bytes", size(limits.scratch_bytes), "one tmpfs for /scratch, /tmp, /dev/shm, sockets"
                  if on_tmpfs else "bubblewrap's tmpfs mounts (half for /scratch, a quarter each for /tmp and "
                  "/dev/shm); NOT the socket folder, on disk: " + (means.mount_problem or "")),
            Bound("scratch files", f"{limits.scratch_files}", "tmpfs nr_inodes" if on_tmpfs else
                  ("through the memory bound only (each file takes kernel memory)" if means.place.has("memory")
                   else None), means.mount_problem or ""),
            Bound("privileges", "none", f"uid {sandbox.SANDBOX_UID} in a user namespace, outside "
                  + (f"uid {sandbox.SANDBOX_UID}" if os.geteuid() == 0 and on_tmpfs else "your own uid")
                  + "; no capability, no_new_privs, setuid programs masked"
                  + ("" if sandbox.disables_userns() else "; NOT stopped from making user namespaces "
                     "(bubblewrap older than 0.8)")),
        ]
    kill = ("cgroup v1 freezer" if means.place.has("freezer") else "cgroup v2 cgroup.kill"
            if means.place.version == 2 else "the sandbox's pid namespace" if sandboxed else None)
    found.append(Bound("left running", "nothing", kill, "no cgroup and no sandbox: what a hand-in starts "
                                                        "in the background may outlive it"))
    per_process = (f"{size(limits.process_address_space)} address space, {limits.process_cpu_seconds} s CPU, "
                   f"files up to {size(limits.file_bytes)}")
    found.append(Bound("each process", per_process, "prlimit" if shutil.which("prlimit") else None,
                       "prlimit is not installed"))
    return found
