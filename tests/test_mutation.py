"""Grading accuracy, as a regression guard: the hidden tests fail wrong code and pass right code.

A fixed subset of tests/mutation_report.py's full run (about a minute on two cores):
- every classic mistake of mutation_catalog.CLASSICS (the commonest mutants, as mutant ids or
  hand-written code) loses points, and the exercise's visible self-check is the first test cell
  to fail, with a message that names the mistake (not check_array's generic fallback);
- every correct alternative of mutation_catalog.ALTERNATIVES earns every automatic point (the
  k-th alternatives of a notebook's exercises run together, in one notebook run);
- the catalogue still matches the reference answers (a changed reference must update it).
Each run executes the master's cells in a forked child, without nbgrader (tests/mutation.py).
"""

from __future__ import annotations

import pytest

from tests import mutation
from tests import mutation_catalog as catalog

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted({e.assignment for e in mutation.all_exercises()})
EXERCISES = {e.name: e for e in mutation.all_exercises()}


@pytest.fixture(scope="module")
def references() -> dict[str, mutation.Outcome]:
    outcomes = mutation.reference_outcomes(ASSIGNMENTS)
    for assignment, outcome in outcomes.items():
        assert not outcome.failed() and not outcome.timed_out, (
            f"the reference of {assignment} fails its own test cells {outcome.failed()}")
    return outcomes


@pytest.fixture(scope="module")
def classic_outcomes(references) -> dict[str, mutation.Outcome | str]:
    """Every classic mistake run once (all at once, two at a time): label -> outcome, or the
    error that kept it from running (a mutant id the reference no longer makes)."""
    jobs, results = [], {}
    for classic in catalog.CLASSICS:
        try:
            jobs.append(mutation.classic_job(classic))
        except KeyError as error:
            results[catalog.classic_label(classic)] = str(error)
    for job, outcome in zip(jobs, mutation.run_jobs(jobs), strict=True):
        results[job.label] = outcome
    return results


@pytest.fixture(scope="module")
def alternative_outcomes(references) -> dict[str, list[tuple[mutation.Job, mutation.Outcome]]]:
    jobs = {a: mutation.alternative_jobs(catalog.ALTERNATIVES, a) for a in ASSIGNMENTS}
    flat = [job for a in ASSIGNMENTS for job in jobs[a]]
    outcomes = dict(zip((id(job) for job in flat), mutation.run_jobs(flat), strict=True))
    return {a: [(job, outcomes[id(job)]) for job in jobs[a]] for a in ASSIGNMENTS}


@pytest.mark.parametrize("classic", catalog.CLASSICS, ids=catalog.classic_label)
def test_classic_mistake_loses_points_and_its_self_check_names_it(classic, classic_outcomes, references):
    outcome = classic_outcomes[catalog.classic_label(classic)]
    assert not isinstance(outcome, str), outcome
    exercise = EXERCISES[classic.exercise]
    problem = mutation.classic_problem(
        classic, catalog.VISIBLE_CHECK[classic.exercise], outcome, references[exercise.assignment])
    assert problem is None, f"{catalog.classic_label(classic)}: {problem}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_alternatives_earn_every_point(assignment, alternative_outcomes, references):
    runs = alternative_outcomes[assignment]
    assert runs, f"{assignment} has no correct alternative in mutation_catalog.ALTERNATIVES"
    lost = []
    for job, outcome in runs:
        if mutation.loses_points(outcome, references[assignment]):
            why = "timed out" if outcome.timed_out else "; ".join(
                f"{cell}: {outcome.results[cell][1]}" for cell in outcome.failed())
            lost.append(f"[{job.label}] {why}")
    assert not lost, (
        "correct alternatives lose points (run tests/mutation_report.py to see which one alone):\n"
        + "\n".join(lost))


def test_the_mutation_runner_tells_a_loss_from_full_marks(references):
    """The runner itself: the reference earns full marks, a wrong answer and an endless loop do not."""
    exercise = EXERCISES["rnn_step_forward"]
    jobs = [
        mutation.Job("reference text", exercise.assignment, {exercise.key: exercise.text}),
        mutation.Job("zeros", exercise.assignment, {exercise.key: "return np.zeros((x_t.shape[0], W_h.shape[1]))\n"}),
        mutation.Job("endless", exercise.assignment, {exercise.key: "while True:\n    pass\n"}),
    ]
    same, wrong, endless = mutation.run_jobs(jobs, timeout=3)
    reference = references[exercise.assignment]
    assert not mutation.loses_points(same, reference)
    assert mutation.loses_points(wrong, reference) and wrong.failed()[0] == "test_rnn_step_forward_hidden"
    assert endless.timed_out and mutation.loses_points(endless, reference)


def test_every_exercise_is_in_the_catalogue():
    names = set(EXERCISES)
    assert set(catalog.VISIBLE_CHECK) == names, "mutation_catalog.VISIBLE_CHECK should list every exercise"
    assert set(catalog.ALTERNATIVES) == names, "mutation_catalog.ALTERNATIVES should give every exercise an alternative"
    without = names - {c.exercise for c in catalog.CLASSICS}
    assert not without, f"no classic mistake in mutation_catalog.CLASSICS for {sorted(without)}"


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_catalogued_mutant_ids_still_exist(exercise):
    made = {m.mutant_id for m in mutation.mutants(EXERCISES[exercise])}
    listed = [i for i in catalog.EQUIVALENT if i.split(":", 1)[0] == exercise]
    listed += [c.mutant for c in catalog.CLASSICS if c.exercise == exercise and c.mutant]
    stale = [i for i in listed if i not in made]
    assert not stale, (
        f"the reference answer of {exercise} changed: these ids in tests/mutation_catalog.py no longer exist "
        f"(`.venv/bin/python -m tests.mutation_report --list '{exercise}'` prints the current ones):\n"
        + "\n".join(stale))


def test_hidden_tests_judge_an_unanswered_notebook_check_by_check(references):
    """With every exercise unanswered, each hidden cell fails every check on its own: no hidden code
    outside judge.check calls the student's code (which would stop the cell and lose the other checks)."""
    jobs = [mutation.Job(f"{a}: unanswered", a, {e.key: "raise NotImplementedError()\n"
                                                 for e in mutation.exercises(a)}, stop_on_failure=False)
            for a in ASSIGNMENTS]
    for job, outcome in zip(jobs, mutation.run_jobs(jobs), strict=True):
        assert outcome.results, job.label
        stopped = {cell: message for cell, (_, message) in outcome.results.items() if "the cell stopped" in message}
        assert not stopped, f"{job.label}: {stopped}"
        assert all(not passed for passed, _ in outcome.results.values()), job.label


# A wrong earlier exercise, and the later exercises whose hidden tests must keep every point:
# the judge runs them with the earlier exercise's reference (judge.using).
CASCADES = [
    ("rnn_step_forward", "return np.zeros((x_t.shape[0], W_h.shape[1]))\n", ["test_simple_rnn_forward_hidden"]),
    ("rnn_step_backward", "return x_t, dh_t, W_x, W_h, dh_t.sum(axis=0)\n", ["test_simple_rnn_backward_hidden"]),
    ("softmax", "return np.asarray(logits, dtype=float)\n", ["test_cross_entropy_hidden", "test_predict_hidden"]),
    ("cross_entropy", "return 0.0, np.zeros(np.shape(logits))\n",
     ["test_loss_and_gradients_hidden", "test_fit_hidden"]),
    ("ScratchSimpleRNNClassifier._loss_and_gradients", "raise NotImplementedError()\n", ["test_fit_hidden"]),
    ("ScratchSimpleRNNClassifier._sgd_step", "pass\n", ["test_fit_hidden"]),
]


@pytest.mark.parametrize("wrong, code, later", CASCADES, ids=[c[0] for c in CASCADES])
def test_a_mistake_costs_only_its_own_exercise(wrong, code, later, references):
    exercise = EXERCISES[wrong]
    outcome, = mutation.run_jobs([mutation.Job(f"{wrong} wrong", exercise.assignment, {exercise.key: code},
                                               stop_on_failure=False)])
    assert not outcome.results[catalog.VISIBLE_CHECK[wrong] + "_hidden"][0], "the wrong answer should lose points"
    for cell in later:
        assert outcome.results[cell] == (True, ""), f"{wrong} wrong costs {cell}: {outcome.results[cell][1]}"
