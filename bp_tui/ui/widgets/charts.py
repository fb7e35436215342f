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
from rich.markup import escape
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual_plotext import PlotextPlot

from bp_tui.ui.series import BinnedSeries, thin

DIM = (110, 110, 110)
# Earlier runs chosen for comparison (c): dim like DIM, but each its own hue for the legend, and
# none near the live lines' blue, orange and green.
COMPARE_COLORS = (
    (155, 115, 175),
    (175, 110, 130),
    (160, 150, 105),
    (120, 130, 170),
    (140, 120, 100),
)


def theme_rgb(widget, name: str, fallback: str) -> tuple[int, int, int]:
    return Color.parse(widget.app.theme_variables.get(name, fallback)).rgb


def hex_of(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def compare_color(index: int) -> tuple[int, int, int]:
    return COMPARE_COLORS[index % len(COMPARE_COLORS)]


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


def picture_of(matrix) -> Text:
    """plotext's finished canvas as rich Text, cell runs of one style at a time (what
    Text.from_ansi(build()) gives, without writing and parsing the ANSI codes between)."""
    text = Text()
    for row in matrix.Rows[::-1]:
        markers, fg, st, bg = (
            matrix.marker[row],
            matrix.fullground[row],
            matrix.style[row],
            matrix.background[row],
        )
        start, width = 0, len(markers)
        for col in range(1, width + 1):
            if col == width or fg[col] != fg[start] or st[col] != st[start] or bg[col] != bg[start]:
                text.append(
                    "".join(markers[start:col]), cell_style(fg[start], st[start], bg[start])
                )
                start = col
        text.append("\n")
    return text


def iteration_ticks(last: int, count: int = 5) -> list[int]:
    """Whole, round iteration numbers from 0 to at least `last` (1, 2 or 5 times a power of 10)."""
    raw = max(last, 1) / count
    power = 10 ** math.floor(math.log10(raw))
    step = max(1, int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw)))
    return [step * k for k in range(count + 2) if step * k <= max(last, step)]


class Chart(PlotextPlot):
    """A plot whose picture is built once per change of its data, size or theme."""

    REDRAW_SECONDS = 0.0  # at most one redraw this often (the app's frames come 10 a second)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._redrawn_at = -math.inf
        self.version = 0  # bumped by each redraw that changed the data
        self._picture: tuple[tuple, object] | None = None
        self.builds = 0  # pictures built (tests check that an unchanged chart builds none)

    @property
    def point_limit(self) -> int:
        """Points a line needs at this width: braille has two dots a column."""
        return max(2 * self.size.width, 16)

    def render(self):
        key = (self.version, self.size, self.app.theme)
        if self._picture is None or self._picture[0] != key:
            self.builds += 1
            self._picture = (key, self._build())
        return self._picture[1]

    def _build(self) -> Text:
        """PlotextPlot.render's steps, the canvas taken as it is instead of through ANSI."""
        plot, (width, height) = self._plot, self.size
        plot.plotsize(width, height)
        plot._set_size(width, height)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        plot._set_sizes()
        plot._build_matrix()
        return picture_of(plot.monitor.matrix)

    def due(self) -> bool:
        """Whether a redraw is wanted now: the data changed, and not just redrawn."""
        now = monotonic()
        if not self.dirty or now - self._redrawn_at < self.REDRAW_SECONDS:
            return False
        self._redrawn_at, self.dirty = now, False
        return True

    def set_legend(self, legend: str) -> None:
        if legend != self.border_subtitle:
            self.border_subtitle = legend

    def changed(self) -> None:
        self.version += 1
        self.refresh()


class LossChart(Chart):
    """Mini-batch loss per iteration, its smoothed line, the previous run dimmed, change marks.

    The x axis spans the current run (and runs chosen to compare): after a reset the new run
    fills the chart and the previous one is drawn as far as the new one has come. Redrawn five
    times a second at most: its picture is the UI's dearest work (about 10 ms), and the
    Progress panel's counts tick ten times a second beside it.
    """

    REDRAW_SECONDS = 0.2

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = BinnedSeries()
        self.previous: tuple[list, np.ndarray] | None = None
        self.comparisons: list[tuple[str, list, list]] = []  # (label, iterations, smoothed loss)
        self.marks: list[int] = []
        self.dirty = True
        self.x_last = 0
        self.log_scale = False  # L: the loss on a log axis, as TensorBoard users read it

    def set_comparisons(self, runs: list[tuple[str, list, list]]) -> None:
        """Earlier runs' smoothed losses, drawn dimmed under this run's and named in the legend."""
        self.comparisons = list(runs)
        self.dirty = True

    def add_losses(self, losses: np.ndarray) -> None:
        if len(losses):
            self.series.extend(losses)
            self.dirty = True

    def mark(self, iteration: int) -> None:
        self.marks.append(iteration)
        self.dirty = True

    def toggle_log_scale(self) -> None:
        self.log_scale = not self.log_scale
        self.dirty = True

    def start_new_run(self) -> None:
        """Keep the finished run's smoothed line, dimmed, for comparison."""
        if self.series.count:
            x, _, smooth = self.series.points()
            self.previous = (x.tolist(), smooth.tolist())
        self.series.clear()
        self.marks = []
        self.dirty = True

    def redraw(self) -> None:
        if not self.due():
            return
        raw, smooth, mark = (
            theme_rgb(self, n, f)
            for n, f in (("primary", "#0178D4"), ("warning", "#FFA62B"), ("error", "#BA3C5B"))
        )
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("iteration")
        if self.log_scale and self.series.count:  # plotext's log axis needs data
            plt.yscale("log")
        last = self.series.count
        limit = self.point_limit
        for index, (_, cx, cy) in enumerate(self.comparisons):
            if len(cx):
                plt.plot(*thin(cx, cy, limit), marker="braille", color=compare_color(index))
                last = max(last, cx[-1])
        if self.previous is not None:
            px, py = self.previous
            shown = [i for i, v in enumerate(px) if v <= max(last, 1)]
            if shown:
                plt.plot(
                    *thin([px[i] for i in shown], [py[i] for i in shown], limit),
                    marker="braille",
                    color=DIM,
                )
        x, y, smoothed = self.series.points(limit)
        if len(x):
            x = x.tolist()
            plt.plot(x, y, marker="braille", color=raw)
            plt.plot(x, smoothed, marker="braille", color=smooth)
            for iteration in self.marks:
                plt.vline(iteration, color=mark)
        ticks = iteration_ticks(last)
        plt.xticks(ticks)
        plt.xlim(0, max(ticks[-1], last) + 1)
        self.x_last = last  # the last iteration the x axis must show
        # The legend lives in the border: plotext's would cover the first iterations.
        legend = f"[{hex_of(raw)}]━ mini-batch[/]  [{hex_of(smooth)}]━ smoothed[/]"
        if self.previous is not None:
            legend += f"  [{hex_of(DIM)}]━ previous run[/]"
        for index, (label, _, _) in enumerate(self.comparisons):
            legend += f"  [{hex_of(compare_color(index))}]━ {escape(label)}[/]"
        if self.marks:
            legend += f"  [{hex_of(mark)}]│ change[/]"
        self.set_legend(legend)
        self.changed()


class AccuracyChart(Chart):
    """Train and test accuracy at each evaluation.

    Redrawn twice a second at most: evaluations come once an epoch (600 iterations on MNIST),
    but dozens a second on the shipped sample's short epochs.
    """

    REDRAW_SECONDS = 0.5

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.points: list[tuple[int, float, float]] = []
        self.comparisons: list[tuple[str, list, list]] = []  # (label, iterations, test accuracy)
        self.dirty = True
        self.x_last = 0
        self.pinned = False  # A: the axis from 0 to 1, so that noise near chance looks flat

    def set_comparisons(self, runs: list[tuple[str, list, list]]) -> None:
        """Earlier runs' test accuracy, dimmed; the legend gives each one's last value."""
        self.comparisons = list(runs)
        self.dirty = True

    def add(self, iteration: int, train_acc: float, test_acc: float) -> None:
        self.points.append((iteration, train_acc, test_acc))
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
        plt.xlabel("iteration")
        last = 0
        for index, (_, cx, cy) in enumerate(self.comparisons):
            if len(cx):
                plt.plot(
                    *thin(cx, cy, self.point_limit), marker="braille", color=compare_color(index)
                )
                last = max(last, cx[-1])
        if self.points:
            # Evaluations are few (one an epoch); a long run keeps its last 200 on screen.
            shown = self.points[-200:]
            x = [p[0] for p in shown]
            plt.plot(x, [p[1] for p in shown], marker="braille", color=train)
            plt.plot(x, [p[2] for p in shown], marker="braille", color=test)
            last = max(last, x[-1])
            _, train_acc, test_acc = self.points[-1]
            legend = f"[{hex_of(train)}]━ train {train_acc:.4f}[/]  [{hex_of(test)}]━ test {test_acc:.4f}[/]"
        else:
            legend = f"[{hex_of(train)}]━ train[/]  [{hex_of(test)}]━ test[/]"
        self.x_last = last
        if self.pinned:
            plt.ylim(0, 1)
        if last:
            ticks = iteration_ticks(last)
            plt.xticks(ticks)
            plt.xlim(0, max(ticks[-1], last) + 1)
        # Only the last test accuracy of each earlier run, in its colour: the loss legend names
        # them, and this narrower border has room for little more.
        for index, (_, _, cy) in enumerate(self.comparisons):
            if len(cy):
                legend += f" [{hex_of(compare_color(index))}]{cy[-1]:.3f}[/]"
        self.set_legend(legend)
        self.changed()
