"""What one hand-in may use, all its processes together, and which of these bounds
hold on this machine.

A bound holds only where the machine offers a way to enforce it: control groups
(v1 or v2) for processes, memory, CPU time and CPU share; a tmpfs of a fixed size
and number of files for the scratch folders; prlimit for each process. `grade`
prints `report` before it grades, so a bound that does not hold is said, never
skipped in silence.
"""
from __future__ import annotations

from dataclasses import dataclass

MiB = 2**20
GiB = 2**30


@dataclass(frozen=True)
class Limits:
    """The bounds of one hand-in: everything its kernel starts, together."""

    processes: int = 256  # processes and threads at once (a kernel has about 10 threads)
    memory_bytes: int = 2 * GiB  # memory of all its processes and of its scratch files
    scratch_bytes: int = 256 * MiB  # bytes in /scratch, /tmp and /dev/shm together
    scratch_files: int = 10_000  # files and folders in them
    cpu_seconds: float = 600  # CPU time of all its processes, checked before each cell
    cpus: float = 1.0  # cores it may keep busy at once, however many processes it starts
    # Bounds of each process (prlimit), which hold wherever the bounds above do not.
    # The address space is the memory bound unless given: a memory bomb in one process
    # then gets a MemoryError (and its kernel lives on) before the memory bound kills it.
    process_address_space: int | None = None
    process_cpu_seconds: int = 900
    file_bytes: int = 100 * MiB  # the largest file it may write

    def __post_init__(self) -> None:
        if self.process_address_space is None:
            object.__setattr__(self, "process_address_space", self.memory_bytes)
        for name in ("processes", "memory_bytes", "scratch_bytes", "scratch_files", "process_address_space",
                     "process_cpu_seconds", "file_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} should be a positive whole number, got {value!r}")
        for name in ("cpu_seconds", "cpus"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} should be a positive number, got {getattr(self, name)!r}")
        if self.scratch_bytes > self.memory_bytes:
            raise ValueError(f"Limits.scratch_bytes ({self.scratch_bytes}) should not exceed memory_bytes "
                             f"({self.memory_bytes}): scratch files are held in memory")


@dataclass(frozen=True)
class Bound:
    """One bound on this machine: what it is, how much, and how it holds (or why not)."""

    name: str
    amount: str
    how: str | None  # None: it does not hold here
    why_not: str = ""

    @property
    def holds(self) -> bool:
        return self.how is not None

    def line(self) -> str:
        state = self.how if self.holds else f"NOT BOUNDED: {self.why_not}"
        return f"  {self.name:<16} {self.amount:<22} {state}"


def size(n: float) -> str:
    """N bytes, as a person reads them."""
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / MiB:g} MiB"


def report(bounds: list[Bound], sandboxed: bool = True) -> str:
    """The lines `grade` prints: every bound, and whether it holds here."""
    lines = ["Bounds of each hand-in, all its processes together, on this machine:"]
    lines += [bound.line() for bound in bounds]
    missing = [bound.name for bound in bounds if not bound.holds]
    if missing:
        lines.append(f"  Not bounded here: {', '.join(missing)} (see the README's \"Broken and hostile hand-ins\").")
    if not sandboxed:
        lines.append("  Without the sandbox, student code can undo any of these: it runs with your rights.")
    return "\n".join(lines)
