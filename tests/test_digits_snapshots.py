"""Snapshots of the Digits and Learned tabs, fed with a recorded run (the ImageSet and Insight
events of a real engine on the shipped sample, 3 epochs; tests/recordings.py)."""

import pytest
from textual.widgets import TabbedContent

from bp_tui.engine import events as ev
from bp_tui.ui.widgets.digits import DigitsView
from bp_tui.ui.widgets.learned import LearnedView
from tests import recordings
from tests.helpers import until
from tests.ui_harness import app_with

HP = recordings.RECORDINGS["short_run"].hp
ITERATIONS = 300  # three epochs of the sample: an Insight at 0, 100, 200 and 300


@pytest.fixture(scope="module")
def short_run():
    events = recordings.load("short_run")
    assert [e.iteration for e in events if isinstance(e, ev.Insight)] == [0, 100, 200, 300]
    return events


def on_tab(app, tab: str, *keys: str, seen: dict | None = None):
    """run_before: wait for the last Insight, show `tab`, press `keys`; note in `seen` what
    the tests check after the picture (the app is gone by then)."""

    async def run(pilot) -> None:
        learned, digits = app.query_one(LearnedView), app.query_one(DigitsView)
        await until(
            pilot,
            lambda: (
                learned.insight is not None
                and learned.insight.iteration >= ITERATIONS
                and digits.insight is learned.insight
            ),
        )
        app.query_one(TabbedContent).active = tab
        await until(pilot, lambda: app.focused in (learned, digits))
        for key in keys:
            await pilot.press(key)
        if seen is not None:
            seen.update(
                focused=app.focused,
                digits=app.query_one(DigitsView),
                learned=app.query_one(LearnedView),
            )

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
