"""Graph 3 of a 5-layer net (784-16-16-16-16-8): every node forward then back, the current one
always in view at 80x24 and 120x40, every parameter W1..W5, b1..b5 in the side pane."""

import dataclasses
import re

import numpy as np
import pytest

from bp_tui.engine import HyperParams
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.events import RunState
from bp_tui.nn.trace import network_trace
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.inspector.graph_view import draw
from bp_tui.ui.inspector.inspector import Inspector
from tests import ui_harness
from tests.helpers import until
from tests.test_inspector import (  # noqa: F401  (charts_quiet_at_exit: an autouse fixture)
    charts_quiet_at_exit,
    open_inspector,
    plain,
)
from tests.test_inspector_code import exact_inspection

DEPTH = 5


def deep_exact_inspection():
    """The exact two-layer Inspection with three identity layers between (16 x 16, bias 0): a
    ReLU passes the pairs' non-negative outputs unchanged, so every number is as exact as
    there, and the same on every CPU."""
    two = exact_inspection()
    hidden = two.params["b1"].size
    params = {"W1": two.params["W1"], "b1": two.params["b1"]}
    for k in range(2, DEPTH):
        params[f"W{k}"], params[f"b{k}"] = np.eye(hidden), np.zeros(hidden)
    params[f"W{DEPTH}"], params[f"b{DEPTH}"] = two.params["W2"], two.params["b2"]
    return dataclasses.replace(two, params=params)


class DeepLink(ui_harness.FakeLink):
    def send(self, command) -> None:
        super().send(command)
        if isinstance(command, cmd.Inspect):
            self.events.put(deep_exact_inspection())


def deep_app():
    hp = HyperParams()
    link = DeepLink(
        [
            ev.EngineReady("sample", 10_000, 2_000, (784, 16, 16, 16, 16, 8), hp),
            ev.StateChanged(RunState.PAUSED, hp),
        ]
    )
    return BpTuiApp(lambda: link, hp, start=False)


async def open_deep_network(pilot) -> Inspector:
    inspector = await open_inspector(pilot)
    await pilot.press("3")
    await until(pilot, lambda: inspector.trace is not None)
    return inspector


def test_the_deep_trace_is_exact():
    i = deep_exact_inspection()
    tr = network_trace(i.params, i.x, i.t, i.activation)
    assert len(tr.nodes) == 2 * DEPTH and len(tr.steps) == 4 * DEPTH
    assert tr.edges["loss"].value == pytest.approx(np.log(8))  # y = 1/8 for every image


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_step_keeps_its_node_in_view(size):
    app = deep_app()
    async with app.run_test(size=size) as pilot:
        inspector = await open_deep_network(pilot)
        trace = inspector.trace
        for k in range(len(trace.steps)):
            inspector.step_to(k)
            inspector.query_one("#insp-graph-view").render()  # draws, and places the focus
            left, right = inspector.focus_columns
            assert 0 <= left and right < inspector.graph_width(), (k, trace.steps[k].node)
            picture = inspector.query_one("#insp-graph-view").render().plain
            assert trace.steps[k].node in picture
        text = plain(inspector.query_one("#insp-side").render())
        for name in (f"{p}{k}" for k in range(1, DEPTH + 1) for p in "Wb"):
            assert name in text


def on_step(*keys):
    async def run(pilot) -> None:
        await open_deep_network(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    return run


def test_graph3_at_depth_5_forward_at_120x40(snap_compare):
    app = deep_app()
    keys = ["right"] * 5  # Affine3 forward
    assert snap_compare(app, terminal_size=(120, 40), run_before=on_step(*keys))


def test_graph3_at_depth_5_backward_at_80x24(snap_compare):
    app = deep_app()
    keys = ["right"] * 14  # Affine4 backward: d W4, d b4 and d z3
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_step(*keys))


def wide_sigmoid_trace():
    """784-100-100-100-100-10 with sigmoid: parameter labels as wide as the reviewer saw them."""
    rng = np.random.default_rng(0)
    sizes = (784, 100, 100, 100, 100, 10)
    params = {}
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
        params[f"W{k}"] = rng.normal(0, 0.01, (n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    x, t = rng.random((100, 784)), rng.integers(0, 10, 100)
    return network_trace(params, x, t, "sigmoid")


@pytest.mark.parametrize("width", [73, 113])  # graph 3's box inside 80 and 120 columns
def test_a_windowed_graph_shows_every_parameter_whole(width):
    """A parameter drawn at all is drawn whole: its name, its mean, and its gradient (or "?")
    right of the arrow, never cut off by the window's edge."""
    trace = wide_sigmoid_trace()
    for k in range(-1, len(trace.steps)):
        picture, _ = draw(trace, k, {}, width)
        lines = picture.plain.split("\n")
        assert max(map(len, lines)) <= width
        shown = [
            e for e in trace.edges if trace.edges[e].kind == "param" and f"{e} (" in picture.plain
        ]
        stats = [ln for ln in lines if "μ" in ln]
        # A parameter's line: "μ <mean> │ <gradient or ?>", once per parameter shown.
        whole = sum(len(re.findall(r"μ \S+ │ (?:‖d‖ \S+|\?)", ln)) for ln in stats)
        assert whole == len(shown), (k, shown, lines)
        # Every layer is in view or counted as out of it.
        in_view = sum(f" {n.name} " in picture.plain for n in trace.nodes)
        counts = [int(n) for n in re.findall(r"(\d+) more", picture.plain)]
        assert in_view + sum(counts) == len(trace.nodes), (k, lines)


async def test_v_gives_a_short_screen_the_step_s_details_and_v_gives_the_graph_back():
    """At 80x24 the step's pane shows two lines under the graph; v hides the graph (the steps
    bar above still names the node), and the pane's title says so at the top of the screen."""
    app = deep_app()
    async with app.run_test(size=(80, 24)) as pilot:
        inspector = await open_deep_network(pilot)
        await pilot.press("n", "n")
        node, graph = inspector.query_one("#insp-node"), inspector.query_one("#insp-graph")
        await until(pilot, lambda: "v: these details alone" in str(node.border_title))
        on_screen = inspector.scrollable_content_region.bottom - node.region.y
        await pilot.press("v")
        await until(pilot, lambda: not graph.display and "v: the graph again" in node.border_title)
        await until(pilot, lambda: inspector.scrollable_content_region.bottom - node.region.y > 12)
        assert on_screen < 8  # what the pane had beside the graph
        await pilot.press("v")
        await until(pilot, lambda: graph.display and "these details alone" in node.border_title)
