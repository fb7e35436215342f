"""The `bp-tui` command: the dashboard by default, or one of the commands parser.py lists.

Each command is a module of this package that adds itself to the parser (`register`) and runs
as `args.func`; signals and standard output are plumbing.py's.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from bp_tui.cli.parser import build_parser, check_flags
from bp_tui.cli.plumbing import (
    GuardedStdout,
    OutputError,
    Terminated,
    catch_interrupts,
    interrupts,
    say,
    signalled,
    silence_stdout,
    stop_signals,
)
from bp_tui.errors import BpTuiError

__all__ = ["build_parser", "main"]


# Set once the dashboard or `train` has started in this process: its work done, the process ends
# without Python's finalization (tearing down numpy's and Textual's objects: 0.05-1.7 s).
_skip_finalization: list[bool] = []


def main(argv: Sequence[str] | None = None) -> int:
    """bp-tui; every fault is one line on stderr and a non-zero status, never a traceback."""
    _skip_finalization.clear()
    code = _guarded_main(argv)
    if argv is None and _skip_finalization:  # the command line's own process, not a test's call
        from bp_tui.ui.lifecycle import leave_now

        leave_now(code)
    return code


def _guarded_main(argv: Sequence[str] | None) -> int:
    interrupts.clear()
    catch_interrupts(True)
    stdout = sys.stdout
    if stdout is None:  # started with stdout closed (>&-): nothing could be shown
        say("bp-tui: error: standard output is closed")
        return 2
    sys.stdout = GuardedStdout(stdout)
    try:
        signalled.clear()
        with stop_signals():
            try:
                code = _main(argv)
            finally:  # argparse's --help and errors exit: what they printed is flushed too
                sys.stdout.flush()  # a full disk or a gone reader shows here, not at exit
        if signalled:  # the dashboard quit on a signal
            raise Terminated(signalled[0])
        return code
    except OutputError as error:
        silence_stdout(stdout)
        say(f"bp-tui: error: {error}")
        return 2
    except Terminated as stop:
        say(f"bp-tui: stopped by {signal.Signals(stop.signum).name}")
        return 128 + stop.signum
    except KeyboardInterrupt:  # Ctrl-C before a command could set up its own stop
        say("bp-tui: interrupted")
        return 130
    except ImportError:
        if not interrupts:
            raise
        say("bp-tui: interrupted")  # a Ctrl-C inside numpy's import, re-raised as ImportError
        return 130
    finally:
        catch_interrupts(False)
        sys.stdout = stdout


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_flags(parser, args)
    catch_interrupts(False)
    try:
        if args.command is not None:
            if getattr(args, "leaves_at_once", False):
                _skip_finalization.append(True)
            return args.func(args)
        from bp_tui.cli.dashboard import run_dashboard

        _skip_finalization.append(True)
        return run_dashboard(args)
    except OutputError:
        raise
    except BpTuiError as error:
        from bp_tui.cli.options import error_line

        say(f"bp-tui: error: {error_line(error)}")
        return 2
    except Terminated:
        raise
    except KeyboardInterrupt:
        say("bp-tui: interrupted")
        return 130
