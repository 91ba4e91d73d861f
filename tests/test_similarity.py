"""The similarity report: disguised copies of the published reference and answers shared by two
students are flagged; the mutation catalogue's independently written correct answers are not;
the page reads in a browser.

    .venv/bin/python -m tests.test_similarity     # the false-positive rate on the catalogue
"""
from __future__ import annotations

import ast
import csv
import io
import itertools
import re
import shutil
import tokenize
from pathlib import Path

import nbformat
import pytest

from rnncourse import config, grading
from rnncourse.grading import sandbox, similarity
from rnncourse.grading.repair import grade_id
from rnncourse.grading.similarity import REFERENCE, THRESHOLD
from tests import mutation
from tests.browser import chromium
from tests.mutation_catalog import ALTERNATIVES

STUB = "# YOUR CODE HERE\n{indent}raise NotImplementedError()"


def released(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(config.NOTEBOOKS_DIR / f"{assignment}.ipynb", as_version=4)


def answered(exercise: mutation.Exercise, code: str, nb: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """The student notebook (or NB) with CODE in place of EXERCISE's stub, as a student hands it in."""
    nb = nb or released(exercise.assignment)
    cell = next(c for c in nb.cells if grade_id(c) == exercise.cell_id)
    stub = exercise.indent + STUB.format(indent=exercise.indent)
    pieces = cell.source.split(stub)
    assert len(pieces) > exercise.index + 1, f"no stub number {exercise.index} in {exercise.cell_id}"
    body = "\n".join(exercise.indent + line if line.strip() else line for line in code.rstrip("\n").split("\n"))
    cell.source = stub.join(pieces[: exercise.index + 1]) + body + stub.join(pieces[exercise.index + 1:])
    return nb


def answer_of(exercise: mutation.Exercise, nb: nbformat.NotebookNode, who: str) -> similarity.Answer:
    master = mutation.master(exercise.assignment)
    found = [a for a in similarity.answers(exercise.assignment, master, nb, who) if a.exercise == exercise.name]
    assert len(found) == 1, f"{who}'s answer to {exercise.name} not found"
    return found[0]


def reference_of(exercise: mutation.Exercise) -> similarity.Answer:
    return answer_of(exercise, mutation.master(exercise.assignment), REFERENCE)


def disguised(code: str, keep: set[str], prefix: str = "tmp", note: str = "my own step") -> str:
    """CODE as a copier hides it: the names it assigns renamed (but those in KEEP), its comments
    replaced, a comment and a blank line after every line, every token spaced anew."""
    stored = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names = {name: f"{prefix}{number}" for number, name in enumerate(sorted(stored - keep - {"_"}))}
    tokens, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            continue
        renamed = token.type == tokenize.NAME and token.string in names and previous != "."
        tokens.append((token.type, names[token.string] if renamed else token.string))
        previous = token.string
    lines = tokenize.untokenize(tokens).rstrip("\n").split("\n")
    return "\n".join(f"{line}  # {note}\n" if line.strip() else line for line in lines) + "\n"


def contract_names(exercise: mutation.Exercise) -> set[str]:
    """The names the released cell uses: parameters and what its provided code reads."""
    cell = next(c for c in released(exercise.assignment).cells if grade_id(c) == exercise.cell_id)
    return set(re.findall(r"\w+", cell.source))


COMPARABLE = [e for e in mutation.all_exercises() if similarity.comparable(reference_of(e))]


@pytest.mark.parametrize("exercise", COMPARABLE, ids=lambda e: e.name)
def test_a_disguised_copy_of_the_reference_is_flagged(exercise):
    copied = disguised(exercise.text, contract_names(exercise))
    assert copied != exercise.text
    for old in set(re.findall(r"\w+", exercise.text)) - set(re.findall(r"\w+", copied)):
        assert not re.search(rf"\b{old}\b", copied)
    student = answer_of(exercise, answered(exercise, copied), "ada")
    found = similarity.matches([reference_of(exercise), student])
    assert [(m.first.who, m.second.who) for m in found] == [(REFERENCE, "ada")]
    assert found[0].score >= THRESHOLD


@pytest.mark.parametrize("exercise", COMPARABLE, ids=lambda e: e.name)
def test_a_copy_with_a_statement_added_is_still_flagged(exercise):
    padded = 'print("my answer, checked")\n' + disguised(exercise.text, contract_names(exercise))
    student = answer_of(exercise, answered(exercise, padded), "ada")
    assert THRESHOLD <= similarity.score(reference_of(exercise), student) < 1.0


def test_every_long_enough_reference_is_compared():
    # Only one-line answers are too short to tell a copy from an independent answer.
    assert {e.name for e in mutation.all_exercises()} - {e.name for e in COMPARABLE} == {
        "rnn_step_forward", "ScratchSimpleRNNClassifier.predict_proba", "ScratchSimpleRNNClassifier.predict",
        "make_vocabulary", "decode", "one_hot", "next_char_probabilities"}


# A copy of rnn_step_backward's reference as a student might hide it: names changed, statements
# that do not depend on each other reordered, the layout and the comments their own.
REORDERED_STEP_BACKWARD = '''
# chain rule through tanh
grad_pre = dh_t * (1 - h_t ** 2)

grad_Wh = h_prev.T @ grad_pre     # weights first
grad_Wx = x_t.T @ grad_pre
grad_b = grad_pre.sum(axis = 0)
grad_hprev = grad_pre @ W_h.T
grad_x = (grad_pre
          @ W_x.T)
return grad_x, grad_hprev, grad_Wx, grad_Wh, grad_b
'''


def test_reordered_independent_statements_do_not_hide_a_copy():
    exercise = mutation.exercise_named("rnn_step_backward")
    student = answer_of(exercise, answered(exercise, REORDERED_STEP_BACKWARD), "ada")
    assert similarity.score(reference_of(exercise), student) == 1.0


def test_reordering_dependent_statements_is_not_undone():
    # da is needed by the others: moving it changes the program, and the normalised form with it.
    exercise = mutation.exercise_named("rnn_step_backward")
    first = "da = dh_t * (1 - h_t ** 2)\n"
    moved = exercise.text.replace(first, "").replace("return", first + "return")
    student = answer_of(exercise, answered(exercise, moved), "ada")
    assert similarity.score(reference_of(exercise), student) < 1.0


def test_two_students_sharing_an_answer_are_flagged_as_a_pair():
    exercise = mutation.exercise_named("SimpleRNN.forward")
    alternatives = ALTERNATIVES[exercise.name]
    shared = alternatives["a list of states, np.stack"]
    keep = contract_names(exercise)
    hand_ins = {
        "ada": disguised(shared, keep, prefix="ada_", note="ada's notes"),
        "ben": disguised(shared, keep, prefix="step_", note="as in the lecture"),
        "cleo": alternatives["the formula inline, np.dot, iterating over x.transpose(1, 0, 2)"],
        "dan": alternatives["h0 kept at index 0 of a buffer, einsum"],
    }
    every = [reference_of(exercise)] + [answer_of(exercise, answered(exercise, code), who)
                                        for who, code in hand_ins.items()]
    assert [(m.first.who, m.second.who) for m in similarity.matches(every)] == [("ada", "ben")]


def catalogue_pairs() -> list[tuple[float, str, str, str]]:
    """(score, exercise, one, other) of every pair among each exercise's reference and its
    independently written correct alternatives, each handed in as a student would."""
    pairs = []
    for exercise in mutation.all_exercises():
        answers = {"reference": reference_of(exercise)}
        answers.update({name: answer_of(exercise, answered(exercise, code), name)
                        for name, code in ALTERNATIVES.get(exercise.name, {}).items()})
        for one, other in itertools.combinations(answers, 2):
            pairs.append((similarity.score(answers[one], answers[other]), exercise.name, one, other))
    return sorted(pairs, reverse=True)


def test_independent_correct_answers_are_not_flagged_against_each_other():
    pairs = catalogue_pairs()
    assert len(pairs) >= 80, "the catalogue lost its alternatives"
    flagged = [p for p in pairs if p[0] >= THRESHOLD]
    assert flagged == [], f"{len(flagged)} of {len(pairs)} independent pairs flagged: {flagged}"


def test_short_answers_are_listed_but_not_compared():
    exercise = mutation.exercise_named("rnn_step_forward")
    student = answer_of(exercise, answered(exercise, exercise.text), "ada")
    assert similarity.matches([reference_of(exercise), student]) == []
    page = similarity.render([reference_of(exercise), student], [])
    assert "<tr><td>rnn_step_forward</td><td>1</td><td>1</td><td>0</td></tr>" in page


REFLECTION = mutation.Exercise("04_classifier", "reflection_answer", "reflection_answer", 0, "", "", ())


def written(text: str) -> nbformat.NotebookNode:
    nb = released("04_classifier")
    next(c for c in nb.cells if grade_id(c) == "reflection_answer").source = text
    return nb


def test_a_model_written_answer_with_words_changed_is_flagged():
    model = reference_of(REFLECTION)
    changed = model.shown.replace("keeps falling", "goes on falling").replace("ten times higher", "much higher")
    assert changed != model.shown
    found = similarity.matches([model, answer_of(REFLECTION, written(changed), "ada")])
    assert [(m.first.who, m.second.who) for m in found] == [(REFERENCE, "ada")]


OWN_REFLECTION = """1. My training loss went down the whole time but the validation loss flattened out around
epoch 18 and even crept up a little at the end, so the network is starting to memorise the training
digits. I would stop training earlier or add some regularisation.
2. Mostly 9 and 4 got mixed up, and some 7s. Since it only looks at the final state after the last
row, the top of a 9 (the loop) is far back in time when it decides."""


def test_an_answer_written_independently_is_not_flagged():
    found = similarity.matches([reference_of(REFLECTION), answer_of(REFLECTION, written(OWN_REFLECTION), "ada")])
    assert found == []


def test_a_hand_in_that_does_not_parse_is_skipped():
    exercise = mutation.exercise_named("SimpleRNN.forward")
    master = mutation.master(exercise.assignment)
    whole = answered(exercise, exercise.text)
    broken = answered(exercise, exercise.text.replace("range(n_sequences)", "range(n_sequences"))
    assert [a.exercise for a in similarity.answers(exercise.assignment, master, whole, "ada")] == [exercise.name]
    assert similarity.answers(exercise.assignment, master, broken, "ada") == []


def course_folder(tmp_path: Path, hand_ins: dict[str, nbformat.NotebookNode], assignment: str) -> Path:
    """An output folder as `grade` leaves it: the master in source/, the hand-ins in submitted/."""
    out = tmp_path / "graded"
    shutil.copytree(config.SOURCE_DIR / assignment, out / "source" / assignment)
    for student, nb in hand_ins.items():
        path = out / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    return out


def sample_course(tmp_path: Path) -> Path:
    """03_bptt: ada copied the reference, ben and cleo share an answer, dan wrote his own."""
    exercise = mutation.exercise_named("numerical_gradient")
    keep = contract_names(exercise)
    alternative = ALTERNATIVES[exercise.name]["np.nditer, x changed by += and -="]
    hostile = 'note = "</pre><script>document.title = 1</script>"\n' + ALTERNATIVES[exercise.name][
        "itertools.product, a dict of losses"]
    return course_folder(tmp_path, {
        "ada": answered(exercise, disguised(exercise.text, keep)),
        "ben": answered(exercise, alternative),
        "cleo": answered(exercise, disguised(alternative, keep, prefix="c")),
        "dan": answered(exercise, hostile),
    }, exercise.assignment)


def test_write_gives_the_flagged_pairs_in_a_csv(tmp_path):
    out = sample_course(tmp_path)
    similarity.write(out)
    with (out / "similarity.csv").open() as file:
        rows = [(r["exercise"], r["student"], r["other"]) for r in csv.DictReader(file)]
    assert rows == [("numerical_gradient", "ada", REFERENCE), ("numerical_gradient", "ben", "cleo")]


def test_the_report_escapes_what_students_wrote(tmp_path):
    every, _ = similarity.collect(sample_course(tmp_path))
    dan = next(a for a in every if a.who == "dan")
    page = similarity.render(every, [similarity.Match(dan, dan, 1.0)])
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_a_hand_in_that_breaks_the_comparison_is_named_and_the_others_compared(tmp_path, monkeypatch):
    out = sample_course(tmp_path)
    answers = similarity.answers

    def failing(assignment, master, nb, who):
        if who == "cleo":
            raise RecursionError("maximum recursion depth exceeded")
        return answers(assignment, master, nb, who)

    monkeypatch.setattr(similarity, "answers", failing)
    found = similarity.write(out)
    assert [(m.first.who, m.second.who) for m in found] == [(REFERENCE, "ada")]
    assert "<li>cleo / 03_bptt (RecursionError: maximum recursion depth exceeded)</li>" in \
        (out / "similarity.html").read_text()


def test_write_needs_a_course_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no master notebooks"):
        similarity.write(tmp_path)


def test_the_report_reads_in_a_browser(tmp_path):
    out = sample_course(tmp_path)
    similarity.write(out)
    with chromium() as driver:
        driver.get((out / "similarity.html").as_uri())
        assert driver.title == "Similarity report"
        assert driver.find_element("tag name", "h1").text == "Similarity of answers"
        table = [[cell.text for cell in row.find_elements("tag name", "td")]
                 for row in driver.find_elements("css selector", "#flagged tr")[1:]]
        assert table == [["ada", "03_bptt", "numerical_gradient", "-"],
                         ["ben", "03_bptt", "-", "numerical_gradient (cleo)"],
                         ["cleo", "03_bptt", "-", "numerical_gradient (ben)"]]
        pairs = driver.find_elements("css selector", ".pair")
        assert [p.find_element("tag name", "h4").text for p in pairs] == [
            f"{REFERENCE} and ada: 1.00", "ben and cleo: 1.00"]
        for pair in pairs:  # two columns side by side, each showing its code
            left, right = pair.find_elements("tag name", "pre")
            assert left.is_displayed() and right.is_displayed()
            assert left.rect["y"] == right.rect["y"] and left.rect["x"] + left.rect["width"] <= right.rect["x"]
            assert left.rect["width"] > 300 and "eps" in left.text and "eps" in right.text
        assert "np.nditer" in pairs[1].text and "tmp" in pairs[0].text
        driver.save_screenshot(str(tmp_path / "similarity.png"))


@pytest.mark.slow
def test_grade_writes_the_report_and_changes_no_grade(tmp_path):
    init, forward = mutation.exercise_named("SimpleRNN.__init__"), mutation.exercise_named("SimpleRNN.forward")
    step = mutation.exercise_named("rnn_step_forward")
    keep = contract_names(forward)

    def hand_in(init_code: str, forward_code: str) -> nbformat.NotebookNode:
        return answered(step, step.text, answered(init, init_code, answered(forward, forward_code)))

    handins = tmp_path / "handins"
    handins.mkdir()
    for student, nb in {"ada": hand_in(init.text, forward.text),
                        "ben": hand_in(disguised(init.text, keep), disguised(forward.text, keep)),
                        "cleo": hand_in(*(next(iter(ALTERNATIVES[e.name].values())) for e in (init, forward)))}.items():
        nbformat.write(nb, handins / f"{student}_{step.assignment}.ipynb")
    out = tmp_path / "graded"
    no_sandbox = sandbox.bwrap_problem()
    rows = grading.grade(grading.GradingRun(handins, out, sandboxed=no_sandbox is None, assignments=[step.assignment],
                                            workers=2, log=lambda *args: None)).rows
    assert {(row.student, row.score == row.max_score) for row in rows} == {("ada", True), ("ben", True), ("cleo", True)}
    with (out / "similarity.csv").open() as file:
        flagged = {(r["exercise"], r["student"], r["other"]) for r in csv.DictReader(file)}
    assert flagged == {(e.name, *pair) for e in (init, forward)
                       for pair in (("ada", REFERENCE), ("ben", REFERENCE), ("ada", "ben"))}
    assert "ada and ben: 1.00" in (out / "similarity.html").read_text()


if __name__ == "__main__":
    scored = catalogue_pairs()
    flagged = [p for p in scored if p[0] >= THRESHOLD]
    print(f"threshold {THRESHOLD}: {len(flagged)} of {len(scored)} pairs of independent answers flagged "
          f"({len(flagged) / len(scored):.1%}); the highest scores:")
    for value, name, one, other in scored[:5]:
        print(f"  {value:.3f}  {name}: {one!r} and {other!r}")
    copies = {}
    for exercise in COMPARABLE:
        copied = disguised(exercise.text, contract_names(exercise))
        for label, code in (("disguised", copied), ("disguised, a statement added", 'print("checked")\n' + copied)):
            student = answer_of(exercise, answered(exercise, code), "copy")
            copies.setdefault(label, []).append(similarity.score(reference_of(exercise), student))
    for label, values in copies.items():
        print(f"copies of the {len(values)} comparable references, {label}: {min(values):.3f} to {max(values):.3f}")
