"""Snapshots of the Digits and Learned tabs, fed with a recorded run (ImageSet and Insight events
of a real engine on the shipped sample, 3 epochs)."""

import pytest
from textual.widgets import TabbedContent

from bp_tui.engine import HyperParams
from bp_tui.engine import events as ev
from bp_tui.ui.widgets.digits import DigitsView
from bp_tui.ui.widgets.learned import LearnedView
from tests.ui_harness import app_with, recorded_run

HP = HyperParams(iters=1000)
ITERATIONS = 300  # three epochs of the sample: an Insight at 0, 100, 200 and 300


@pytest.fixture(scope="module")
def short_run():
    events = recorded_run(HP, [ev.Step(ITERATIONS)])
    assert [e.iteration for e in events if isinstance(e, ev.Insight)] == [0, 100, 200, 300]
    return events


def on_tab(app, tab: str, *keys: str, seen: dict | None = None):
    """run_before: wait for the last Insight, show `tab`, press `keys`; note in `seen` what
    the tests check after the picture (the app is gone by then)."""

    async def run(pilot) -> None:
        for _ in range(200):
            await pilot.pause(0.02)
            insight = app.query_one(LearnedView).insight
            if insight is not None and insight.iteration >= ITERATIONS:
                break
        app.query_one(TabbedContent).active = tab
        await pilot.pause(0.1)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.1)
        if seen is not None:
            seen.update(focused=app.focused, digits=app.query_one(DigitsView),
                        learned=app.query_one(LearnedView))  # fmt: skip

    return run


def test_digits_tab(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    seen: dict = {}
    run_before = on_tab(app, "digits", "right", seen=seen)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
    assert isinstance(seen["focused"], DigitsView) and seen["digits"].cursor == 1


def test_digits_tab_mistakes_only(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    seen: dict = {}
    run_before = on_tab(app, "digits", "m", seen=seen)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
    view = seen["digits"]
    assert view.mistakes_only and len(view.order) > 0
    confidences = [view.insight.confidences[i] for i in view.order]
    assert confidences == sorted(confidences, reverse=True)
    assert all(view.insight.predictions[i] != view.labels[i] for i in view.order)


def test_digits_tab_at_80x24(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_tab(app, "digits", "m"))


def test_learned_tab(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    seen: dict = {}
    run_before = on_tab(app, "learned", "right", "right", seen=seen)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
    assert isinstance(seen["focused"], LearnedView) and seen["learned"].unit == 2


def test_learned_tab_at_80x24(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_tab(app, "learned"))
