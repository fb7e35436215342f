"""`bp-tui check PATH`: a learner's own chapter-5 classes, graded (run in a child process)."""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bp_tui.cli.options import HYPERPARAMETERS, Takes, number
from bp_tui.errors import ConfigError

if TYPE_CHECKING:
    from bp_tui.learner import CheckReport

# bp_tui.learner is imported by the command itself: every other command starts without it.
DEFAULT_LIMIT = 10.0  # seconds; bp_tui.learner.sandbox.DEFAULT_LIMIT, checked by a test


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    check = subparsers.add_parser(
        "check",
        help="check your own layers (MulLayer ... TwoLayerNet) in a .py, .ipynb or folder",
        description="Check the chapter's classes written by you: forward against the book's "
        "formulas, every gradient against central differences. Only imports and definitions "
        "run, in a child process with a time limit.",
    )
    check.add_argument("path", metavar="PATH", help="a .py file, a notebook (.ipynb) or a folder")
    check.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the report as one JSON object",
    )
    check.add_argument(
        "--watch",
        action="store_true",
        help="check again each time the file is saved (Ctrl-C stops)",
    )
    check.add_argument(
        "--timeout",
        type=number,
        default=DEFAULT_LIMIT,
        metavar="SECONDS",
        help=f"time each class (and the loading) may run (default {DEFAULT_LIMIT:g})",
    )
    check.set_defaults(
        func=run_check,
        takes=Takes(
            ignores=(*HYPERPARAMETERS, "dataset", "data_dir"), why="it checks your own classes"
        ),
    )
    return check


def run_check(args: argparse.Namespace) -> int:
    from bp_tui.learner import check_path

    checked_limit(args.timeout)
    path = Path(args.path)
    as_json = getattr(args, "json", False)
    if not args.watch:
        return _show(check_path(path, args.timeout), as_json)
    return _watch(path, args.timeout, as_json)


def checked_limit(seconds: float) -> float:
    """--timeout's seconds, or ConfigError (one line)."""
    if not 0 < seconds <= 3600:
        raise ConfigError(f"--timeout expects seconds between 0 and 3600 (got {seconds:g})")
    return seconds


def _show(report: CheckReport, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report.to_dict()), flush=True)
    else:
        print("\n".join(report.lines()), flush=True)
    return report.exit_code


def _watch(path: Path, limit: float, as_json: bool) -> int:
    """Check, then again at each save, until Ctrl-C (130) or SIGTERM / SIGHUP (128+N)."""
    from bp_tui.cli.plumbing import Terminated, stop_signals
    from bp_tui.learner.source import saves

    code = _once(path, limit, as_json)
    if not as_json:
        print(f"watching {path} (Ctrl-C stops)", flush=True)
    stop, signalled = threading.Event(), []

    def on_signal(signum: int, frame: object) -> None:
        signalled.append(signum)
        stop.set()  # watchfiles' own wait would swallow an exception raised into it

    with stop_signals(on_signal):
        for _ in saves(path, stop):
            code = _once(path, limit, as_json)
    if signalled:
        raise Terminated(signalled[0])
    return code


def _once(path: Path, limit: float, as_json: bool) -> int:
    """One check in watch mode: a file that cannot be read now is a line, not the end."""
    from bp_tui.learner import LearnerFileError, check_path

    if not as_json:
        print(f"--- {time.strftime('%H:%M:%S')}", flush=True)
    try:
        return _show(check_path(path, limit), as_json)
    except LearnerFileError as error:
        if as_json:
            print(json.dumps({"path": str(path), "error": str(error)}), flush=True)
        else:
            print(f"bp-tui: error: {error}", flush=True)
        return 2
