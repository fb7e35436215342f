"""The training engine: determinism, epochs, divergence, commands and checkpoints."""

import queue
import threading

import numpy as np
import pytest

from bp_tui.engine import HyperParams, RunState, Trainer, checkpoint
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.config import split_changes
from bp_tui.engine.loop import Engine
from bp_tui.errors import ConfigError
from tests.helpers import WAIT_SECONDS, tiny_data, wait_until

DATA = tiny_data()


def run_engine(hp, commands=(), start=True, data=DATA):
    """Run an engine until its run ends (exit_when_done) or a Stop; returns it and its events."""
    events = []
    q = queue.Queue()
    for c in commands:
        q.put(c)
    engine = Engine(
        Trainer(hp, data),
        events.append,
        q,
        dataset=data.name,
        exit_when_done=True,
        progress_interval=0,
    )
    worker = threading.Thread(target=engine.run, kwargs={"start": start})
    worker.start()
    worker.join(timeout=WAIT_SECONDS)
    if worker.is_alive():
        q.put(cmd.Stop())
        worker.join()
        pytest.fail(
            f"the engine neither finished nor stopped (iteration {engine.trainer.iteration})"
        )
    return engine, events


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_same_seed_gives_bit_identical_losses():
    hp = HyperParams(iters=50, seed=7)
    a, b = Trainer(hp, DATA), Trainer(hp, DATA)
    losses_a = [a.step() for _ in range(50)]
    losses_b = [b.step() for _ in range(50)]
    assert losses_a == losses_b
    c = Trainer(hp.replace(seed=8), DATA)
    assert [c.step() for _ in range(50)] != losses_a


def test_training_learns_and_evaluates_each_epoch_and_at_the_end():
    # 600 images, batch 100: an epoch is 6 iterations; 40 iterations -> 6 epoch ends + the end.
    engine, events = run_engine(HyperParams(iters=40, lr=0.5))
    evals = of(events, ev.Evaluation)
    assert [e.iteration for e in evals] == [6, 12, 18, 24, 30, 36, 40]
    assert [round(e.epoch, 4) for e in evals][:2] == [1.0, 2.0]
    assert evals[-1].test_acc > 0.9
    (finished,) = of(events, ev.Finished)
    assert finished.summary["iterations"] == 40
    assert not finished.summary["diverged"]
    losses = np.concatenate([p.losses for p in of(events, ev.Progress)])
    assert len(losses) == 40 and losses[-1] < losses[0]


def test_epoch_is_at_least_one_iteration():
    trainer = Trainer(HyperParams(iters=3, batch_size=5000), DATA)
    assert trainer.epoch_length == 1.0
    trainer.step()
    assert trainer.evaluation_due() and trainer.epoch == 1.0


@pytest.mark.parametrize("every, expected", [(0, [10]), (4, [4, 8, 10])])
def test_eval_every(every, expected):
    _, events = run_engine(HyperParams(iters=10, eval_every=every))
    assert [e.iteration for e in of(events, ev.Evaluation)] == expected


def test_divergence_ends_the_run_with_a_message():
    engine, events = run_engine(HyperParams(iters=200, lr=1e6))
    (diverged,) = of(events, ev.Diverged)
    assert engine.state is RunState.DIVERGED
    assert f"iteration {diverged.iteration}" in diverged.message
    assert "learning rate 1e+06" in diverged.message
    assert engine.trainer.summary("x")["diverged"] is True
    assert engine.trainer.summary("x")["final_loss"] is None


@pytest.mark.parametrize(
    "changes",
    [{"batch_size": 0}, {"lr": -1}, {"iters": -5}, {"lr": float("nan")}, {"activation": "tanh"}],
)
def test_bad_hyperparameters_name_the_field(changes):
    with pytest.raises(ConfigError) as refused:
        HyperParams().replace(**changes)
    assert refused.value.field == next(iter(changes))
    assert repr(next(iter(changes.values())))[:3] in refused.value.problem


def test_commands_from_another_thread_pause_step_and_change_values(one_step_bursts):
    hp = HyperParams(iters=100_000)
    events, q = [], queue.Queue()
    engine = Engine(Trainer(hp, DATA), events.append, q, dataset="sample", progress_interval=0)
    worker = threading.Thread(target=engine.run, kwargs={"start": False})
    worker.start()
    q.put(cmd.Step(3))
    q.put(cmd.SetParams({"lr": 0.05, "hidden": 20}))
    q.put(cmd.Step(2))
    q.put(cmd.SetParams({"batch_size": 0}))  # refused: changes nothing
    wait_until(lambda: any(n.field == "batch_size" for n in of(events, ev.Notice)))
    q.put(cmd.Stop())
    worker.join(timeout=WAIT_SECONDS)
    assert not worker.is_alive()
    assert engine.trainer.iteration == 5
    assert engine.trainer.hp.lr == 0.05 and engine.trainer.optimizer.lr == 0.05
    assert engine.trainer.hp.hidden == (50,) and engine.pending == {"hidden": (20,)}
    assert engine.trainer.marks == [(3, "lr 0.05")]
    assert any(n.field == "batch_size" for n in of(events, ev.Notice))
    assert engine.trainer.hp.batch_size == 100


@pytest.fixture
def one_step_bursts(monkeypatch):
    """Every burst ends after one step, as on a loaded machine: the engine polls between steps."""
    monkeypatch.setattr("bp_tui.engine.loop.COMMAND_POLL_SECONDS", 0.0)


def test_steps_finish_before_the_commands_sent_after_them(one_step_bursts):
    engine, events = run_engine(
        HyperParams(iters=9),
        [cmd.Step(4), cmd.SetParams({"lr": 0.05}), cmd.Step(3), cmd.Save(), cmd.Step(2)],
        start=False,
    )
    assert engine.trainer.iteration == 9 and engine.state is RunState.FINISHED
    assert engine.trainer.marks == [(4, "lr 0.05")]
    (saved,) = of(events, ev.Saved)
    assert checkpoint.load(saved.path)["meta"]["iteration"] == 7


def test_pause_and_stop_cut_steps_short(one_step_bursts):
    engine, events = run_engine(
        HyperParams(iters=10),
        [cmd.Step(500), cmd.SetParams({"lr": 0.05}), cmd.Pause(), cmd.Step(2), cmd.Run()],
        start=False,
    )
    # The pause ends the 500 steps before the first; the 2 steps after it are all taken.
    assert engine.trainer.hp.lr == 0.05 and engine.trainer.marks == []  # no mark at iteration 0
    states = [(e.state, i) for i, e in enumerate(events) if isinstance(e, ev.StateChanged)]
    started = max(i for state, i in states if state is RunState.RUNNING)
    assert [p.iteration for p in of(events[:started], ev.Progress)][-1] == 2
    assert engine.state is RunState.FINISHED
    stopped, _ = run_engine(HyperParams(iters=10), [cmd.Step(500), cmd.Stop()], start=False)
    assert stopped.trainer.iteration == 0


def test_reset_applies_pending_values():
    _, events = run_engine(
        HyperParams(iters=5),
        [cmd.Step(2), cmd.SetParams({"hidden": 12}), cmd.Reset(), cmd.Run()],
        start=False,
    )
    (reset,) = of(events, ev.RunReset)
    assert reset.shape == (784, 12, 10)
    assert of(events, ev.Finished)[0].summary["iterations"] == 5


def test_a_ready_run_reports_its_length_in_epochs_before_its_first_step():
    """The progress panel says "epoch 0.00 / 1.50" before a run, and again after a reset."""
    hp = HyperParams(iters=9, batch_size=100)  # the tiny data's 600 images: 6 iterations an epoch
    commands = [cmd.SetParams({"seed": 3}), cmd.Reset(), cmd.SetParams({"iters": 12}), cmd.Stop()]
    _, events = run_engine(hp, commands, start=False)
    ready, reset, longer = of(events, ev.Progress)[:3]
    for p in (ready, reset):
        assert (p.iteration, p.total, p.total_epochs) == (0, 9, pytest.approx(1.5))
    assert (longer.iteration, longer.total, longer.total_epochs) == (0, 12, pytest.approx(2))
    assert len(ready.losses) == len(reset.losses) == len(longer.losses) == 0


def test_live_values_apply_now_and_the_net_s_shape_waits_for_the_reset():
    """The one rule the engine, the dashboard and a resume share (engine/config.py)."""
    hp = HyperParams(lr=0.1, hidden=(50,))
    live, pending = split_changes(hp, {"init": "he"}, {"lr": 0.05, "hidden": (20,), "seed": 0})
    assert live == {"lr": 0.05}  # applies from the next iteration
    assert pending == {"init": "he", "hidden": (20,)}  # seed 0 is hp's already: nothing waits
    live, pending = split_changes(hp, pending, {"hidden": (50,), "lr": 0.1})
    assert (live, pending) == ({}, {"init": "he"})  # back to hp's own width: no longer waiting


def test_checkpoint_round_trip_continues_bit_identically(tmp_path):
    hp = HyperParams(iters=40, optimizer="adam", lr=0.01)
    straight = Trainer(hp, DATA)
    expected = [straight.step() for _ in range(40)]

    first = Trainer(hp, DATA)
    head = [first.step() for _ in range(25)]
    first.evaluate()
    path = checkpoint.save(first, "sample", tmp_path / "c.npz")

    second = Trainer(HyperParams(hidden=7), DATA)
    checkpoint.restore(second, checkpoint.load(path))
    assert second.hp == hp and second.iteration == 25 and len(second.evaluations) == 1
    tail = [second.step() for _ in range(15)]
    assert head + tail == expected
    assert second.losses == expected


def test_corrupt_checkpoint_is_refused_with_one_line(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(checkpoint.CheckpointError, match="not a readable bp-tui checkpoint"):
        checkpoint.load(bad)
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    trainer = Trainer(HyperParams(iters=5), DATA)
    path = checkpoint.save(trainer, "sample", tmp_path / "c.npz")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    trainer.step()
    with pytest.raises(OSError):
        checkpoint.save(trainer, "sample", path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_engine_save_and_load_latest():
    _, events = run_engine(
        HyperParams(iters=6),
        [cmd.Step(4), cmd.Save(), cmd.Step(1), cmd.Load(), cmd.Run()],
        start=False,
    )
    (loaded,) = of(events, ev.Loaded)
    assert loaded.iteration == 4
    assert of(events, ev.Saved)[0].path == loaded.path


def test_gradient_check_command_reports_the_iteration():
    _, events = run_engine(
        HyperParams(iters=3), [cmd.Step(2), cmd.CheckGradient(exact=True), cmd.Run()], start=False
    )
    (checked,) = of(events, ev.GradChecked)
    assert checked.report.iteration == 2 and checked.report.exact and checked.report.passed


def test_a_loss_stuck_far_above_a_uniform_guess_is_divergence():
    # lr 1e3: the 1e-7 inside the log keeps the loss finite (~14) while the weights explode.
    engine, events = run_engine(HyperParams(iters=500, lr=1e3))
    (diverged,) = of(events, ev.Diverged)
    assert "averaged" in diverged.message and diverged.iteration <= 100
    assert engine.trainer.summary("x")["diverged"] is True


def test_a_healthy_run_is_not_divergence():
    engine, events = run_engine(HyperParams(iters=200, lr=0.1, init="he", optimizer="adam"))
    assert not of(events, ev.Diverged) and not engine.trainer.summary("x")["diverged"]


def test_steps_stop_at_divergence():
    events, q = [], queue.Queue()
    engine = Engine(
        Trainer(HyperParams(iters=1000, lr=1e6), DATA),
        events.append,
        q,
        dataset="sample",
        progress_interval=0,
    )
    worker = threading.Thread(target=engine.run, kwargs={"start": False})
    worker.start()
    q.put(cmd.Step(500))
    wait_until(lambda: engine.state is RunState.DIVERGED)
    q.put(cmd.Step(5))  # refused: a diverged run takes no more steps
    q.put(cmd.Stop())
    worker.join(timeout=WAIT_SECONDS)
    (diverged,) = of(events, ev.Diverged)
    assert engine.trainer.iteration == diverged.iteration


@pytest.fixture
def held_check(monkeypatch):
    """gradient_check that waits for `release` before it computes: a check that takes long."""
    import bp_tui.engine.loop as loop

    release = threading.Event()
    real = loop.gradient_check

    def slow(params, x, t, progress=None, **options):
        release.wait(WAIT_SECONDS)
        if progress is not None:
            progress(0, 1)  # where the real one checks whether it was superseded
        return real(params, x, t, progress=progress, **options)

    monkeypatch.setattr(loop, "gradient_check", slow)
    return release


def start_engine(hp, data=DATA):
    events, q = [], queue.Queue()
    engine = Engine(Trainer(hp, data), events.append, q, dataset="sample", progress_interval=0)
    worker = threading.Thread(target=engine.run, kwargs={"start": False})
    worker.start()
    return engine, events, q, worker


def test_the_gradient_check_never_holds_up_training(held_check):
    engine, events, q, worker = start_engine(HyperParams(iters=1000))
    q.put(cmd.CheckGradient())
    q.put(cmd.Step(3))
    wait_until(lambda: engine.trainer.iteration == 3)  # while the check is still held
    assert not of(events, ev.GradChecked)
    held_check.set()
    wait_until(lambda: of(events, ev.GradChecked))
    (checked,) = of(events, ev.GradChecked)
    assert checked.report.iteration == 0 and checked.report.passed  # the weights it was given
    q.put(cmd.Stop())
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()


def test_a_newer_check_replaces_one_under_way(held_check):
    engine, events, q, worker = start_engine(HyperParams(iters=1000))
    q.put(cmd.CheckGradient())
    q.put(cmd.Step(2))
    q.put(cmd.CheckGradient(exact=True))
    wait_until(lambda: engine.trainer.iteration == 2)
    held_check.set()
    wait_until(lambda: of(events, ev.GradChecked))
    q.put(cmd.Stop())
    worker.join(WAIT_SECONDS)
    (checked,) = of(events, ev.GradChecked)  # the first one was dropped, never reported
    assert checked.report.exact and checked.report.iteration == 2


def test_a_forgotten_job_is_told_so_and_its_result_never_taken():
    """How a newer gradient check ends the one under way: forget() marks it cancelled."""
    from bp_tui.engine.jobs import BackgroundJobs, Job

    jobs, started, ended = BackgroundJobs(), threading.Event(), []

    def long_part() -> int:
        started.set()
        wait_until(lambda: first.cancelled)  # a real check reads it at each element
        ended.append("cancelled")
        return 1

    first = Job([long_part], sum)
    jobs.submit(first)
    assert started.wait(WAIT_SECONDS)
    jobs.forget()
    jobs.submit(Job([lambda: 2], sum))
    assert jobs.take(wait=True) == [2]
    wait_until(lambda: ended == ["cancelled"])
    assert jobs.take() == [] and not jobs.busy


def test_a_big_net_is_checked_on_a_sample_of_its_elements():
    engine, events = run_engine(
        HyperParams(iters=1, hidden=2000), [cmd.CheckGradient(), cmd.Run()], start=False
    )
    (checked,) = of(events, ev.GradChecked)
    w1 = checked.report.params["W1"]
    assert w1.size == 784 * 2000 and 0 < w1.checked < w1.size


def test_the_iterations_lowered_below_the_current_one_are_refused():
    engine, events, q, worker = start_engine(HyperParams(iters=100))
    q.put(cmd.Step(5))
    wait_until(lambda: engine.trainer.iteration == 5)
    for command in (cmd.SetParams({"iters": 3}), cmd.SetParams({"iters": 5}), cmd.Run()):
        q.put(command)
    q.put(cmd.Stop())
    worker.join(WAIT_SECONDS)
    refused = [n for n in of(events, ev.Notice) if n.field == "iters"]
    assert refused and "at least 5" in refused[0].message
    assert engine.trainer.iteration == 5 and engine.trainer.hp.iters == 5
    states = [e.state for e in of(events, ev.StateChanged)]
    assert RunState.RUNNING not in states and len(of(events, ev.Finished)) == 1
    # The Run after the end is refused, and the state that holds is said again last.
    assert states[-2:] == [RunState.FINISHED, RunState.FINISHED]


def slow_motion(speed: float, iters: int = 1000):
    """An engine in slow motion on a clock that moves only when the test says (now[0])."""
    engine, events, q, worker = start_engine(HyperParams(iters=iters))
    now = [100.0]
    engine.clock = lambda: now[0]
    q.put(cmd.SetSpeed(speed))
    q.put(cmd.Run())
    wait_until(lambda: engine.trainer.iteration == 1)  # the first step at once
    return engine, events, q, worker, now


def stop(q, worker) -> None:
    q.put(cmd.Stop())
    worker.join(WAIT_SECONDS)
    assert not worker.is_alive()


def test_the_speed_reported_in_slow_motion_is_the_real_one():
    """Issue 21: at 1 it/s the progress said 602 it/s (the steps' arithmetic alone) and its
    ETA 0:05 where 48 minutes remained."""
    engine, events, q, worker, now = slow_motion(4.0)  # the engine waits 0.25 s of real time
    for iteration in range(2, 5):
        now[0] += 0.25
        wait_until(lambda i=iteration: of(events, ev.Progress)[-1].iteration == i)
    assert of(events, ev.Progress)[-1].iters_per_second == pytest.approx(4.0)
    stop(q, worker)


def test_slow_motion_keeps_its_pace_when_following_live_takes_time():
    """Issue 21: following live on graph 3 "at 5 it/s" made 23 iterations in 10 s: the time
    each inspection took was lost to the timetable, not made up."""
    engine, events, q, worker, now = slow_motion(4.0)  # 0.25 s: sums exact in binary
    inspect = engine._handlers[cmd.Inspect]

    def slow_inspect(command):  # an inspection's check takes 0.5 s of the clock
        inspect(command)
        now[0] += 0.5

    engine._handlers[cmd.Inspect] = slow_inspect
    for second in (1, 2):
        q.put(cmd.Inspect(last_step=True))
        wait_until(lambda s=second: len(of(events, ev.Inspection)) == 2 * s)
        now[0] = 100.0 + second
        wait_until(lambda s=second: engine.trainer.iteration == 1 + 4 * s)
    assert of(events, ev.Progress)[-1].iters_per_second == pytest.approx(4.0)
    stop(q, worker)


def test_slow_motion_takes_a_step_only_when_its_time_has_come():
    engine, events, q, worker = start_engine(HyperParams(iters=1000))
    now = [100.0]
    engine.clock = lambda: now[0]  # time moves only when the test says
    q.put(cmd.SetSpeed(2.0))  # two iterations a second
    q.put(cmd.Run())
    wait_until(lambda: engine.trainer.iteration == 1)  # the first step at once
    now[0] += 0.5
    wait_until(lambda: engine.trainer.iteration >= 2)
    assert engine.trainer.iteration == 2  # one step per half second, not a burst
    q.put(cmd.SetSpeed(None))  # full speed again
    wait_until(lambda: engine.trainer.iteration > 50)
    q.put(cmd.SetSpeed(-3))  # refused: changes nothing
    q.put(cmd.Stop())
    worker.join(WAIT_SECONDS)
    assert [e.iters_per_second for e in of(events, ev.SpeedChanged)] == [2.0, None]
    assert any(n.field == "speed" for n in of(events, ev.Notice))
