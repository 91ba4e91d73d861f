"""nbgrader settings for the RNN from Scratch course.

The repository root is the course directory: masters live in source/.
"""
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.source_directory = "source"
# The course's id in the gradebook and in nbgrader's exchange. nbgrader files every
# assignment under it, and a PostgreSQL gradebook refuses an assignment without one.
c.CourseDirectory.course_id = "rnn-from-scratch"
# Test cells that were deleted in a hand-in are restored from the master.
c.OverwriteCells.add_missing_cells = True
# A student cell that never ends is cut after this many seconds.
c.Execute.timeout = 30
# Keep the grader's records small when a hand-in prints without end.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The term: due dates, set here and nowhere else. `rnncourse grade` puts them in the gradebook,
# where nbgrader compares them with each hand-in's submission time; nbgrader's penalty for a late
# hand-in is none unless set ("zero": a late hand-in scores 0).
# c.Term.due_dates = {"01_forward": "2025-10-06 23:59 Europe/Berlin", "02_small_array": "2025-10-13 23:59 UTC"}
# c.LateSubmissionPlugin.penalty_method = "zero"
# The time zone of the times in an LMS's zips, when they do not say (default: this machine's).
# c.Term.lms_timezone = "Europe/Berlin"

# How the course grades (an Execute that survives a dead kernel, feedback without the
# hidden tests' code): the same for plain `nbgrader autograde` and `rnncourse grade`.
from rnncourse.grading import settings  # noqa: E402

settings.apply(c)
