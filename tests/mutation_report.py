"""The full mutation run: how well the graded tests fail wrong code and pass right code.

    .venv/bin/python -m tests.mutation_report                  # every notebook (about 10 minutes)
    .venv/bin/python -m tests.mutation_report 03_bptt          # some notebooks
    .venv/bin/python -m tests.mutation_report --list rnn_step_backward   # the mutant ids of an exercise

For every exercise (solution region) of the masters it makes the mutants (tests/mutation.py),
runs each against the notebook's visible self-checks and hidden tests, and prints a table:
mutants made, mutants that lose points, equivalent mutants set aside (with the reason, from
tests/mutation_catalog.py), survivors and the kill rate. Then the correct alternatives, which
must get full marks, and the classic mistakes, whose visible self-check must name them.
It exits with 1 when a target is missed: a kill rate under 95 %, an alternative losing points,
a classic mistake not named, or a catalogue entry that no longer matches the reference.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests import mutation
from tests import mutation_catalog as catalog

TARGET = 0.95


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="notebooks to test (default: all), e.g. 01_forward")
    parser.add_argument("--list", metavar="EXERCISE", help="print the mutant ids of EXERCISE and stop")
    parser.add_argument("--workers", type=int, default=2, help="notebook runs at once (default 2)")
    parser.add_argument("--timeout", type=float, default=mutation.RUN_TIMEOUT,
                        help=f"seconds per notebook run before it counts as losing points ({mutation.RUN_TIMEOUT:g})")
    parser.add_argument("--show-killed", action="store_true", help="also list every mutant that loses points")
    return parser.parse_args(argv)


def progress_printer(total: int):
    done = [0]

    def report(_outcome) -> None:
        done[0] += 1
        if done[0] % 50 == 0 or done[0] == total:
            print(f"  ... {done[0]}/{total} runs", file=sys.stderr, flush=True)

    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for mutant in mutation.mutants(mutation.exercise_named(args.list)):
            print(mutant.mutant_id)
        return 0
    started = time.perf_counter()
    exercises = mutation.all_exercises(args.assignments or None)
    assignments = sorted({e.assignment for e in exercises})
    problems: list[str] = []

    references = mutation.reference_outcomes(assignments, args.workers)
    for assignment, outcome in references.items():
        if outcome.failed() or outcome.timed_out:
            print(f"The reference of {assignment} does not pass its own tests: {outcome.failed()}")
            return 1

    # ---- mutants
    made = {e.name: mutation.mutants(e) for e in exercises}
    every = [m for e in exercises for m in made[e.name]]
    known = {m.mutant_id for m in every}
    names = {e.name for e in exercises}
    for mutant_id in catalog.EQUIVALENT:
        if mutant_id.split(":", 1)[0] in names and mutant_id not in known:
            problems.append(f"equivalent mutant no longer made (update mutation_catalog.EQUIVALENT): {mutant_id}")
    print(f"Running {len(every)} mutants of {len(exercises)} exercises ({args.workers} at a time) ...",
          file=sys.stderr, flush=True)
    outcomes = mutation.run_jobs([mutation.mutant_job(m) for m in every], args.workers, args.timeout,
                                 progress_printer(len(every)))
    verdict, failing_cells = {}, {}
    for mutant, outcome in zip(every, outcomes, strict=True):
        verdict[mutant.mutant_id] = mutation.loses_points(outcome, references[mutant.exercise.assignment])
        failing_cells[mutant.mutant_id] = outcome.failed() or (["(timed out)"] if outcome.timed_out else [])

    header = f"{'exercise':<46} {'mutants':>7} {'lose points':>11} {'equivalent':>10} {'survive':>7} {'kill rate':>9}"
    print()
    print("Mutants: a mutant loses points when a graded test cell the reference passes fails for it")
    print(header)
    print("-" * len(header))
    totals = [0, 0, 0, 0]
    details = []
    for exercise in exercises:
        ids = [m.mutant_id for m in made[exercise.name]]
        killed = [i for i in ids if verdict[i]]
        equivalent = [i for i in ids if not verdict[i] and i in catalog.EQUIVALENT]
        survivors = [i for i in ids if not verdict[i] and i not in catalog.EQUIVALENT]
        wrongly_equivalent = [i for i in killed if i in catalog.EQUIVALENT]
        for i in wrongly_equivalent:
            problems.append(f"listed as equivalent but loses points (remove it from EQUIVALENT): {i}")
        counted = len(ids) - len(equivalent)
        rate = len(killed) / counted if counted else 1.0
        if rate < TARGET:
            problems.append(f"{exercise.name}: kill rate {rate:.1%} is below {TARGET:.0%}")
        print(f"{exercise.assignment[:2] + ' ' + exercise.name:<46} {len(ids):>7} {len(killed):>11} "
              f"{len(equivalent):>10} {len(survivors):>7} {rate:>9.1%}")
        for index, value in enumerate((len(ids), len(killed), len(equivalent), len(survivors))):
            totals[index] += value
        details.append((exercise, killed, equivalent, survivors))
    print("-" * len(header))
    counted = totals[0] - totals[2]
    print(f"{'all':<46} {totals[0]:>7} {totals[1]:>11} {totals[2]:>10} {totals[3]:>7} "
          f"{(totals[1] / counted if counted else 1.0):>9.1%}")

    print("\nSurvivors (mutants that earn every point and are not known to be equivalent):")
    if not any(survivors for *_, survivors in details):
        print("  none")
    for _exercise, _, _, survivors in details:
        for i in survivors:
            print(f"  {i}")
    timed_out = [m.mutant_id for m, o in zip(every, outcomes, strict=True) if o.timed_out]
    print(f"\nMutants cut at the time limit of {args.timeout:g} s per notebook run (counted as losing points, "
          f"as nbgrader's cell timeout would): {len(timed_out) or 'none'}")
    for i in timed_out:
        print(f"  {i}")
    print("\nEquivalent mutants set aside, with the reason:")
    for _exercise, _, equivalent, _ in details:
        for i in equivalent:
            print(f"  {i}\n      because {catalog.EQUIVALENT[i]}")
    if args.show_killed:
        print("\nMutants that lose points, with the first test cell that fails:")
        for _exercise, killed, _, _ in details:
            for i in killed:
                print(f"  {i}\n      {', '.join(failing_cells[i])}")

    # ---- alternatives, one notebook run each
    alternatives = [(name, title, code) for name, options in catalog.ALTERNATIVES.items()
                    if name in names for title, code in options.items()]
    for name in names - set(catalog.ALTERNATIVES):
        problems.append(f"{name}: no correct alternative in mutation_catalog.ALTERNATIVES")
    jobs = [mutation.alternative_job(name, title, code) for name, title, code in alternatives]
    print(f"\nCorrect alternatives ({len(jobs)}): each must earn every automatic point")
    outcomes = mutation.run_jobs(jobs, args.workers, args.timeout)
    for (name, title, _), outcome in zip(alternatives, outcomes, strict=True):
        lost = mutation.loses_points(outcome, references[mutation.exercise_named(name).assignment])
        if lost:
            why = "; ".join(f"{cell}: {outcome.results[cell][1]}" for cell in outcome.failed()) or "timed out"
            problems.append(f"alternative loses points: {name}: {title}: {why}")
        print(f"  {'LOSES POINTS' if lost else 'full marks  '}  {name}: {title}")
        if lost:
            print(f"      {why[:300]}")

    # ---- classic mistakes
    classics = [c for c in catalog.CLASSICS if c.exercise in names]
    jobs = []
    for classic in classics:
        try:
            jobs.append(mutation.classic_job(classic))
        except KeyError as error:
            problems.append(str(error))
            jobs.append(None)
    runnable = [(c, j) for c, j in zip(classics, jobs, strict=True) if j is not None]
    print(f"\nClassic mistakes ({len(runnable)}): each loses points and its visible self-check names it")
    outcomes = mutation.run_jobs([j for _, j in runnable], args.workers, args.timeout)
    for (classic, job), outcome in zip(runnable, outcomes, strict=True):
        reference = references[job.assignment]
        problem = mutation.classic_problem(classic, catalog.VISIBLE_CHECK[classic.exercise], outcome, reference)
        message = next((outcome.results[c][1] for c in outcome.failed()), "")
        print(f"  {'named    ' if problem is None else 'NOT NAMED'}  {classic.exercise}: {classic.mistake}")
        print(f"      {message[:200]}")
        if problem is not None:
            problems.append(f"classic mistake {classic.exercise}: {classic.mistake}: {problem}")

    print(f"\n{time.perf_counter() - started:.0f} s")
    if problems:
        print("\nTargets missed:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("Every target met: every exercise kills at least 95 % of its non-equivalent mutants, every "
          "alternative earns full marks, every classic mistake is named by its self-check.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
