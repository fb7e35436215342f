"""The dashboard's line charts: one base (Chart) drawing in braille with numpy (braille.py), and
the loss and accuracy charts of the Training tab.

A chart's settings are reactives whose watchers redraw it and retitle it (log scale, epoch axis,
zoom, hidden lines, the mouse's column); its data come with engine news and are drawn at most
REDRAW_SECONDS apart. The mouse reads values (hover), zooms (wheel) and hides a line (a click
on its legend entry), as in TensorBoard.
"""

from __future__ import annotations

import math
from dataclasses import replace
from time import monotonic

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from bp_tui.ui.colours import hex_of, theme_rgb
from bp_tui.ui.comparison import Comparison, compare_color, compare_pattern
from bp_tui.ui.drawing.braille import DASHED, DOTTED, SOLID, BrailleChart
from bp_tui.ui.series import SMOOTHING, BinnedSeries, EpochScale, thin

DIM = (110, 110, 110)
ZOOM_STEP = 0.8  # a wheel notch or z keeps this share of the iterations shown
PAN_STEP = 0.1  # a sideways scroll moves a zoomed chart this share of its range
MIN_SPAN = 4.0  # zoomed in no further than this many iterations (or epochs / 100)
MIN_BINS = 16  # nor than this many of the loss's stored points (a bin holds 8 iterations at 3,600)
MIN_EVALUATIONS = 2  # nor than this many evaluations apart on the accuracy chart


def nice_ticks(last: float, count: int = 5, whole: bool = True) -> list[float]:
    """Round numbers from 0 to at least `last` (1, 2 or 5 times a power of 10); whole: integers."""
    raw = max(last, 1 if whole else 1e-6) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(1, int(step))
    top = max(last, step) * (1 + 1e-9)
    return [round(step * k, 9) for k in range(count + 2) if step * k <= top]


def window_ticks(low: float, high: float, whole: bool, count: int = 5) -> list[float]:
    """Round numbers inside [low, high] (a zoomed axis)."""
    raw = max(high - low, 1e-9) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(1, round(step)) if whole else step
    first = math.ceil(low / step - 1e-9)
    return [round(k * step, 9) for k in range(first, math.floor(high / step + 1e-9) + 1)]


def tick_label(value: float, whole: bool = True) -> str:
    """An x tick's label: iterations as everywhere else (10,000), epochs as they come (2.5)."""
    return f"{round(value):,}" if whole else f"{value:g}"


def iteration_ticks(last: int, count: int = 5) -> list[int]:
    """Whole, round iteration numbers from 0 to at least `last`."""
    return [int(tick) for tick in nice_ticks(last, count)]


class Chart(Widget):
    """A braille line chart whose picture is built once per change of its data, settings, size
    or theme. Subclasses say what to draw in plot() and what the legend adds in legend_values()."""

    TITLE = ""
    REDRAW_SECONDS = 0.0  # at most one redraw this often (the app's frames come 10 a second)

    log_scale: reactive[bool] = reactive(False, init=False)
    in_epochs: reactive[bool] = reactive(False, init=False)  # E: the x axis in epochs
    window: reactive[tuple[float, float] | None] = reactive(None, init=False)  # zoomed x range
    hidden: reactive[frozenset[str]] = reactive(frozenset(), init=False)  # lines clicked away
    hover: reactive[float | None] = reactive(None, init=False)  # the x under the mouse
    # Earlier runs drawn beneath this one's lines (bound to the app's, named below the charts).
    comparisons: reactive[list[Comparison]] = reactive(list, init=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._redrawn_at = -math.inf
        self.version = 0  # bumped by each redraw that changed the data
        self._picture: tuple[tuple, list[Strip]] | None = None
        self.builds = 0  # pictures built (tests check that an unchanged chart builds none)
        self.dirty = True  # new data since the last redraw
        self.x_end = 0.0  # where the x axis ends unzoomed, in its unit
        self.chart = BrailleChart()
        self._legend: list[tuple[int, int, str]] = []  # each entry's columns in the legend
        self._mouse_column: int | None = None  # the plot column under the mouse, if any
        self._legend_markup = ""  # the legend as last set

    # ---- settings: each watcher redraws now and retitles ---------------------------------------

    def on_mount(self) -> None:
        self.border_title = self.title_text()
        # The lines take the theme's colours when drawn: a new theme (its CSS refreshed
        # first, then this signal) draws them again.
        self.app.theme_changed_signal.subscribe(self, lambda _: self.settings_changed())

    def heading(self) -> str:
        return self.TITLE

    def title_text(self) -> str:
        """The border's title: the chart's name and the settings it is drawn with."""
        parts = [self.heading()]
        if self.log_scale:
            parts.append("(log scale)")
        if self.window is not None:
            unit = "epochs" if self.in_epochs else "iterations"
            low, high = self.window
            span = f"{low:,.4g}-{high:,.4g}"
            room = self.outer_size.width - 6 - len(" ".join(parts))  # corners, ─ and spaces
            # Narrow: the range kept whole, the hint and then the unit left out.
            tails = (f"· {unit} {span} (0: all)", f"· {unit} {span}", f"· {span}")
            parts.append(next((t for t in tails if len(t) + 1 <= room), tails[-1]))
        return " ".join(parts)

    def settings_changed(self) -> None:
        self.border_title = self.title_text()
        self.dirty, self._redrawn_at = True, -math.inf
        if self.is_mounted:
            self.redraw()

    def watch_log_scale(self) -> None:
        self.settings_changed()

    def watch_in_epochs(self) -> None:
        self.window = None  # a range of iterations is no range of epochs
        self.settings_changed()

    def watch_window(self) -> None:
        self.settings_changed()

    def watch_hidden(self) -> None:
        self.settings_changed()

    def watch_hover(self, hover: float | None) -> None:
        # Only the guide and the readout change: the lines already drawn are kept.
        self.chart.cursor = hover
        if self.is_mounted:
            self.changed()

    def watch_comparisons(self) -> None:
        self.settings_changed()

    # ---- the mouse and the zoom keys ------------------------------------------------------------

    def on_mouse_move(self, event: events.MouseMove) -> None:
        layout = self.chart.layout
        offset = event.get_content_offset(self)
        inside = offset is not None and layout is not None and 1 <= offset.y <= layout.rows
        self.hover = layout.x_of(offset.x) if inside else None
        self._mouse_column = offset.x if self.hover is not None else None

    def on_leave(self, _: events.Leave) -> None:
        self.hover, self._mouse_column = None, None

    def hover_at(self, limits: tuple[float, float] | None) -> float | None:
        """The x under a mouse left still, on a new x axis (it grows with the run, zooms and
        pans): read again at the mouse's column, where the last picture put the plot."""
        layout = self.chart.layout
        if self._mouse_column is None or layout is None or limits is None:
            return self.hover
        x = replace(layout, x0=limits[0], x1=limits[1]).x_of(self._mouse_column)
        self.set_reactive(Chart.hover, x)
        return x

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.zoom(ZOOM_STEP, self._x_at(event))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.zoom(1 / ZOOM_STEP, self._x_at(event))

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        event.stop()
        self.pan(-PAN_STEP)

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        event.stop()
        self.pan(PAN_STEP)

    def on_click(self, event: events.Click) -> None:
        """A click on a legend entry (the bottom border) hides or shows its line."""
        if event.y != self.outer_size.height - 1:
            return
        for start, end, name in self._legend:
            if start <= event.x < end:
                self.hidden = self.hidden ^ {name}
                return

    def _x_at(self, event: events.MouseEvent) -> float | None:
        offset = event.get_content_offset(self)
        layout = self.chart.layout
        return layout.x_of(offset.x) if offset is not None and layout is not None else None

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Show `factor` times the iterations shown now, around the given x (else ending where
        the shown range ends); back to the whole run when it would show all of it."""
        self.window = self.zoomed(factor, around)

    def zoomed(
        self, factor: float, around: float | None = None, shortest: float | None = None
    ) -> tuple[float, float] | None:
        """The window zoom() would show, no narrower than `shortest` (else this chart's own
        shortest_span); None: the whole run."""
        end = self.x_end
        if end <= 0:
            return self.window
        low, high = self.window or (0.0, end)
        at = high if around is None else min(max(around, low), high)
        span = max((high - low) * factor, self.shortest_span() if shortest is None else shortest)
        if span >= end:
            return None
        low = at - (at - low) * span / (high - low)
        low = min(max(low, 0.0), end - span)
        if not self.in_epochs:  # whole iterations, as a person would ask for them
            low, span = float(round(low)), float(round(span))
        return (low, low + span)

    def shortest_span(self) -> float:
        """The narrowest window worth drawing, in the x axis's unit."""
        return MIN_SPAN / (100 if self.in_epochs else 1)

    def pan(self, share: float) -> None:
        """A zoomed chart moves `share` of its range later (negative: earlier)."""
        if self.window is None:
            return
        low, high = self.window
        shift = min(max((high - low) * share, -low), self.x_end - high)
        if not self.in_epochs:
            shift = float(round(shift))
        if shift:
            self.window = (low + shift, high + shift)

    # ---- drawing --------------------------------------------------------------------------------

    def plot(self) -> BrailleChart:
        """What to draw now, every line named (the legend and the readout use the names)."""
        raise NotImplementedError

    def legend_values(self) -> dict[str, str]:
        """Text after a legend entry's name (the latest values); dropped first when narrow."""
        return {}

    @property
    def point_limit(self) -> int:
        """Points a line needs at this width: braille has two dots a column."""
        return max(2 * self.size.width, 16)

    def no_color(self) -> bool:
        return bool(getattr(self.app, "no_color", False))

    def styled(self, pattern: tuple[int, ...]) -> dict:
        """A line's pattern: its own under NO_COLOR, where colour tells nothing; solid else."""
        return {"pattern": pattern if self.no_color() else SOLID}

    def due(self) -> bool:
        """Whether a redraw is wanted now: the data changed, and not just redrawn."""
        now = monotonic()
        if not self.dirty or now - self._redrawn_at < self.REDRAW_SECONDS:
            return False
        self._redrawn_at, self.dirty = now, False
        return True

    def redraw(self) -> bool:
        """Build the picture when the data or a setting changed; True if it did."""
        if not self.due():
            return False
        chart = self.plot()
        shown = [s for s in chart.series if s.name not in self.hidden]
        named = self.legend_entries(chart)
        chart.series = shown
        name, ticks, limits = self.x_axis(self.x_end)
        if self.window is not None:
            limits = self.window
            ticks = window_ticks(
                *limits, whole=not self.in_epochs, count=self.tick_count(limits[1])
            )
        chart.xlabel, chart.xticks, chart.xlim = name, ticks, limits
        chart.xlabels = [tick_label(t, whole=not self.in_epochs) for t in ticks]
        chart.cursor = self.hover_at(limits)
        self.chart = chart
        self.set_legend(named, self.legend_values())
        self.changed()
        return True

    def legend_entries(self, chart: BrailleChart) -> list[tuple[str, str, tuple]]:
        """(name, sign, colour) of each line the legend names: the lines of this run (a compared
        run's line is named below the charts, and in the readout)."""
        return list(
            dict.fromkeys(
                (s.name, s.glyph, s.color) for s in chart.series if s.name and not s.earlier
            )
        )

    def set_legend(self, named: list[tuple[str, str, tuple]], values: dict[str, str]) -> None:
        """The legend in the bottom border: every line's sign and name (a hidden one struck
        through), with its latest value when all fit, else as many entries as fit whole."""
        room = self.outer_size.width - 6  # the corners, a border cell, a space each side
        for with_values in (True, False):
            parts = []
            for name, glyph, colour in named:
                value = values.get(name, "") if with_values else ""
                parts.append((name, f"{glyph} {name}{' ' + value if value else ''}", colour))
            if sum(len(text) + 2 for _, text, _ in parts) - 2 <= room:
                break
        legend, spans, used = Text(), [], 0
        for name, text, colour in parts:
            if used + len(text) > room and spans:
                break
            if spans:
                legend.append("  ")
                used += 2
            style = (
                Style(color=hex_of(colour), strike=True) if name in self.hidden else hex_of(colour)
            )
            legend.append(text, style)
            spans.append((used, used + len(text), name))
            used += len(text)
        # Textual puts a right-aligned subtitle one space and one border cell from the corner.
        start = self.outer_size.width - len(legend) - 3
        self._legend = [(start + a, start + b, name) for a, b, name in spans]
        # Compared with the one set, not with border_subtitle (which reads back as Textual's own
        # markup, never equal): setting a border's text repaints the whole chart.
        if legend.markup != self._legend_markup:
            self._legend_markup = self.border_subtitle = legend.markup

    def x_axis(self, last: float) -> tuple[str, list[float], tuple[float, float] | None]:
        """The axis's name, its ticks from 0 to `last` (already in the axis's unit) and its
        limits (None before there is data)."""
        name = "epoch" if self.in_epochs else "iteration"
        if not last:
            return name, [], None
        ticks = nice_ticks(last, self.tick_count(last), whole=not self.in_epochs)
        return name, ticks, (0.0, max(ticks[-1], last) * 1.001 + (0 if self.in_epochs else 1))

    def tick_count(self, last: float) -> int:
        """As many x ticks as fit with their labels side by side (about 5): a narrow chart
        labels every tick it marks rather than marking some it cannot label."""
        room = self.size.width - 6  # about: the y labels, the frame and a label's overhang
        return max(2, min(5, room // (len(tick_label(last, whole=not self.in_epochs)) + 2)))

    def render_line(self, y: int) -> Strip:
        """Line y of the picture, built when the data, size or theme changed since the last."""
        base = self.visual_style.rich_style
        key = (self.version, self.size, self.app.theme, base)
        if self._picture is None or self._picture[0] != key:
            self.builds += 1
            self._picture = (key, self.chart.picture(*self.size, base))
        strips = self._picture[1]
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, base)

    def changed(self) -> None:
        """The data changed: build the picture now and repaint only the lines that differ
        (new points touch a few rows; the axes and most of the curve stay as they were)."""
        self.version += 1
        width, height = self.size
        if not (width and height and self.region):  # not on screen: built when shown
            self.refresh()
            return
        base = self.visual_style.rich_style
        key = (self.version, self.size, self.app.theme, base)
        old = self._picture
        self.builds += 1
        self._picture = (key, self.chart.picture(width, height, base))
        strips = self._picture[1]
        if old is None or old[0][1:] != key[1:] or len(old[1]) != len(strips):
            self.refresh()
            return
        lines = [
            Region(0, y, width, 1)
            for y, (before, now) in enumerate(zip(old[1], strips, strict=True))
            if before != now
        ]
        if lines:
            self.refresh(*lines)

    def on_resize(self) -> None:
        self.dirty = True  # its legend and title are fitted to its width
        self.border_title = self.title_text()
        # The mouse is over another x now (the plot moved under it): the next move reads it.
        self.hover, self._mouse_column = None, None


class LossChart(Chart):
    """Mini-batch loss per iteration, its smoothed line, the previous run dimmed, change marks.

    The x axis spans the current run (and runs chosen to compare): after a reset the new run
    fills the chart and the previous one is drawn as far as the new one has come. Only this
    run's lines set the y axis: a diverged run's spike does not flatten the next one.
    """

    TITLE = "Loss"
    smoothing: reactive[float] = reactive(SMOOTHING, init=False)  # S: TensorBoard's slider

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = BinnedSeries()
        self.epochs = EpochScale()
        self.previous: tuple[list, list, EpochScale] | None = None
        self.marks: list[int] = []
        self.x_last = 0

    def watch_smoothing(self, smoothing: float) -> None:
        self.series.set_smoothing(smoothing)
        self.settings_changed()

    def add_losses(self, losses: np.ndarray, iteration: int, epoch: float) -> None:
        self.epochs.note(iteration, epoch)
        if len(losses):
            self.series.extend(losses)
            self.dirty = True

    def mark(self, iteration: int) -> None:
        self.marks.append(iteration)
        self.dirty = True

    def start_new_run(self) -> None:
        """Keep the finished run's smoothed line, dimmed, for comparison."""
        if self.series.count:
            x, _, smooth = self.series.points()
            self.previous = (x.tolist(), smooth.tolist(), self.epochs)
        self.series.clear()
        self.epochs = EpochScale()
        self.marks = []
        self.window = None  # the new run from its start
        self.dirty = True

    def legend_values(self) -> dict[str, str]:
        return {"smoothed": f"{self.series.smoothing:g}"}

    def shortest_span(self) -> float:
        """A few of the stored bins: a long run keeps one per `width` iterations, and a window
        narrower than that would show one dot."""
        iterations = max(MIN_BINS * self.series.width, MIN_SPAN)
        if not self.in_epochs:
            return float(iterations)
        last = self.series.count
        first, end = self.epochs([max(last - iterations, 0), last])
        return max(float(end - first), super().shortest_span())

    def plot(self) -> BrailleChart:
        raw, smooth, mark = (theme_rgb(self, n) for n in ("primary", "warning", "error"))
        chart = BrailleChart(log_y=self.log_scale and self.series.count > 0)
        last = self.series.count
        unit = self.epochs if self.in_epochs else (lambda x: np.asarray(x, dtype=float))
        end = float(unit([last])[0])
        limit = self.point_limit
        for index, run in enumerate(self.comparisons):
            cx, cy = run.loss_line(self.series.smoothing)
            if len(cx):
                cx = (run.epoch_scale() if self.in_epochs else unit)(cx)
                pattern = compare_pattern(index)
                how = {"name": run.label, "fits": False, "earlier": True, **self.styled(pattern)}
                chart.line(*thin(cx.tolist(), cy, limit), compare_color(index), **how)
                end = max(end, float(cx[-1]))
        if self.previous is not None:
            px, py, previous_epochs = self.previous
            shown = [i for i, v in enumerate(px) if v <= max(last, 1)]
            if shown:
                x_shown = (previous_epochs if self.in_epochs else unit)([px[i] for i in shown])
                how = {"name": "previous run", "fits": False, "earlier": True}
                how.update(self.styled(DASHED))
                chart.line(*thin(x_shown.tolist(), [py[i] for i in shown], limit), DIM, **how)
        x, y, smoothed = self.series.points(limit)
        if len(x):
            x = unit(x)
            if self.no_color():  # the mini-batch values as scattered dots, the smoothed a line
                chart.line(x[::3], y[::3], raw, joined=False, name="mini-batch")
            else:
                chart.line(x, y, raw, name="mini-batch")
            chart.line(x, smoothed, smooth, name="smoothed")
            if "change" not in self.hidden:
                chart.vlines = [(float(unit([i])[0]), mark) for i in self.marks]
        self.x_end = end
        self.x_last = last  # the last iteration the x axis must show
        return chart

    def legend_entries(self, chart: BrailleChart) -> list[tuple[str, str, tuple]]:
        """This run's lines, the previous run's, and the change marks when there are some."""
        entries = super().legend_entries(chart)
        entries += [(s.name, s.glyph, s.color) for s in chart.series if s.name == "previous run"]
        if self.marks:
            entries.append(("change", "│", theme_rgb(self, "error")))
        return entries


class AccuracyChart(Chart):
    """Train and test accuracy at each evaluation.

    Redrawn twice a second at most: evaluations come once an epoch (600 iterations on MNIST),
    but dozens a second on the shipped sample's short epochs.
    """

    TITLE = "Accuracy"
    REDRAW_SECONDS = 0.5
    pinned: reactive[bool] = reactive(False, init=False)  # A: 0 to 1, noise near chance flat

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.points: list[tuple[int, float, float, float]] = []
        self.x_last = 0

    def heading(self) -> str:
        return "Accuracy (0-1)" if self.pinned else "Accuracy"

    def watch_pinned(self) -> None:
        self.settings_changed()

    def add(self, iteration: int, epoch: float, train_acc: float, test_acc: float) -> None:
        self.points.append((iteration, epoch, train_acc, test_acc))
        self.dirty = True

    def clear(self) -> None:
        self.points = []
        self.window = None
        self.dirty = True

    def shortest_span(self) -> float:
        """A few evaluations apart (they come once an epoch)."""
        if len(self.points) < 2:
            return super().shortest_span()
        at = 1 if self.in_epochs else 0
        apart = self.points[-1][at] - self.points[-2][at]
        return max(MIN_EVALUATIONS * apart, super().shortest_span())

    def legend_values(self) -> dict[str, str]:
        if not self.points:
            return {}
        _, _, train_acc, test_acc = self.points[-1]
        return {"train": f"{train_acc:.4f}", "test": f"{test_acc:.4f}"}

    def plot(self) -> BrailleChart:
        train, test = theme_rgb(self, "primary"), theme_rgb(self, "success")
        chart = BrailleChart(ylim=(0.0, 1.0) if self.pinned else None)
        at = 1 if self.in_epochs else 0  # each point's epoch or iteration
        end = 0.0
        for index, run in enumerate(self.comparisons):
            if len(run.acc_x):
                cx = run.acc_epochs if self.in_epochs else run.acc_x
                # Accuracies stay within 0-1 (no spike to flatten the others): a better run
                # sets the axis too instead of leaving it above the top.
                how = {"name": run.label, "earlier": True, **self.styled(compare_pattern(index))}
                chart.line(*thin(cx, run.test_acc, self.point_limit), compare_color(index), **how)
                end = max(end, cx[-1])
        # Evaluations are few (one an epoch); a long run keeps its last 200 on screen.
        shown = self.points[-200:]
        x = [p[at] for p in shown]
        chart.line(x, [p[2] for p in shown], train, name="train", **self.styled(DOTTED))
        chart.line(x, [p[3] for p in shown], test, name="test")
        self.x_end = max(end, x[-1] if x else 0.0)
        self.x_last = self.points[-1][0] if self.points else 0
        return chart
