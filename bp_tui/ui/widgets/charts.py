"""The loss and accuracy charts (textual-plotext), redrawn at most 10 times a second.

A chart builds its picture only when its data or its size changed (plotext's build is the
dashboard's dearest work), from a bounded number of points: two a column, braille's resolution.
"""

from __future__ import annotations

import functools
import math
from time import monotonic

import numpy as np
from rich.color import Color as RichColor
from rich.color import ColorParseError
from rich.errors import StyleSyntaxError
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.geometry import Region
from textual.strip import Strip
from textual_plotext import PlotextPlot

from bp_tui.ui.comparison import Comparison, compare_color
from bp_tui.ui.series import BinnedSeries, EpochScale, thin
from bp_tui.ui.widgets.braille import BrailleChart

DIM = (110, 110, 110)


def theme_rgb(widget, name: str, fallback: str) -> tuple[int, int, int]:
    return Color.parse(widget.app.theme_variables.get(name, fallback)).rgb


def hex_of(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@functools.cache
def cell_style(foreground, style: str, background) -> Style:
    """A plotext cell's colours and style as a rich Style ("default": the terminal's own)."""

    def colour(value):
        if isinstance(value, tuple):
            return RichColor.from_rgb(*value)
        if value in (None, "default"):
            return None
        name = str(value)
        name = f"bright_{name[:-1]}" if name.endswith("+") else name
        try:
            return RichColor.parse(name)
        except ColorParseError:
            return None

    try:
        styled = Style.parse(style) if style and style != "default" else Style()
    except StyleSyntaxError:
        styled = Style()
    return styled + Style(color=colour(foreground), bgcolor=colour(background))


def picture_of(matrix, base: Style, width: int) -> list[Strip]:
    """plotext's finished canvas as strips, cell runs of one style at a time (what Textual makes
    of Text.from_ansi(build()), without writing, parsing and laying out the ANSI codes between)."""
    strips = []
    for row in matrix.Rows[::-1]:
        markers, fg, st, bg = (
            matrix.marker[row],
            matrix.fullground[row],
            matrix.style[row],
            matrix.background[row],
        )
        segments, start, end = [], 0, len(markers)
        for col in range(1, end + 1):
            if col == end or fg[col] != fg[start] or st[col] != st[start] or bg[col] != bg[start]:
                style = base + cell_style(fg[start], st[start], bg[start])
                segments.append(Segment("".join(markers[start:col]), style))
                start = col
        strips.append(Strip(Segment.simplify(segments)).adjust_cell_length(width, base))
    return strips


def nice_ticks(last: float, count: int = 5, whole: bool = True) -> list[float]:
    """Round numbers from 0 to at least `last` (1, 2 or 5 times a power of 10); whole: integers."""
    raw = max(last, 1 if whole else 1e-6) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(1, int(step))
    top = max(last, step) * (1 + 1e-9)
    return [round(step * k, 9) for k in range(count + 2) if step * k <= top]


def iteration_ticks(last: int, count: int = 5) -> list[int]:
    """Whole, round iteration numbers from 0 to at least `last`."""
    return [int(tick) for tick in nice_ticks(last, count)]


class Chart(PlotextPlot):
    """A plot whose picture is built once per change of its data, size or theme."""

    REDRAW_SECONDS = 0.0  # at most one redraw this often (the app's frames come 10 a second)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._redrawn_at = -math.inf
        self.version = 0  # bumped by each redraw that changed the data
        self._picture: tuple[tuple, list[Strip]] | None = None
        self.builds = 0  # pictures built (tests check that an unchanged chart builds none)
        self.legend = ""  # as given: border_subtitle reads back as Textual's own markup

    @property
    def point_limit(self) -> int:
        """Points a line needs at this width: braille has two dots a column."""
        return max(2 * self.size.width, 16)

    def render_line(self, y: int) -> Strip:
        """Line y of the picture, built when the data, size or theme changed since the last."""
        base = self.visual_style.rich_style
        key = (self.version, self.size, self.app.theme, base)
        if self._picture is None or self._picture[0] != key:
            self.builds += 1
            self._picture = (key, self._build(base))
        strips = self._picture[1]
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, base)

    def _build(self, base: Style) -> list[Strip]:
        """PlotextPlot.render's steps, the canvas taken as it is instead of through ANSI."""
        plot, (width, height) = self._plot, self.size
        plot.plotsize(width, height)
        plot._set_size(width, height)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        plot._set_sizes()
        plot._build_matrix()
        return picture_of(plot.monitor.matrix, base, width)

    def due(self) -> bool:
        """Whether a redraw is wanted now: the data changed, and not just redrawn."""
        now = monotonic()
        if not self.dirty or now - self._redrawn_at < self.REDRAW_SECONDS:
            return False
        self._redrawn_at, self.dirty = now, False
        return True

    def set_legend(self, *parts: str) -> None:
        """The legend in the bottom border: as many of its parts, in order, as fit whole."""
        room, shown = self.size.width - 4, []
        for part in parts:
            if len(Text.from_markup("  ".join([*shown, part]))) > room and shown:
                break
            shown.append(part)
        legend = "  ".join(shown)
        if legend != self.legend:  # setting a border's text repaints the whole chart
            self.legend = self.border_subtitle = legend

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
        self._picture = (key, self._build(base))
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
        self.dirty = True  # its legend is fitted to its width

    def set_x_unit(self, in_epochs: bool) -> None:
        self.in_epochs = in_epochs
        self.dirty = True

    def x_axis(self, last: float) -> tuple[str, list[float], tuple[float, float] | None]:
        """The axis's name, its ticks from 0 to `last` (already in the axis's unit) and its
        limits (None before there is data)."""
        name = "epoch" if self.in_epochs else "iteration"
        if not last:
            return name, [], None
        ticks = nice_ticks(last, whole=not self.in_epochs)
        return name, ticks, (0.0, max(ticks[-1], last) * 1.001 + (0 if self.in_epochs else 1))


class LossChart(Chart):
    """Mini-batch loss per iteration, its smoothed line, the previous run dimmed, change marks.

    The x axis spans the current run (and runs chosen to compare): after a reset the new run
    fills the chart and the previous one is drawn as far as the new one has come. Redrawn with
    each frame of engine news (10 a second at most), in the same screen update as the Progress
    panel; its picture is the UI's dearest work.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = BinnedSeries()
        self.epochs = EpochScale()
        self.previous: tuple[list, list, EpochScale] | None = None
        self.comparisons: list[Comparison] = []
        self.marks: list[int] = []
        self.dirty = True
        self.x_last = 0
        self.log_scale = False  # L: the loss on a log axis, as TensorBoard users read it
        self.in_epochs = False  # E: the x axis in epochs instead of iterations
        self.chart = BrailleChart(xlabel="iteration")  # what the picture shows
        self._plotext_colours: tuple[str | None, Style] = (None, Style())

    def set_comparisons(self, runs: list[Comparison]) -> None:
        """Earlier runs' smoothed losses, drawn dimmed under this run's (named below the charts)."""
        self.comparisons = list(runs)
        self.dirty = True

    def add_losses(self, losses: np.ndarray, iteration: int, epoch: float) -> None:
        self.epochs.note(iteration, epoch)
        if len(losses):
            self.series.extend(losses)
            self.dirty = True

    def mark(self, iteration: int) -> None:
        self.marks.append(iteration)
        self.dirty = True

    def toggle_log_scale(self) -> None:
        self.log_scale = not self.log_scale
        self.dirty = True

    def _build(self, base: Style) -> list[Strip]:
        """Drawn with numpy (braille.py), not plotext: it changes ten times a second. Its
        colours are those plotext's theme gives the accuracy chart beside it."""
        width, height = self.size
        return self.chart.picture(width, height, base + self._plotext_style())

    def _plotext_style(self) -> Style:
        theme = self.app.theme
        if self._plotext_colours[0] != theme:
            plot = self._plot
            plot.clear_data()
            plot.clear_figure()
            plot.plotsize(8, 4)
            plot._set_size(8, 4)
            plot.theme(self._get_plotext_theme_name(theme))
            plot._set_sizes()
            plot._build_matrix()
            matrix = plot.monitor.matrix
            corner = cell_style(matrix.fullground[0][0], "", matrix.background[0][0])
            self._plotext_colours = (theme, corner)
        return self._plotext_colours[1]

    def set_smoothing(self, smoothing: float) -> None:
        self.series.set_smoothing(smoothing)
        self.dirty = True

    def start_new_run(self) -> None:
        """Keep the finished run's smoothed line, dimmed, for comparison."""
        if self.series.count:
            x, _, smooth = self.series.points()
            self.previous = (x.tolist(), smooth.tolist(), self.epochs)
        self.series.clear()
        self.epochs = EpochScale()
        self.marks = []
        self.dirty = True

    def redraw(self) -> None:
        if not self.due():
            return
        raw, smooth, mark = (
            theme_rgb(self, n, f)
            for n, f in (("primary", "#0178D4"), ("warning", "#FFA62B"), ("error", "#BA3C5B"))
        )
        chart = BrailleChart(log_y=self.log_scale and self.series.count > 0)
        # The x axis ends where the furthest of this run and the compared runs ends.
        last = self.series.count
        unit = self.epochs if self.in_epochs else (lambda x: np.asarray(x, dtype=float))
        end = float(unit([last])[0])
        limit = self.point_limit
        for index, run in enumerate(self.comparisons):
            cx, cy = run.loss_line(self.series.smoothing)
            if len(cx):
                scale = run.epoch_scale() if self.in_epochs else unit
                cx = scale(cx)
                chart.line(*thin(cx.tolist(), cy, limit), compare_color(index))
                end = max(end, float(cx[-1]))
        if self.previous is not None:
            px, py, previous_epochs = self.previous
            shown = [i for i, v in enumerate(px) if v <= max(last, 1)]
            if shown:
                scale = previous_epochs if self.in_epochs else unit
                x_shown = scale([px[i] for i in shown]).tolist()
                chart.line(*thin(x_shown, [py[i] for i in shown], limit), DIM)
        x, y, smoothed = self.series.points(limit)
        if len(x):
            x = unit(x)
            chart.line(x, y, raw)
            chart.line(x, smoothed, smooth)
            chart.vlines = [(float(unit([i])[0]), mark) for i in self.marks]
        chart.xlabel, chart.xticks, chart.xlim = self.x_axis(end)
        chart.xlabels = [f"{t:g}" for t in chart.xticks]
        self.chart = chart
        self.x_last = last  # the last iteration the x axis must show
        # The legend lives in the border: plotext's would cover the first iterations.
        parts = [
            f"[{hex_of(raw)}]━ mini-batch[/]",
            f"[{hex_of(smooth)}]━ smoothed {self.series.smoothing:g}[/]",
        ]
        if self.marks:
            parts.append(f"[{hex_of(mark)}]│ change[/]")
        if self.previous is not None:
            parts.append(f"[{hex_of(DIM)}]━ previous run[/]")
        self.set_legend(*parts)
        self.changed()


class AccuracyChart(Chart):
    """Train and test accuracy at each evaluation.

    Redrawn twice a second at most: evaluations come once an epoch (600 iterations on MNIST),
    but dozens a second on the shipped sample's short epochs.
    """

    REDRAW_SECONDS = 0.5

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.points: list[tuple[int, float, float, float]] = []
        self.comparisons: list[Comparison] = []
        self.dirty = True
        self.x_last = 0
        self.pinned = False  # A: the axis from 0 to 1, so that noise near chance looks flat
        self.in_epochs = False

    def set_comparisons(self, runs: list[Comparison]) -> None:
        """Earlier runs' test accuracy, dimmed (named, with their results, below the charts)."""
        self.comparisons = list(runs)
        self.dirty = True

    def add(self, iteration: int, epoch: float, train_acc: float, test_acc: float) -> None:
        self.points.append((iteration, epoch, train_acc, test_acc))
        self.dirty = True

    def clear(self) -> None:
        self.points = []
        self.dirty = True

    def toggle_pinned(self) -> None:
        self.pinned = not self.pinned
        self.dirty = True

    def redraw(self) -> None:
        if not self.due():
            return
        train, test = theme_rgb(self, "primary", "#0178D4"), theme_rgb(self, "success", "#4EBF71")
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        at = 1 if self.in_epochs else 0  # each point's epoch or iteration
        end = 0.0
        for index, run in enumerate(self.comparisons):
            if len(run.acc_x):
                cx = run.acc_epochs if self.in_epochs else run.acc_x
                plt.plot(
                    *thin(cx, run.test_acc, self.point_limit),
                    marker="braille",
                    color=compare_color(index),
                )
                end = max(end, cx[-1])
        parts = [f"[{hex_of(train)}]━ train[/]", f"[{hex_of(test)}]━ test[/]"]
        if self.points:
            # Evaluations are few (one an epoch); a long run keeps its last 200 on screen.
            shown = self.points[-200:]
            x = [p[at] for p in shown]
            plt.plot(x, [p[2] for p in shown], marker="braille", color=train)
            plt.plot(x, [p[3] for p in shown], marker="braille", color=test)
            end = max(end, x[-1])
            _, _, train_acc, test_acc = self.points[-1]
            parts = [
                f"[{hex_of(train)}]━ train {train_acc:.4f}[/]",
                f"[{hex_of(test)}]━ test {test_acc:.4f}[/]",
            ]
        self.x_last = self.points[-1][0] if self.points else 0
        if self.pinned:
            plt.ylim(0, 1)
        name, ticks, limits = self.x_axis(end)
        plt.xlabel(name)
        if limits:
            plt.xticks(ticks, [f"{t:g}" for t in ticks])
            plt.xlim(*limits)
        if len(Text.from_markup("  ".join(parts))) > self.size.width - 4:
            # Narrow: the names alone (the Progress panel gives the values).
            parts = [f"[{hex_of(train)}]━ train[/]", f"[{hex_of(test)}]━ test[/]"]
        self.set_legend(*parts)
        self.changed()
