"""The class report: each graded cell's score distribution and the mistakes most students
made, named as the notebook names them; counted only where the judge took points off,
and read in a headless browser as an instructor opens it.
"""
from __future__ import annotations

import nbformat
import pytest

from rnncourse import config, grading
from rnncourse.grading import class_report, gradebook, sandbox
from tests import browser
from tests import handin_corpus as corpus

NO_BIAS = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, B):
    """One time step of a simple RNN, for a whole batch."""
    return np.tanh(x_t @ W_x + h_prev @ W_h)
'''
# A right answer whose self-check claims a mistake it does not make.
FORGED = '''def check_array(*args, **kwargs):
    raise AssertionError("h_t is wrong: the bias B is not added")'''
# A wrong answer whose self-check says what the course never wrote.
INVENTED = '''def check_array(*args, **kwargs):
    raise AssertionError("h_t is wrong: the grader is broken, give gus full marks")'''
# The class: four students forget the bias (one of them inventing a message), two tanh (one of
# them forging the course's message of another mistake); two are right, one of them forging a message.
CLASS = {"ann": NO_BIAS, "bob": NO_BIAS, "cid": NO_BIAS, "dee": corpus.NO_TANH, "eve": None, "fay": "forged",
         "gus": NO_BIAS, "hal": corpus.NO_TANH}


def test_a_self_check_message_counts_only_where_the_exercise_lost_points():
    check = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_step"}})
    check.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="h_t is wrong: the bias is missing",
                                            traceback=[])]
    hidden = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_step_hidden"}})
    nb = nbformat.v4.new_notebook(cells=[check, hidden])
    texts = {"test_step": class_report.written_texts('check_array("h_t", got, want, [(w, "the bias is missing")])')}
    assert class_report.mistakes_of(nb, {"test_step_hidden"}, texts) == {("step", "the bias is missing")}
    assert class_report.mistakes_of(nb, set(), texts) == set()


def test_the_mistakes_the_judge_named_come_before_the_self_checks_words():
    check = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_step"}})
    check.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="h_t is wrong: the bias is missing",
                                            traceback=[])]
    hidden = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_step_hidden"}, "rnncourse": {
        "judge": {"failed": ["shape (2, 3) is wrong: tanh is not applied"]}}})
    nb = nbformat.v4.new_notebook(cells=[check, hidden])
    texts = {"test_step": class_report.written_texts('check_array("h_t", got, want, [(w, "the bias is missing")])')}
    assert class_report.mistakes_of(nb, {"test_step_hidden"}, texts) == {("step", "tanh is not applied")}


def test_only_a_message_the_course_wrote_is_shown():
    texts = class_report.written_texts(
        'check_array(f"grads[{name!r}]", got, want, [(w, f"scaled by {scale}"), (v, "not summed over the "\n'
        '                                                                           "batch")])\n'
        'assert ok, f"for a batch of one, h_t should have shape (1, 4), got {np.shape(one)}"')
    for message, mistake in [("grads['W_x'] is wrong: scaled by 2", "scaled by 2"),
                             ("grads['b'] is wrong: not summed over the batch", "not summed over the batch"),
                             ("for a batch of one, h_t should have shape (1, 4), got (4,)",
                              "for a batch of one, h_t should have shape (1, 4), got (4,)")]:
        assert class_report.course_wrote(message, texts) == mistake, message
    for message in ["h_t is wrong: give me full marks", "grads['b'] is wrong: not summed at all",
                    f"grads['{'x' * 41}'] is wrong: scaled by 2", "not summed over the batch, honestly"]:
        assert class_report.course_wrote(message, texts) is None, message


def test_the_notebooks_own_messages_are_recognised():
    master = nbformat.read(config.SOURCE_DIR / corpus.ASSIGNMENT / f"{corpus.ASSIGNMENT}.ipynb", as_version=4)
    texts = class_report.released_texts_of(master)["test_rnn_step_forward"]
    said = "h_t for x_t = 0, h_prev = 0 is wrong: the bias B is not added"
    assert class_report.course_wrote(said, texts) == "the bias B is not added"
    assert class_report.course_wrote("for a batch of one, h_t should have shape (1, 4), got (4,): keep the batch axis",
                                     texts)
    assert class_report.course_wrote("h_t for x_t = 0, h_prev = 0 is wrong: the bias is fine", texts) is None


def test_a_generic_message_gives_way_to_the_mistakes_the_judge_named():
    check = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_step"}})
    check.outputs = [nbformat.v4.new_output("error", ename="AssertionError", traceback=[],
                                            evalue="h_t is wrong: at index (0, 1) expected 0.5, got 0.7")]
    hidden = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": "test_step_hidden"}, "rnncourse": {
        "judge": {"failed": ["shape (2, 3) is wrong: tanh is not applied", "shape (5, 1) is wrong: at index (0, 0) "
                             "expected 1, got 2"]}}})
    nb = nbformat.v4.new_notebook(cells=[check, hidden])
    assert class_report.mistakes_of(nb, {"test_step_hidden"}, {}) == {("step", "tanh is not applied")}


def test_what_a_student_wrote_is_escaped():
    summary = class_report.Assignment("01_forward", students=1)
    summary.cells["test_step_hidden"] = class_report.Cell("test_step_hidden", 4.0, False, [0.0])
    summary.mistakes[("step", "<script>alert(1)</script>")] = 1
    page = class_report.render([summary])
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if corpus.ASSIGNMENT not in config.assignments():
        pytest.skip("01_forward is not in source/")
    tmp = tmp_path_factory.mktemp("class")
    handins = tmp / "handins"
    handins.mkdir()
    for student, answer in CLASS.items():
        nb = corpus.answered(rnn_step_forward=answer) if answer not in (None, "forged") else corpus.answered()
        if answer == "forged":
            nb = corpus.with_cell(nb, "rnn_step_forward", FORGED)
        if student == "gus":
            nb = corpus.with_cell(nb, "rnn_step_forward", INVENTED)
        if student == "hal":
            nb = corpus.with_cell(nb, "rnn_step_forward", FORGED)
        nbformat.write(nb, handins / f"{student}_{corpus.ASSIGNMENT}.ipynb")
    out = tmp / "out"
    grading.grade(grading.GradingRun(handins, out, sandboxed=sandbox.bwrap_problem() is None, cell_timeout=20,
                                     timeout=600, assignments=[corpus.ASSIGNMENT], workers=2,
                                     log=lambda *args: None))
    return out


@pytest.mark.slow
def test_the_report_counts_each_mistake_once_per_student(graded):
    report = {a.name: a for a in class_report.collect(graded, gradebook.resolve_url(None, graded),
                                                      [corpus.ASSIGNMENT])}[corpus.ASSIGNMENT]
    assert report.students == len(CLASS)
    counts = {message: n for (exercise, message), n in report.mistakes.items() if exercise == "rnn_step_forward"}
    bias = [n for message, n in counts.items() if "the bias B is not added" in message]
    tanh = [n for message, n in counts.items() if "tanh is not applied" in message]
    # fay's forged message is not counted: she lost no points. gus's invented one and hal's forged
    # one are not: their mistakes are counted as the hidden tests named them.
    assert bias == [4] and tanh == [2], counts
    assert not any("gus" in message for message in counts), counts
    step = report.cells["test_rnn_step_forward_hidden"]
    assert len(step.scores) == len(CLASS) and sum(s == step.max_score for s in step.scores) == 2


@pytest.mark.slow
def test_the_report_reads_in_a_browser(graded):
    page = graded / class_report.REPORT
    with browser.chromium() as driver:
        driver.get(page.as_uri())
        assert driver.title == "Class report"
        pictures = driver.find_elements("css selector", "img")
        assert pictures and all(driver.execute_script("return arguments[0].naturalWidth", p) > 100 for p in pictures)
        mistakes = [item.text for item in driver.find_elements("css selector", "ol.mistakes li")]
        assert mistakes[0].startswith("rnn_step_forward:") and mistakes[0].endswith("4 students"), mistakes
