"""The charts as a TensorBoard user reads them: this run sets the loss axis, the mouse reads
values (hover), zooms (wheel) and hides a line (a click on its legend entry), keys zoom, pan
and reset, and under NO_COLOR every line has its own pattern."""

import numpy as np
from rich.text import Text
from textual import events
from textual.color import Color

from bp_tui.engine import events as ev
from bp_tui.engine.events import RunState
from bp_tui.ui.comparison import Comparison
from bp_tui.ui.widgets.charts import AccuracyChart, LossChart
from bp_tui.ui.widgets.compared_runs import ComparedRuns
from tests.helpers import until
from tests.test_dashboard_story import HP, SHAPE, progress, ready
from tests.ui_harness import app_with


def losses_from(high: float, low: float, count: int = 100) -> ev.Progress:
    p = progress(count, count)
    p.losses = np.linspace(high, low, count)
    return p


def picture(chart) -> list[str]:
    return [chart.render_line(y).text for y in range(chart.size.height)]


def y_labels(chart) -> list[float]:
    return [float(line.split("┤")[0]) for line in picture(chart) if "┤" in line]


def screen_row(app, y: int) -> str:
    return app.screen._compositor.render_strips()[y].text


def plain(markup: str) -> str:
    return Text.from_markup(markup).plain


def drawn(chart) -> bool:
    return chart.builds > 0 and not chart.dirty


async def test_a_diverged_run_under_the_next_one_does_not_set_the_loss_axis():
    stream = ready() + [losses_from(2.3, 7.94), ev.RunReset(HP, SHAPE), losses_from(2.3, 0.3)]
    app, _ = app_with(stream)
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.previous is not None and loss.series.count == 100)
        await until(pilot, lambda: drawn(loss) and y_labels(loss))
        assert max(y_labels(loss)) <= 2.5  # not 7.94's axis: the new curve fills the chart
        assert y_labels(loss) == sorted(y_labels(loss), reverse=True)


async def test_hovering_reads_the_values_at_the_mouse_and_leaving_clears_them():
    app, _ = app_with([*ready(), losses_from(2.0, 0.5), ev.Evaluation(100, 1.0, 0.8, 0.75)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        layout = loss.chart.layout
        column = layout.left + layout.cols // 2  # the middle of the run: iteration ~50
        await pilot.hover(loss, offset=(column + 1, 3))  # +1: the border
        await until(pilot, lambda: loss.hover is not None)
        assert 40 <= loss.hover <= 60
        await until(pilot, lambda: any("mini-batch" in line for line in picture(loss)))
        readout = "\n".join(picture(loss))
        assert f"iteration {loss.hover:,.0f}" in readout and "smoothed" in readout
        value = float(
            next(x for x in picture(loss) if "mini-batch" in x).split("mini-batch")[1].split()[0]
        )
        assert abs(value - (2.0 - 1.5 * (loss.hover - 1) / 99)) < 0.05  # the line's value there
        await pilot.hover("#progress")
        await until(pilot, lambda: loss.hover is None)
        await until(pilot, lambda: not any("mini-batch" in line for line in picture(loss)))


async def test_the_wheel_zooms_around_the_mouse_and_zero_shows_the_whole_run_again():
    app, _ = app_with([*ready(), losses_from(2.0, 0.5)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        layout = loss.chart.layout
        await pilot._post_mouse_events([events.MouseScrollUp], loss, offset=(layout.left + 1, 5))
        await until(pilot, lambda: loss.window is not None)
        low, high = loss.window
        assert low == 0 and high < 100  # zoomed in on the start, where the mouse was
        await until(pilot, lambda: "iterations 0-" in str(loss.border_title))
        await pilot._post_mouse_events([events.MouseScrollDown], loss, offset=(layout.left + 1, 5))
        await until(pilot, lambda: loss.window is None)
        await pilot.press("z")  # both charts: the latest half
        accuracy = app.query_one(AccuracyChart)
        await until(pilot, lambda: loss.window is not None and accuracy.window is None)
        assert loss.window[1] >= 100 and loss.window[1] - loss.window[0] < 60
        await pilot.press("z")
        await until(pilot, lambda: loss.window[1] - loss.window[0] < 30)
        await pilot.press("Z")
        await until(pilot, lambda: 30 <= loss.window[1] - loss.window[0] < 60)
        before = loss.window
        await pilot._post_mouse_events([events.MouseScrollLeft], loss, offset=(layout.left, 5))
        await until(pilot, lambda: loss.window[0] < before[0])  # a sideways scroll pans
        assert loss.window[1] - loss.window[0] == before[1] - before[0]
        panned = loss.window
        await pilot.press("shift+left")  # the keys pan too, a quarter of the range
        await until(pilot, lambda: loss.window[0] < panned[0])
        assert loss.window[1] - loss.window[0] == panned[1] - panned[0]
        await pilot.press("shift+right", "shift+right")
        await until(pilot, lambda: loss.window[0] > panned[0])
        await pilot.press("0")
        await until(pilot, lambda: loss.window is None and loss.border_title == "Loss")


async def test_z_stops_at_a_few_stored_points_and_both_charts_show_the_same_iterations():
    """After 3,600 iterations the loss keeps a bin per 8 of them: eight z's showed "iterations
    3,591-3,598" and one dot, and Accuracy showed 3,493-3,500 (its last evaluation) beside it."""
    hp = HP.replace(iters=10_000)
    stream = [*ready(hp), progress(3_600, 3_600, total=10_000)]
    stream += [ev.Evaluation(i, i / 100, 0.9, 0.9) for i in range(100, 3_600, 100)]
    app, _ = app_with(stream)
    async with app.run_test(size=(120, 40)) as pilot:
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await until(pilot, lambda: len(accuracy.points) == 35 and drawn(loss) and drawn(accuracy))
        width = loss.series.width
        assert width == 8
        for _ in range(8):
            await pilot.press("z")
        await until(pilot, lambda: loss.window is not None and loss.window == accuracy.window)
        low, high = loss.window
        assert high == 3_600 and high - low >= 16 * width
        await pilot.press("z")  # no further
        await until(pilot, lambda: loss.window == accuracy.window == (low, high))
        await pilot.press("0")
        await until(pilot, lambda: loss.window is None)
        layout = loss.chart.layout
        for _ in range(30):  # the wheel on the loss alone: 16 bins at the narrowest
            await pilot._post_mouse_events(
                [events.MouseScrollUp], loss, offset=(layout.left + 1, 5)
            )
        await until(
            pilot, lambda: loss.window is not None and loss.window[1] - loss.window[0] == 16 * width
        )


async def test_a_click_on_a_legend_entry_hides_its_line_and_another_shows_it():
    app, _ = app_with([*ready(), losses_from(2.0, 0.5)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        bottom = loss.region.bottom - 1
        row = screen_row(app, bottom)
        x = row.index("mini-batch", loss.region.x) - loss.region.x
        await pilot.click(loss, offset=(x + 2, loss.outer_size.height - 1))
        await until(pilot, lambda: loss.hidden == {"mini-batch"})
        await until(pilot, lambda: [s.name for s in loss.chart.series] == ["smoothed"])
        assert "mini-batch" in screen_row(app, bottom)  # still listed, to be shown again
        await pilot.click(loss, offset=(x + 2, loss.outer_size.height - 1))
        await until(pilot, lambda: not loss.hidden and len(loss.chart.series) == 2)


async def test_the_keys_retitle_the_charts_themselves():
    app, _ = app_with(ready())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await pilot.press("L", "A")
        await until(pilot, lambda: loss.border_title == "Loss (log scale)")
        await until(pilot, lambda: accuracy.border_title == "Accuracy (0-1)")


async def test_under_no_color_each_line_has_its_own_pattern_and_legend_sign(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    stream = [*ready(), losses_from(2.0, 0.5), ev.Evaluation(50, 0.5, 0.7, 0.6)]
    app, _ = app_with([*stream, ev.Evaluation(100, 1.0, 0.8, 0.75)])
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.no_color
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        await until(pilot, lambda: len(accuracy.points) == 2 and drawn(accuracy) and drawn(loss))
        mini_batch, smoothed = loss.chart.series
        assert not mini_batch.joined and smoothed.joined  # dots alone, and a line
        train, test = accuracy.chart.series
        assert train.pattern != test.pattern
        signs = {s.glyph for s in (mini_batch, smoothed)} | {s.glyph for s in (train, test)}
        assert len(signs) == 3  # •, ━ and ┈ (the test line is solid like the smoothed one)
        assert plain(loss.border_subtitle).startswith(f"{mini_batch.glyph} mini-batch")
        assert f"{train.glyph} train" in plain(accuracy.border_subtitle)


async def test_a_theme_chosen_while_running_recolours_the_lines():
    app, _ = app_with([*ready(), losses_from(2.0, 0.5)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        app.theme = "projector"
        primary = Color.parse(app.get_css_variables()["primary"]).rgb
        await until(pilot, lambda: loss.chart.series[0].color == primary)


def compared(run_id: str, scale: float) -> Comparison:
    x = np.arange(10, 110, 10, dtype=float)
    return Comparison(
        run_id, run_id, x, scale / x, [50, 100], [0.5, 1.0], [0.6, 0.7], {"test_acc": 0.7}
    )


async def test_under_no_color_two_compared_runs_have_their_own_dashes_named_below(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = app_with([*ready(), losses_from(2.0, 0.5)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        app.comparisons = [compared("run-a", 20.0), compared("run-b", 30.0)]
        await until(pilot, lambda: len(loss.chart.series) == 4 and drawn(loss))
        first, second = loss.chart.series[:2]
        assert first.pattern != second.pattern and first.color != second.color
        names = str(app.query_one(ComparedRuns).render())
        assert f"{first.glyph} run-a" in names and f"{second.glyph} run-b" in names
        assert "run-a" not in plain(loss.border_subtitle)  # named below, not in the border


async def test_a_resize_clears_the_readout_the_mouse_left_at_another_x():
    """The x under the mouse changes with the chart's width: a readout kept through a resize
    named an iteration the mouse was no longer on (seen in tmux at 80x24 then 60x20)."""
    app, _ = app_with([*ready(), losses_from(2.0, 0.5)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        layout = loss.chart.layout
        await pilot.hover(loss, offset=(layout.left + layout.cols // 2 + 1, 3))
        await until(pilot, lambda: any("mini-batch" in line for line in picture(loss)))
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: loss.hover is None)
        await until(pilot, lambda: not any("mini-batch" in line for line in picture(loss)))


async def test_every_x_tick_is_labelled_on_a_narrow_chart():
    """Ticks fewer on a narrow chart, each with its label: at 60x20 the accuracy axis had six
    ticks and four labels (0 500 1500 2500), uneven to read."""
    evaluations = [ev.Evaluation(i, i / 100, 0.8, 0.75) for i in range(100, 2_600, 100)]
    app, _ = app_with([*ready(), progress(2_500, 10), *evaluations])
    async with app.run_test(size=(60, 20)) as pilot:
        for chart in (app.query_one(LossChart), app.query_one(AccuracyChart)):
            await until(pilot, lambda chart=chart: drawn(chart) and chart.x_end > 0)
            lines = picture(chart)
            axis = next(i for i, line in enumerate(lines) if "└" in line)
            ticks, labels = lines[axis].count("┬"), lines[axis + 1].split()
            assert ticks >= 2 and ticks == len(labels), lines[axis : axis + 2]


async def test_the_readout_follows_a_still_mouse_when_the_axis_zooms_or_pans():
    """With the mouse left on a chart, z zoomed and the readout still named the iteration the
    mouse had been on before (now elsewhere, or outside the range shown)."""
    app, _ = app_with([*ready(), losses_from(2.0, 0.5)])
    async with app.run_test(size=(120, 40)) as pilot:
        loss = app.query_one(LossChart)
        await until(pilot, lambda: loss.series.count == 100 and drawn(loss))
        layout = loss.chart.layout
        column = layout.left + layout.cols // 4
        await pilot.hover(loss, offset=(column + 1, 3))  # +1: the border
        await until(pilot, lambda: loss.hover is not None and loss.hover < 40)
        for keys in (("z",), ("shift+left",)):
            before = loss.hover
            await pilot.press(*keys)
            await until(pilot, lambda before=before: loss.hover != before and drawn(loss))
            assert loss.hover == loss.chart.layout.x_of(column)
            low, high = loss.window
            await until(pilot, lambda: f"iteration {loss.hover:,.0f}" in "".join(picture(loss)))
            assert low <= loss.hover <= high


async def test_a_compared_run_that_did_better_is_inside_the_accuracy_axis():
    """The accuracy axis was fitted to this run alone: a compared run above it was cut off the
    top (lr 0.3's curve in the comparison snapshot ran above 0.88 and out of sight)."""
    app, _ = app_with([*ready(), losses_from(2.0, 0.5), ev.Evaluation(100, 1.0, 0.6, 0.55)])
    async with app.run_test(size=(120, 40)) as pilot:
        accuracy = app.query_one(AccuracyChart)
        await until(pilot, lambda: accuracy.points and drawn(accuracy))
        app.comparisons = [compared("run-a", 20.0)]  # test accuracy 0.6, then 0.7
        await until(pilot, lambda: len(accuracy.chart.series) == 3 and drawn(accuracy))
        low, high = accuracy.chart.y_range()
        assert low <= 0.55 and high >= 0.7
        assert "run-a" not in plain(accuracy.border_subtitle)  # named below the charts


async def test_a_narrow_zoomed_chart_keeps_its_range_in_its_title():
    """At 80x24 the accuracy chart's title was cut to `Accuracy · iterations 225…`."""
    app, _ = app_with([*ready(), losses_from(2.0, 0.5), ev.Evaluation(50, 0.5, 0.7, 0.6)])
    async with app.run_test(size=(80, 24)) as pilot:
        accuracy = app.query_one(AccuracyChart)
        await until(pilot, lambda: accuracy.points and drawn(accuracy))
        await pilot.press("z")
        await until(pilot, lambda: accuracy.window is not None)
        low, high = accuracy.window
        title = str(accuracy.border_title)
        assert f"{low:,.4g}-{high:,.4g}" in title
        assert len(title) <= accuracy.outer_size.width - 6, title


async def test_iteration_ticks_are_labelled_with_thousands_separators_under_their_ticks():
    """The x axes read 10000 and 2000 where the panels and the CLI write 10,000 and 2,000."""
    evaluations = [ev.Evaluation(i, i / 100, 0.8, 0.75) for i in range(1_000, 10_001, 1_000)]
    app, _ = app_with([*ready(), progress(10_000, 10_000, total=10_000), *evaluations])
    async with app.run_test(size=(120, 40)) as pilot:
        for chart in (app.query_one(LossChart), app.query_one(AccuracyChart)):
            await until(pilot, lambda chart=chart: drawn(chart) and chart.x_end > 0)
            lines = picture(chart)
            axis = next(i for i, line in enumerate(lines) if "└" in line)
            labels = lines[axis + 1].split()
            assert "10,000" in labels and "2,000" in labels, lines[axis : axis + 2]
            # Each label lies under its tick: the tick's column is inside the label.
            ticks = [col for col, c in enumerate(lines[axis]) if c == "┬"]
            assert len(ticks) == len(labels)
            for col, label in zip(ticks, labels, strict=True):
                start = lines[axis + 1].index(label, max(col - len(label), 0))
                assert start <= col < start + len(label), (label, lines[axis : axis + 2])
