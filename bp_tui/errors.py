"""Errors that reach the user as one clear line (exit status 2 on the command line)."""


class BpTuiError(Exception):
    """A problem the user can fix; its message is the whole explanation."""


class DataError(BpTuiError):
    """A missing, corrupt or unknown data set."""


class ConfigError(BpTuiError):
    """A hyperparameter or option with a value it does not accept."""
