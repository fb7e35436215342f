"""A time limit on each call into a learner's code, for a process that runs it (`bp-tui train
--layers`, the dashboard's engine process).

A watchdog thread follows the calls under way. One that runs past the limit is stopped where
it is: an OverTime is raised into its thread (their loop, however endless, runs Python and
takes it), and the call ends as one line naming the method and the line it was at. A hang
Python cannot interrupt (a blocking read, a call into C that never returns) is given a grace
period, then ends the process with that line on stderr and status 2: nothing is left running.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

GRACE_SECONDS = 2.0  # after OverTime is raised, before the process is ended


class OverTime(BaseException):  # noqa: N818 - not an error of ours; BaseException: their
    """Raised into a call past its limit (`except Exception:` in their code cannot keep it)."""


class CallLimit:
    """At most `seconds` for each call entered with `call(what)`; `where(frame)` names the line
    of their code a stack is at (None when no frame of it is theirs)."""

    def __init__(self, seconds: float, where: Callable[[object], str | None]) -> None:
        self.seconds = seconds
        self.where = where
        self._lock = threading.Lock()
        self._running: dict[int, tuple[float, str]] = {}  # thread -> (deadline, what)
        self._said: dict[int, str] = {}  # thread -> the line its overrun is told in
        self._stopped: set[int] = set()  # threads OverTime was raised into, in this call
        self._watchdog: threading.Thread | None = None

    @contextmanager
    def call(self, what: str) -> Iterator[None]:
        """The block, timed; nested calls in one thread are timed as the outermost."""
        thread = threading.get_ident()
        with self._lock:
            outer = thread not in self._running
            if outer:
                self._running[thread] = (time.monotonic() + self.seconds, what)
                self._start_watchdog()
        try:
            yield
        finally:
            if outer:
                with self._lock:
                    self._running.pop(thread, None)
                    self._stopped.discard(thread)

    def overrun(self) -> str:
        """What the call of this thread that was stopped is told as (after OverTime)."""
        with self._lock:
            return self._said.pop(threading.get_ident(), "your code ran past the time limit")

    # ---- the watchdog -----------------------------------------------------------------------------

    def _start_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch, name="bp-tui-call-limit", daemon=True
            )
            self._watchdog.start()

    def _watch(self) -> None:
        """Wakes at the soonest deadline, and at least every quarter limit (a call that began
        meanwhile has at least that long), never at each call: their calls come by thousands."""
        poll = min(1.0, self.seconds / 4)
        while True:
            with self._lock:
                running = dict(self._running)
            now = time.monotonic()
            for thread, (deadline, what) in running.items():
                if now >= deadline:
                    self._stop(thread, what)
            soonest = min((d for d, _ in running.values() if d > now), default=now + poll)
            time.sleep(max(0.01, min(soonest - now, poll)))

    def _stop(self, thread: int, what: str) -> None:
        """The first time: OverTime into the thread, and a grace period; the second: the end."""
        frame = sys._current_frames().get(thread)
        at = self.where(frame) if frame is not None else None
        with self._lock:
            if thread not in self._running:
                return  # it returned meanwhile
            if thread in self._stopped:  # its grace period is over
                sys.stderr.write(f"bp-tui: error: {self._said[thread]}, and could not be stopped\n")
                sys.stderr.flush()
                os._exit(2)
            self._said[thread] = f"{at or f'your {what}'} did not return within {self.seconds:g} s"
            self._stopped.add(thread)
            self._running[thread] = (time.monotonic() + GRACE_SECONDS, what)
            # Under the lock: the call cannot end between this check and the raise.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread), ctypes.py_object(OverTime)
            )
