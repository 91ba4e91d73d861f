"""How nbgrader grades this course: loaded by nbgrader_config.py, the repository's
and the one `rnncourse grade` writes into its output folder, so plain
`nbgrader autograde` and `rnncourse grade` grade alike.

    from rnncourse.grading import settings
    settings.apply(c)
"""
from __future__ import annotations

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, GetGrades
from traitlets.config import Config

from rnncourse.grading import gradebook
from rnncourse.grading.execute import GradingExecute
from rnncourse.grading.feedback import HideHiddenTests, SanitizeOutputs
from rnncourse.grading.judge import Judge, JudgeSetup


def autograde_steps() -> list[type]:
    """nbgrader's autograde steps, with an Execute that survives a dead kernel, and the judge
    around it: hidden tests prepared before it runs, decided outside the kernel after."""
    steps = []
    for step in Autograde.class_traits()["autograde_preprocessors"].default():
        steps += [JudgeSetup, GradingExecute, Judge] if step is Execute else [step]
    return steps


def apply(c: Config) -> None:
    """Set, in the config C that nbgrader loads, everything grading depends on."""
    gradebook.revision_in_process()  # a new gradebook in 0.1 s, not 5 (see there)
    c.Autograde.autograde_preprocessors = autograde_steps()
    # Feedback says which checks failed and why, without the hidden tests' code; whatever
    # the student wrote is sanitised, and cannot fail the page (see grading/feedback.py).
    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, SanitizeOutputs, CSSHTMLHeaderPreprocessor]
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.filters = {name: f"rnncourse.grading.feedback.{name}" for name in ("clean_html", "markdown2html")}
    # A warning a student's code prints in a test cell does not cost the test's points
    # (nbgrader counts anything on stderr as a failure); errors still do.
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = r"\w+Warning: "
