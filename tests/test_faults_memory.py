"""Memory that must stay bounded: evaluations due faster than they finish, nets too big to train.

The processes are real (`bp-tui train` as a subprocess); the evaluation queue's bound is also
checked directly, without waiting for memory to grow.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from bp_tui.engine import HyperParams
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.jobs import QUEUE_LIMIT, BackgroundJobs, Job
from bp_tui.engine.loop import Engine
from bp_tui.engine.memory import layer_widths, training_bytes
from bp_tui.engine.runs import RunStore
from bp_tui.engine.trainer import Trainer
from tests.helpers import run_cli, tiny_data, wait_until
from tests.idx_fixtures import synthetic_arrays, write_idx_files

ROOT = Path(__file__).resolve().parent.parent


def test_evaluations_due_faster_than_they_finish_wait_for_room_and_none_is_lost():
    evaluator = BackgroundJobs()
    gate = threading.Event()
    counting = []  # parts entered: the evaluator's thread and the submitter both count

    def part() -> int:
        counting.append(1)
        gate.wait()
        return 1

    submitted = []

    def submit_all() -> None:
        for number in range(50):
            evaluator.submit(Job([part], lambda counts, n=number: n))
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


# Starts the command and writes its peak resident memory (wait4's ru_maxrss, KB) to argv[1].
# A small process of its own: Linux counts in a child's peak the memory of the process it was
# forked from (a pytest grown to 1.2 GB in a full run), so the parent must stay small.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def peak_rss_of(argv: list[str], env: dict) -> tuple[subprocess.CompletedProcess, int]:
    """Run bp-tui; its result and its own peak resident memory in bytes."""
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(peak), sys.executable, "-m", "bp_tui", *argv],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return done, int(peak.read_text()) * 1024


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


def test_train_out_of_memory_even_for_its_failure_report_is_one_line(capsys, monkeypatch):
    """Memory exhausted past the engine's own report (as the unbounded queue did): restoring
    the signal handlers raised again, a KeyError among the tracebacks. Now one line, exit 1."""
    from bp_tui.engine.loop import Engine

    def exhausted(self, start: bool = True) -> dict:
        self.trainer.step()
        raise MemoryError

    monkeypatch.setattr(Engine, "run", exhausted)
    code, out, err = run_cli(capsys, "train", "--dataset", "sample", "--iters", "50")
    assert code == 1 and out == ""
    assert err == "bp-tui: error: training failed at iteration 1: out of memory\n"


# ---- nets too big for the machine ---------------------------------------------------------------

LIMIT = 3 * 2**30  # the address space a test's bp-tui may take (ulimit -v): "what it has"


def limited(argv: list[str]) -> subprocess.CompletedProcess:
    """bp-tui with its address space limited, so that the machine it sees is small."""
    import resource

    return subprocess.run(
        [sys.executable, "-m", "bp_tui", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT)),
    )


@pytest.mark.hostile
@pytest.mark.parametrize(
    ("argv", "named", "layers"),
    [
        (["--batch-size", "1000000"], "--batch-size 1,000,000", "784-50-10"),
        (["--hidden", "10000", "--batch-size", "100000"], "--batch-size 100,000", "784-10000-10"),
    ],
)
def test_train_too_big_for_the_machine_is_refused_before_training(argv, named, layers):
    done = limited(["train", "--dataset", "sample", "--iters", "2", *argv])
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    line = done.stderr.splitlines()[-1]
    assert line.startswith(f"bp-tui: error: {named} is too big for this machine: layers {layers}")
    assert " GB of memory to train, and " in line and line.endswith(" is free")
    assert RunStore().list() == []  # refused before a run was recorded


@pytest.mark.hostile
def test_the_dashboard_too_big_for_the_machine_is_refused_before_it_starts():
    done = limited(["--dataset", "sample", "--batch-size", "1000000", "--exit-when-done"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("bp-tui: error: --batch-size 1,000,000 is too big")


def test_the_estimate_follows_every_width_and_the_batch():
    small = training_bytes([784, 50, 10], 100)
    assert training_bytes([784, 50, 10], 200) > small
    assert training_bytes([784, 50, 50, 10], 100) > small
    assert training_bytes([784, 100, 100, 100, 100, 10], 100) > training_bytes([784, 100, 10], 100)
    # Measured here: 1.38 GB above the process's own for a batch of 300,000 (peak 1.52 GB).
    assert 1.3e9 < training_bytes([784, 50, 10], 300_000) < 1.8e9
    assert layer_widths(50, 784) == [784, 50, 10]
    assert layer_widths((100, 100), 784) == [784, 100, 100, 10]


def test_the_engine_refuses_a_change_that_would_not_fit_and_keeps_its_values():
    hp = HyperParams(iters=20, hidden=6)
    trainer = Trainer(hp, tiny_data())
    seen, commands = [], queue.Queue()
    engine = Engine(trainer, seen.append, commands)
    worker = threading.Thread(target=engine.run, kwargs={"start": False}, daemon=True)
    worker.start()
    # 10,000 units for a batch of 1,000,000: some 160 GB.
    commands.put(cmd.SetParams({"hidden": 10_000, "batch_size": 1_000_000}))
    commands.put(cmd.Stop())
    worker.join(timeout=60)
    (notice,) = [e for e in seen if isinstance(e, ev.Notice)]
    assert notice.field == "batch_size" and "is too big for this machine" in notice.message
    assert engine.trainer.hp == hp and engine.pending == {}


async def test_the_edit_form_says_it_beside_the_batch_size():
    from tests.helpers import until
    from tests.test_dashboard import make_app, open_edit_form

    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_edit_form(app, pilot)
        form.query_one("#in-batch_size").value = "1000000"
        form.query_one("#in-hidden").value = "10000"
        await pilot.press("ctrl+s")
        error = form.query_one("#err-batch_size")
        await until(pilot, lambda: "too big for this machine" in str(error.render()))
        await until(pilot, lambda: app.screen is form)  # refused: the form stays open
    assert links[0].engine.trainer.hp.batch_size == 50
