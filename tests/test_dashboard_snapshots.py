"""Snapshots of the dashboard, fed with recorded engine events (tests/recordings.py): the same
pictures on every CPU, and no clock reaches them."""

import pytest

from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.ui.screens.edit_form import EditForm
from bp_tui.ui.screens.help_screen import HelpScreen
from bp_tui.ui.widgets.charts import AccuracyChart, LossChart
from bp_tui.ui.widgets.gradcheck_panel import GradCheckPanel
from tests import recordings
from tests.helpers import until
from tests.ui_harness import app_with, settled

HP = recordings.RECORDINGS["short_run"].hp


@pytest.fixture(scope="module")
def short_run():
    return recordings.load("short_run")


def test_main_screen_after_a_short_run(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, 300))


def test_main_screen_at_80x24(snap_compare, short_run):
    app, _ = app_with(short_run, HP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(app, 300))


def test_pending_changes_at_120x40(snap_compare, short_run):
    """b h a i o as the engine answers them: live values at once, the rest waiting for r."""
    app, link = app_with(short_run, HP)
    pending = {"hidden": 60, "activation": "sigmoid", "init": "xavier"}

    async def change(pilot):
        await settled(app, 300)(pilot)
        link.events.put(
            ev.ParamsChanged(300, HP.replace(batch_size=200, optimizer="momentum"), pending, {})
        )
        await until(pilot, lambda: app.pending == pending and app.hp.optimizer == "momentum")

    assert snap_compare(app, terminal_size=(120, 40), run_before=change)


def test_gradient_check_panel_in_exact_mode(snap_compare):
    app, _ = app_with(recordings.load("exact_check"), HP)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, 200))


@pytest.mark.parametrize("size", [(120, 40), (100, 32)])
async def test_the_gradient_check_panel_says_its_two_rules_inside_it(short_run, size):
    """At 120x40 the explanation ran past the panel's bottom and was cut."""
    app, _ = app_with(short_run, HP)
    async with app.run_test(size=size) as pilot:
        await settled(app, 300)(pilot)
        panel = app.query_one(GradCheckPanel)
        room = panel.content_size
        console = app.console
        lines = console.render_lines(panel.render(), console.options.update_width(room.width))
        text = "\n".join("".join(s.text for s in line) for line in lines)
        assert len(lines) <= room.height, text
        assert "backprop" in text and "rel err < 1e-7" in text and "own loss" in text
        assert "book" in text and "< 1e-5" in text


def test_help_screen(snap_compare, short_run):
    app, _ = app_with(short_run, HP)

    async def open_help(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_help)


def test_edit_form_refuses_a_bad_value(snap_compare, short_run):
    app, link = app_with(short_run, HP)

    async def type_bad_value(pilot):
        await settled(app, 300)(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditForm))
        app.screen.query_one("#in-lr").value = "-1"
        app.screen.query_one("#in-batch_size").value = "100"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "positive" in str(app.screen.query_one("#err-lr").render()))

    assert snap_compare(app, terminal_size=(120, 40), run_before=type_bad_value)
    assert not any(isinstance(c, cmd.SetParams) for c in link.commands)


def test_diverged_run(snap_compare):
    events = recordings.load("diverged")
    assert any(isinstance(e, ev.Diverged) for e in events)
    app, _ = app_with(events, recordings.RECORDINGS["diverged"].hp)

    async def wait(pilot):
        (diverged,) = [e for e in events if isinstance(e, ev.Diverged)]
        await settled(app, diverged.iteration)(pilot)
        await until(pilot, lambda: app.run_state == "diverged")
        app.clear_notifications()  # the toast repeats what the panel says

    assert snap_compare(app, terminal_size=(120, 40), run_before=wait)


def test_a_run_stuck_at_chance_is_named(snap_compare):
    app, _ = app_with(recordings.load("chance"), recordings.RECORDINGS["chance"].hp)

    async def wait(pilot):
        await settled(app, 300)(pilot)
        await until(pilot, lambda: app.chance.stuck and "At chance" in str(app.alert))
        app.clear_notifications()  # the toast repeats what the panel says

    assert snap_compare(app, terminal_size=(120, 40), run_before=wait)


def test_log_scale_loss_and_accuracy_pinned_to_0_1(snap_compare):
    """L and A on the run stuck at chance: its noise is flat on a 0-1 axis."""
    app, _ = app_with(recordings.load("chance"), recordings.RECORDINGS["chance"].hp)

    async def wait(pilot):
        await settled(app, 300)(pilot)
        await until(pilot, lambda: app.chance.stuck)
        app.clear_notifications()
        await pilot.press("L", "A")
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await until(
            pilot,
            lambda: loss.log_scale and accuracy.pinned and not (loss.dirty or accuracy.dirty),
        )

    assert snap_compare(app, terminal_size=(120, 40), run_before=wait)


def test_the_projector_theme(snap_compare, short_run):
    """Black on white for a projector: charts and panels follow the theme."""
    app, _ = app_with(short_run, HP, theme="projector")
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled(app, 300))


def recorded_race(kind, dataset, done=None):
    """What `bp-tui race optimizers --dataset sample --iters 1000 --json` printed, as entries:
    tests/recordings/race_optimizers.json (the same picture on every CPU)."""
    import json
    from pathlib import Path

    from bp_tui.engine.race import BOOK_RACE, Entry

    recorded = json.loads(
        (Path(__file__).parent / "recordings" / "race_optimizers.json").read_text()
    )
    assert kind == recorded["race"] and dataset == recorded["dataset"]
    entries = []
    for c in recorded["configurations"]:
        entry = Entry(
            c["name"],
            BOOK_RACE.replace(**c["settings"]),
            c["losses_every_100"],
            c["final_loss"],
            c["train_acc"],
            c["test_acc"],
            c["diverged"],
        )
        entries.append(entry)
        if done is not None:
            done(entry)
    return entries


def test_the_optimizers_race(snap_compare, short_run):
    from bp_tui.ui.screens.race_screen import RaceScreen

    app, _ = app_with(short_run, HP)

    async def race(pilot):
        await settled(app, 300)(pilot)
        app.push_screen(RaceScreen("optimizers", "sample", run=recorded_race))
        await until(
            pilot, lambda: isinstance(app.screen, RaceScreen) and len(app.screen.entries) == 4
        )

    assert snap_compare(app, terminal_size=(120, 40), run_before=race)


def test_no_color_with_the_mouse_on_the_loss_chart(snap_compare, short_run, monkeypatch):
    """NO_COLOR: each line its own pattern and legend sign; the readout where the mouse is."""
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = app_with(short_run, HP)

    async def wait(pilot):
        await settled(app, 300)(pilot)
        loss = app.query_one(LossChart)
        layout = loss.chart.layout
        await pilot.hover(loss, offset=(layout.left + layout.cols * 2 // 3, 4))
        await until(pilot, lambda: loss.hover is not None and not loss.dirty)

    assert snap_compare(app, terminal_size=(120, 40), run_before=wait)
