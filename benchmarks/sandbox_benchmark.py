"""What a CPU hog costs the honest hand-in graded beside it, with the hand-ins'
control groups and without them.

The honest hand-in is tests/hostile_corpus.py's "aa_slow_honest" (the reference
answers and a cell that needs about 2 s of one core); the hog is "aa_cpu_hog"
(64 busy processes for 10 s). Three runs, each into a fresh output folder:

    alone      the honest hand-in by itself
    bounded    beside the hog, two workers, each hand-in in its control group
    unbounded  the same, control groups off (RNNCOURSE_CGROUPS=off)

    .venv/bin/python -m benchmarks.sandbox_benchmark [--cell-timeout 60]

Prints, per run, the honest hand-in's grading time, the wall time of its slow
cell, and its status; and the CPU time the hog's processes got, in how long.
Timings depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

from rnncourse import grading
from rnncourse.grading import course, isolation
from tests import handin_corpus as corpus
from tests import hostile_corpus as hostile


def slow_cell_seconds(out: Path) -> float | None:
    """How long the honest hand-in's slow cell took, from nbclient's timing of it."""
    nb = nbformat.read(course.autograded_path(out, "aa_slow_honest", corpus.ASSIGNMENT), as_version=4)
    cell = next(c for c in nb.cells if c.source == hostile.SLOW_WORK)
    timing = cell.metadata.get("execution", {})
    if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
        return None
    start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def hog_line(out: Path) -> str:
    """What the hog says it got: its processes' CPU seconds in how long."""
    path = course.autograded_path(out, "aa_cpu_hog", corpus.ASSIGNMENT)
    if not path.is_file():
        return ""
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.get("text", "").startswith("cpu hog:"):
                return "   " + output.text.strip()
    return ""


def run(name: str, handins: dict, cell_timeout: int, cgroups: bool) -> None:
    os.environ[isolation.CGROUPS_SWITCH] = "on" if cgroups else "off"
    isolation.machine.cache_clear()
    with tempfile.TemporaryDirectory(prefix="rnncourse-bench-") as tmp:
        corpus.write(handins, Path(tmp) / "handins")
        seconds = {}
        started = time.perf_counter()
        rows = grading.grade(grading.GradingRun(
            Path(tmp) / "handins", Path(tmp) / "out", cell_timeout=cell_timeout, timeout=600,
            assignments=[corpus.ASSIGNMENT], workers=2,
            log=lambda line: seconds.update({line.split()[1]: line.rsplit(": ", 1)[-1]}))).rows
        row = next(r for r in rows if r.student == "aa_slow_honest")
        cell = slow_cell_seconds(Path(tmp) / "out")
        shown = f"{cell:.1f} s" if cell is not None else "not finished"
        print(f"{name:10} batch {time.perf_counter() - started:6.1f} s   honest hand-in {seconds['aa_slow_honest']:>8}"
              f"   its slow cell {shown:>12}   {row.status} {row.score:g}/{row.max_score:g}"
              + hog_line(Path(tmp) / "out"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-timeout", type=int, default=60, help="time limit of a cell (default 60)")
    args = parser.parse_args()
    honest = {"aa_slow_honest": hostile.honest()["aa_slow_honest"]}
    hog = {"aa_cpu_hog": hostile.hostile([], 1)["aa_cpu_hog"], **honest}
    run("alone", honest, args.cell_timeout, cgroups=True)
    run("bounded", hog, args.cell_timeout, cgroups=True)
    run("unbounded", hog, args.cell_timeout, cgroups=False)


if __name__ == "__main__":
    main()
