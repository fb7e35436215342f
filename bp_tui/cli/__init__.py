"""The `bp-tui` command: the dashboard by default, plus train, gradcheck and data."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from bp_tui.errors import BpTuiError


class OutputError(BpTuiError):
    """Standard output cannot be written: closed, full, or its reader gone (`| head -1`)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be: a command stops as after Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def stop_signals(handler=_terminated, signals=STOP_SIGNALS) -> Iterator[None]:
    """The signals (SIGTERM, SIGHUP) go to `handler` (default: raise Terminated) in the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


_signalled: list[int] = []  # the stop signals a dashboard quit on


@contextlib.contextmanager
def quit_on_signal(app, watchdog=None) -> Iterator[None]:
    """Around a Textual app's run: SIGTERM, SIGHUP or SIGINT quit it as its q does (the engine
    stops and records the run, the terminal is put back); main() then says so and exits 128+N.

    An exception raised into asyncio's loop would leave its tasks torn, so the quit is
    scheduled on the loop instead. The first signal arms the watchdog (the exit is certain
    within 2 s); later ones change nothing (Ctrl-C pressed again while quitting).
    """

    import asyncio  # here: `bp-tui train` needs no asyncio (30 ms of start-up)

    def handler(signum: int, frame: object) -> None:
        if watchdog is not None:
            if watchdog.armed:
                return
            watchdog.arm(128 + signum)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the app is not running (yet, or any more)
            raise Terminated(signum) from None
        _signalled.append(signum)
        loop.call_soon_threadsafe(app.call_later, app.action_quit)

    with stop_signals(handler, (*STOP_SIGNALS, signal.SIGINT)):
        yield


class _GuardedStdout:
    """sys.stdout whose failed write or flush is one OutputError (rich writes through it too)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def _guard(self, action, *args):
        try:
            return action(*args)
        except OSError as error:
            if error.errno == errno.EPIPE:
                why = "its reader has gone"
            else:
                why = error.strerror or str(error)
            raise OutputError(f"cannot write to standard output: {why}") from None

    def write(self, text: str) -> int:
        return self._guard(self._stream.write, text)

    def flush(self) -> None:
        return self._guard(self._stream.flush)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def silence_stdout(stream) -> None:
    """After a failed write: what is left in the buffer goes to /dev/null at exit, so Python
    says nothing more ("Exception ignored ... BrokenPipeError")."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (a test's capture): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line and exit status 2, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from bp_tui.cli import check as check_command
    from bp_tui.cli import data_commands, race, runs_commands, serve
    from bp_tui.cli.options import add_shared_options, number, speed_limit, theme_name, whole_number

    parser = OneLineParser(
        prog="bp-tui",
        description="Train the network of 'Deep Learning from Scratch' ch. 5 and watch backprop work.",
    )
    add_shared_options(parser)
    parser.add_argument("--paused", action="store_true", help="open the dashboard without starting")
    parser.add_argument("--exit-when-done", action="store_true", help="quit when the run finishes")
    parser.add_argument(
        "--theme",
        type=theme_name,
        default=None,
        metavar="NAME",
        help="the dashboard's colours, remembered for next time: projector (black on white, "
        "for a projector), textual-dark (default), textual-light, nord, gruvbox... "
        "(the palette, ctrl+p, lists them all)",
    )
    parser.add_argument(
        "--speed",
        type=speed_limit,
        default=None,
        metavar="N|full",
        help="slow motion: at most N iterations a second (1, 5, 50...; default full)",
    )
    parser.add_argument(
        "--resume", metavar="ID", help="go on with a recorded run from its checkpoint (bp-tui runs)"
    )
    parser.add_argument(
        "--json", action="store_true", help="with --exit-when-done: print the summary"
    )
    parser.add_argument("--layers", type=Path, metavar="PATH", help=LAYERS_HELP)
    parser.add_argument(
        "--watch",
        action="store_true",
        help="with --layers: check your file at each save; r (reset) trains the saved layers",
    )
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)

    train = sub.add_parser("train", help="train without the dashboard")
    add_shared_options(train)
    # SUPPRESS: `bp-tui --json train` keeps the top level's --json instead of resetting it to False.
    train.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON summary on stdout",
    )
    train.add_argument(
        "--resume",
        metavar="ID",
        default=argparse.SUPPRESS,
        help="go on with a recorded run from its checkpoint (bp-tui runs)",
    )
    train.add_argument(
        "--layers", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=LAYERS_HELP
    )
    train.add_argument(
        "--timeout",
        type=number,
        default=None,
        metavar="SECONDS",
        help="with --layers: time each call into your code may take (default 10)",
    )

    check = sub.add_parser(
        "gradcheck", help="backprop against numerical gradients (the book's check)"
    )
    add_shared_options(check)
    check.add_argument(
        "--exact", action="store_true", help="no 1e-7 in the log: the book's figures"
    )
    check.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the report as JSON"
    )
    check.add_argument(
        "--sample",
        type=whole_number,
        metavar="N",
        help="check N random elements of each larger parameter; 0 checks all "
        "(default: all up to 784-200-10, else 2,000)",
    )

    data_commands.register(sub)
    runs_commands.register(sub)
    race.register(sub)
    serve.register(sub)
    check_command.register(sub)
    # only to be refused with a reason: the browser never runs code
    sub.choices["serve"].add_argument(
        "--layers", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return parser


LAYERS_HELP = (
    "train the layers of your own file (.py or .ipynb): your TwoLayerNet, or bp-tui's net "
    "made of your Affine, Relu, Sigmoid, SoftmaxWithLoss (runs your code)"
)


# HyperParams' fields, each an option (named here so that `bp-tui --help` imports no engine).
HYPERPARAMETERS = (
    "iters",
    "batch_size",
    "lr",
    "hidden",
    "activation",
    "init",
    "optimizer",
    "seed",
    "eval_every",
)

# What gradcheck uses: the untrained net's shape, its initial weights, and the data.
UNUSED_BY = {
    "gradcheck": ("iters", "batch_size", "lr", "optimizer", "eval_every"),
    "data": HYPERPARAMETERS,
    "runs": (*HYPERPARAMETERS, "dataset", "data_dir"),
    "race": ("lr", "optimizer", "init", "activation", "eval_every"),
    "check": (*HYPERPARAMETERS, "dataset", "data_dir"),
}
WHY_UNUSED = {
    "gradcheck": "it checks the untrained net",
    "data": "it trains nothing",
    "runs": "it only reads the run records",
    "race": "each configuration of the race sets it",
    "check": "it checks your own classes",
}


def check_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An option the chosen command would ignore is refused: one line naming it, status 2."""
    from bp_tui.cli.options import flag

    command = args.command
    if command is None:
        return
    for name in ("paused", "exit_when_done", "speed", "theme"):
        if getattr(args, name, False) and not (command == "serve" and name != "exit_when_done"):
            parser.error(f"{flag(name)} only applies to the dashboard (bp-tui without {command})")
    if getattr(args, "layers", None) is not None:
        if command not in (None, "train"):
            why = " (the browser never runs code)" if command == "serve" else ""
            parser.error(f"--layers goes with the dashboard or train, not {command}{why}")
        if getattr(args, "resume", None):
            parser.error("--layers cannot go with --resume (a run of bp-tui's own layers)")
    if command != "train" and getattr(args, "resume", None):
        parser.error(f"--resume goes with the dashboard or train, not {command}")
    if command == "data" and getattr(args, "json", False):
        parser.error("--json does nothing for data")
    for name in UNUSED_BY.get(command, ()):
        if hasattr(args, name):
            parser.error(f"{flag(name)} does nothing for {command} ({WHY_UNUSED[command]})")


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


_interrupts: list[int] = []  # Ctrl-C seen while the command line is read (its imports)


def _interrupted(signum: int, frame: object) -> None:
    _interrupts.append(signum)
    signal.default_int_handler(signum, frame)


def _catch_interrupts(on: bool) -> None:
    """While bp-tui imports what its parser needs, a Ctrl-C is also noted: numpy turns one that
    lands inside its C extension's import into an ImportError. Python's own handler comes back
    before a command runs (asyncio installs its Ctrl-C handling only over that one)."""
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGINT)
    if on and current is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)
    elif not on and current is _interrupted:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _guarded_main(argv: Sequence[str] | None) -> int:
    _interrupts.clear()
    _catch_interrupts(True)
    stdout = sys.stdout
    if stdout is None:  # started with stdout closed (>&-): nothing could be shown
        _say("bp-tui: error: standard output is closed")
        return 2
    sys.stdout = _GuardedStdout(stdout)
    try:
        _signalled.clear()
        with stop_signals():
            try:
                code = _main(argv)
            finally:  # argparse's --help and errors exit: what they printed is flushed too
                sys.stdout.flush()  # a full disk or a gone reader shows here, not at exit
        if _signalled:  # the dashboard quit on a signal
            raise Terminated(_signalled[0])
        return code
    except OutputError as error:
        silence_stdout(stdout)
        _say(f"bp-tui: error: {error}")
        return 2
    except Terminated as stop:
        _say(f"bp-tui: stopped by {signal.Signals(stop.signum).name}")
        return 128 + stop.signum
    except KeyboardInterrupt:  # Ctrl-C before a command could set up its own stop
        _say("bp-tui: interrupted")
        return 130
    except ImportError:
        if not _interrupts:
            raise
        _say("bp-tui: interrupted")  # a Ctrl-C inside numpy's import, re-raised as ImportError
        return 130
    finally:
        _catch_interrupts(False)
        sys.stdout = stdout


def _say(line: str) -> None:
    """One line on stderr, if stderr can take it."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_flags(parser, args)
    _catch_interrupts(False)
    try:
        if args.command == "train":
            from bp_tui.cli.train import run_train

            _skip_finalization.append(True)
            return run_train(args)
        if args.command == "gradcheck":
            from bp_tui.cli.gradcheck import run_gradcheck

            return run_gradcheck(args)
        if args.command in ("data", "runs", "race", "serve", "check"):
            return args.func(args)
        from bp_tui.cli.dashboard import run_dashboard

        _skip_finalization.append(True)
        return run_dashboard(args)
    except OutputError:
        raise
    except BpTuiError as error:
        from bp_tui.cli.options import error_line

        _say(f"bp-tui: error: {error_line(error)}")
        return 2
    except Terminated:
        raise
    except KeyboardInterrupt:
        return 130
