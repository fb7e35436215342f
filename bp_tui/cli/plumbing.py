"""Signals and standard output for every command: SIGTERM and SIGHUP stop a command as Ctrl-C
does, a dashboard quits on them as on q, a Ctrl-C during the command line's imports is noted, and
a standard output that cannot be written is one OutputError."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator

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


signalled: list[int] = []  # the stop signals a dashboard quit on


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
        signalled.append(signum)
        loop.call_soon_threadsafe(app.call_later, app.action_quit)

    with stop_signals(handler, (*STOP_SIGNALS, signal.SIGINT)):
        yield


class GuardedStdout:
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


interrupts: list[int] = []  # Ctrl-C seen while the command line is read (its imports)


def _interrupted(signum: int, frame: object) -> None:
    interrupts.append(signum)
    signal.default_int_handler(signum, frame)


def catch_interrupts(on: bool) -> None:
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


def say(line: str) -> None:
    """One line on stderr, if stderr can take it."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass
