"""The dashboard tells one story, cheaply (issue 11): fed with made-up engine events through the
fake link, so every check is a condition on what the app holds or shows, never a time."""

import numpy as np
import pytest

from bp_tui.engine import HyperParams
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.events import RunState, merged
from bp_tui.ui import messages as news
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.screens.edit_form import EditForm
from bp_tui.ui.widgets.charts import AccuracyChart, LossChart
from bp_tui.ui.widgets.hyper_panel import HyperPanel
from bp_tui.ui.widgets.progress_panel import Bar, ProgressPanel
from bp_tui.ui.widgets.status import KeyFooter, StatusLine
from tests.helpers import until
from tests.test_dashboard import text_of
from tests.ui_harness import app_with

HP = HyperParams(iters=1000)
SHAPE = (784, 50, 10)


def ready(hp=HP, state=RunState.READY) -> list:
    return [ev.EngineReady("sample", 10_000, 2_000, SHAPE, hp), ev.StateChanged(state, hp)]


def progress(iteration: int, count: int, total: int = 1000, loss: float = 1.0) -> ev.Progress:
    return ev.Progress(
        iteration=iteration,
        total=total,
        epoch=iteration / 100,
        total_epochs=total / 100,
        losses=np.full(count, loss),
        iters_per_second=3000.0,
        train_seconds=iteration / 3000,
        elapsed=iteration / 3000,
    )


def insight(iteration: int) -> ev.Insight:
    return ev.Insight(iteration, 0.0, "relu", *(None,) * 8)


def test_progress_merges_and_only_the_latest_insight_is_kept():
    batch: list = []
    for event in (progress(1, 1), insight(1), progress(3, 2), progress(6, 3), insight(6)):
        merged(batch, event)
    assert [type(e) for e in batch] == [ev.Progress, ev.Insight]
    assert batch[0].iteration == 6 and len(batch[0].losses) == 6  # no loss is lost
    assert batch[1].iteration == 6


async def test_grad_norms_fold_as_progress_does_but_never_across_other_news():
    norms = [ev.GradNorms(np.array([i]), {"Affine1": np.array([0.1 * i])}) for i in (1, 2, 3)]
    batch: list = []
    for event in (progress(1, 1), norms[0], progress(2, 1), norms[1]):
        merged(batch, event)
    assert [type(e) for e in batch] == [ev.Progress, ev.GradNorms]
    assert batch[0].iteration == 2 and len(batch[0].losses) == 2
    assert batch[1].iterations.tolist() == [1, 2] and batch[1].norms["Affine1"].tolist() == [
        0.1,
        0.2,
    ]
    paused = ev.StateChanged(RunState.PAUSED, HyperParams())
    for event in (paused, progress(3, 1), norms[2]):
        merged(batch, event)
    assert [type(e) for e in batch] == [ev.Progress, ev.GradNorms, ev.StateChanged] + [
        ev.Progress,
        ev.GradNorms,
    ]


def counted(monkeypatch, owner: type, name: str) -> list:
    """The calls of owner.name from now on (a handler too: Textual looks it up on the class)."""
    calls, original = [], getattr(owner, name)

    def counting(self, *args):
        calls.append(args)
        return original(self, *args)

    monkeypatch.setattr(owner, name, counting)
    return calls


async def test_a_flood_of_events_arrives_as_few_messages_with_every_loss(monkeypatch):
    """However slow the app is, it takes what the engine sent since its last batch at once: its
    screen is never more than one batch behind the engine."""
    flood = [progress(i, 1) for i in range(1, 2001)]
    app, _ = app_with(ready(HyperParams(iters=2000)) + flood)
    batches = counted(monkeypatch, BpTuiApp, "on_batch_end")
    progresses = counted(monkeypatch, LossChart, "add_losses")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.iteration == 2000)
        assert app.query_one(LossChart).series.count == 2000
        assert 0 < len(batches) < 100  # 2,002 events; posted one by one they would be 2,002
        assert len(progresses) <= len(batches)


async def test_progress_right_behind_progress_folds_into_it_with_every_loss(monkeypatch):
    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        handled = counted(monkeypatch, LossChart, "add_losses")
        app.post_message(news.Progress(progress(3, 3)))
        app.post_message(news.Progress(progress(5, 2)))
        await until(pilot, lambda: app.iteration == 5)
        assert app.query_one(LossChart).series.count == 5
        assert len(handled) == 1


async def test_an_unchanged_chart_builds_no_picture():
    app, _ = app_with(ready() + [progress(100, 100), ev.Evaluation(100, 1.0, 0.8, 0.79)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await until(
            pilot,
            lambda: (
                app.iteration == 100
                and not (loss.dirty or accuracy.dirty)
                and loss.builds
                and accuracy.builds
            ),
        )
        await pilot.pause()
        built = (loss.builds, accuracy.builds)
        for _ in range(5):
            app.redraw_charts()
            app.screen.refresh()  # a repaint reuses the picture
            await pilot.pause()
        assert (loss.builds, accuracy.builds) == built
        loss.add_losses(np.ones(5), 105, 1.05)
        app.redraw_charts()
        await until(pilot, lambda: loss.builds == built[0] + 1)
        assert accuracy.builds == built[1]


async def test_training_news_repaints_only_what_changed():
    """A frame of training news repaints the loss chart's changed lines and the Progress
    panel's changed parts, never a whole chart, the panel's frame or a bar that looks the same
    (issue 23: each whole repaint re-renders every line of it)."""
    app, link = app_with(ready() + [progress(100, 100)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss, panel = app.query_one(LossChart), app.query_one(ProgressPanel)
        await until(pilot, lambda: app.iteration == 100 and loss.builds and not loss.dirty)
        whole: list[str] = []
        for widget in (loss, panel, panel.query_one(Bar)):
            refresh, name = widget.refresh, type(widget).__name__

            def spy(*regions, refresh=refresh, name=name, **options):
                if not regions:
                    whole.append(name)
                return refresh(*regions, **options)

            widget.refresh = spy
        built = loss.builds
        link.events.put(progress(101, 1, loss=0.5))  # the bar still at 10%
        await until(pilot, lambda: app.iteration == 101 and loss.builds > built)
        assert whole == []


async def test_a_chart_on_a_hidden_tab_builds_only_when_shown_again():
    app, _ = app_with(ready() + [progress(100, 100)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: app.iteration == 100 and loss.builds and not loss.dirty)
        await pilot.press("t")  # the Inspector
        await until(pilot, lambda: not loss.region)
        built = loss.builds
        loss.add_losses(np.ones(5), 105, 1.05)
        app.redraw_charts()
        await pilot.pause()
        assert loss.builds == built  # no plotext work for a chart nobody sees
        await pilot.press("t", "t", "t", "t")  # Digits, Learned, Gradients, Train again
        await until(pilot, lambda: loss.builds > built)


async def test_engine_news_arriving_as_the_app_closes_is_dropped_quietly():
    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await app.query_one(StatusLine).remove()  # as at shutdown: the widgets are going
        app.events_taken.clear()
        app.post_news(ready())
        await until(pilot, lambda: app.events_taken.is_set())  # the pump goes on; nothing raised


async def test_one_value_one_place():
    app, link = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(ProgressPanel)
        await until(pilot, lambda: app.run_state is RunState.READY)
        await until(pilot, lambda: "iteration 0 / 1,000" in text_of(panel))
        text = text_of(panel)
        assert "epoch     0.00" in text and "0.00 / 0.00" not in text  # no total before a run

        link.events.put(progress(100, 100))
        link.events.put(ev.Evaluation(100, 1.0, 0.81, 0.8))
        await until(pilot, lambda: app.iteration == 100 and app.evaluation is not None)
        await until(pilot, lambda: "epoch     1.00 / 10.00" in text_of(panel))
        await until(pilot, lambda: "smoothed 1.0000" in text_of(panel))  # the smoothed loss says so
        # One legend, written by the chart alone.
        chart = app.query_one(AccuracyChart)
        await until(pilot, lambda: "train 0.8100" in chart.border_subtitle)

        # iterations changed while paused: both panels say the new total at once.
        longer = HP.replace(iters=5000)
        link.events.put(ev.ParamsChanged(100, longer, {}, {"iters": 5000}))
        await until(pilot, lambda: app.hp.iters == 5000)
        await until(pilot, lambda: "iteration 100 / 5,000" in text_of(panel))
        await until(pilot, lambda: "5,000" in text_of(app.query_one(HyperPanel)))
        assert "10.00" not in text_of(panel)  # the old epoch total is not shown with the new one

        # After a reset the loss chart spans the new run, not the previous one's 100.
        link.events.put(ev.RunReset(longer, SHAPE))
        link.events.put(progress(10, 10, total=5000))
        loss = app.query_one(LossChart)
        await until(pilot, lambda: app.iteration == 10 and not loss.dirty)
        assert loss.x_last == 10
        assert loss.previous is not None  # still drawn, dimmed, up to iteration 10

        link.events.put(ev.StateChanged(RunState.DIVERGED, longer))
        link.events.put(ev.Diverged(10, 0.1, "training diverged"))
        await until(pilot, lambda: app.run_state is RunState.DIVERGED)
        await pilot.pause()
        # No ETA for a run that cannot go on (the alert's room makes the panel compact).
        await until(pilot, lambda: panel.compact and "ETA -" in text_of(panel))


async def test_pending_values_wrap_and_keep_keys_and_labels():
    pending = {"hidden": 60, "activation": "sigmoid", "init": "xavier"}
    app, link = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        link.events.put(ev.ParamsChanged(0, HP.replace(lr=0.2, batch_size=200), pending, {}))
        await until(pilot, lambda: app.pending == pending)
        lines = ("+-learningrate0.2", "hHhiddenlayers50", "aactivationReLU", "iinitstd")

        def panel_text() -> str:
            return text_of(app.query_one(HyperPanel)).replace(" ", "")

        await until(pilot, lambda: all(line in panel_text() for line in lines))
        text = panel_text()
        assert "…" not in text
        assert "50→60" in text and "Sigmoid" in text and "Xavier" in text


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_quit_help_and_next_tab_are_in_the_footer_on_every_tab(size):
    app, _ = app_with(ready())
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        hints = ("t Next tab", "? Help", "q Quit")
        for _ in range(5):  # every tab
            await until(pilot, lambda: all(h in text_of(app.query_one(KeyFooter)) for h in hints))
            await pilot.press("t")


async def test_the_footer_changes_in_the_same_frame_as_the_tab():
    """Issue 21: the footer showed the previous tab's keys for 0.3-1.5 s after a switch. The
    first layout that shows the Digits tab already has its keys in the footer."""
    from textual.widgets import TabbedContent

    from bp_tui.ui.widgets.digits import DigitsView

    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        digits, footers = app.query_one(DigitsView), []

        def first_frame(_) -> None:
            if digits.region.area and not footers:
                footers.append(text_of(app.query_one(KeyFooter)))

        app.screen.screen_layout_refresh_signal.subscribe(app, first_frame)
        app.query_one(TabbedContent).active = "digits"
        await until(pilot, lambda: footers)
        assert "m Mistakes/all" in footers[0]


async def test_a_click_on_a_key_in_the_footer_presses_it():
    from bp_tui.ui.screens.help_screen import HelpScreen

    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        footer = app.query_one(KeyFooter)
        await until(pilot, lambda: "? Help" in text_of(footer))
        await pilot.click(KeyFooter, offset=(text_of(footer).index("? Help") + 2, 0))
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_the_learning_rate_is_whole_at_80x24():
    hp = HP.replace(lr=0.1 / 2**12, optimizer="momentum")
    app, _ = app_with(ready(hp), hp)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await until(pilot, lambda: "Momentum lr 2.44e-05" in text_of(app.query_one(StatusLine)))


async def test_twelve_presses_make_one_notice():
    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        for _ in range(12):
            await pilot.press("plus")
        notices = list(app._notifications)
        assert len(notices) == 1
        assert "learning rate 0.1 → 410 (12 changes)" in notices[0].message
        assert "(12 changes)" in notices[0].message


def messages_shown(app) -> list[str]:
    return sorted(n.message for n in app._notifications)  # Textual's own record: what is shown


async def test_a_notice_replaced_leaves_the_others_shown():
    """Textual has no public way to take one toast away: the app clears them all and shows the
    others again (ui/notices.py); none of them may be lost, nor the one replaced come back."""
    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        app.notify("saved runs/1/checkpoint.npz")
        app.notice("engine", "a warning of the engine's")
        await pilot.press("plus")
        await until(pilot, lambda: len(messages_shown(app)) == 3)
        await pilot.press("plus")
        await until(pilot, lambda: any("0.1 → 0.4" in m for m in messages_shown(app)))
        assert messages_shown(app) == [
            "a warning of the engine's",
            "learning rate 0.1 → 0.4 (2 changes)",  # the first change's notice has gone
            "saved runs/1/checkpoint.npz",
        ]

        app.notice("run", "first")
        app.notice("run", "second")  # before the first was even shown
        await until(pilot, lambda: "second" in messages_shown(app))
        await until(pilot, lambda: "first" not in messages_shown(app))
        await until(pilot, lambda: len(messages_shown(app)) == 4)
        app.withdraw("run")
        await until(pilot, lambda: "second" not in messages_shown(app))
        await until(pilot, lambda: len(messages_shown(app)) == 3)


async def test_a_diverged_run_refuses_all_but_values_for_the_reset():
    app, link = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        link.events.put(ev.StateChanged(RunState.DIVERGED, HP))
        link.events.put(ev.Diverged(20, 0.1, "training diverged"))
        await until(pilot, lambda: app.run_state is RunState.DIVERGED)
        sent = len(link.commands)
        for key in ("n", "space", "s", "g"):
            await pilot.press(key)
        assert len(link.commands) == sent  # nothing reached the engine
        assert any("only new values for the reset" in n.message for n in app._notifications)
        await pilot.press("minus")  # a value for the reset is taken
        assert isinstance(link.commands[-1], cmd.SetParams)
        await until(pilot, lambda: any("at the reset" in n.message for n in app._notifications))
        await pilot.press("r")
        assert any(isinstance(c, cmd.Reset) for c in link.commands)


async def test_n_while_running_is_refused_with_a_hint():
    app, link = app_with(ready(state=RunState.RUNNING))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.RUNNING)
        sent = len(link.commands)
        await pilot.press("n")
        assert len(link.commands) == sent
        assert any("pause first (space)" in n.message for n in app._notifications)


async def test_the_edit_form_reports_every_bad_field_at_once():
    app, link = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditForm))
        form = app.screen
        form.query_one("#in-lr").value = "-1"
        form.query_one("#in-batch_size").value = "0"
        form.query_one("#in-iters").value = "ten"
        await pilot.press("ctrl+s")
        await pilot.pause()
        for field in ("lr", "batch_size", "iters"):
            assert str(form.query_one(f"#err-{field}").render()).strip(), field
        assert not str(form.query_one("#err-hidden").render()).strip()
        assert app.focused is form.query_one("#in-lr")  # the first in screen order
        assert not any(isinstance(c, cmd.SetParams) for c in link.commands)


def test_chance_level_needs_two_evaluations_near_a_uniform_guess():
    from bp_tui.engine.chance import ChanceWatch, looks_like_chance

    assert looks_like_chance(0.101, 2.9) and looks_like_chance(0.09, None)
    assert not looks_like_chance(0.3, 2.3)  # learning, however slowly
    assert not looks_like_chance(0.1, 0.5)  # a low loss is no guess
    watch = ChanceWatch()
    assert [watch.see(a, 2.5) for a in (0.1, 0.4, 0.1, 0.1, 0.1)] == [
        False,
        False,
        False,
        True,
        False,  # said once, at the second in a row
    ]
    assert watch.stuck


def picture_text(chart) -> str:
    return "\n".join(chart.render_line(y).text for y in range(chart.size.height))


async def test_smoothing_and_the_epoch_axis_are_keys_and_palette_commands():
    losses = np.tile([3.0, 1.0], 50)  # a zig-zag that smoothing flattens
    stream = ready() + [ev.Progress(100, 1000, 0.5, 5.0, losses, 3000.0, 0.03, 0.03)]
    app, _ = app_with(stream + [ev.Evaluation(100, 0.5, 0.8, 0.79)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await until(pilot, lambda: app.iteration == 100 and "0.95" in str(loss.border_subtitle))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Loss smoothing: 0, 0.6, 0.9, 0.95, 0.99" in titles
        assert "Charts' x axis: iterations or epochs" in titles
        await pilot.press("S")  # 0.95 -> 0.99
        await until(pilot, lambda: "smoothed 0.99" in str(loss.border_subtitle))
        # The Progress panel's value is the chart's line, smoothed again from the start.
        await until(pilot, lambda: app.smoothed_loss == loss.series.smoothed)
        assert 2.0 < app.smoothed_loss < 3.0
        await pilot.press("S")  # -> 0: the last mini-batch loss itself
        await until(pilot, lambda: app.smoothed_loss == 1.0)
        await until(pilot, lambda: "smoothed 0[" in str(loss.border_subtitle))
        # Epochs: 100 iterations of batch 100 on 10,000 images is half an epoch.
        await pilot.press("E")
        await until(pilot, lambda: loss.in_epochs and not (loss.dirty or accuracy.dirty))
        await until(pilot, lambda: "epoch" in picture_text(loss) and "0.5" in picture_text(loss))
        await until(pilot, lambda: "iteration" not in picture_text(accuracy))
        await pilot.press("E")
        await until(pilot, lambda: not loss.in_epochs and not accuracy.in_epochs)


async def test_chart_toggles_are_keys_and_palette_commands():
    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Loss chart: log scale" in titles and "Accuracy axis: 0-1 or fitted" in titles
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await pilot.press("L", "A")
        await until(pilot, lambda: loss.log_scale and accuracy.pinned)
        await pilot.press("L", "A")
        await until(pilot, lambda: not loss.log_scale and not accuracy.pinned)
