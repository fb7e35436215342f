"""Slow motion's timetable, and the run's real speed (iterations a second of wall time).

The trainer's own figure counts only the arithmetic of its steps: in slow motion at 1 it/s it
says 602 it/s, and an ETA from it says 0:05 where 48 minutes remain. What the user sees is
measured here, on the clock the steps are paced by.
"""

from __future__ import annotations

from collections import deque

CATCH_UP_SECONDS = 1.0  # slow motion makes up for at most this much time lost to other work
RATE_WINDOW = 5.0  # the speed shown is the one of about the last five seconds of running
MIN_SPAN = 0.5  # a speed measured over less time than this is not shown yet


def next_step_at(due: float | None, now: float, speed: float) -> float:
    """When the step after the one taken `now` is due, at `speed` iterations a second.

    Time lost to other work (following live, an evaluation) is made up with steps taken back
    to back, so that the run keeps its pace on average; never more than CATCH_UP_SECONDS of it
    (after a stall the timetable starts again from now). due None: the first step.
    """
    start = now if due is None else max(due, now - CATCH_UP_SECONDS)
    return start + 1.0 / speed


class RateMeter:
    """Iterations a second over the last RATE_WINDOW seconds of running, from (time, iteration)
    samples taken as training reports its progress."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()
        self.rate: float | None = None  # the latest measured speed, kept through a pause

    def restart(self, forget: bool = False) -> None:
        """A new stretch of running (after a pause, a new speed, a reset): the time between
        stretches is no running time. forget: the speed before no longer holds either."""
        self.samples.clear()
        if forget:
            self.rate = None

    def add(self, now: float, iteration: int) -> None:
        samples = self.samples
        samples.append((now, iteration))
        while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
            samples.popleft()
        (since, first), (until, last) = samples[0], samples[-1]
        if until - since >= MIN_SPAN:
            self.rate = (last - first) / (until - since)
