"""The kernel that runs a hand-in: a Jupyter kernel spec named `python3` whose
command wraps ipykernel in resource limits and, where bubblewrap works, in a
sandbox that sees only what Python needs.

nbgrader starts the kernel named in the notebook (`python3`); a kernel spec of
that name in a folder put first on JUPYTER_PATH replaces the ordinary one for
that grading run only.

In the sandbox the kernel has no network (--unshare-net), sees no other
process (--unshare-pid), dies with the grader (--die-with-parent), and sees
the Python installation read-only and a private empty scratch folder: not the
course folder, not the gradebook, not the other hand-ins. Because loopback TCP
is gone with the network, the kernel talks to nbgrader over Unix sockets
(`KernelManager.transport = "ipc"`) in the one folder both sides share.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Limits on the kernel process (prlimit): address space (a memory bomb gets a
# MemoryError), CPU seconds in total (a loop that ignores interrupts ends), the
# size of any file it writes.
ADDRESS_SPACE_BYTES = 4 * 2**30
CPU_SECONDS = 900
FILE_SIZE_BYTES = 100 * 2**20

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

# Read-only binds besides the Python installation: fonts for matplotlib, time zones.
SYSTEM_PATHS = ["/usr", "/etc/fonts", "/etc/ld.so.cache", "/etc/localtime"]


def bwrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a kernel here, or None when it can."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    probe = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--unshare-net", "--unshare-pid", "--die-with-parent", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap does not run: {error}"
    if done.returncode != 0:
        return f"bwrap is not permitted here: {done.stderr.strip() or f'exit {done.returncode}'}"
    return None


def python_executable() -> str:
    """This Python's path without `..` (the sandbox has no folders to walk through),
    symbolic links kept (a virtual environment is found through them)."""
    return os.path.abspath(sys.executable)


def python_paths() -> list[str]:
    """The folders the kernel's Python needs: its installation and its environment."""
    paths = {str(Path(p).resolve()) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    paths.add(sys.prefix)  # the environment's own path, as its scripts name it
    return sorted(p for p in paths if not p.startswith("/usr/") and p != "/usr")


def limits() -> list[str]:
    """prlimit's command prefix, or nothing where prlimit is missing."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return []
    return [prlimit, f"--as={ADDRESS_SPACE_BYTES}", f"--cpu={CPU_SECONDS}", f"--fsize={FILE_SIZE_BYTES}", "--"]


def bwrap_command(runtime_dir: Path, scratch_dir: Path) -> list[str]:
    """bubblewrap's command prefix for a kernel: RUNTIME_DIR (connection file and
    sockets) and SCRATCH_DIR (the kernel's home and working folder) writable,
    the Python installation read-only, nothing else."""
    command = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in SYSTEM_PATHS + python_paths():
        if Path(path).exists():
            command += ["--ro-bind", path, path]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            command += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            command += ["--ro-bind", str(target), str(target)]
    command += ["--bind", str(runtime_dir), str(runtime_dir), "--bind", str(scratch_dir), "/scratch",
                "--chdir", "/scratch", "--clearenv"]
    path_var = f"{Path(python_executable()).parent}:/usr/local/bin:/usr/bin:/bin"
    for name, value in {**SANDBOX_ENV, "PATH": path_var}.items():
        command += ["--setenv", name, value]
    return command


def write_kernel_spec(run_dir: Path, sandboxed: bool) -> dict[str, str]:
    """Write RUN_DIR/kernels/python3/kernel.json; return the environment and
    nbgrader options that make nbgrader's kernels use it."""
    runtime_dir = run_dir / "runtime"
    scratch_dir = run_dir / "scratch"
    for folder in (runtime_dir, scratch_dir / ".config", scratch_dir / ".ipython"):
        folder.mkdir(parents=True, exist_ok=True)
    kernel = [python_executable(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    prefix = limits() + (bwrap_command(runtime_dir, scratch_dir) if sandboxed else [])
    spec = {
        "argv": prefix + kernel,
        "display_name": "Python 3 (grading)",
        "language": "python",
        # Interrupt by a message on the control channel, not by a signal: the
        # signal would reach bubblewrap, not the kernel inside it.
        "interrupt_mode": "message",
        "env": {} if sandboxed else {"MPLBACKEND": "agg", "OPENBLAS_NUM_THREADS": "1"},
    }
    spec_dir = run_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return {"JUPYTER_PATH": str(run_dir), "JUPYTER_RUNTIME_DIR": str(runtime_dir)}


def kernel_options(run_dir: Path) -> list[str]:
    """nbgrader options: talk to the kernel over Unix sockets in RUN_DIR/runtime.

    The connection file and the socket prefix are given explicitly: by default
    the first goes to the system's temporary folder (hidden in the sandbox) and
    the second is relative to each side's working folder.
    """
    runtime_dir = run_dir / "runtime"
    return [
        "--KernelManager.transport=ipc",
        f"--KernelManager.connection_file={runtime_dir / 'kernel.json'}",
        f"--KernelManager.ip={runtime_dir / 'kernel'}",
    ]
