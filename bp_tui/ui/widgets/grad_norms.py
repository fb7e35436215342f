"""The Gradients tab: each layer's ‖dW‖ over training on a log scale, one line per layer, and a
line saying how far below the last layer's the first one's is (vanishing gradients, chapter 6).

Everything comes with the engine's GradNorms events; the layers are named as the net names them.
"""

from __future__ import annotations

import math

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from bp_tui.engine import events as ev
from bp_tui.ui.drawing.braille import DASH_DOT, DASHED, DOTTED, SOLID, BrailleChart
from bp_tui.ui.widgets.charts import Chart
from bp_tui.ui.widgets.drawn import Drawn

MAX_SAMPLES = 4_096  # kept per layer; beyond it every other sample goes (a long run's shape stays)
# One colour per layer, input side red to output side violet, readable on dark and light
# backgrounds; a deeper net cycles through them.
LAYER_COLOURS = (
    (230, 80, 80),
    (240, 150, 40),
    (190, 180, 40),
    (70, 180, 100),
    (40, 170, 200),
    (60, 110, 230),
    (160, 100, 220),
)
LAYER_PATTERNS = (DOTTED, DASH_DOT, DASHED, SOLID)  # under NO_COLOR; the output side solid
VANISHED = 1e-2  # the first layer's ‖dW‖ below this share of the last's: say it vanishes


def orders_below(first: float, last: float) -> float | None:
    """How many orders of magnitude the first layer's norm lies below the last's (None when
    either is not a positive number)."""
    if not (first > 0 and last > 0 and math.isfinite(first) and math.isfinite(last)):
        return None
    return math.log10(last / first)


def verdict(iteration: int, latest: dict[str, float]) -> Text:
    """The latest sample in words: the first layer's ‖dW‖ against the last one's."""
    if len(latest) < 2:
        return Text("one layer of weights: nothing to compare (try --hidden 100,100,100,100)")
    (first, a), *_, (last, b) = latest.items()
    orders = orders_below(a, b)
    text = Text(f"iteration {iteration:,}: ‖dW‖ of {first} {a:.2g}, of {last} {b:.2g}")
    if orders is None:
        return text
    if a < VANISHED * b:
        text.append(f" · {orders:.1f} orders of magnitude below", Style(bold=True))
        text.append(
            ": the gradient vanishes on its way back (§6.2). Xavier (sigmoid) or He (ReLU) init (i) keeps it."
        )
    else:
        text.append(f" · ratio {a / b:.2g}: the gradient reaches every layer")
    return text


class GradNormChart(Chart):
    """‖dW‖ of every layer at each sample, one line per layer, on a log axis."""

    TITLE = "‖dW‖ of each layer"
    REDRAW_SECONDS = 0.25

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(GradNormChart.log_scale, True)
        self.clear()

    def clear(self) -> None:
        self.iterations = np.zeros(0, dtype=np.int64)
        self.norms: dict[str, np.ndarray] = {}
        self.dirty = True

    def add(self, news: ev.GradNorms) -> None:
        if set(news.norms) != set(self.norms):  # another net (a reset, a load): start again
            self.iterations = np.zeros(0, dtype=np.int64)
            self.norms = {name: np.zeros(0) for name in news.norms}
        self.iterations = np.concatenate([self.iterations, news.iterations])
        self.norms = {n: np.concatenate([v, news.norms[n]]) for n, v in self.norms.items()}
        if len(self.iterations) > MAX_SAMPLES:
            self.iterations = self.iterations[1::2]
            self.norms = {n: v[1::2] for n, v in self.norms.items()}
        self.dirty = True

    @property
    def latest(self) -> dict[str, float]:
        return {n: float(v[-1]) for n, v in self.norms.items() if len(v)}

    def colours(self) -> list[tuple[int, int, int]]:
        return [LAYER_COLOURS[k % len(LAYER_COLOURS)] for k in range(len(self.norms))]

    def legend_values(self) -> dict[str, str]:
        return {name: f"{value:.1e}" for name, value in self.latest.items()}

    def plot(self) -> BrailleChart:
        chart = BrailleChart(log_y=bool(len(self.iterations)))
        x = self.iterations.astype(float)
        step = max(1, -(-len(x) // self.point_limit))
        for k, (colour, (name, values)) in enumerate(
            zip(self.colours(), self.norms.items(), strict=True)
        ):
            pattern = LAYER_PATTERNS[k % len(LAYER_PATTERNS)]
            chart.line(x[::step], values[::step], colour, name=name, **self.styled(pattern))
        self.x_end = float(self.iterations[-1]) if len(self.iterations) else 0.0
        return chart


class GradientsView(Vertical):
    """The chart, and below it the latest sample in words."""

    DEFAULT_CSS = """
    GradientsView {
        height: 1fr;
    }
    #grad-norms {
        height: 1fr;
        min-height: 8;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    #grad-verdict {
        height: auto;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield GradNormChart(id="grad-norms")
        yield Drawn(self._verdict, picture=False, id="grad-verdict")

    def add(self, news: ev.GradNorms) -> None:
        self.query_one(GradNormChart).add(news)

    def clear(self) -> None:
        self.query_one(GradNormChart).clear()
        self.query_one(GradNormChart).window = None  # a new run, from its start
        self.query_one("#grad-verdict", Drawn).changed()

    def redraw(self) -> None:
        if self.query_one(GradNormChart).redraw():
            self.query_one("#grad-verdict", Drawn).changed()

    def _verdict(self, _: Widget) -> Text:
        chart = self.query_one(GradNormChart)
        if not len(chart.iterations):
            # Here: the engine's loop (its trainer, BLAS control...) is no import of the UI's.
            from bp_tui.engine.loop import GRAD_NORMS_EVERY

            return Text(
                f"each layer's ‖dW‖ every {GRAD_NORMS_EVERY} iterations (every step in slow "
                "motion), once training runs",
                style="italic",
            )
        return verdict(int(chart.iterations[-1]), chart.latest)
