"""The Gradients tab (each layer's ‖dW‖ over training, log scale) and the Learned tab's
activation histograms, fed with made-up engine news whose numbers every CPU draws alike."""

import numpy as np
import pytest
from textual.widgets import TabbedContent

from bp_tui.engine import HyperParams
from bp_tui.engine import events as ev
from bp_tui.ui.widgets.grad_norms import GradNormChart, orders_below, verdict
from bp_tui.ui.widgets.learned import LearnedView, layer_title, param_shapes
from tests.helpers import until
from tests.ui_harness import app_with

HP = HyperParams(iters=2000, activation="sigmoid", hidden=100)
WIDTHS = (784, 100, 100, 100, 100, 10)
LAYERS = [f"Affine{k}" for k in range(1, 6)]


def grad_norms(start: int, count: int, layers=LAYERS) -> ev.GradNorms:
    """Sigmoid with std 0.01 as it looks: each layer ~1.5 orders of magnitude below the next,
    wobbling by tenths (exact binary fractions of powers of ten: no CPU draws them otherwise)."""
    iterations = start + 10 * np.arange(1, count + 1)
    wobble = 1 + (iterations // 10 % 4) / 8
    depth = len(layers)
    return ev.GradNorms(
        iterations,
        {name: 0.5 * 10.0 ** (-1.5 * (depth - k)) * wobble for k, name in enumerate(layers, 1)},
    )


def activations(iteration: int = 2000) -> ev.Activations:
    """Figure 6-10's shape: a sigmoid's outputs piled at 0 and 1, less so in deeper layers."""
    edges = np.linspace(0, 1, 31)
    histograms = {}
    for k in range(1, 5):
        counts = np.full(30, 500 * k)
        counts[0] = counts[-1] = 40_000 - 2_000 * k
        histograms[f"Activation_function{k}"] = (counts, edges)
    return ev.Activations(iteration, "sigmoid", 1000, histograms)


def insight(iteration: int = 2000) -> ev.Insight:
    """A 5-layer net's Insight with round numbers: each parameter's histogram a triangle."""
    names = [f"{p}{k}" for k in range(1, 6) for p in "Wb"]
    triangle = (np.minimum(np.arange(32), np.arange(32)[::-1]) * 4, np.linspace(-0.5, 0.5, 33))
    small = (triangle[0], triangle[1] / 1024)
    w1 = np.tile(np.linspace(-0.25, 0.25, 784, dtype=np.float32)[:, None], (1, 100))
    return ev.Insight(
        iteration,
        20.0,
        "sigmoid",
        predictions=np.zeros(2000, np.uint8),
        confidences=np.full(2000, 0.5, np.float32),
        confusion=np.eye(10, dtype=np.int64) * 200,
        first_weights=w1,
        histograms=dict.fromkeys(names, triangle),
        grad_histograms=dict.fromkeys(names, small),
        fire_rate=None,
        dead_fraction=None,
    )


def news(count: int = 200):
    ready = ev.EngineReady("sample", 10_000, 2_000, WIDTHS, HP)
    return [ready, *(grad_norms(10 * 20 * b, 20) for b in range(count // 20))]


async def show_tab(pilot, tab: str) -> None:
    pilot.app.query_one(TabbedContent).active = tab
    await pilot.pause()


def test_orders_below_and_the_verdict():
    assert orders_below(1e-7, 0.1) == pytest.approx(6)
    assert orders_below(0.0, 0.1) is None and orders_below(float("nan"), 1.0) is None
    vanishing = verdict(1_200, {"Affine1": 3e-7, "Affine5": 0.3}).plain
    assert "iteration 1,200" in vanishing and "6.0 orders of magnitude below" in vanishing
    assert "Affine1" in vanishing and "Affine5" in vanishing
    healthy = verdict(10, {"Relu1": 1.0, "Affine1": 0.2, "Affine2": 0.5}).plain
    assert "reaches every layer" in healthy and "vanishes" not in healthy
    assert "nothing to compare" in verdict(10, {"Affine1": 0.2}).plain


def test_parameter_shapes_and_layer_titles_come_from_the_widths():
    names = [f"{p}{k}" for k in range(1, 6) for p in "Wb"]
    shapes = param_shapes(names, WIDTHS)
    assert shapes["W1"] == (784, 100) and shapes["b5"] == (10,) and shapes["W5"] == (100, 10)
    assert param_shapes(names, (784, 50, 10)) == {}  # widths of another net: no shapes
    assert [layer_title(k, 5) for k in (1, 3, 5)] == [
        "Layer 1 (input → hidden)",
        "Layer 3 (hidden → hidden)",
        "Layer 5 (hidden → output)",
    ]


async def test_the_chart_draws_every_layer_named_and_starts_again_at_reset():
    app, link = app_with(news())
    async with app.run_test(size=(120, 40)) as pilot:
        await show_tab(pilot, "gradients")
        chart = app.query_one(GradNormChart)
        await until(pilot, lambda: len(chart.iterations) == 200 and not chart.dirty)
        assert list(chart.norms) == LAYERS
        await until(pilot, lambda: all(name in str(chart.border_subtitle) for name in LAYERS))
        verdict_text = str(app.query_one("#grad-verdict").render())
        assert "iteration 2,000" in verdict_text and "6.0 orders of magnitude" in verdict_text
        assert chart.chart.log_y and len(chart.chart.series) == 5
        link.events.put(ev.RunReset(HP, WIDTHS))
        await until(pilot, lambda: len(chart.iterations) == 0)
        link.events.put(grad_norms(0, 3, ["Affine1", "Affine2"]))  # a two-layer net now
        await until(pilot, lambda: list(chart.norms) == ["Affine1", "Affine2"])
        assert chart.iterations.tolist() == [10, 20, 30]


async def test_a_long_run_keeps_a_bounded_history():
    chart = GradNormChart()
    for block in range(30):
        chart.add(grad_norms(block * 2_000, 200))
    assert len(chart.iterations) <= 4_096 and chart.iterations[-1] == 60_000
    assert all(len(v) == len(chart.iterations) for v in chart.norms.values())


async def test_the_learned_tab_shows_each_hidden_layers_activations():
    app, link = app_with([*news(20), insight(), activations()])
    async with app.run_test(size=(120, 40)) as pilot:
        await show_tab(pilot, "learned")
        learned = app.query_one(LearnedView)
        await until(pilot, lambda: learned.activations is not None)
        assert learned.widths == WIDTHS
        text = learned.query_one("#learned-histograms").render().plain
        assert "on 1,000 test images, iteration 2,000" in text
        for k in range(1, 5):
            assert f"Activation_function{k}" in text
        assert "Layer 5 (hidden → output)" in text and "W3 (100 × 100)" in text
        assert "dW5, last batch" in text


def test_gradients_tab_at_120x40(snap_compare):
    app, _ = app_with(news(), HP)
    assert snap_compare(app, terminal_size=(120, 40), run_before=on_gradients())


def test_gradients_tab_at_80x24(snap_compare):
    app, _ = app_with(news(), HP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_gradients())


def on_gradients():
    async def run(pilot) -> None:
        await show_tab(pilot, "gradients")
        chart = pilot.app.query_one(GradNormChart)
        await until(pilot, lambda: len(chart.iterations) == 200 and not chart.dirty)
        await pilot.pause()

    return run


def on_learned():
    async def run(pilot) -> None:
        await show_tab(pilot, "learned")
        learned = pilot.app.query_one(LearnedView)
        await until(pilot, lambda: learned.activations is not None and learned.insight)
        await pilot.pause()

    return run


def test_learned_tab_at_depth_5_at_120x40(snap_compare):
    app, _ = app_with([*news(20), insight(), activations()], HP)
    assert snap_compare(app, terminal_size=(120, 40), run_before=on_learned())


def test_learned_tab_at_depth_5_at_80x24(snap_compare):
    app, _ = app_with([*news(20), insight(), activations()], HP)
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_learned())
