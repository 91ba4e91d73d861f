"""Grade one batch of hand-ins with 1 worker and with more, side by side.

The batch cycles through every assignment and three kinds of hand-in: the
reference answers, the reference saved as Colab saves it (so it is repaired),
and one with its first exercise left as released. Each run grades into a
fresh output folder that has already been prepared (released, gradebook made),
so the time is that of grading alone; the results of every run must be
identical to the first's.

    .venv/bin/python -m benchmarks.grading_benchmark [--handins 40] [--workers 1 2]

Prints, per run: the wall time, seconds per hand-in, and the speed-up against
the first run. Timings depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from rnncourse import config, grading
from rnncourse.grading import sandbox
from tests import handin_corpus as corpus


def write_batch(folder: Path, count: int) -> None:
    """COUNT hand-ins in FOLDER, cycling through the assignments and the kinds of hand-in."""
    kinds = {
        "complete": lambda a: corpus.answered(a),
        "colab": lambda a: corpus.colab(corpus.answered(a)),
        "partial": lambda a: corpus.answered(a, skip=(corpus.first_exercise(a),)),
    }
    assignments = config.assignments()
    for number in range(count):
        assignment = assignments[number % len(assignments)]
        kind = list(kinds)[number // len(assignments) % len(kinds)]
        nbformat.write(kinds[kind](assignment), folder / f"s{number:03d}{kind}_{assignment}.ipynb")


def grade_batch(source: Path, out: Path, workers: int, sandboxed: bool) -> float:
    """Seconds to grade SOURCE into OUT (already prepared) with WORKERS."""
    started = time.perf_counter()
    grading.grade(grading.GradingRun(source, out, sandboxed=sandboxed, cell_timeout=60, timeout=900,
                                     workers=workers, log=lambda *args: None))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handins", type=int, default=40, help="hand-ins in the batch (default 40)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to compare; the first is the reference (default: 1 2)")
    args = parser.parse_args()
    problem = sandbox.bwrap_problem()
    with tempfile.TemporaryDirectory(prefix="rnncourse-bench-") as tmp:
        batch, empty, prepared = Path(tmp) / "batch", Path(tmp) / "empty", Path(tmp) / "prepared"
        batch.mkdir()
        empty.mkdir()
        write_batch(batch, args.handins)
        started = time.perf_counter()
        grading.grade(grading.GradingRun(empty, prepared, sandboxed=problem is None, log=lambda *a: None))
        print(f"{args.handins} hand-ins of {', '.join(config.assignments())}; sandbox: "
              f"{'bubblewrap' if problem is None else 'none (' + problem + ')'}; "
              f"preparing the output folder (release, gradebook): {time.perf_counter() - started:.1f} s")
        print(f"{'workers':>7}  {'seconds':>8}  {'s / hand-in':>11}  {'speed-up':>8}  results")
        reference_seconds = reference_csv = None
        for number, workers in enumerate(args.workers):
            out = Path(tmp) / f"out{number}"
            shutil.copytree(prepared, out)
            seconds = grade_batch(batch, out, workers, problem is None)
            csv_text = (out / "grades.csv").read_text()
            reference_seconds = reference_seconds or seconds
            reference_csv = reference_csv or csv_text
            same = "as the first run" if csv_text == reference_csv else "DIFFERENT from the first run"
            print(f"{workers:>7}  {seconds:>8.1f}  {seconds / args.handins:>11.2f}  "
                  f"{reference_seconds / seconds:>7.2f}x  {same}")


if __name__ == "__main__":
    main()
