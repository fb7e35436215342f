"""Memory that must stay bounded: evaluations due faster than they finish, nets too big to train.

The processes are real (`bp-tui train` as a subprocess); the evaluation queue's bound is also
checked directly, without waiting for memory to grow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bp_tui.engine.jobs import QUEUE_LIMIT, BackgroundEvaluator, EvaluationJob
from tests.helpers import wait_until
from tests.idx_fixtures import synthetic_arrays, write_idx_files

ROOT = Path(__file__).resolve().parent.parent


def test_evaluations_due_faster_than_they_finish_wait_for_room_and_none_is_lost():
    evaluator = BackgroundEvaluator()
    gate = threading.Event()
    counting = []  # parts entered: the evaluator's thread and the submitter both count

    def part() -> int:
        counting.append(1)
        gate.wait()
        return 1

    submitted = []

    def submit_all() -> None:
        for number in range(50):
            evaluator.submit(EvaluationJob([part], lambda counts, n=number: n))
            submitted.append(number)

    submitter = threading.Thread(target=submit_all, daemon=True)
    submitter.start()
    try:
        # Unbounded, all 50 are queued at once; bounded, the submitter helps count and waits.
        wait_until(lambda: len(counting) >= 2 or len(submitted) == 50)
        assert evaluator.queued <= QUEUE_LIMIT
        assert len(submitted) <= QUEUE_LIMIT
    finally:
        gate.set()
        submitter.join(timeout=60)
    assert not submitter.is_alive()
    assert evaluator.take(wait=True) == list(range(50))
    assert evaluator.pending == 0 and evaluator.queued == 0


def peak_rss_of(argv: list[str], env: dict) -> tuple[subprocess.CompletedProcess, int]:
    """Run bp-tui; its result and its own peak resident memory in bytes (from wait4)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bp_tui", *argv],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = [], []
    readers = [
        threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
        for s, b in ((process.stdout, out), (process.stderr, err))
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(timeout=60)
    done = subprocess.CompletedProcess(argv, process.returncode, "".join(out), "".join(err))
    return done, usage.ru_maxrss * 1024


@pytest.mark.hostile
def test_train_evaluating_every_iteration_keeps_its_memory(tmp_path):
    """70 images and 2,000 hidden units: each evaluation is quick, each copy of the weights it
    takes is 6 MB, and training one image a step outpaces them. Unbounded, the copies queued
    reached 650-740 MB here; bounded, the run stays under 100 MB and prints every evaluation."""
    write_idx_files(tmp_path / "data" / "mnist", synthetic_arrays(50, 20))
    env = {**os.environ, "BP_TUI_DATA_DIR": str(tmp_path / "data")}
    argv = ["train", "--dataset", "mnist", "--hidden", "2000", "--batch-size", "1"]
    argv += ["--lr", "0.01", "--eval-every", "1", "--iters", "1000"]
    done, peak = peak_rss_of(argv, env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.count("train_acc") == 1000
    assert peak < 300 * 2**20, f"peak {peak / 2**20:.0f} MB"
