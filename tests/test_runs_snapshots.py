"""Snapshots of the run comparison (c): the list of earlier runs, and their curves drawn dimmed.

The earlier runs are real engine runs on the shipped sample, written into this test's run store
with fixed ids and start times, so that nothing in the pictures depends on the clock.
"""

from datetime import datetime, timedelta, timezone

import pytest

from bp_tui.engine.runs import RunStore
from bp_tui.ui.screens.runs_screen import RunsScreen
from bp_tui.ui.widgets.charts import LossChart
from tests import recordings
from tests.helpers import until
from tests.ui_harness import app_with, settled

HP = recordings.RECORDINGS["short_run"].hp
START = datetime(2026, 11, 27, 23, 15, tzinfo=timezone(timedelta(hours=1)))
EARLIER = (  # id, minutes after START, recording (the last one cut off at 250 of 600)
    ("20261127-231500-ab12", 0, "lr_0.05"),
    ("20261127-232000-cd34", 5, "lr_0.3"),
    ("20261127-232500-ef56", 10, "sigmoid_cut_off"),
)


@pytest.fixture(scope="module")
def earlier_events():
    return {run_id: recordings.load(name) for run_id, _, name in EARLIER}


@pytest.fixture(scope="module")
def current_run():
    return recordings.load("short_run")


@pytest.fixture
def store(earlier_events):
    """The three earlier runs in this test's BP_TUI_HOME; the last one cut off (no summary)."""
    store = RunStore()
    for run_id, minutes, name in EARLIER:
        hp = recordings.RECORDINGS[name].hp
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
        await until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("space", "down", "down", "space", "up")  # tick the newest and oldest

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_list)


def test_two_earlier_runs_dimmed_under_the_current_one(snap_compare, store, current_run):
    app, _ = app_with(current_run, HP)

    async def compare(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("down", "space", "down", "space", "enter")  # lr 0.3 and lr 0.05
        chart = app.query_one(LossChart)
        await until(pilot, lambda: len(chart.comparisons) == 2 and not chart.dirty)

    assert snap_compare(app, terminal_size=(120, 40), run_before=compare)
    assert app.compared == ["20261127-232000-cd34", "20261127-231500-ab12"]
