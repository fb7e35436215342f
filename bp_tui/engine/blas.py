"""How many BLAS threads the engine's matrix products get.

This net's products are small (100x784 by 784x50 is 8 MFLOP). On the 2-core machines measured
(benchmarks/README.md) a second OpenBLAS thread made training 10-25% faster on an idle machine,
but as soon as another process wanted a core it made training 2-20x slower: each product waits
for the thread that lost its core. So the engine takes a second thread only when a core is left
over, and only if a measurement says it pays; the dashboard always asks for one thread.
"""

from __future__ import annotations

import os
import statistics
import time

from threadpoolctl import threadpool_limits

from bp_tui.engine.trainer import DivergedError, Trainer

CANDIDATES = (1, 2)
CALIBRATION_ROUNDS = 5
CALIBRATION_STEPS = 10  # per round and thread count: ~100 steps in all, well under 0.1 s
MIN_GAIN = 0.9  # more threads must be 10% faster to be worth a second busy core


def limited(threads: int):
    """Context manager: numpy's BLAS uses at most `threads` threads inside it."""
    return threadpool_limits(limits=threads, user_api="blas")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def choose_threads(trainer: Trainer) -> int:
    """1 on two cores; with more, the count that trains fastest: real steps on a scratch copy.

    The scratch trainer shares the data but has its own net and random stream, so the run
    itself is untouched (same seed, same losses). Rounds alternate between the counts so a
    burst of load elsewhere on the machine hits both; the median of the rounds decides.
    """
    candidates = [n for n in CANDIDATES if n < available_cores()]  # one core left for the rest
    if len(candidates) < 2:
        return 1
    scratch = Trainer(trainer.hp, trainer.data)

    def seconds_per_step(threads: int) -> float:
        with limited(threads):
            start = time.perf_counter()
            for _ in range(CALIBRATION_STEPS):
                try:
                    scratch.step()
                except DivergedError:  # a huge learning rate: only the time matters here
                    scratch.reset()
            return (time.perf_counter() - start) / CALIBRATION_STEPS

    for threads in candidates:  # warm-up: first calls, thread start-up
        seconds_per_step(threads)
    times: dict[int, list[float]] = {n: [] for n in candidates}
    for _ in range(CALIBRATION_ROUNDS):
        for threads in candidates:
            times[threads].append(seconds_per_step(threads))
    best = 1
    for threads in candidates[1:]:
        if statistics.median(times[threads]) < MIN_GAIN * statistics.median(times[best]):
            best = threads
    return best
