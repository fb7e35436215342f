"""A line chart drawn in braille with numpy: the picture of every chart of the dashboard.

plotext builds its canvas point by point in Python (about 6 ms a frame for the loss chart, most of
the UI's work while training); here the dots of every line are set in a few array operations and
the frame, ticks and labels are laid out as plotext lays them out. A line has a pattern (its own
under NO_COLOR), and the picture can carry a guide at the mouse's x with each line's value there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rich.color import Color, blend_rgb
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

# The dot of a braille cell at (row 0-3, column 0-1) and its bit (Unicode's braille patterns).
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)


# Line patterns, on by dot along the line: under NO_COLOR they tell the lines apart.
SOLID, DASHED, DOTTED, DASH_DOT = (
    (1,),
    (1, 1, 1, 1, 0, 0, 0),
    (1, 0, 0),
    (1, 1, 1, 1, 0, 0, 1, 0, 0),
)
GLYPHS = {SOLID: "━", DASHED: "╍", DOTTED: "┈", DASH_DOT: "╌"}  # a pattern's sign in legends
POINTS_GLYPH = "•"


@dataclass
class Series:
    x: np.ndarray
    y: np.ndarray
    color: tuple[int, int, int]
    joined: bool = True  # a line through the points, or the points alone
    name: str = ""  # in the legend and the hover readout
    pattern: tuple[int, ...] = SOLID
    fits: bool = True  # sets the y axis; False: clipped to the axis the others set
    earlier: bool = False  # another run's line (compared, previous): named after this run's

    @property
    def glyph(self) -> str:
        return GLYPHS.get(self.pattern, "━") if self.joined else POINTS_GLYPH

    def value_at(self, x: float, within: float) -> float | None:
        """The line's value at x (between two points, where the line drawn between them
        passes; points alone: the nearest one's); None beyond its ends by more than `within`."""
        keep = np.isfinite(self.x) & np.isfinite(self.y)
        xs, ys = self.x[keep], self.y[keep]
        if not len(xs) or not xs[0] - within <= x <= xs[-1] + within:
            return None
        if self.joined:
            return float(np.interp(x, xs, ys))
        return float(ys[np.argmin(np.abs(xs - x))])


@dataclass
class Layout:
    """Where picture() put the plot: for telling which iteration lies under the mouse."""

    left: int  # the plot's first column (after the tick labels and the frame)
    cols: int
    rows: int
    x0: float
    x1: float

    def x_of(self, column: int) -> float | None:
        """The x value at a column of the picture (None outside the plot)."""
        col = column - self.left
        if not 0 <= col < self.cols:
            return None
        return self.x0 + (2 * col + 0.5) / (2 * self.cols - 1) * (self.x1 - self.x0)


@dataclass
class BrailleChart:
    """What to draw; picture() lays it out in a width x height box of cells."""

    series: list[Series] = field(default_factory=list)
    vlines: list[tuple[float, tuple[int, int, int]]] = field(default_factory=list)
    xticks: list[float] = field(default_factory=list)
    xlabels: list[str] = field(default_factory=list)
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None  # fixed (accuracy pinned 0-1); else fitted
    xlabel: str = ""
    log_y: bool = False
    cursor: float | None = None  # the x under the mouse: a guide line and the values there
    layout: Layout | None = None  # set by picture()

    def line(self, x, y, color, joined: bool = True, **how) -> None:
        self.series.append(Series(np.asarray(x, float), np.asarray(y, float), color, joined, **how))

    def y_range(self) -> tuple[float, float]:
        """The y axis's span (log10 of it on a log axis): the fitting lines' values inside
        the x limits; the others are clipped to it."""
        x0, x1 = self.xlim or (-np.inf, np.inf)
        fitting = [s for s in self.series if s.fits and len(s.y)] or self.series
        ys = [s.y[(s.x >= x0) & (s.x <= x1)] for s in fitting]
        values = np.concatenate(ys) if ys else np.array([0.0, 1.0])
        values = values[np.isfinite(values)]
        if self.log_y:
            values = np.log10(values[values > 0])
        if self.ylim is not None:
            values = np.log10(self.ylim) if self.log_y else np.asarray(self.ylim, float)
        low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        if high - low < 1e-12:
            low, high = low - 0.5, high + 0.5
        return low, high

    def picture(self, width: int, height: int, base: Style) -> list[Strip]:
        low, high = self.y_range()
        rows = max(height - 4, 1)  # the frame's top and bottom, the tick labels, the x label
        ticks = (_log_ticks if self.log_y else _y_ticks)(low, high, rows)
        labels = _y_labels(ticks, self.log_y)
        left = max(len(label) for label in labels) if labels else 1
        cols = max(width - left - 2, 1)
        x0, x1 = self.xlim or _x_range(self.series)
        if x1 - x0 < 1e-12:
            x1 = x0 + 1.0
        self.layout = Layout(left + 1, cols, rows, x0, x1)

        bits = np.zeros((rows, cols), np.uint8)
        owner = np.full((rows, cols), -1, np.int16)
        for index, s in enumerate(self.series):
            y = np.log10(np.where(s.y > 0, s.y, np.nan)) if self.log_y else s.y
            keep = np.isfinite(s.x) & np.isfinite(y)
            dx = (s.x[keep] - x0) / (x1 - x0) * (2 * cols - 1)
            dy = (high - y[keep]) / (high - low) * (4 * rows - 1)
            px, py = _dots(np.rint(dx).astype(int), np.rint(dy).astype(int), s.joined)
            if len(s.pattern) > 1:
                on = np.asarray(s.pattern, bool)[np.arange(len(px)) % len(s.pattern)]
                px, py = px[on], py[on]
            inside = (px >= 0) & (px < 2 * cols) & (py >= 0) & (py < 4 * rows)
            px, py = px[inside], py[inside]
            np.bitwise_or.at(bits, (py // 4, px // 2), DOT_BITS[py % 4, px % 2])
            owner[py // 4, px // 2] = index
        colors = [s.color for s in self.series]
        guides = list(self.vlines)
        if self.cursor is not None:
            guides.append((self.cursor, base.color.triplet if base.color else (128, 128, 128)))
        for position, color in guides:
            col = int(round((position - x0) / (x1 - x0) * (2 * cols - 1)))
            if 0 <= col < 2 * cols:
                bits[:, col // 2] |= np.bitwise_or.reduce(DOT_BITS[:, col % 2])
                owner[:, col // 2] = len(colors)
                colors = [*colors, color]

        # A label goes on the row where a line at its value is drawn (the dots' own mapping).
        tick_rows = {
            int(np.rint((high - t) / (high - low) * (4 * rows - 1))) // 4: label
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
        if self.cursor is not None:
            self._readout(strips, base)
        strips.extend(self._x_axis(left, cols, x0, x1, base))
        return [strip.adjust_cell_length(width, base) for strip in strips[:height]]

    def readout(self) -> list[tuple[str, Series | None]]:
        """TensorBoard's tooltip: the x under the mouse, and each named line's value there."""
        layout = self.layout
        if self.cursor is None or layout is None:
            return []
        within = (layout.x1 - layout.x0) / max(layout.cols, 1) * 2  # two columns away at most
        x = self.cursor
        lines: list[tuple[str, Series | None]] = [
            (f"{self.xlabel} {x:,.0f}" if self.xlabel != "epoch" else f"epoch {x:.2f}", None)
        ]
        for s in sorted(self.series, key=lambda s: s.earlier):  # this run's lines first
            value = s.value_at(x, within) if s.name else None
            if value is not None:
                lines.append((f"{s.glyph} {s.name} {value:.4g}", s))
        return lines

    def _readout(self, strips: list[Strip], base: Style) -> None:
        """The readout in a tinted box in the plot's upper corner away from the mouse; on a
        chart too short for a line each, its entries side by side."""
        layout, lines = self.layout, self.readout()
        if layout is None or len(lines) < 2:
            return
        if len(lines) <= layout.rows:  # a row each: the values in a column after the names
            lines = _aligned(lines)
        rows = _pack(lines, layout.rows, layout.cols - 2)
        if sum(map(len, rows)) < len(lines):  # still too many: the values without the names
            rows = _pack(_compact(lines), layout.rows, layout.cols - 2)
        width = min(max(_row_length(row) for row in rows) + 2, layout.cols)
        middle = layout.x0 + (layout.x1 - layout.x0) / 2
        start = layout.left + (layout.cols - width if self.cursor < middle else 0)
        box = base + Style(reverse=False, bold=False, bgcolor=_tint(base))
        for row, entries in enumerate(rows, start=1):
            cells = [Segment(" ", box)]
            for index, (text, s) in enumerate(entries):
                style = box + Style(color=Color.from_rgb(*s.color)) if s is not None else box
                cells.append(Segment(("  " if index else "") + text, style))
            cells.append(Segment(" " * width, box))
            strip = strips[row]
            strips[row] = Strip.join(
                [
                    strip.crop(0, start),
                    Strip(cells).crop(0, width),
                    strip.crop(start + width, strip.cell_length),
                ]
            )

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


def _pack(entries: list, rows: int, room: int) -> list[list]:
    """The readout's entries a row each; on fewer rows, side by side in as many as there are."""
    if len(entries) <= rows:
        return [[entry] for entry in entries]
    packed: list[list] = [[]]
    for entry in entries:
        if packed[-1] and _row_length([*packed[-1], entry]) > room:
            packed.append([])
        packed[-1].append(entry)
    return packed[:rows]


def _aligned(entries: list) -> list:
    """The x line, then the lines' values in one column after their names (a run's label can
    end in a number: `lr 0.1→0.05 at 300 0.29` read as one)."""
    head, split = entries[:1], [(text.rpartition(" "), s) for text, s in entries[1:]]
    longest = max(len(name) for (name, _, _), _ in split)
    return head + [(f"{name.ljust(longest)}  {value}", s) for (name, _, value), s in split]


def _compact(entries: list) -> list:
    """The readout in short: the x alone (`3,312`), each line's sign and value (`━ 0.18`); the
    legend names the signs."""
    return [
        (text.split()[-1] if s is None else f"{text.split()[0]} {text.rpartition(' ')[2]}", s)
        for text, s in entries
    ]


def _row_length(entries: list) -> int:
    return sum(len(text) for text, _ in entries) + 2 * (len(entries) - 1)


def _tint(base: Style) -> Color | None:
    """The readout box's background: the chart's, a little toward its text colour."""
    if base.bgcolor is None or base.color is None:
        return None
    back, fore = base.bgcolor.get_truecolor(), base.color.get_truecolor()
    return Color.from_triplet(blend_rgb(back, fore, 0.15))


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


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `count` steps over span."""
    raw = max(span, 1e-12) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def _y_ticks(low: float, high: float, rows: int) -> list[float]:
    """Round values inside the span (0.5, 1.0, 1.5), top first: a label every other row on a
    short chart, every third on a tall one."""
    every = 2 if rows <= 12 else 3
    count = max(1, min(rows // every, 8))
    while True:  # two ticks at least, so that the scale can be read
        step = nice_step(high - low, count)
        first = math.ceil(low / step - 1e-9)
        ticks = [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]
        if len(ticks) >= 2 or count > 64:
            return [round(t, 12) for t in reversed(ticks)]
        count *= 2


# Within a decade, the values a log axis is labelled at: the first set with three inside.
LOG_MANTISSAS = ((1, 2, 5), (1, 2, 3, 5), (1, 2, 3, 4, 5, 6, 8))


def _log_ticks(low: float, high: float, rows: int) -> list[float]:
    """On a log axis (low and high are log10 of the values): the powers of ten inside it
    (0.01, 0.1, 1; every second or third when they would crowd the rows); on a span of less
    than two decades 2 and 5 between them, or 3, 4, 6, 8 too (a loss from 8.7 down to 2.1
    reads 8 6 5 4 3, not 8 6 4 with its lower half unlabelled)."""
    room = max(2, rows // 2)
    first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
    if last - first + 1 >= 2:
        every = max(1, -(-(last - first + 1) // room))
        return [float(d) for d in range(last, first - 1, -every)]
    best: list[float] = []
    for mantissas in LOG_MANTISSAS:
        steps = [
            math.log10(m) + d
            for d in range(math.floor(low), math.ceil(high) + 1)
            for m in mantissas
            if low - 1e-9 <= math.log10(m) + d <= high + 1e-9
        ]
        if len(steps) > room:
            break
        best = steps
        if len(steps) >= 3:
            break
    if len(best) >= 2:
        return sorted(best, reverse=True)
    linear = _y_ticks(10**low, 10**high, rows)
    return [math.log10(t) for t in linear if t > 0]


def _y_labels(ticks: list[float], log: bool) -> list[str]:
    """The ticks' labels, all with the decimals their step needs (0.5 1.0 1.5)."""
    if log:
        if all(-3 <= t <= 4 for t in ticks):
            return [f"{10**t:.3g}" for t in ticks]
        # Far from 1, the powers of ten as 1e-5 (every label alike, none as long as 0.00001).
        return [f"1e{round(t)}" if abs(t - round(t)) < 1e-9 else f"{10**t:.0e}" for t in ticks]
    step = abs(ticks[0] - ticks[1]) if len(ticks) > 1 else 1.0
    decimals = max(0, min(6, -math.floor(math.log10(step) + 1e-9))) if step > 0 else 0
    return [f"{t:.{decimals}f}" for t in ticks]
