"""The loss and accuracy charts (textual-plotext), redrawn at most 10 times a second.

A chart builds its picture only when its data or its size changed (plotext's build is the
dashboard's dearest work), from a bounded number of points: two a column, braille's resolution.
"""

from __future__ import annotations

import math

import numpy as np
from rich.markup import escape
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


def iteration_ticks(last: int, count: int = 5) -> list[int]:
    """Whole, round iteration numbers from 0 to at least `last` (1, 2 or 5 times a power of 10)."""
    raw = max(last, 1) / count
    power = 10 ** math.floor(math.log10(raw))
    step = max(1, int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw)))
    return [step * k for k in range(count + 2) if step * k <= max(last, step)]


class Chart(PlotextPlot):
    """A plot whose picture is built once per change of its data, size or theme."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
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
            self._picture = (key, super().render())
        return self._picture[1]

    def set_legend(self, legend: str) -> None:
        if legend != self.border_subtitle:
            self.border_subtitle = legend

    def changed(self) -> None:
        self.version += 1
        self.refresh()


class LossChart(Chart):
    """Mini-batch loss per iteration, its smoothed line, the previous run dimmed, change marks.

    The x axis spans the current run (and runs chosen to compare): after a reset the new run
    fills the chart and the previous one is drawn as far as the new one has come.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = BinnedSeries()
        self.previous: tuple[list, np.ndarray] | None = None
        self.comparisons: list[tuple[str, list, list]] = []  # (label, iterations, smoothed loss)
        self.marks: list[int] = []
        self.dirty = True
        self.x_last = 0

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

    def start_new_run(self) -> None:
        """Keep the finished run's smoothed line, dimmed, for comparison."""
        if self.series.count:
            x, _, smooth = self.series.points()
            self.previous = (x.tolist(), smooth.tolist())
        self.series.clear()
        self.marks = []
        self.dirty = True

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        raw, smooth, mark = (
            theme_rgb(self, n, f)
            for n, f in (("primary", "#0178D4"), ("warning", "#FFA62B"), ("error", "#BA3C5B"))
        )
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("iteration")
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
    """Train and test accuracy at each evaluation."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.points: list[tuple[int, float, float]] = []
        self.comparisons: list[tuple[str, list, list]] = []  # (label, iterations, test accuracy)
        self.dirty = True
        self.x_last = 0

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

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
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
