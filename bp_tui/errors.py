"""Errors that reach the user as one clear line (exit status 2 on the command line)."""

from __future__ import annotations


class BpTuiError(Exception):
    """A problem the user can fix; its message is the whole explanation.

    `action` names what fixes it in the dashboard ("reset", "save"): the dashboard adds that
    action's key, the command line does not.
    """

    def __init__(self, message: str = "", *, action: str | None = None) -> None:
        super().__init__(message)
        self.action = action


class DataError(BpTuiError):
    """A missing, corrupt or unknown data set."""


class ConfigError(BpTuiError):
    """A hyperparameter or option with a value it does not accept.

    `field` is the hyperparameter's name (HyperParams'), `problem` what is wrong with its value:
    the command line names the field by its flag, the dashboard by its label.
    """

    def __init__(self, problem: str, field: str | None = None) -> None:
        super().__init__(f"{field} {problem}" if field else problem)
        self.problem = problem
        self.field = field
