"""A learner's own chapter-5 classes, checked: loading their file, the sandboxed child that
runs it, the checks against the book's formulas and central differences, and the report.

Only bp_tui.learner.sandbox is for the parent process; load, checks and child run their code
and belong in the child (or in a process that has already chosen to run it).
"""

from bp_tui.learner.report import DOES_NOT_RUN, PASSED, WRONG, CheckReport, ClassResult, Finding
from bp_tui.learner.sandbox import DEFAULT_LIMIT, check_path
from bp_tui.learner.source import LearnerFileError, Place

__all__ = [
    "DEFAULT_LIMIT",
    "DOES_NOT_RUN",
    "PASSED",
    "WRONG",
    "CheckReport",
    "ClassResult",
    "Finding",
    "LearnerFileError",
    "Place",
    "check_path",
]
