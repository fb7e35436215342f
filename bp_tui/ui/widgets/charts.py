"""The loss and accuracy charts (textual-plotext), redrawn at most 10 times a second."""

from __future__ import annotations

import numpy as np
from textual.color import Color
from textual_plotext import PlotextPlot

from bp_tui.ui.series import BinnedSeries


def theme_rgb(widget, name: str, fallback: str) -> tuple[int, int, int]:
    return Color.parse(widget.app.theme_variables.get(name, fallback)).rgb


class LossChart(PlotextPlot):
    """Mini-batch loss per iteration, its smoothed line, the previous run dimmed, change marks."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = BinnedSeries()
        self.previous: tuple[np.ndarray, np.ndarray] | None = None
        self.marks: list[int] = []
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
            self.previous = (x, smooth)
        self.series.clear()
        self.marks = []
        self.dirty = True

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("iteration")
        if self.previous is not None:
            plt.plot(*self.previous, marker="braille", color=(110, 110, 110), label="previous run")
        x, y, smooth = self.series.points()
        if len(x):
            x = x.tolist()  # plain ints, so the axis shows whole iterations
            plt.plot(x, y, marker="braille", color=theme_rgb(self, "primary", "#0178D4"),
                     label="mini-batch loss")  # fmt: skip
            plt.plot(x, smooth, marker="braille", color=theme_rgb(self, "warning", "#FFA62B"),
                     label="smoothed")  # fmt: skip
            for iteration in self.marks:
                plt.vline(iteration, color=theme_rgb(self, "error", "#BA3C5B"))
        self.refresh()


class AccuracyChart(PlotextPlot):
    """Train and test accuracy at each evaluation."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.points: list[tuple[int, float, float]] = []
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
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("iteration")
        if self.points:
            # Evaluations are few (one an epoch); a long run keeps its last 200 on screen.
            shown = self.points[-200:]
            x = [p[0] for p in shown]
            plt.plot(x, [p[1] for p in shown], marker="braille",
                     color=theme_rgb(self, "primary", "#0178D4"), label="train")  # fmt: skip
            plt.plot(x, [p[2] for p in shown], marker="braille",
                     color=theme_rgb(self, "success", "#4EBF71"), label="test")  # fmt: skip
        self.refresh()
