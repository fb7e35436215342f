"""Damaged checkpoints: every kind is one clear CheckpointError, and the trainer keeps its run."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from bp_tui.engine import HyperParams, checkpoint
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.history import LOSS_TAIL, LossHistory
from bp_tui.engine.loop import Engine
from bp_tui.engine.runs import CHECKPOINT, LOCK, RunStore
from bp_tui.engine.trainer import Trainer
from tests.helpers import run_cli as run
from tests.helpers import tiny_data, wait_until

DATA = tiny_data()
HP = HyperParams(iters=400, hidden=6, optimizer="adam", lr=0.01, eval_every=10)


def good_checkpoint(path, hp=HP, steps=30):
    trainer = Trainer(hp, DATA)
    for _ in range(steps):
        trainer.step()
    trainer.evaluate()
    trainer.apply_live({"lr": 0.02})
    return checkpoint.save(trainer, "sample", path)


def raw(path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def meta_of(arrays: dict) -> dict:
    return json.loads(str(arrays["meta"]))


def with_meta(**changes):
    def damage(arrays):
        meta = meta_of(arrays)
        for key, value in changes.items():
            if value is DROP:
                del meta[key]
            else:
                meta[key] = value
        arrays["meta"] = np.array(json.dumps(meta))

    return damage


def with_array(key, value):
    def damage(arrays):
        if value is DROP:
            del arrays[key]
        else:
            arrays[key] = value(arrays[key]) if callable(value) else value

    return damage


def with_rng(change):
    def damage(arrays):
        meta = meta_of(arrays)
        meta["rng"] = change(meta["rng"])
        arrays["meta"] = np.array(json.dumps(meta))

    return damage


DROP = object()

ARRAY_DAMAGE = {
    "W1 of rank 1": with_array("param/W1", lambda a: a.ravel()),
    "W1 of rank 3": with_array("param/W1", lambda a: a[None]),
    "W1 with another hidden size": with_array("param/W1", lambda a: a[:, :4]),
    "b1 too short": with_array("param/b1", lambda a: a[:3]),
    "W2 of 9 classes": with_array("param/W2", lambda a: a[:, :9]),
    "b2 a scalar": with_array("param/b2", np.float32(0.5)),
    "W1 as strings": with_array("param/W1", lambda a: a.astype(str)),
    "b1 as booleans": with_array("param/b1", lambda a: a > 0),
    "W2 complex": with_array("param/W2", lambda a: a.astype(np.complex64)),
    "W2 missing": with_array("param/W2", DROP),
    "losses missing": with_array("losses", DROP),
    "losses of rank 2": with_array("losses", lambda a: a.reshape(-1, 1)),
    "losses as strings": with_array("losses", lambda a: a.astype(str)),
    "losses more than iterations": with_array("losses", np.ones(500)),
    "evaluations missing": with_array("evaluations", DROP),
    "evaluations of 3 columns": with_array("evaluations", lambda a: a[:, :3]),
    "evaluations with NaN": with_array("evaluations", lambda a: a * np.nan),
    "adam slot of the wrong shape": with_array("opt/m/W1", lambda a: a[:, :2]),
    "adam slot as strings": with_array("opt/v/b2", lambda a: a.astype(str)),
    "adam slot missing": with_array("opt/m/b1", DROP),
    "adam step count as text": with_array("opt/iter", np.array("thirty")),
    "adam step count missing": with_array("opt/iter", DROP),
    "unknown optimizer slot": with_array("opt/h/W1", np.zeros((784, 6))),
    "meta missing": with_array("meta", DROP),
    "meta a number": with_array("meta", np.array(5.0)),
    "meta not JSON": with_array("meta", np.array("{not json")),
    "meta a JSON list": with_array("meta", np.array("[1, 2]")),
}
META_DAMAGE = {
    "format unknown": with_meta(format="something-else"),
    "format missing": with_meta(format=DROP),
    "no hyperparameters": with_meta(hp=DROP),
    "hyperparameters a string": with_meta(hp="fast"),
    "learning rate a string": with_meta(hp={**HP.to_dict(), "lr": "fast"}),
    "activation a list": with_meta(hp={**HP.to_dict(), "activation": ["relu"]}),
    "hidden size negative": with_meta(hp={**HP.to_dict(), "hidden": -6}),
    "hyperparameters for another optimizer": with_meta(hp={**HP.to_dict(), "optimizer": "sgd"}),
    "iteration a string": with_meta(iteration="30"),
    "iteration negative": with_meta(iteration=-1),
    "iteration fractional": with_meta(iteration=30.5),
    "iteration missing": with_meta(iteration=DROP),
    "samples seen null": with_meta(samples_seen=None),
    "train seconds a string": with_meta(train_seconds="slow"),
    "train seconds missing": with_meta(train_seconds=DROP),
    "marks a string": with_meta(marks="lr"),
    "marks not pairs": with_meta(marks=[[1, "lr 0.1", 3]]),
    "data set a number": with_meta(dataset=7),
    "random state missing": with_meta(rng=DROP),
    "random state a string": with_meta(rng="random"),
    "random state of MT19937": with_rng(lambda s: {**s, "bit_generator": "MT19937"}),
    "random state text": with_rng(lambda s: {**s, "state": {**s["state"], "state": "x"}}),
    "random state negative": with_rng(lambda s: {**s, "state": {**s["state"], "inc": -5}}),
    "random state too big": with_rng(lambda s: {**s, "state": {**s["state"], "state": 2**200}}),
    "random state without inc": with_rng(lambda s: {**s, "state": {"state": 1}}),
    "random state flags wrong": with_rng(lambda s: {**s, "has_uint32": "yes"}),
}


def file_damage(kind):
    def damage(path):
        data = path.read_bytes()
        if kind == "empty":
            path.write_bytes(b"")
        elif kind == "text":
            path.write_text("not a checkpoint\n")
        elif kind == "truncated":
            path.write_bytes(data[: len(data) // 2])
        elif kind == "flipped":
            middle = len(data) // 2
            path.write_bytes(
                data[:middle]
                + bytes(b ^ 0xFF for b in data[middle : middle + 64])
                + data[middle + 64 :]
            )
        elif kind == "folder":
            path.unlink()
            path.mkdir()
        elif kind == "device":
            path.unlink()
            path.symlink_to(os.devnull)

    return damage


FILE_DAMAGE = {
    k: file_damage(k) for k in ("empty", "text", "truncated", "flipped", "folder", "device")
}


def damaged_checkpoint(tmp_path, name):
    path = good_checkpoint(tmp_path / "c.npz")
    if name in FILE_DAMAGE:
        FILE_DAMAGE[name](path)
    else:
        arrays = raw(path)
        (ARRAY_DAMAGE | META_DAMAGE)[name](arrays)
        path.unlink()
        with path.open("wb") as handle:
            np.savez(handle, **arrays)
    return path


ALL = [*FILE_DAMAGE, *ARRAY_DAMAGE, *META_DAMAGE]


def trainer_state(trainer: Trainer) -> tuple:
    return (
        trainer.hp,
        trainer.iteration,
        trainer.samples_seen,
        trainer.train_seconds,
        list(trainer.marks),
        list(trainer.losses),
        len(trainer.losses),
        [tuple(vars(e).values()) for e in trainer.evaluations],
        json.dumps(trainer.rng.bit_generator.state),
        {k: v.tobytes() for k, v in trainer.net.params.items()},
        {k: np.asarray(v).tobytes() for k, v in trainer.optimizer.state().items()},
    )


@pytest.mark.parametrize("name", ALL)
def test_a_damaged_checkpoint_is_one_clear_error_and_the_trainer_keeps_its_run(tmp_path, name):
    path = damaged_checkpoint(tmp_path, name)
    trainer = Trainer(HyperParams(iters=50, hidden=5, optimizer="momentum"), DATA)
    for _ in range(7):
        trainer.step()
    before = trainer_state(trainer)
    with pytest.raises(checkpoint.CheckpointError) as caught:
        checkpoint.restore(trainer, checkpoint.load(path))
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and len(message) < 300
    assert trainer_state(trainer) == before
    trainer.step()  # and it trains on
    assert trainer.iteration == 8


def test_restore_puts_the_trainer_back_should_anything_still_fail(tmp_path, monkeypatch):
    path = good_checkpoint(tmp_path / "c.npz")
    loaded = checkpoint.load(path)
    trainer = Trainer(HyperParams(iters=50, hidden=5), DATA)
    trainer.step()
    before = trainer_state(trainer)

    def broken(self, state):
        raise ValueError("disk gremlin")

    monkeypatch.setattr("bp_tui.nn.optimizers.Adam.load_state", broken)
    with pytest.raises(checkpoint.CheckpointError, match="disk gremlin"):
        checkpoint.restore(trainer, loaded)
    assert trainer_state(trainer) == before


@pytest.mark.parametrize(
    "name", ["empty", "W1 as strings", "random state text", "adam slot missing"]
)
def test_l_with_a_damaged_checkpoint_is_a_notice_and_the_engine_goes_on(tmp_path, name):
    path = damaged_checkpoint(tmp_path, name)
    trainer = Trainer(HyperParams(iters=30), DATA)
    seen: list = []
    commands: queue.Queue = queue.Queue()
    engine = Engine(trainer, seen.append, commands, dataset="sample", insights=False)
    thread = threading.Thread(target=engine.run, kwargs={"start": False})
    thread.start()
    try:
        commands.put(cmd.Step(5))
        wait_until(lambda: trainer.iteration == 5)
        commands.put(cmd.Load(str(path)))
        wait_until(lambda: any(isinstance(e, ev.Notice) for e in seen))
        commands.put(cmd.Step(3))
        wait_until(lambda: trainer.iteration == 8)
    finally:
        commands.put(cmd.Stop())
        thread.join(timeout=60)
    notices = [e.message for e in seen if isinstance(e, ev.Notice)]
    assert len(notices) == 1 and "checkpoint" in notices[0]
    assert not any(isinstance(e, (ev.Failed, ev.Loaded)) for e in seen)
    assert trainer.iteration == 8


def saved_files(folder: Path) -> list[tuple[str, bytes]]:
    """What a run folder keeps, byte for byte; its lock is left out: it holds the pid of the
    last process to take it (a resume that is refused takes it too), whose digits vary."""
    return sorted((p.name, p.read_bytes()) for p in folder.iterdir() if p.name != LOCK)


def test_resume_with_a_damaged_checkpoint_is_exit_2_and_one_line(capsys):
    code, _, err = run(capsys, "train", "--iters", "60", "--dataset", "sample")
    assert code == 0, err
    [info] = RunStore().list()
    arrays = raw(info.folder / CHECKPOINT)
    arrays["param/W1"] = arrays["param/W1"].astype(str)
    with (info.folder / CHECKPOINT).open("wb") as handle:
        np.savez(handle, **arrays)
    before = saved_files(info.folder)
    # A real process: what reaches the terminal is one line, no traceback.
    done = subprocess.run(
        [sys.executable, "-m", "bp_tui", "train", "--resume", info.id, "--iters", "120"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "damaged bp-tui checkpoint: its W1 is not numbers" in done.stderr
    assert saved_files(info.folder) == before


# ---- bounded history ----------------------------------------------------------------------------


def test_a_long_run_keeps_a_bounded_history_and_checkpoint(tmp_path):
    hp = HyperParams(iters=100_000_000, batch_size=1, hidden=2, lr=0.01, eval_every=0)
    trainer = Trainer(hp, tiny_data(n_train=20, n_test=10))
    steps = 2 * LOSS_TAIL + 100
    losses = [trainer.step() for _ in range(steps)]
    assert len(trainer.losses) == steps
    assert LOSS_TAIL <= len(list(trainer.losses)) < 2 * LOSS_TAIL
    assert trainer.losses[-1] == losses[-1] and trainer.losses[-20:] == losses[-20:]
    assert trainer.losses[steps - 5 :] == losses[-5:]
    with pytest.raises(IndexError):
        trainer.losses[0]
    path = checkpoint.save(trainer, "tiny", tmp_path / "c.npz")
    assert path.stat().st_size < 8 * LOSS_TAIL + 20_000
    second = Trainer(hp, tiny_data(n_train=20, n_test=10))
    checkpoint.restore(second, checkpoint.load(path))
    assert len(second.losses) == steps and second.losses[-LOSS_TAIL:] == losses[-LOSS_TAIL:]
    assert [second.step() for _ in range(50)] == [trainer.step() for _ in range(50)]


def test_loss_history_indexes_the_whole_run():
    history = LossHistory(keep=4)
    for value in range(1, 11):
        history.append(float(value))
    assert len(history) == 10 and history.start == 4 and list(history) == [5, 6, 7, 8, 9, 10]
    assert history[-1] == 10 and history[4] == 5 and history[8:] == [9.0, 10.0]
    assert history[0:] == [5.0, 6.0, 7.0, 8.0, 9.0, 10.0] and history[12:] == []
    assert history.recent(2).tolist() == [9.0, 10.0]
    # Equal to a list of the whole run when the losses still kept agree.
    assert history == list(range(1, 11)) and history == [0, 0, 0, 0, 5, 6, 7, 8, 9, 10]
    assert history != list(range(2, 12)) and history != list(range(1, 10))


def test_the_latest_checkpoint_skips_what_is_not_a_file():
    folder = checkpoint.checkpoints_dir()
    folder.mkdir(parents=True)
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint in"):
        checkpoint.latest_path()
    good = good_checkpoint(folder / "checkpoint-20260101-000000.npz")
    (folder / "checkpoint-20260101-000001.npz").symlink_to(folder / "gone.npz")  # dangling
    (folder / "checkpoint-20260101-000002.npz").mkdir()
    assert checkpoint.latest_path() == good
