"""The dashboard process's life and death: it starts only where it can draw, and once asked to
quit (a key, a signal, its terminal or input stream gone) it is gone within QUIT_SECONDS,
whatever Textual does, its engine with it.

Why a watchdog: a Textual app whose terminal vanished in its first second was seen waiting for
ever in its own shutdown (LinuxDriver.close -> WriterThread.stop -> Queue.put, the writer thread
dead), deaf to every signal; a stopped engine was waited for for ever by multiprocessing's exit.
No fix inside those paths makes the exit certain; a thread that ends the process does.
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path

from bp_tui.errors import BpTuiError

QUIT_SECONDS = 2.0  # asked to quit -> the process is gone
GRACE_SECONDS = 1.0  # what the normal way out (the run recorded, the screen put back) is given
CHILD_SECONDS = 0.3  # then a child that was told to stop (SIGTERM) has this long before SIGKILL
RESTORE_SECONDS = 0.15  # and the terminal's modes and screen this long to be put back
# What Textual's driver turns on, turned off: keyboard protocol, alternate screen, hidden cursor,
# focus events, mouse reports, bracketed paste; line wrap back on.
RESET = (
    "\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"
    "\x1b[?2004l\x1b[?7h"
)


class TerminalError(BpTuiError):
    """The dashboard cannot be drawn here (no terminal, or one that does not take UTF-8)."""


def _is_terminal(stream) -> bool:
    try:
        return stream is not None and os.isatty(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False


def check_terminal(headless_allowed: bool) -> bool:
    """Whether the dashboard must run headless (no terminal, and --exit-when-done asks for the run
    only); raises TerminalError, one line, where it can run neither way.

    Textual reads standard input and draws on standard error. A latin-1 locale is refused rather
    than drawn in ASCII: every chart is braille and the Inspector writes its formulas in symbols,
    so an ASCII dashboard would be a second drawing of each widget; a UTF-8 locale is one
    variable away (LANG=C alone is fine: Python takes C as UTF-8)."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return False  # a browser page's driver (bp-tui serve): it needs no terminal
    if not (_is_terminal(sys.__stdin__) and _is_terminal(sys.__stderr__)):
        if headless_allowed:
            return True
        raise TerminalError(
            "the dashboard needs a terminal (its input or output is not one): "
            "'bp-tui train' trains without one, '--exit-when-done' runs the dashboard headless"
        )
    encoding = codecs.lookup(sys.__stderr__.encoding or "ascii").name
    if encoding != "utf-8":
        locale = os.environ.get("LC_ALL") or os.environ.get("LANG")  # Python may set LC_CTYPE
        raise TerminalError(
            f"the dashboard draws in UTF-8, but this terminal's locale is {encoding}"
            f"{f' (LANG={locale})' if locale else ''}: start it under a UTF-8 locale "
            "(LANG=C.UTF-8 bp-tui), or train without it (bp-tui train)"
        )
    return False


class Watchdog:
    """Armed once the app is asked to quit; if the process still runs GRACE_SECONDS later, it
    ends the children (the engine: SIGCONT, SIGTERM, then SIGKILL), puts the terminal back as it
    was before the app, says so on one line and leaves with os._exit(status)."""

    def __init__(self, terminal_fd: int = 0, output_fd: int = 2) -> None:
        self.terminal_fd, self.output_fd = terminal_fd, output_fd
        self.saved_modes = _terminal_modes(terminal_fd)
        self._lock = threading.RLock()  # arm() may run in a signal handler that interrupted arm()
        self._thread: threading.Thread | None = None
        self.status = 0

    @property
    def armed(self) -> bool:
        return self._thread is not None

    def arm(self, status: int = 0) -> None:
        """Start the countdown (the first call's status is the exit status if it expires)."""
        with self._lock:
            if self._thread is not None:
                return
            self.status = status
            self._thread = threading.Thread(
                target=self._expire, name="bp-tui-watchdog", daemon=True
            )
            self._thread.start()

    def _expire(self) -> None:
        time.sleep(GRACE_SECONDS)  # a process that exits in time takes this thread with it
        end_children(CHILD_SECONDS)
        writer = threading.Thread(target=self._restore_terminal, daemon=True)
        writer.start()
        writer.join(RESTORE_SECONDS)  # a write to a terminal that reads nothing blocks
        os._exit(self.status)

    def _restore_terminal(self) -> None:
        reset = ""
        if self.saved_modes is not None:
            reset = RESET
            try:
                import termios

                termios.tcsetattr(self.terminal_fd, termios.TCSANOW, self.saved_modes)
            except (OSError, termios.error):
                pass
        line = "bp-tui: the dashboard did not close in time: ended it and its engine\n"
        try:
            os.write(self.output_fd, (reset + line).encode())
        except OSError:
            pass  # the terminal is gone: nothing to put back


def _terminal_modes(fd: int):
    try:
        import termios

        return termios.tcgetattr(fd)
    except (ImportError, OSError, termios.error):
        return None


def children() -> list[int]:
    """This process's children but the resource tracker (it leaves when our pipes close)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != me or fields[0] in ("Z", "X"):
                continue
            if b"resource_tracker" in (entry / "cmdline").read_bytes():
                continue
        except (OSError, ValueError, IndexError):
            continue
        found.append(int(entry.name))
    return found


def end_children(patience: float) -> None:
    """Ask each child to stop (woken first if it was stopped), then kill what is left."""
    pids = children()
    for pid in pids:
        for sig in (signal.SIGCONT, signal.SIGTERM):
            _kill(pid, sig)
    deadline = time.monotonic() + patience
    while pids and time.monotonic() < deadline:
        time.sleep(0.02)
        pids = [pid for pid in pids if pid in children()]
    for pid in pids:
        _kill(pid, signal.SIGKILL)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def leave_now(status: int) -> None:
    """End the dashboard's process once its work is done: the exit handlers run (the engine is
    joined), the output is flushed, and Python's own finalization is skipped: tearing down
    Textual's and numpy's objects took 0.5-1.7 s on a loaded machine, past the 2 s a quit has,
    and no watchdog thread can run during it."""
    import atexit

    # A Ctrl-C more while the engine's process is joined (it stops on its own Ctrl-C) would
    # print a traceback from multiprocessing's exit handler (Ctrl-C held during start-up).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(status)


def watch_hangup(fd: int = 0) -> None:
    """In a thread: when the input stream ends (its terminal closed, a browser page's pipe
    closed, a terminal that sends no SIGHUP), this process gets the SIGHUP it was not sent."""

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, 0)  # no events asked: poll reports only hang-up, error, bad fd
        while True:
            try:
                if poller.poll():
                    break
            except InterruptedError:
                continue
            except OSError:
                return
        os.kill(os.getpid(), signal.SIGHUP)

    threading.Thread(target=watch, name="bp-tui-hangup", daemon=True).start()
