"""Snapshots of the run comparison (c): the list of earlier runs, and their curves drawn dimmed.

The earlier runs are real engine runs on the shipped sample, written into this test's run store
with fixed ids and start times, so that nothing in the pictures depends on the clock.
"""

from datetime import datetime, timedelta, timezone

import pytest

from bp_tui.engine import HyperParams
from bp_tui.engine import events as ev
from bp_tui.engine.runs import RunStore
from bp_tui.ui.widgets.charts import LossChart
from tests.ui_harness import app_with, recorded_run, settled

HP = HyperParams(iters=1000)
START = datetime(2026, 11, 27, 23, 15, tzinfo=timezone(timedelta(hours=1)))
EARLIER = (  # id, minutes after START, hyperparameters, iterations done (fewer: cut off)
    ("20261127-231500-ab12", 0, HyperParams(iters=600, lr=0.05), 600),
    ("20261127-232000-cd34", 5, HyperParams(iters=600, lr=0.3), 600),
    ("20261127-232500-ef56", 10, HyperParams(iters=600, activation="sigmoid"), 250),
)


@pytest.fixture(scope="module")
def earlier_events():
    return {run_id: recorded_run(hp, [ev.Step(done)]) for run_id, _, hp, done in EARLIER}


@pytest.fixture(scope="module")
def current_run():
    return recorded_run(HP, [ev.CheckGradient(), ev.Step(300)])


@pytest.fixture
def store(earlier_events):
    """The three earlier runs in this test's BP_TUI_HOME; the last one cut off (no summary)."""
    store = RunStore()
    for run_id, minutes, hp, _ in EARLIER:
        writer = store.create(
            hp, "sample", run_id=run_id, started=START + timedelta(minutes=minutes)
        )
        for event in earlier_events[run_id]:
            writer.on_event(event)
        writer.release()
    return store


def test_the_list_of_earlier_runs(snap_compare, store, current_run):
    app, _ = app_with(current_run, HP)

    async def open_list(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("space", "down", "down", "space", "up")  # tick the newest and oldest
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_list)


def test_two_earlier_runs_dimmed_under_the_current_one(snap_compare, store, current_run):
    app, _ = app_with(current_run, HP)

    async def compare(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("down", "space", "down", "space", "enter")  # lr 0.3 and lr 0.05
        for _ in range(100):
            await pilot.pause(0.02)
            if len(app.query_one(LossChart).comparisons) == 2:
                break
        await pilot.pause(0.25)

    assert snap_compare(app, terminal_size=(120, 40), run_before=compare)
    assert app.compared == ["20261127-232000-cd34", "20261127-231500-ab12"]
