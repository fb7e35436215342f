"""Background jobs: work in parts, counted by one thread of its own and by a caller who waits,
results in the order given. The one helper for work beside training: the evaluations (many
parts) and the gradient check (one part, which a newer check supersedes)."""

from __future__ import annotations

import threading
from collections import deque

# Rows per part of an evaluation (a multiple of nn.evaluate.CHUNK): the parts are counted by the
# evaluation's thread, and by a caller waiting for it (take_evaluations(wait=True)) too, so
# the run's last evaluation, which its summary waits for, takes both cores when it can.
EVAL_PART = 10_000


class Job:
    """Work as parts (an evaluation's: each counting the right answers in some rows) and the
    function making the result of their outcomes: the same result whoever runs which part.
    A part that takes long reads `cancelled` and may end early: its job was forgotten."""

    def __init__(self, parts: list, finish) -> None:
        self.parts, self.finish = parts, finish
        self.cancelled = False

    def run(self):
        return self.finish([part() for part in self.parts])


class _Submitted:
    """A job given to BackgroundJobs: its parts' outcomes as they come."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.outcomes: list = [None] * len(job.parts)
        self.claimed = self.finished = 0


# Unfinished jobs at most: one being counted, one waiting. Dropping the evaluations that do not
# fit would make a seeded run print different lines on a slower CPU.
QUEUE_LIMIT = 2


class BackgroundJobs:
    """One thread that runs jobs one after the other, in the order given; started at the first
    job. A caller waiting in take(wait=True) counts parts of them too. forget() drops the jobs
    given so far and their results (a reset, a superseded check), marking them cancelled."""

    def __init__(self, name: str = "bp-tui-jobs") -> None:
        self.name = name
        self._lock = threading.Condition()
        self._jobs: deque[_Submitted] = deque()
        self._done: deque = deque()
        self._pending = 0
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def queued(self) -> int:
        """Jobs given and not yet finished (each holds a copy of the weights)."""
        return len(self._jobs)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def submit(self, job: Job) -> None:
        """Queue a job; with QUEUE_LIMIT unfinished already, the caller first counts parts of
        them (or waits) until one finishes: evaluations due faster than they finish slow
        training to their pace instead of piling up weight copies without end."""
        self._help_until(lambda: len(self._jobs) < QUEUE_LIMIT)
        with self._lock:
            self._jobs.append(_Submitted(job))
            self._pending += 1
            self._settle()  # a job of no parts (no rows) is done already
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def forget(self) -> None:
        with self._lock:
            self._pending = 0
            for submitted in self._jobs:
                submitted.job.cancelled = True
            self._jobs.clear()  # a part under way finishes into its forgotten job
            self._done.clear()

    def take(self, wait: bool = False) -> list:
        """The finished jobs' results in the order given (with wait, every job's, counting parts
        meanwhile); a failed job's exception is raised here, in the caller's thread."""
        if wait:
            self._help_until(lambda: len(self._done) >= self._pending)
        with self._lock:
            results = []
            while self._done:
                ok, value = self._done.popleft()
                self._pending -= 1
                if not ok:
                    raise value
                results.append(value)
            return results

    def _help_until(self, done) -> None:
        """Count parts in this thread, oldest job first, until done() holds (checked with the
        lock held); wait when every part left is being counted elsewhere."""
        while True:
            with self._lock:
                if done():
                    return
                claim = self._claim()
                if claim is None:
                    self._lock.wait_for(lambda: done() or self._unclaimed())
                    continue
            self._count(*claim)

    def _unclaimed(self) -> bool:
        return any(s.claimed < len(s.job.parts) for s in self._jobs)

    def _claim(self) -> tuple[_Submitted, int] | None:
        """The next part not yet taken, oldest job first (with the lock held)."""
        for submitted in self._jobs:
            if submitted.claimed < len(submitted.job.parts):
                submitted.claimed += 1
                return submitted, submitted.claimed - 1
        return None

    def _count(self, submitted: _Submitted, index: int) -> None:
        try:
            outcome = (True, submitted.job.parts[index]())
        except Exception as error:  # noqa: BLE001 - raised again by take(), in the caller
            outcome = (False, error)
        with self._lock:
            submitted.outcomes[index] = outcome
            submitted.finished += 1
            self._settle()
            self._lock.notify_all()

    def _settle(self) -> None:
        """Finished jobs at the head of the queue become results, in order (lock held)."""
        jobs = self._jobs
        while jobs and jobs[0].finished == len(jobs[0].job.parts):
            submitted = jobs.popleft()
            failed = [value for ok, value in submitted.outcomes if not ok]
            if failed:
                self._done.append((False, failed[0]))
                continue
            try:
                counts = [value for _, value in submitted.outcomes]
                self._done.append((True, submitted.job.finish(counts)))
            except Exception as error:  # noqa: BLE001 - raised again by take()
                self._done.append((False, error))

    def _work(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(self._unclaimed)
                claim = self._claim()
            if claim is not None:
                self._count(*claim)
