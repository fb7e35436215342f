"""The run store: writing a run from engine events, reading it back (even cut off), the `runs`
commands, recording from `bp-tui train` and the dashboard's engine, and `--resume`."""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from bp_tui import paths
from bp_tui.engine import HyperParams, checkpoint, resume
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.recorder import Recorder, recording
from bp_tui.engine.remote import EngineExited, serve
from bp_tui.engine.runs import LOSS_EVERY, RunError, RunStore, read_metrics
from bp_tui.ui.comparison import comparison_of, label_for
from bp_tui.ui.names import format_value
from bp_tui.ui.series import SMOOTHING
from tests.helpers import run_cli as run
from tests.helpers import until, wait_until

T0 = datetime(2026, 11, 27, 23, 15, tzinfo=timezone.utc)
HP = HyperParams(iters=25)


def progress(iteration: int, losses) -> ev.Progress:
    return ev.Progress(
        iteration=iteration,
        total=HP.iters,
        epoch=iteration / 10,
        total_epochs=2.5,
        losses=np.asarray(losses, dtype=float),
        iters_per_second=100.0,
        train_seconds=iteration / 100,
        elapsed=1.0,
    )


def write_run(store: RunStore, run_id="20261127-231500-ab12", started=T0, finish=True):
    """A 25-iteration run: losses 1..25, evaluations at 10 and 20 (and 25 when finished)."""
    writer = store.create(HP, "sample", run_id=run_id, started=started)
    writer.on_event(progress(7, range(1, 8)))
    writer.on_event(progress(10, range(8, 11)))
    writer.on_event(ev.Evaluation(10, 1.0, 0.5, 0.45))
    writer.on_event(progress(20, range(11, 21)))
    writer.on_event(ev.Evaluation(20, 2.0, 0.7, 0.65))
    if finish:
        writer.on_event(progress(25, range(21, 26)))
        writer.on_event(ev.Evaluation(25, 2.5, 0.8, 0.75))
        writer.on_event(ev.Finished({"iterations": 25, "test_acc": 0.75, "diverged": False}))
    writer.release()
    return writer


# ---- the store ----------------------------------------------------------------------------------


def test_a_run_is_written_as_it_goes_and_read_back():
    store = RunStore()
    assert store.root == paths.home() / "runs"
    write_run(store)
    run = store.load("20261127-231500-ab12")
    assert (run.started, run.dataset, run.hp, run.status) == (T0, "sample", HP, "finished")
    # One line per LOSS_EVERY iterations, the mean of their losses; the short last block says so.
    assert run.loss_iterations == [10, 20, 25]
    assert run.losses == [5.5, 15.5, 23.0]
    assert [(e.iteration, e.test_acc) for e in run.evaluations] == [
        (10, 0.45),
        (20, 0.65),
        (25, 0.75),
    ]
    assert (run.iterations, run.test_acc, run.duration) == (25, 0.75, 0.25)
    assert run.summary["final_loss"] == 25.0
    files = sorted(p.name for p in run.folder.iterdir())
    assert files == ["hyperparams.json", "lock", "metrics.jsonl", "summary.json"]
    head = json.loads((run.folder / "hyperparams.json").read_text())
    assert head["hp"] == HP.to_dict() and head["started"] == "2026-11-27T23:15:00.000+00:00"
    lines = read_metrics(run.folder / "metrics.jsonl")
    assert lines[-2] == {
        "type": "eval",
        "iteration": 25,
        "epoch": 2.5,
        "train_acc": 0.8,
        "test_acc": 0.75,
        "seconds": 0.25,
    }
    assert [m.get("count") for m in lines if m["type"] == "loss"] == [None, None, 5]
    assert LOSS_EVERY == 10


def test_runs_are_listed_oldest_first_with_what_the_table_shows():
    store = RunStore()
    assert store.list() == []
    write_run(store, "20261127-232000-cd34", T0 + timedelta(minutes=5), finish=False)
    write_run(store, "20261127-231500-ab12", T0)
    (store.root / ".20261127-233000-0000.new").mkdir()  # a run being created: not listed
    (store.root / "20261127-234000-dead").mkdir()  # no hyperparameters: left out
    runs = store.list()
    assert [r.id for r in runs] == ["20261127-231500-ab12", "20261127-232000-cd34"]
    assert [(r.status, r.iterations, r.test_acc) for r in runs] == [
        ("finished", 25, 0.75),
        ("unfinished", 20, 0.65),
    ]


def test_a_run_cut_off_mid_line_is_still_readable():
    store = RunStore()
    writer = write_run(store, finish=False)
    with open(writer.folder / "metrics.jsonl", "a") as handle:
        handle.write('{"type": "loss", "iteration": 30, "lo')  # a kill in the middle of a line
    run = store.load(writer.id)
    assert run.status == "unfinished" and run.summary is None
    assert run.loss_iterations == [10, 20]
    assert (run.iterations, run.test_acc, run.duration) == (20, 0.65, 0.2)
    assert store.list()[0].test_acc == 0.65


def test_csv_export_has_a_row_per_iteration_and_is_atomic(tmp_path):
    store = RunStore()
    write_run(store)
    (tmp_path / "out").mkdir()
    target = store.export_csv("20261127", tmp_path / "out" / "run.csv")  # a unique start of the id
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["iteration"] for r in rows] == ["10", "20", "25"]
    assert rows[0] == {
        "iteration": "10",
        "epoch": "1.0",
        "loss": "5.5",
        "train_acc": "0.5",
        "test_acc": "0.45",
    }
    assert not [p for p in target.parent.iterdir() if p.name != "run.csv"]  # no temporary left
    with pytest.raises(RunError, match="is a folder"):
        store.export_csv("20261127", tmp_path)


def test_unknown_and_ambiguous_ids_are_one_line_errors():
    store = RunStore()
    write_run(store, "20261127-231500-ab12")
    write_run(store, "20261127-232000-cd34", T0 + timedelta(minutes=5))
    with pytest.raises(RunError, match="no run 'nope'"):
        store.load("nope")
    with pytest.raises(RunError, match="names 2 runs"):
        store.resolve("2026")
    with pytest.raises(RunError):
        store.remove("../..")  # only names in the runs folder are ever resolved
    assert store.resolve("latest") == "20261127-232000-cd34"
    assert store.remove("20261127-2315") == "20261127-231500-ab12"
    assert store.ids() == ["20261127-232000-cd34"]


def test_a_damaged_run_says_so():
    store = RunStore()
    writer = write_run(store)
    (writer.folder / "hyperparams.json").write_text("{")
    with pytest.raises(RunError, match="is damaged"):
        store.load(writer.id)


# ---- the commands -------------------------------------------------------------------------------


def test_runs_list_show_export_and_rm(capsys, tmp_path):
    store = RunStore()
    code, out, _ = run(capsys, "runs")
    assert code == 0 and "no runs yet" in out
    write_run(store)
    write_run(store, "20261127-232000-cd34", T0 + timedelta(minutes=5), finish=False)

    code, out, _ = run(capsys, "runs")
    assert code == 0
    header, first, second = out.splitlines()
    for column in ("id", "started", "data set", "hyperparameters", "test acc", "training"):
        assert column in header
    assert first.split() == [
        "20261127-231500-ab12",
        "11-27",
        "23:15",
        "sample",
        "50",
        "relu",
        "std,",
        "sgd",
        "0.1,",
        "b100,",
        "seed",
        "0",
        "25",
        "0.7500",
        "0.2",
        "s",
        "finished",
    ]
    assert "unfinished" in second

    code, out, _ = run(capsys, "runs", "--json")
    assert [r["id"] for r in json.loads(out)] == ["20261127-231500-ab12", "20261127-232000-cd34"]

    code, out, _ = run(capsys, "runs", "show", "20261127-2315")
    assert code == 0
    assert "20261127-231500-ab12  (finished)" in out and "test accuracy 0.7500" in out
    assert "2.50         25     0.8000    0.7500" in out

    target = tmp_path / "run.csv"
    code, _, err = run(capsys, "runs", "export", "20261127-2315", "--csv", str(target))
    assert code == 0 and str(target) in err
    assert target.read_text().splitlines()[0] == "iteration,epoch,loss,train_acc,test_acc"
    code, out, _ = run(capsys, "runs", "export", "latest", "--csv", "-")
    assert out.splitlines()[-1] == "20,2.0,15.5,0.7,0.65"

    code, out, _ = run(capsys, "runs", "rm", "20261127-2315")
    assert code == 0 and out == "removed run 20261127-231500-ab12\n"
    assert store.ids() == ["20261127-232000-cd34"]


@pytest.mark.parametrize(
    "argv",
    [
        ("runs", "show", "nope"),
        ("runs", "export", "nope", "--csv", "x.csv"),
        ("runs", "rm", "20261127-232000-cd34", "nope"),
        ("train", "--resume", "nope"),
    ],
)
def test_an_unknown_id_is_one_line_exit_2_and_changes_nothing(capsys, argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = RunStore()
    write_run(store, "20261127-232000-cd34")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err == f"bp-tui: error: no run 'nope' in {store.root}: `bp-tui runs` lists them\n"
    assert store.ids() == ["20261127-232000-cd34"] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("folder", "said"),
    [("missing/dir", "the folder {folder} does not exist"), ("/proc", "could not write")],
)
def test_an_export_into_a_folder_it_cannot_write_is_one_line_exit_2(capsys, tmp_path, folder, said):
    """`--csv /nonexistent/dir/x.csv` made the folders (at the root) and exited 0."""
    folder = tmp_path / folder  # "/proc" stays itself
    write_run(RunStore())
    code, out, err = run(capsys, "runs", "export", "latest", "--csv", str(folder / "x.csv"))
    assert code == 2 and out == ""
    assert err.startswith("bp-tui: error: " + said.format(folder=folder)) and err.count("\n") == 1
    assert not (tmp_path / "missing").exists()


# ---- recording ----------------------------------------------------------------------------------


def test_train_records_a_run_with_its_metrics_and_checkpoint(capsys):
    code, out, err = run(capsys, "train", "--iters", "200", "--dataset", "sample", "--json")
    assert code == 0, err
    summary = json.loads(out)
    [info] = RunStore().list()
    record = RunStore().load(info.id)
    assert (record.status, record.dataset, record.hp.iters) == ("finished", "sample", 200)
    assert record.loss_iterations == list(range(10, 201, 10))
    assert [e.iteration for e in record.evaluations] == [100, 200]
    assert record.test_acc == summary["test_acc"]
    assert record.summary["final_loss"] == pytest.approx(summary["final_loss"])
    loaded = checkpoint.load(record.checkpoint)
    assert loaded["meta"]["iteration"] == 200 and loaded["meta"]["dataset"] == "sample"


def test_resume_goes_on_from_the_checkpoint_as_if_never_stopped(capsys):
    code, out, _ = run(capsys, "train", "--iters", "300", "--dataset", "sample", "--json")
    straight = json.loads(out)
    code, _, _ = run(capsys, "train", "--iters", "150", "--dataset", "sample")
    short = RunStore().list()[-1].id
    assert checkpoint.load(RunStore().load(short).checkpoint)["meta"]["iteration"] == 150

    code, out, err = run(capsys, "train", "--resume", short, "--iters", "300", "--json")
    assert code == 0, err
    resumed = json.loads(out)
    # The same mini-batches from the restored random stream: the same net at the end.
    assert resumed["test_acc"] == straight["test_acc"]
    assert resumed["final_loss"] == pytest.approx(straight["final_loss"])
    record = RunStore().load(short)
    assert len(RunStore().list()) == 2  # the same folder, not a new run
    assert record.status == "finished" and record.iterations == 300
    assert [e.iteration for e in record.evaluations] == [100, 150, 200, 300]
    assert record.loss_iterations == [*range(10, 151, 10), *range(160, 301, 10)]
    assert record.changes == [{"type": "change", "iteration": 150, "changes": {"iters": 300}}]


@pytest.mark.parametrize(
    "options, message",
    [
        ((), "--iters must be above 150 to go on: run"),
        (("--iters", "300", "--hidden", "20"), "--hidden cannot change when resuming run"),
        (("--iters", "300", "--dataset", "mnist"), "--dataset cannot be mnist: run"),
    ],
)
def test_resume_refuses_what_it_cannot_do_in_one_line(capsys, options, message):
    run(capsys, "train", "--iters", "150", "--dataset", "sample")
    before = sorted(p.name for p in RunStore().list()[0].folder.iterdir())
    code, out, err = run(capsys, "train", "--resume", "latest", *options)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
    assert sorted(p.name for p in RunStore().list()[0].folder.iterdir()) == before


def serve_until(stages, resume=None) -> list:
    """The dashboard's engine process body, in a thread: each stage is a command and the event
    to wait for before the next; then Stop."""
    commands, events = queue.Queue(), queue.Queue()
    hp = HyperParams(iters=1000)
    thread = threading.Thread(
        target=serve, args=(hp, "sample", None, commands, events, False, resume)
    )
    thread.start()
    seen: list = []
    for command, done in stages:
        if command is not None:
            commands.put(command)
        while not seen or not done(seen[-1]):
            seen.append(events.get(timeout=30))
    commands.put(cmd.Stop())
    while not isinstance(seen[-1], EngineExited):
        seen.append(events.get(timeout=30))
    thread.join(timeout=30)
    return seen


def reached(iteration):
    return lambda e: isinstance(e, ev.Progress) and e.iteration >= iteration


def test_the_dashboard_engine_records_a_new_run_at_each_reset_and_resumes_one():
    store = RunStore()
    # Opened and shut without training: no run.
    serve_until([(None, lambda e: isinstance(e, ev.StateChanged))])
    assert store.ids() == []
    serve_until(
        [
            (cmd.Step(120), reached(120)),
            (cmd.Reset(), lambda e: isinstance(e, ev.RunReset)),
            (cmd.Step(30), reached(30)),
        ]
    )
    first, second = store.list()
    assert (first.status, first.iterations, second.status, second.iterations) == (
        "stopped",
        120,
        "stopped",
        30,
    )
    assert first.checkpoint is not None  # saved when the steps paused

    path = str(first.checkpoint)
    # As ProcessLink queues them for `bp-tui --resume ID`: the Load first, then the changes.
    loaded = (cmd.Load(path), lambda e: isinstance(e, ev.Loaded))
    changed = (cmd.SetParams({"lr": 0.05}), lambda e: isinstance(e, ev.ParamsChanged))
    plan = resume.plan(first.id, {"lr": 0.05}, None, needs_iterations=True)
    assert plan.changes == {"lr": 0.05} and plan.checkpoint == path and plan.iteration == 120
    assert pickle.loads(pickle.dumps(plan)) == plan  # it crosses to the engine's process
    seen = serve_until([loaded, changed, (cmd.Step(40), reached(160))], resume=plan)
    assert not any(isinstance(e, ev.Notice) for e in seen)
    assert len(store.list()) == 2
    record = store.load(first.id)
    assert record.iterations == 160 and record.loss_iterations[-5:] == [120, 130, 140, 150, 160]
    assert [e.iteration for e in record.evaluations] == [100]
    assert record.changes == [{"type": "change", "iteration": 120, "changes": {"lr": 0.05}}]
    assert checkpoint.load(record.checkpoint)["meta"]["iteration"] == 160


def test_loading_a_checkpoint_adds_no_run_until_training_goes_on():
    store = RunStore()
    serve_until([(cmd.Step(120), reached(120))])
    (first,) = store.list()
    loaded = (cmd.Load(str(first.checkpoint)), lambda e: isinstance(e, ev.Loaded))
    # The load shows the run's losses and evaluations again: none of that is a new run.
    seen = serve_until([loaded, (None, lambda e: isinstance(e, ev.Evaluation))])
    assert any(isinstance(e, ev.Progress) and len(e.losses) for e in seen)
    assert [r.id for r in store.list()] == [first.id]
    # Training on from it is: a run of its own, resumed from that checkpoint.
    serve_until([loaded, (cmd.Step(10), reached(130))])
    runs = store.list()
    assert len(runs) == 2 and runs[1].iterations == 130 and runs[1].resumed_from


def test_a_store_that_cannot_be_written_is_one_notice_and_training_goes_on(tmp_path):
    from bp_tui.data import load_dataset
    from bp_tui.engine.loop import Engine
    from bp_tui.engine.trainer import Trainer

    blocked = tmp_path / "runs"
    blocked.write_text("a file where the runs folder should be")
    trainer = Trainer(HyperParams(iters=50), load_dataset("sample"))
    seen: list = []
    recorder = Recorder(trainer, "sample", RunStore(blocked))
    engine = Engine(
        trainer, recording(seen.append, recorder), dataset="sample", exit_when_done=True
    )
    summary = engine.run()
    assert summary["iterations"] == 50
    notices = [e for e in seen if isinstance(e, ev.Notice)]
    assert len(notices) == 1 and "not being recorded" in notices[0].message
    assert recorder.close() is None


KILLED_TRAIN = textwrap.dedent(
    """
    import bp_tui.engine.recorder as recorder
    from bp_tui.cli import main
    recorder.CHECKPOINT_SECONDS = 0.2  # so that a checkpoint exists before the kill
    main(["train", "--dataset", "sample", "--iters", "1000000", "--eval-every", "50"])
    """
)


def test_a_killed_run_keeps_all_but_its_last_moments_and_can_be_resumed(capsys):
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_TRAIN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    store = RunStore()
    try:

        def checkpointed() -> bool:
            runs = store.list()
            return bool(runs) and runs[0].iterations >= 400 and runs[0].checkpoint is not None

        wait_until(checkpointed)
        shown = store.list()[0].iterations
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    [run_] = store.list()
    assert run_.status == "unfinished" and run_.iterations >= shown >= 400
    at = checkpoint.load(run_.checkpoint)["meta"]["iteration"]
    assert at >= 50

    code, out, err = run(capsys, "train", "--resume", run_.id, "--iters", str(at + 100), "--json")
    assert code == 0, err
    record = store.load(run_.id)
    assert record.status == "finished" and record.iterations == at + 100
    # The lines after the checkpoint were trained again, not kept twice.
    assert record.loss_iterations == sorted(set(record.loss_iterations))
    assert record.loss_iterations[-1] == at + 100


# ---- comparison helpers -------------------------------------------------------------------------


def test_comparison_labels_name_what_differs_and_curves_are_thinned():
    store = RunStore()
    writer = store.create(
        HyperParams(lr=0.3, activation="sigmoid", seed=4),
        "sample",
        run_id="20261127-231500-ab12",
        started=T0,
    )
    for start in range(0, 10_000, 100):
        writer.on_event(progress(start + 100, np.full(100, 2.0 - start / 10_000)))
    writer.release()
    run_ = store.load(writer.id)
    assert label_for(run_, HyperParams()) == "23:15 lr 0.3 Sigmoid seed 4"
    assert label_for(run_, run_.hp) == "23:15"
    x, y = comparison_of(run_, run_.hp).loss_line(SMOOTHING)
    x = x.tolist()
    assert len(x) <= 400 and x[0] == 10 and x[-1] == 10_000
    assert y == sorted(y, reverse=True) and y[-1] == pytest.approx(1.01, abs=0.01)


def test_a_comparison_names_changes_made_mid_run_and_keeps_the_last_figures():
    from bp_tui.ui.screens.runs_screen import prompt_for

    store = RunStore()
    writer = store.create(HP, "sample", run_id="20261127-231500-ab12", started=T0)
    writer.on_event(progress(10, range(1, 11)))
    writer.on_event(ev.ParamsChanged(10, HP.replace(lr=0.05), {}, {"lr": 0.05}))
    writer.on_event(progress(20, range(11, 21)))
    writer.on_event(ev.Evaluation(20, 2.0, 0.7, 0.65))
    running = store.load(writer.id)  # no summary yet: from its change line
    assert label_for(running, HP) == "23:15 lr 0.1→0.05 at 10"
    assert label_for(running, HP.replace(lr=0.05)) == "23:15 lr 0.1→0.05 at 10"
    writer.on_event(ev.ParamsChanged(15, HP.replace(lr=0.025), {}, {"lr": 0.025}))
    writer.on_event(ev.Finished({"iterations": 20, "test_acc": 0.65, "diverged": False}))
    writer.release()
    ended = store.list()[0]  # a listing reads no metric lines: its end values from the summary
    assert label_for(ended, HP.replace(hidden=60)) == "23:15 lr 0.1→0.025 hidden 50"
    # The Compare list reads the change lines, as `bp-tui runs` does, and says when.
    listed = prompt_for(ended, HP, changes=store.changes(ended)).plain
    assert listed.endswith("lr 0.1→0.025 in 2 changes from 10")
    final = comparison_of(store.load(writer.id), HP).final
    assert final == {
        "iterations": 20,
        "final_loss": 20.0,
        "train_acc": 0.7,
        "test_acc": 0.65,
        "status": "finished",
    }


async def test_the_compare_key_with_no_runs_says_so_and_changes_nothing():
    from bp_tui.ui.screens.runs_screen import RunsScreen
    from bp_tui.ui.widgets.charts import LossChart
    from tests.ui_harness import app_with

    app, _ = app_with([])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert "No runs yet" in str(app.screen.query_one("#runs-empty").render())
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, RunsScreen))
        assert app.compared == [] and app.query_one(LossChart).comparisons == []


async def test_x_clears_the_comparison():
    from bp_tui.ui.widgets.charts import AccuracyChart, LossChart
    from tests.ui_harness import app_with

    write_run(RunStore())
    app, _ = app_with([])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c", "space", "enter")
        await until(pilot, lambda: app.compared == ["20261127-231500-ab12"])
        await until(pilot, lambda: len(app.query_one(LossChart).comparisons) == 1)
        await until(pilot, lambda: len(app.query_one(AccuracyChart).comparisons) == 1)
        [run] = app.query_one(LossChart).comparisons
        assert run.label == "23:15" and run.loss_line(0.95)[0].tolist() == [10, 20, 25]
        assert app.query_one(AccuracyChart).comparisons[0].test_acc == [0.45, 0.65, 0.75]
        await pilot.press("c", "x", "enter")
        await until(pilot, lambda: app.compared == [])
        await until(pilot, lambda: app.query_one(LossChart).comparisons == [])


def test_an_engine_fault_is_one_line_for_the_user_and_a_traceback_in_the_runs_folder(monkeypatch):
    from bp_tui.engine.trainer import Trainer

    step = Trainer.step

    def faulty(self):
        if self.iteration == 5:
            raise RuntimeError("a fault of the engine's own")
        return step(self)

    monkeypatch.setattr(Trainer, "step", faulty)
    seen = serve_until([(cmd.Run(), lambda e: isinstance(e, ev.Failed))])
    (failed,) = [e for e in seen if isinstance(e, ev.Failed)]
    assert failed.message == "RuntimeError: a fault of the engine's own"
    assert "Traceback" not in failed.message and "\n" not in failed.message
    [run_] = RunStore().list()
    assert run_.status == "failed" and run_.iterations == 5
    log = (run_.folder / "error.log").read_text()
    assert log.startswith("Traceback") and "in faulty" in log


def test_a_one_iteration_run_is_shown_as_one_iteration(capsys):
    writer = RunStore().create(HP, "sample", run_id="20261127-231500-ab12", started=T0)
    writer.on_event(progress(1, range(1, 2)))
    writer.on_event(ev.Evaluation(1, 0.01, 0.12, 0.097))
    writer.on_event(ev.Finished({"iterations": 1, "test_acc": 0.097, "diverged": False}))
    writer.release()
    code, out, err = run(capsys, "runs", "show", "20261127-2315")
    assert code == 0, err
    assert "1 iteration, test accuracy 0.0970" in out, out


def test_the_listing_says_a_run_changed_mid_way_and_shows_rates_as_typed(capsys):
    store = RunStore()
    write_run(store)  # no change: the column stays away while no run has one
    code, out, _ = run(capsys, "runs")
    assert code == 0 and "changed" not in out
    writer = store.create(HP, "sample", run_id="20261127-232000-cd34", started=T0)
    writer.on_event(progress(10, range(1, 11)))
    writer.on_event(ev.ParamsChanged(10, HP.replace(lr=0.05), {}, {"lr": 0.05}))
    writer.on_event(progress(20, range(11, 21)))
    writer.on_event(ev.ParamsChanged(20, HP.replace(lr=0.1 / 2**11), {}, {"lr": 0.1 / 2**11}))
    writer.on_event(ev.Finished({"iterations": 20, "test_acc": 0.65, "diverged": False}))
    writer.release()
    code, out, _ = run(capsys, "runs")
    assert code == 0 and "changed as it went" in out.splitlines()[0]
    assert out.splitlines()[-1].rstrip().endswith("lr 0.1→4.88e-05 in 2 changes from 10")
    halved = 50 / 2**10  # lr 50 halved ten times: 0.048828125
    assert (
        "lr 0.0488," in HyperParams(lr=halved).describe() and format_value("lr", halved) == "0.0488"
    )
    writer = store.create(HP, "sample", run_id="20261127-232500-ef56", started=T0)
    writer.on_event(ev.ParamsChanged(30, HP.replace(batch_size=50), {}, {"batch_size": 50}))
    writer.release()
    code, out, _ = run(capsys, "runs")
    assert out.splitlines()[-1].rstrip().endswith("batch 100→50 at 30")
