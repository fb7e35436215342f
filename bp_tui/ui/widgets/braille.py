"""A line chart drawn in braille with numpy: the loss chart's picture ten times a second.

plotext builds its canvas point by point in Python (about 6 ms a frame for the loss chart, most of
the UI's work while training); here the dots of every line are set in a few array operations and
the frame, ticks and labels are laid out as plotext lays them out, so both charts look alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

# The dot of a braille cell at (row 0-3, column 0-1) and its bit (Unicode's braille patterns).
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)


@dataclass
class Series:
    x: np.ndarray
    y: np.ndarray
    color: tuple[int, int, int]
    joined: bool = True  # a line through the points, or the points alone


@dataclass
class BrailleChart:
    """What to draw; picture() lays it out in a width x height box of cells."""

    series: list[Series] = field(default_factory=list)
    vlines: list[tuple[float, tuple[int, int, int]]] = field(default_factory=list)
    xticks: list[float] = field(default_factory=list)
    xlabels: list[str] = field(default_factory=list)
    xlim: tuple[float, float] | None = None
    xlabel: str = ""
    log_y: bool = False

    def line(self, x, y, color, joined: bool = True) -> None:
        self.series.append(Series(np.asarray(x, float), np.asarray(y, float), color, joined))

    def picture(self, width: int, height: int, base: Style) -> list[Strip]:
        ys = [s.y for s in self.series if len(s.y)]
        values = np.concatenate(ys) if ys else np.array([0.0, 1.0])
        values = values[np.isfinite(values)]
        if self.log_y:
            values = np.log10(values[values > 0])
        low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        if high - low < 1e-12:
            low, high = low - 0.5, high + 0.5
        rows = max(height - 4, 1)  # the frame's top and bottom, the tick labels, the x label
        ticks = _decade_ticks(low, high, rows) if self.log_y else []
        ticks = ticks or _y_ticks(low, high, rows)
        labels = [_y_label(t, high - low, self.log_y) for t in ticks]
        left = max(len(label) for label in labels)
        cols = max(width - left - 2, 1)
        x0, x1 = self.xlim or _x_range(self.series)
        if x1 - x0 < 1e-12:
            x1 = x0 + 1.0

        bits = np.zeros((rows, cols), np.uint8)
        owner = np.full((rows, cols), -1, np.int16)
        for index, s in enumerate(self.series):
            y = np.log10(np.where(s.y > 0, s.y, np.nan)) if self.log_y else s.y
            keep = np.isfinite(s.x) & np.isfinite(y)
            dx = (s.x[keep] - x0) / (x1 - x0) * (2 * cols - 1)
            dy = (high - y[keep]) / (high - low) * (4 * rows - 1)
            px, py = _dots(np.rint(dx).astype(int), np.rint(dy).astype(int), s.joined)
            inside = (px >= 0) & (px < 2 * cols) & (py >= 0) & (py < 4 * rows)
            px, py = px[inside], py[inside]
            np.bitwise_or.at(bits, (py // 4, px // 2), DOT_BITS[py % 4, px % 2])
            owner[py // 4, px // 2] = index
        colors = [s.color for s in self.series]
        for position, color in self.vlines:
            col = int(round((position - x0) / (x1 - x0) * (2 * cols - 1)))
            if 0 <= col < 2 * cols:
                bits[:, col // 2] |= np.bitwise_or.reduce(DOT_BITS[:, col % 2])
                owner[:, col // 2] = len(colors)
                colors = [*colors, color]

        tick_rows = {
            round((high - t) / (high - low) * (rows - 1)): label
            for t, label in zip(ticks, labels, strict=True)
        }
        styles = [base + Style(color=Color.from_rgb(*c)) for c in colors]
        strips = [Strip([Segment(" " * left + "┌" + "─" * cols + "┐", base)])]
        for row in range(rows):
            label = tick_rows.get(row)
            head = (label.rjust(left) + "┤") if label is not None else " " * left + "│"
            segments = [Segment(head, base)]
            segments.extend(_cells(bits[row], owner[row], styles, base))
            segments.append(Segment("│", base))
            strips.append(Strip(segments))
        strips.extend(self._x_axis(left, cols, x0, x1, base))
        return [strip.adjust_cell_length(width, base) for strip in strips[:height]]

    def _x_axis(self, left: int, cols: int, x0: float, x1: float, base: Style) -> list[Strip]:
        frame = ["─"] * cols
        under = [" "] * (cols + 2)
        for tick, label in zip(self.xticks, self.xlabels, strict=True):
            col = int(round((tick - x0) / (x1 - x0) * (cols - 1)))
            if not 0 <= col < cols:
                continue
            frame[col] = "┬"
            start = min(max(col + 1 - len(label) // 2, 0), cols + 2 - len(label))
            if all(c == " " for c in under[max(start - 1, 0) : start + len(label) + 1]):
                under[start : start + len(label)] = label
        name = self.xlabel.center(cols + 2).rstrip()
        return [
            Strip([Segment(" " * left + "└" + "".join(frame) + "┘", base)]),
            Strip([Segment(" " * left + "".join(under), base)]),
            Strip([Segment(" " * left + name, base)]),
        ]


def _x_range(series: list[Series]) -> tuple[float, float]:
    xs = [s.x for s in series if len(s.x)]
    if not xs:
        return 0.0, 1.0
    joined = np.concatenate(xs)
    return float(joined.min()), float(joined.max())


def _dots(px: np.ndarray, py: np.ndarray, joined: bool) -> tuple[np.ndarray, np.ndarray]:
    """The dots of the points, and with joined those of the straight segments between them."""
    if not joined or len(px) < 2:
        return px, py
    dx, dy = np.diff(px), np.diff(py)
    steps = np.maximum(np.abs(dx), np.abs(dy))
    count = steps + 1
    segment = np.repeat(np.arange(len(steps)), count)
    within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    t = within / np.maximum(steps[segment], 1)
    return (
        np.rint(px[segment] + t * dx[segment]).astype(int),
        np.rint(py[segment] + t * dy[segment]).astype(int),
    )


def _cells(bits: np.ndarray, owner: np.ndarray, styles: list[Style], base: Style) -> list[Segment]:
    """One row of braille cells as runs of one colour."""
    text = "".join(chr(0x2800 + b) if b else " " for b in bits.tolist())
    segments, start = [], 0
    owners = owner.tolist()
    for col in range(1, len(owners) + 1):
        if col == len(owners) or owners[col] != owners[start]:
            style = styles[owners[start]] if owners[start] >= 0 else base
            segments.append(Segment(text[start:col], style))
            start = col
    return segments


def _y_ticks(low: float, high: float, rows: int) -> list[float]:
    """Evenly spaced values from the top to the bottom: every row on a short chart, every
    third on a tall one (as plotext places them)."""
    every = 1 if rows <= 6 else 2 if rows <= 12 else 3
    count = max(2, min((rows - 1) // every + 1, 8))
    return [high - (high - low) * k / (count - 1) for k in range(count)]


def _decade_ticks(low: float, high: float, rows: int) -> list[float]:
    """On a log axis spanning two decades or more: the powers of ten (every second or third
    when they would crowd the rows), top first; [] for a narrower span."""
    first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
    if high - low < 2 or last < first:
        return []
    room = max(1, rows // 2)  # a label every other row at the most
    every = max(1, -(-(last - first + 1) // room))
    return [float(d) for d in range(last, first - 1, -every)]


def _y_label(value: float, span: float, log: bool) -> str:
    if log:
        shown = 10**value
        return f"{shown:.3g}"
    decimals = max(0, min(4, 2 - math.floor(math.log10(span)) if span > 0 else 2))
    return f"{value:.{decimals}f}"
