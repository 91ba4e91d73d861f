"""The kernel that runs a hand-in: a Jupyter kernel spec named `python3` whose
command puts ipykernel in the hand-in's control group, in limits per process
(prlimit) and, where bubblewrap works, in a sandbox that sees only what Python needs.

nbgrader starts the kernel named in the notebook (`python3`); a kernel spec of
that name in a folder put first on JUPYTER_PATH replaces the ordinary one for
that grading run only.

In the sandbox the kernel runs as an unprivileged user (65534 inside a user
namespace of its own; when the grader is root, the same unprivileged user outside
too, through setpriv), with no capability and no way to gain one (bubblewrap sets
no_new_privs and mounts everything nosuid; the setuid programs in the system's
folders are masked besides). It has no network (--unshare-net), sees no other
process (--unshare-pid), dies with the grader (--die-with-parent), and sees the
Python installation read-only, without the grader's own package, and writable
only its scratch folders (/scratch, its home and working folder; /tmp; /dev/shm)
and the folder of its sockets: not the course folder, not the gradebook, not the
other hand-ins. Because loopback TCP is gone with the network, the kernel talks
to nbgrader over Unix sockets (`KernelManager.transport = "ipc"`) in that folder.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading.bounds import Limits
from rnncourse.grading.sandbox_view import (
    Binds,
    bound_paths,
    grader_package_paths,
    privileged_files,
    python_executable,
    under,
)

SANDBOX_UID = SANDBOX_GID = 65534  # "nobody": no file of the grader's is its own

# Every environment variable the kernel gets in the sandbox; the grader's own
# environment (tokens, passwords) stays outside.
SANDBOX_ENV = {
    "HOME": "/scratch",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "agg",
    "MPLCONFIGDIR": "/scratch/.config/matplotlib",
    "IPYTHONDIR": "/scratch/.ipython",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}

# Run before ipykernel, inside the sandbox: a kernel that would be root, or hold a
# capability, does not start (the probe checks the same before any grading).
GUARD = """import os, sys
if 0 in (os.getuid(), os.geteuid(), os.getgid(), os.getegid()):
    sys.exit("rnncourse: refusing to run a kernel as root in the sandbox")
with open("/proc/self/status") as status:
    caps = [line.split()[1] for line in status if line.startswith(("CapEff", "CapPrm", "CapBnd", "CapAmb"))]
if any(int(cap, 16) for cap in caps):
    sys.exit("rnncourse: refusing to run a kernel with capabilities in the sandbox")
import runpy
sys.argv[0] = "ipykernel_launcher"
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class RunDir:
    """The folder of one hand-in's grading run, and the kernel's folders in it."""

    root: Path
    on_tmpfs: bool = False  # ROOT is a tmpfs of the scratch size that this process mounted

    @property
    def runtime(self) -> Path:  # the connection file and the sockets
        return self.root / "runtime"

    @property
    def stage(self) -> Path:  # where the launcher binds what the sandbox user cannot reach
        return self.root / "stage"

    @property
    def scratch(self) -> dict[str, Path]:  # where the kernel sees them -> where they are
        return {"/scratch": self.root / "home", "/tmp": self.root / "tmp", "/dev/shm": self.root / "shm"}


def drops_to_sandbox_user(run: RunDir) -> bool:
    """Whether the kernel's user outside the sandbox is SANDBOX_UID, not the grader's
    own: when the grader is root and may mount (to stage what SANDBOX_UID cannot
    reach). Otherwise bubblewrap maps SANDBOX_UID to the grader's user."""
    return os.geteuid() == 0 and run.on_tmpfs


def scratch_args(run: RunDir, limits: Limits, binds: Binds) -> list[str]:
    """The kernel's writable folders: binds of RUN's tmpfs, or bubblewrap's own
    size-limited tmpfs mounts where this process could not mount one."""
    if run.on_tmpfs:
        return [arg for inside, outside in run.scratch.items() for arg in binds.bind(outside, inside, writable=True)]
    shares = {"/scratch": 2, "/tmp": 1, "/dev/shm": 1}  # of scratch_bytes, in quarters
    return [arg for inside, share in shares.items()
            for arg in ("--size", str(limits.scratch_bytes * share // 4), "--tmpfs", inside)]


@functools.cache
def bwrap_options(bwrap: str) -> frozenset[str]:
    """The options this bubblewrap knows (--disable-userns came with 0.8, --size with 0.6)."""
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(word for word in (done.stdout + done.stderr).split() if word.startswith("--"))


def disables_userns() -> bool:
    """Whether the sandbox stops the kernel from making user namespaces of its own."""
    return "--disable-userns" in bwrap_options(shutil.which("bwrap") or "bwrap")


def bwrap_command(run: RunDir, limits: Limits, binds: Binds) -> list[str]:
    """bubblewrap's command prefix for a kernel (see the module's docstring)."""
    bound = bound_paths()
    command = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user",
               "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID), "--cap-drop", "ALL",
               "--die-with-parent", "--new-session", "--hostname", "grading"]
    if disables_userns():
        command.append("--disable-userns")  # no user namespace inside, where it would be root again
    # The scratch folders first, then what is bound read-only: a Python installed under
    # /tmp is bound onto the scratch /tmp instead of hidden by it.
    command += ["--dev", "/dev", "--proc", "/proc", *scratch_args(run, limits, binds)]
    for path in bound:
        command += binds.bind(path, path)
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            command += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir() and not under(str(target), bound):
            command += binds.bind(target, target)
    for path in privileged_files(tuple(bound)):
        command += ["--ro-bind", "/dev/null", path]
    for path in grader_package_paths(bound):
        command += ["--tmpfs", path, "--remount-ro", path]
    command += [*binds.bind(run.runtime, run.runtime, writable=True),
                "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/scratch", "--clearenv"]
    path_var = f"{Path(python_executable()).parent}:/usr/local/bin:/usr/bin:/bin"
    for name, value in {**SANDBOX_ENV, "PATH": path_var}.items():
        command += ["--setenv", name, value]
    return command


def limits_command(limits: Limits) -> list[str]:
    """prlimit's command prefix (bounds on each process), or nothing where prlimit is missing."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return []
    return [prlimit, f"--as={limits.process_address_space}", f"--cpu={limits.process_cpu_seconds}",
            f"--fsize={limits.file_bytes}", "--"]


def drop_command() -> list[str]:
    """setpriv's command prefix that makes root the sandbox's unprivileged user."""
    setpriv = shutil.which("setpriv") or "setpriv"
    return [setpriv, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}", "--clear-groups", "--no-new-privs", "--"]


def kernel_command(run: RunDir, limits: Limits, procs_files: list[Path], sandboxed: bool,
                   program: list[str] | None = None) -> list[str]:
    """The whole command of a kernel (or of PROGRAM, as the probe runs it) in RUN:
    the launcher (see launch.py), prlimit, and the sandbox; "{connection_file}"
    is filled in by jupyter_client."""
    drop = sandboxed and drops_to_sandbox_user(run)
    binds = Binds(run.stage if drop else None)
    if sandboxed:
        program = program or [python_executable(), "-c", GUARD, "-f", "{connection_file}"]
        rest = (drop_command() if drop else []) + bwrap_command(run, limits, binds) + program
    else:
        rest = program or [python_executable(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    settings = {"procs": [str(p) for p in procs_files], "owner": [SANDBOX_UID, SANDBOX_GID] if drop else None,
                "stage": binds.staged}
    launcher = [python_executable(), "-I", "-S", str(Path(__file__).with_name("launch.py"))]
    return launcher + [json.dumps(settings), "{connection_file}"] + limits_command(limits) + rest


def write_kernel_spec(run_dir: Path | RunDir, sandboxed: bool, limits: Limits | None = None,
                      procs_files: list[Path] | None = None) -> dict[str, str]:
    """Write the kernel spec RUN_DIR/kernels/python3/kernel.json; return the
    environment that makes nbgrader's kernels use it."""
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(Path(run_dir))
    limits = limits or Limits()
    make_folders(run, sandboxed)
    spec = {
        "argv": kernel_command(run, limits, procs_files or [], sandboxed),
        "display_name": "Python 3 (grading)",
        "language": "python",
        # Interrupt by a message on the control channel, not by a signal: the
        # signal would reach bubblewrap, not the kernel inside it.
        "interrupt_mode": "message",
        "env": {} if sandboxed else {"MPLBACKEND": "agg", "OPENBLAS_NUM_THREADS": "1"},
    }
    spec_dir = run.root / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return {"JUPYTER_PATH": str(run.root), "JUPYTER_RUNTIME_DIR": str(run.runtime)}


def make_folders(run: RunDir, sandboxed: bool) -> None:
    """The runtime folder, and the scratch folders where they are binds: the
    sandbox user's own, nobody else's."""
    folders = [run.runtime] + (list(run.scratch.values()) if run.on_tmpfs else [])
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        if sandboxed and drops_to_sandbox_user(run):
            os.chown(folder, SANDBOX_UID, SANDBOX_GID)
        folder.chmod(0o700)


def kernel_options(run_dir: Path | RunDir) -> list[str]:
    """nbgrader options: talk to the kernel over Unix sockets in the runtime folder.

    The connection file and the socket prefix are given explicitly: by default
    the first goes to the system's temporary folder (hidden in the sandbox) and
    the second is relative to each side's working folder.
    """
    runtime = (run_dir if isinstance(run_dir, RunDir) else RunDir(Path(run_dir))).runtime
    return [
        "--KernelManager.transport=ipc",
        f"--KernelManager.connection_file={runtime / 'kernel.json'}",
        f"--KernelManager.ip={runtime / 'kernel'}",
    ]


def bwrap_problem(limits: Limits | None = None) -> str | None:
    """Why the sandbox cannot be in force here, or None when it is: bubblewrap runs,
    and a probe run as a kernel is run finds itself unprivileged and confined."""
    from rnncourse.grading import isolation

    return isolation.sandbox_problem(limits or Limits())
