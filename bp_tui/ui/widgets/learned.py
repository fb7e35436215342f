"""The Learned tab: a hidden unit's first-layer weights as a picture, per-layer histograms of the
weights and of their last gradients, and the share of ReLUs that never fire.

Everything comes with the engine's Insight events; the view takes focus when its tab is shown.
"""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget

from bp_tui.engine import events as ev
from bp_tui.ui.colours import theme_color
from bp_tui.ui.drawing.halfblock import diverging, side_by_side
from bp_tui.ui.widgets.closing import unless_closing
from bp_tui.ui.widgets.drawn import Drawn

BLOCKS = " ▁▂▃▄▅▆▇█"  # eighths of a cell, for bars
BAR_ROWS = 3
UNIT_PAGE = 10  # PgUp/PgDn step through this many units
# The help's rows for key pairs
PAGES = Binding.Group(f"{UNIT_PAGE} units back / on")
ENDS = Binding.Group("First / last unit")
SCROLL = Binding.Group("Scroll the histograms")
STYLES = ("muted", "title", "weights", "grads", "dead", "alive")


def layer_title(k: int, layers: int) -> str:
    """Layer k (from 1) of a net of `layers` weight layers: where it sits."""
    source = "input" if k == 1 else "hidden"
    target = "output" if k == layers else "hidden"
    return f"Layer {k} ({source} → {target})"


def param_shapes(names: list[str], widths: tuple[int, ...] | None) -> dict[str, tuple[int, ...]]:
    """Each parameter's shape from the net's widths (784, 100, ..., 10), the parameters being
    the net's weights and biases in its order (W, b of layer 1, then of layer 2...); empty
    when the widths do not fit them."""
    if not widths or len(names) != 2 * (len(widths) - 1):
        return {}
    shapes = {}
    for k, (weights, biases) in enumerate(zip(names[0::2], names[1::2], strict=True)):
        shapes[weights], shapes[biases] = (widths[k], widths[k + 1]), (widths[k + 1],)
    return shapes


def bars(counts: np.ndarray, rows: int = BAR_ROWS) -> list[str]:
    """A histogram as `rows` lines of block characters, the tallest bin filling the height."""
    counts = np.asarray(counts)
    top = counts.max() if counts.size else 0
    eighths = np.zeros(len(counts), dtype=int)
    if top > 0:
        # Any bin with something in it shows at least one eighth: a lone outlier stays visible.
        eighths = np.where(counts > 0, np.maximum(np.rint(counts / top * rows * 8), 1), 0)
    lines = []
    for row in range(rows - 1, -1, -1):
        level = np.clip(eighths - row * 8, 0, 8)
        lines.append("".join(BLOCKS[int(v)] for v in level))
    return lines


def axis(edges: np.ndarray, width: int) -> str:
    """The value range under a histogram: low end left, high end right, 0 where it falls."""
    low, high = float(edges[0]), float(edges[-1])
    left, right = f"{low:.2g}", f"{high:.2g}"
    line = list(left + " " * max(width - len(left) - len(right), 1) + right)
    if low < 0 < high:
        zero = int((0 - low) / (high - low) * width)
        if len(left) < zero < len(line) - len(right) - 1:
            line[zero] = "0"
    return "".join(line)


class HistogramScroll(VerticalScroll, can_focus=False):
    """Scrolls the histograms on a short terminal; the view's up/down keys drive it."""


class LearnedView(Horizontal, can_focus=True):
    DEFAULT_CSS = """
    LearnedView {
        height: 1fr;
    }
    LearnedView > .learned--muted { color: $text-muted; }
    LearnedView > .learned--title { color: $text-primary; text-style: bold; }
    LearnedView > .learned--weights { color: $primary; }
    LearnedView > .learned--grads { color: $accent; }
    LearnedView > .learned--dead { color: $text-error; text-style: bold; }
    LearnedView > .learned--alive { color: $text-success; }
    #learned-unit, #learned-scroll {
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    LearnedView:focus #learned-unit {
        border: round $primary;
    }
    #learned-unit {
        width: 34;
        height: 1fr;
    }
    #learned-scroll {
        width: 1fr;
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    #learned-histograms {
        height: auto;
    }
    """
    COMPONENT_CLASSES = {f"learned--{name}" for name in STYLES}
    BINDINGS = [
        Binding("left", "move(-1)", "Unit", key_display="←→"),
        Binding("right", "move(1)", "Next unit", show=False, key_display="←→"),
        Binding("pageup", f"move(-{UNIT_PAGE})", f"-{UNIT_PAGE} units", show=False, group=PAGES),
        Binding("pagedown", f"move({UNIT_PAGE})", f"+{UNIT_PAGE} units", show=False, group=PAGES),
        Binding("home", "jump(0)", "First unit", show=False, group=ENDS),
        Binding("end", "jump(-1)", "Last unit", show=False, group=ENDS),
        Binding("d", "next_dead", "Next dead unit"),
        Binding("up", "scroll_histograms(-1)", "Scroll up", show=False, group=SCROLL),
        Binding("down", "scroll_histograms(1)", "Scroll down", show=False, group=SCROLL),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.insight: ev.Insight | None = None
        self.activations: ev.Activations | None = None
        self.widths: tuple[int, ...] | None = None  # the net's layer widths, input to output
        self.unit = 0

    def compose(self) -> ComposeResult:
        yield Drawn(self._unit, id="learned-unit")
        with HistogramScroll(id="learned-scroll"):
            yield Drawn(self._histograms, id="learned-histograms")

    @unless_closing
    def on_mount(self) -> None:
        self.query_one("#learned-scroll").border_title = "Weights and gradients"
        self.redraw()

    def on_show(self) -> None:
        self.focus()  # shown = its tab was chosen: the arrows step through the units

    def on_hide(self) -> None:
        if self.has_focus:
            self.screen.set_focus(None)

    @property
    def units(self) -> int:
        return self.insight.first_weights.shape[1] if self.insight is not None else 0

    def show(self, insight: ev.Insight) -> None:
        self.insight = insight
        self.unit = min(self.unit, max(self.units - 1, 0))  # the net may have shrunk at reset
        self.redraw()

    def show_activations(self, activations: ev.Activations) -> None:
        self.activations = activations
        self.redraw()

    # ---- keys -----------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        if self.units:
            self.unit = int(np.clip(self.unit + delta, 0, self.units - 1))
            self.redraw()

    def action_jump(self, unit: int) -> None:
        if self.units:
            self.action_move(unit % self.units - self.unit)

    def action_next_dead(self) -> None:
        rates = self.insight.fire_rate if self.insight is not None else None
        if self.insight is not None and rates is None:
            self.notify("Sigmoid units never die (their output is never exactly 0): d is ReLU's.")
            return
        dead = np.flatnonzero(rates == 0) if rates is not None else []
        if not len(dead):
            self.notify("No dead units: every hidden unit fires on some test image.")
            return
        later = dead[dead > self.unit]
        self.action_jump(int(later[0] if len(later) else dead[0]))

    def action_scroll_histograms(self, lines: int) -> None:
        self.query_one("#learned-scroll").scroll_relative(y=lines, animate=False)

    # ---- drawing --------------------------------------------------------------------------------

    def redraw(self) -> None:
        unit = self.query_one("#learned-unit")
        # Counted from 0, as the weights' columns and the Inspector's "unit 34" are.
        unit.border_title = f"Unit {self.unit} of 0-{self.units - 1}" if self.units else "Unit"
        unit.border_subtitle = f"PgUp/PgDn ±{UNIT_PAGE}" if self.units else ""
        scroll = self.query_one("#learned-scroll")
        if self.insight is not None:
            scroll.border_subtitle = f"iteration {self.insight.iteration:,}"
        for part in self.query(Drawn):
            part.changed()

    def style(self, name: str) -> Style:
        # Faded colours (alpha) only come out right blended with the background: full style.
        return self.get_component_rich_style(f"learned--{name}", partial=name != "muted")

    def _unit(self, part: Widget) -> RenderableType:
        if self.insight is None:
            return Text("after the first evaluation", style=self.style("muted"))
        weights = self.insight.first_weights[:, self.unit]
        side = int(round(np.sqrt(len(weights))))
        negative, zero = theme_color(self, "error"), theme_color(self, "surface")
        positive = theme_color(self, "primary")
        out = Text(no_wrap=True, end="")
        rates = self.insight.fire_rate
        if rates is None:
            out.append("Sigmoid: no unit is ever dead", self.style("muted"))
        elif rates[self.unit] == 0:
            out.append("dead: fires on no test image", self.style("dead"))
        else:
            out.append(f"fires on {rates[self.unit]:.1%} of test images", self.style("alive"))
        out.append("\n")
        out.append_text(diverging(weights.reshape(side, side), negative, zero, positive))
        out.append("\n")
        for label, colour in (("<0", negative), (">0", positive)):
            out.append("██", Style(color=colour.hex6))
            out.append(f" {label}  ", self.style("muted"))
        scale = float(np.abs(weights).max()) if weights.size else 0.0
        out.append(f"full at ±{scale:.3g}", self.style("muted"))
        room = part.size.height - out.plain.count("\n") - 3
        if rates is not None and room > 0 and part.size.width > 0:
            out.append("\n\n")
            out.append_text(self._fire_strip(rates, part.size.width, room))
        return out

    def _fire_strip(self, rates: np.ndarray, width: int, rows: int) -> Text:
        """Every unit's firing rate as one bar each (× for a dead one), this unit reversed;
        the units around this one when they do not all fit."""
        out = Text("each unit's firing rate", self.style("muted"), end="")
        shown = width * rows
        start = self.unit // shown * shown
        for u in range(start, min(start + shown, len(rates))):
            if (u - start) % width == 0:
                out.append("\n")
            rate = float(rates[u])
            char = BLOCKS[max(1, int(round(rate * 8)))] if rate > 0 else "×"
            style = self.style("weights" if rate > 0 else "dead")
            out.append(char, style + Style(reverse=True) if u == self.unit else style)
        return out

    def _histograms(self, part: Widget) -> RenderableType:
        if self.insight is None:
            return Text("after the first evaluation", style=self.style("muted"))
        insight = self.insight
        out = Text(no_wrap=True, end="")
        out.append_text(self._dead_line())
        bins = len(next(iter(insight.histograms.values()))[0])
        # Weights and gradients side by side when both fit, else one above the other.
        pair = part.size.width >= 2 * bins + 4
        out.append_text(self._activation_histograms(part.size.width))
        names = list(insight.histograms)
        shapes = param_shapes(names, self.widths)
        layers = list(zip(names[0::2], names[1::2], strict=True))
        for k, names in enumerate(layers, start=1):
            out.append(f"\n\n{layer_title(k, len(layers))}", self.style("title"))
            for name in names:
                size = " × ".join(f"{n:,}" for n in shapes[name]) if name in shapes else ""
                head = f"{name} ({size})" if size else name
                weights = self._histogram(head, insight.histograms[name], "weights")
                grads = self._histogram(
                    f"d{name}, last batch", insight.grad_histograms.get(name), "grads"
                )
                out.append("\n")
                if pair:
                    out.append_text(side_by_side([weights, grads], 4))
                else:
                    out.append_text(weights)
                    out.append("\n")
                    out.append_text(grads)
        return out

    def _activation_histograms(self, width: int) -> Text:
        """Each hidden layer's activations on a batch of test images, side by side as many as
        fit, all on the same bins (the book's figures 6-10 to 6-14)."""
        out = Text(no_wrap=True, end="")
        a = self.activations
        if a is None or not a.histograms:
            return out
        out.append("\n\nActivations of each hidden layer", self.style("title"))
        out.append(f"\non {a.batch:,} test images, iteration {a.iteration:,}", self.style("muted"))
        pictures = [self._histogram(name, h, "alive") for name, h in a.histograms.items()]
        bins = len(next(iter(a.histograms.values()))[0])
        per_row = max(1, (width + 3) // (bins + 3))
        for start in range(0, len(pictures), per_row):
            out.append("\n")
            out.append_text(side_by_side(pictures[start : start + per_row], 3))
        return out

    def _dead_line(self) -> Text:
        insight = self.insight
        if insight.fire_rate is None:
            return Text("Dead units: n/a (Sigmoid is never 0)", self.style("muted"))
        dead = int(np.count_nonzero(insight.fire_rate == 0))
        line = Text(end="")
        line.append("Dead ReLUs: ", self.style("title"))
        line.append(
            f"{dead} of {len(insight.fire_rate)} ({insight.dead_fraction:.0%})",
            self.style("dead" if dead else "alive"),
        )
        line.append("\nhidden units that fire on no test image", self.style("muted"))
        return line

    def _histogram(self, title: str, histogram, kind: str) -> Text:
        out = Text(no_wrap=True, end="")
        out.append(title, self.style("muted"))
        if histogram is None:
            out.append("\n(no step taken yet)", self.style("muted"))
            return out
        counts, edges = histogram
        for line in bars(counts):
            out.append("\n")
            out.append(line, self.style(kind))
        out.append("\n")
        out.append(axis(edges, len(counts)), self.style("muted"))
        return out
