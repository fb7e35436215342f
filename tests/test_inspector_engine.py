"""The engine's side of the inspector: a fresh random batch per Inspect, answered at once and
then again with the gradient check of that same batch; the inspector following a live run."""

import numpy as np

from bp_tui.engine import HyperParams, RunState
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.remote import ThreadLink
from bp_tui.engine.trainer import Trainer
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.inspector import inspector as inspector_module
from bp_tui.ui.inspector.inspector import Inspector
from tests.helpers import until
from tests.test_engine import DATA, of, run_engine


def test_inspect_draws_a_fresh_batch_and_answers_twice():
    _, events = run_engine(
        HyperParams(iters=3),
        [cmd.Inspect(), cmd.Inspect(), cmd.Inspect(seed=5), cmd.Run()],
        start=False,
    )
    answers = of(events, ev.Inspection)
    assert len(answers) == 6
    assert [a.report is None for a in answers] == [True, False] * 3
    for first, checked in zip(answers[::2], answers[1::2], strict=True):
        np.testing.assert_array_equal(first.indices, checked.indices)
        np.testing.assert_array_equal(first.x, DATA.x_train[first.indices])
        np.testing.assert_array_equal(first.t, DATA.t_train[first.indices])
        assert len(set(first.indices.tolist())) == 100
        assert "100 random training images" in checked.report.batch
        assert checked.report.passed
    a, b = answers[0].indices, answers[2].indices
    assert not np.array_equal(a, b)  # fresh each time
    assert not np.array_equal(a, np.arange(100))
    assert of(events, ev.StateChanged)[-1].state is RunState.FINISHED


def test_in_slow_motion_inspect_shows_the_step_training_just_took():
    hp = HyperParams(iters=5)
    commands = [cmd.SetSpeed(1000.0), cmd.Step(3), cmd.Inspect(last_step=True), cmd.Run()]
    _, events = run_engine(hp, commands, start=False)
    first, checked = of(events, ev.Inspection)
    # The same run again by hand: the weights before its third step, and that step's batch.
    twin = Trainer(hp, DATA)
    twin.step(), twin.step()
    before = {k: v.astype(np.float64) for k, v in twin.net.params.items()}
    twin.step()
    assert first.iteration == 2
    np.testing.assert_array_equal(first.indices, twin.last_batch)
    for key, value in before.items():  # to float32 rounding: BLAS threads may differ here
        np.testing.assert_allclose(first.params[key], value, rtol=1e-5, atol=1e-8)
    assert "the batch training took at iteration 2" in checked.report.batch
    assert checked.report.passed
    # At full speed there is no step to show: a fresh batch, as before.
    _, events = run_engine(hp, [cmd.Step(3), cmd.Inspect(last_step=True), cmd.Run()], start=False)
    assert "random training images" in of(events, ev.Inspection)[-1].report.batch


async def test_following_live_refreshes_graph_3_as_slow_motion_training_steps(monkeypatch):
    """f in the inspector, the run at 50 it/s: graph 3 shows the current weights again and again
    as training goes on (never paused), at the step on screen; at full speed it stops following
    (the engine's check of each batch would slow training)."""
    monkeypatch.setattr(inspector_module, "FOLLOW_PER_SECOND", 20.0)  # quicker refreshes
    hp = HyperParams(iters=1_000_000, eval_every=0)
    link = ThreadLink(hp, DATA, start=False, progress_interval=0.02, blas_threads=1)
    app = BpTuiApp(lambda: link, hp, start=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        # The Inspector; slow motion at 50 it/s; follow live (graph 3).
        await pilot.press("t", "less_than_sign", "f")
        inspector = app.query_one(Inspector)
        await until(
            pilot,
            lambda: inspector.speed == 50 and inspector.inspection and inspector.inspection.report,
        )
        # Following from step 0 shows the whole step training took, not "nothing computed".
        await until(pilot, lambda: inspector.k == len(inspector.trace.steps) - 1)
        await pilot.press("end", "left")  # Relu1's backward step
        at = inspector.k
        app.action_toggle_run()  # not a key: a running engine makes each key press wait 1 s
        seen: set[int] = set()
        await until(pilot, lambda: seen.add(inspector.inspection.iteration) or len(seen - {0}) >= 2)
        assert app.run_state is RunState.RUNNING  # following never paused it
        assert inspector.k == at and inspector.trace.steps[at].node == "Relu1"
        # The shown step keeps changing: the title follows the inspection it belongs to.
        await until(
            pilot,
            lambda: (
                f"iteration {inspector.inspection.iteration:,}"
                in inspector.query_one("#insp-graph").border_subtitle
            ),
        )
        app.action_speed_up()  # 50 it/s -> full speed
        await until(pilot, lambda: inspector.speed is None and not inspector.follow_asked)
        shown = inspector.inspection.iteration
        await until(pilot, lambda: app.iteration > shown + 300)
        assert inspector.inspection.iteration == shown  # no more refreshes at full speed
        head = inspector.query_one("#insp-head").render().plain
        assert "following live · in slow motion only (<)" in head
