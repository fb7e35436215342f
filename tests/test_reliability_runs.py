"""Faults in the run store, for real: damaged records, escape codes, two writers, odd targets."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from bp_tui.engine import HyperParams, runs
from bp_tui.engine import events as ev
from bp_tui.engine.runs import HYPERPARAMS, LOCK, METRICS, SUMMARY, RunBusyError, RunStore
from tests.helpers import run_cli as run
from tests.helpers import wait_until

T0 = datetime(2026, 11, 27, 23, 15, tzinfo=timezone.utc)
HP = HyperParams(iters=25)
GOOD, OTHER, BAD = "20261127-231500-ab12", "20261127-232000-cd34", "20261127-232500-ef56"

pytestmark = pytest.mark.hostile


def write_run(store: RunStore, run_id: str, started=T0, dataset="sample", changes=None) -> None:
    writer = store.create(HP, dataset, run_id=run_id, started=started)
    writer.on_event(
        ev.Progress(
            iteration=10,
            total=25,
            epoch=1.0,
            total_epochs=2.5,
            losses=np.ones(10),
            iters_per_second=100.0,
            train_seconds=0.1,
            elapsed=1.0,
        )
    )
    writer.on_event(ev.Evaluation(10, 1.0, 0.5, 0.45))
    if changes:
        writer.on_event(ev.ParamsChanged(10, HP, {}, changes))
    writer.on_event(ev.Finished({"iterations": 10, "test_acc": 0.45, "diverged": False}))
    writer.release()


def edit_json(path, **changes) -> None:
    value = json.loads(path.read_text())
    value.update(changes)
    path.write_text(json.dumps(value))


def damage_summary_type(folder):
    edit_json(folder / SUMMARY, test_acc="high")


def damage_naive_start(folder):
    edit_json(folder / HYPERPARAMS, started="2026-11-27T23:25:00")


def damage_summary_json(folder):
    (folder / SUMMARY).write_text('{"status": "finished", "test_')


def damage_head_json(folder):
    (folder / HYPERPARAMS).write_text("{")


def damage_infinite_seconds(folder):
    (folder / SUMMARY).write_text('{"status": "finished", "train_seconds": Infinity}')


def damage_status(folder):
    edit_json(folder / SUMMARY, status=["finished"])


def damage_hp(folder):
    edit_json(folder / HYPERPARAMS, hp={"lr": "fast"})


def damage_fifo_summary(folder):
    (folder / SUMMARY).unlink()
    os.mkfifo(folder / SUMMARY)  # reading it would wait for a writer forever


def damage_symlinked_summary(folder, tmp_path):
    elsewhere = tmp_path / "summary.json"
    (folder / SUMMARY).rename(elsewhere)
    (folder / SUMMARY).symlink_to(elsewhere)


def damage_symlinked_folder(folder, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)


DAMAGE = {
    "summary test_acc high": (damage_summary_type, "summary.json has test_acc 'high'"),
    "start without time zone": (damage_naive_start, "has no time zone"),
    "summary not JSON": (damage_summary_json, "summary.json is not JSON"),
    "hyperparameters not JSON": (damage_head_json, "hyperparams.json is not JSON"),
    "summary with Infinity": (damage_infinite_seconds, "summary.json has train_seconds inf"),
    "status a list": (damage_status, "summary.json has status"),
    "learning rate a string": (damage_hp, "lr must be a positive number"),
    "summary a FIFO": (damage_fifo_summary, "summary.json is not a regular file"),
    "summary a symbolic link": (damage_symlinked_summary, "summary.json is a symbolic link"),
    "folder a symbolic link": (damage_symlinked_folder, "its folder is a symbolic link"),
}


@pytest.mark.parametrize("name", DAMAGE)
def test_a_damaged_run_is_listed_as_damaged_beside_the_others(capsys, tmp_path, name):
    damage, reason = DAMAGE[name]
    store = RunStore()
    write_run(store, GOOD)
    write_run(store, OTHER, T0 + timedelta(minutes=5))
    write_run(store, BAD, T0 + timedelta(minutes=10))
    folder = store.root / BAD
    if damage in (damage_symlinked_folder, damage_symlinked_summary):
        damage(folder, tmp_path)
    else:
        damage(folder)

    code, out, err = run(capsys, "runs")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [GOOD, OTHER, BAD]
    assert lines[1].split()[-1] == "finished" and "damaged: " in lines[3] and reason in lines[3]

    code, out, _ = run(capsys, "runs", "--json")
    listed = json.loads(out)
    assert [r["status"] for r in listed] == ["finished", "finished", "damaged"]
    assert reason in listed[2]["error"]

    code, out, err = run(capsys, "runs", "show", BAD)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"bp-tui: error: run {BAD} is damaged (") and reason in err
    code, out, _ = run(capsys, "runs", "show", GOOD)
    assert code == 0 and "test accuracy 0.4500" in out
    code, out, _ = run(capsys, "runs", "show", "latest")  # the latest readable one
    assert code == 0 and OTHER in out

    # A damaged run can be removed; a symbolic link goes, what it points at stays.
    code, out, _ = run(capsys, "runs", "rm", BAD)
    assert code == 0 and out == f"removed run {BAD}\n"
    assert store.ids() == [GOOD, OTHER]
    if damage is damage_symlinked_folder:
        assert (tmp_path / "elsewhere" / HYPERPARAMS).exists()


def test_malformed_metric_lines_are_skipped_not_shown(capsys):
    store = RunStore()
    write_run(store, GOOD)
    with open(store.root / GOOD / METRICS, "a") as handle:
        for line in (
            {"type": "eval", "iteration": 11, "epoch": "one", "train_acc": 0.5, "test_acc": 0.4},
            {"type": "eval", "iteration": True, "train_acc": 0.5, "test_acc": 0.4},
            {"type": "eval", "iteration": 12, "train_acc": 0.5, "test_acc": 0.4, "seconds": "x"},
            {"type": "loss", "iteration": -3, "loss": 1.0},
        ):
            handle.write(json.dumps(line) + "\n")
    code, out, err = run(capsys, "runs", "show", GOOD)
    assert code == 0 and err == "" and [e.iteration for e in store.load(GOOD).evaluations] == [10]


def test_text_from_a_record_never_reaches_the_terminal_as_escape_codes(capsys):
    store = RunStore()
    evil = "\x1b]0;owned\x07\x1b[31m[bold]red[/bold]\r\x9b2J"
    write_run(store, GOOD, dataset=evil, changes={"lr": evil})
    edit_json(store.root / GOOD / SUMMARY, message=evil)
    edit_json(store.root / GOOD / HYPERPARAMS, resumed_from=evil)
    write_run(store, OTHER, T0 + timedelta(minutes=5))
    edit_json(store.root / OTHER / HYPERPARAMS, started=f"2026-11-27{evil}")
    for argv in (("runs",), ("runs", "show", GOOD), ("runs", "show", OTHER), ("runs", "--json")):
        code, out, err = run(capsys, *argv)
        for text in (out, err):
            assert not any(ord(c) < 32 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in text)
    _, out, _ = run(capsys, "runs", "show", GOOD)
    assert "\\x1b]0;owned\\x07\\x1b[31m[bold]red[/bold]\\x0d\\x9b2J" in out  # shown, not obeyed
    _, out, _ = run(capsys, "runs")
    assert "[bold]red[/bold]" in out


def test_a_run_folder_named_with_escape_codes_is_listed_and_removed_safely(capsys):
    store = RunStore()
    write_run(store, GOOD)
    evil = "20261127-231500-\x1b[2J"
    (store.root / GOOD).rename(store.root / evil)
    write_run(store, GOOD)
    for argv in (("runs",), ("runs", "show", "20261127"), ("runs", "rm", "20261127-231500-\x1b")):
        code, out, err = run(capsys, *argv)
        assert "\x1b" not in out + err and "\\x1b[2J" in out + err, (argv, out, err)
    assert store.ids() == [GOOD]


# ---- two writers --------------------------------------------------------------------------------

LONG_TRAIN = textwrap.dedent(
    """
    import bp_tui.engine.recorder as recorder
    from bp_tui.cli import main
    recorder.CHECKPOINT_SECONDS = 0.2
    raise SystemExit(main(["train", "--dataset", "sample", "--iters", "100000000", "--eval-every", "50"]))
    """
)


def start_training(args=None) -> subprocess.Popen:
    script = (
        LONG_TRAIN
        if args is None
        else LONG_TRAIN.replace(
            '["train", "--dataset", "sample", "--iters", "100000000", "--eval-every", "50"]',
            json.dumps(args),
        )
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )


def stop(process: subprocess.Popen, sig=signal.SIGINT) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_run_in_training_cannot_be_removed_nor_resumed_twice(capsys):
    store = RunStore()
    first = start_training()
    try:
        wait_until(lambda: store.list() and store.list()[0].checkpoint)
        [info] = store.list()
        assert (info.folder / LOCK).read_text() == f"{first.pid}\n"
        code, out, err = run(capsys, "runs", "rm", info.id)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert f"run {info.id} is in use: process {first.pid} is training it" in err
        code, out, err = run(capsys, "train", "--resume", info.id, "--iters", "100000000")
        assert code == 2 and err.count("\n") == 1 and f"process {first.pid}" in err
        # The store refuses too, not just the commands' early check.
        with pytest.raises(RunBusyError):
            store.reopen(info.id, 0)
        with pytest.raises(RunBusyError):
            store.remove(info.id)
        assert first.poll() is None and info.folder.is_dir()
    finally:
        stop(first)
    # The process stopped (and let go): now it can be removed.
    assert store.list()[0].status == "stopped"
    code, out, _ = run(capsys, "runs", "rm", info.id)
    assert code == 0 and store.ids() == []


def test_a_killed_writers_lock_is_taken_over_and_only_one_resume_runs(capsys):
    store = RunStore()
    first = start_training()
    try:
        wait_until(lambda: store.list() and store.list()[0].checkpoint)
    finally:
        stop(first, signal.SIGKILL)  # no chance to let go of anything
    [info] = store.list()
    assert (info.folder / LOCK).read_text() == f"{first.pid}\n"  # a dead process's lock
    at = store.load(info.id).iterations
    argv = ["train", "--resume", info.id, "--iters", "100000000"]
    second, third = start_training(argv), None
    try:
        wait_until(lambda: (info.folder / LOCK).read_text() == f"{second.pid}\n")
        third = start_training(argv)
        assert third.wait(timeout=120) == 2
        err = third.stderr.read().decode()
        assert err == (
            f"bp-tui: error: run {info.id} is in use: process {second.pid} is "
            "training it; stop that first\n"
        )
        wait_until(lambda: store.load(info.id).iterations > at)
    finally:
        stop(second)
        if third is not None:
            stop(third)
    assert store.load(info.id).status == "stopped"


def test_two_runs_started_together_each_get_their_own_folder():
    store = RunStore()
    started = T0
    writers = [store.create(HP, "sample", started=started) for _ in range(2)]
    assert len({w.id for w in writers}) == 2
    for writer in writers:
        writer.release()
    # Released: the run can be reopened and written again.
    store.reopen(writers[0].id, 0).release()


# ---- output targets -----------------------------------------------------------------------------


def test_export_writes_only_a_new_path_or_a_regular_file(capsys, tmp_path):
    store = RunStore()
    write_run(store, GOOD)
    regular = tmp_path / "old.csv"
    regular.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(regular)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for target, why in (
        (link, "is a symbolic link"),
        (fifo, "is not a regular file"),
        (tmp_path, "is a folder"),
        (os.devnull, "is not a regular file"),
    ):
        code, out, err = run(capsys, "runs", "export", GOOD, "--csv", str(target))
        assert code == 2 and out == "" and err.count("\n") == 1 and why in err, (target, err)
    assert link.is_symlink() and regular.read_text() == "old\n"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat(os.devnull).st_mode)

    code, _, _ = run(capsys, "runs", "export", GOOD, "--csv", str(regular))
    assert code == 0 and regular.read_text().startswith("iteration,")
    code, _, _ = run(capsys, "runs", "export", GOOD, "--csv", str(tmp_path / "new.csv"))
    assert code == 0 and (tmp_path / "new.csv").read_text() == regular.read_text()
    code, out, _ = run(capsys, "runs", "export", GOOD, "--csv", "-")
    assert code == 0 and out == regular.read_text()


def test_waiting_for_nothing_is_quick():
    # The damaged-record checks read no FIFO: listing a store with one returns at once.
    store = RunStore()
    write_run(store, GOOD)
    damage_fifo_summary(store.root / GOOD)
    start = time.monotonic()
    runs, damaged = store.scan()
    assert runs == [] and [d.id for d in damaged] == [GOOD] and time.monotonic() - start < 5


# ---- bounded history ----------------------------------------------------------------------------


def test_a_new_run_from_a_long_runs_checkpoint_writes_its_losses_at_their_iterations():
    # A load replays only the losses a checkpoint keeps (the last LOSS_TAIL): the new run's
    # lines start there, on multiples of LOSS_EVERY, not at iteration 10.
    store = RunStore()
    writer = store.create(HP, "sample", run_id=GOOD, started=T0)
    for iteration, losses in ((70_005, np.arange(7, dtype=float)), (70_020, np.ones(15))):
        writer.on_event(
            ev.Progress(
                iteration=iteration,
                total=10**8,
                epoch=1.0,
                total_epochs=2.0,
                losses=losses,
                iters_per_second=1.0,
                train_seconds=1.0,
                elapsed=1.0,
            )
        )
    writer.close()
    writer.release()
    record = store.load(GOOD)
    assert record.loss_iterations == [70_000, 70_010, 70_020]
    # 69,999 and 70,000 (a short block, so counted), then 70,001-70,010, then 70,011-70,020.
    assert record.losses == [0.5, (2 + 3 + 4 + 5 + 6 + 5) / 10, 1.0]
    counts = [m.get("count") for m in runs.read_metrics(record.folder / METRICS)]
    assert counts == [2, None, None]


def test_a_folder_where_a_run_file_should_be_is_a_damaged_run(capsys, tmp_path):
    store = RunStore()
    folder = store.root / "20261127-231500-ab12"
    folder.mkdir(parents=True)
    (folder / "summary.json").mkdir()
    (folder / "hyperparams.json").mkdir()
    code, out, err = run(capsys, "runs")
    assert code == 0 and "Traceback" not in err
    assert "damaged" in out and "20261127-231500-ab12" in out


def test_export_never_writes_into_the_run_records(capsys):
    store = RunStore()
    writer = store.create(HyperParams(iters=10), "sample", run_id="20261127-231500-ab12")
    writer.release()
    target = store.root / "20261127-231500-ab12" / METRICS
    before = target.read_bytes()
    code, out, err = run(capsys, "runs", "export", "20261127-231500-ab12", "--csv", str(target))
    assert code == 2 and "inside the run records" in err and err.count("\n") == 1
    assert target.read_bytes() == before


def test_json_nested_past_pythons_limit_is_damaged_not_a_traceback(capsys):
    store = RunStore()
    writer = store.create(HyperParams(iters=10), "sample", run_id="20261127-231500-ab12")
    writer.release()
    (store.root / "20261127-231500-ab12" / "summary.json").write_text("[" * 100_000 + "]" * 100_000)
    code, out, err = run(capsys, "runs")
    assert code == 0 and "damaged" in out and "Traceback" not in err
