"""Snapshots of the dashboard, fed with recorded engine events (no clocks reach the pictures)."""

import pytest

from bp_tui.engine import HyperParams
from bp_tui.engine import events as ev
from tests.ui_harness import app_with, recorded_run, settled

HP = HyperParams(iters=1000)


@pytest.fixture(scope="module")
def short_run():
    return recorded_run(HP, [ev.CheckGradient(), ev.Step(300)])


def test_main_screen_after_a_short_run(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, 300))


def test_main_screen_at_80x24(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, 300))


def test_gradient_check_panel_in_exact_mode(snap_compare):
    events = recorded_run(HP, [ev.Step(200), ev.CheckGradient(exact=True)])
    app, _ = app_with(events, HP)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, 200))


def test_help_screen(snap_compare, short_run):
    app, _ = app_with(short_run, HP)

    async def open_help(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_help)


def test_edit_form_refuses_a_bad_value(snap_compare, short_run):
    app, link = app_with(short_run, HP)

    async def type_bad_value(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("e")
        await pilot.pause(0.1)
        app.screen.query_one("#in-lr").value = "-1"
        app.screen.query_one("#in-batch_size").value = "100"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=(120, 40), run_before=type_bad_value)
    assert not any(isinstance(c, ev.SetParams) for c in link.commands)


def test_diverged_run(snap_compare):
    hp = HyperParams(iters=1000, lr=1e6)
    events = recorded_run(hp, [ev.CheckGradient(), ev.Step(500)])
    assert any(isinstance(e, ev.Diverged) for e in events)
    app, _ = app_with(events, hp)

    async def wait(pilot):
        for _ in range(200):
            await pilot.pause(0.02)
            if app.state == "diverged":
                break
        app.clear_notifications()  # the toast repeats what the panel says
        await pilot.pause(0.25)

    assert snap_compare(app, terminal_size=(120, 40), run_before=wait)
