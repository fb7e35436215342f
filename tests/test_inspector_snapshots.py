"""Pictures of the graph inspector: the book's apple-and-orange graph step by step, the network
on a real mini-batch going forward and backward, the edit form refusing a bad value, the layer
code beside the rule, and a hidden unit's gradient as a picture."""

import dataclasses

from textual.widgets import Input

from bp_tui.engine import HyperParams
from bp_tui.engine import commands as cmd
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.inspector.inspector import Inspector
from bp_tui.ui.screens.inspector_edit import InputEditForm
from tests import ui_harness
from tests.helpers import until
from tests.test_inspector import (  # noqa: F401  (charts_quiet_at_exit: an autouse fixture)
    FakeLink,
    charts_quiet_at_exit,
    make_app,
    open_inspector,
    open_network,
)
from tests.test_inspector_code import exact_inspection

SIZE = (120, 40)


def on_graph_2(*keys: str):
    """run_before: the inspector tab, graph 2, then the given keys."""

    async def run(pilot) -> None:
        await open_inspector(pilot)
        await pilot.press("2", *keys)
        await pilot.pause()

    return run


def on_graph_3(*keys: str):
    """run_before: the inspector tab, graph 3 traced on the engine's batch, then the keys."""

    async def run(pilot) -> None:
        await open_network(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    return run


def test_graph2_step_0(snap_compare):
    """Nothing computed yet: the inputs given, every other edge "?"."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_2())


def test_graph2_first_step(snap_compare):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_2("right"))


def test_graph2_midway_through_forward(snap_compare):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_2("right", "right"))


def test_graph2_end_of_forward(snap_compare):
    app, _ = make_app()
    assert snap_compare(
        app, terminal_size=SIZE, run_before=on_graph_2("right", "right", "right", "right")
    )


def test_graph2_midway_through_backward(snap_compare):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_2("end", "left", "left"))


def test_graph2_end(snap_compare):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_2("end"))


def test_graph3_forward_step(snap_compare):
    """Affine1 forward: a1 = x . W1 + b1 with the shapes; every gradient still "?"."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_3("right"))


def test_graph3_backward_step(snap_compare):
    """Affine1 backward: dW1 = x^T . dout, (784, 100) . (100, 50) -> (784, 50), and the gradient
    check of the same batch beside the backprop gradients."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_3("end"))


def test_graph3_at_80x24_follows_the_current_node(snap_compare):
    """Wider than the terminal: the graph scrolls so that SoftmaxWithLoss is in view."""
    app, _ = make_app()
    keys = ("right", "right", "right", "right")
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_graph_3(*keys))


def test_edit_form_refuses_a_bad_value(snap_compare):
    app, _ = make_app()

    async def type_a_fraction_of_an_orange(pilot) -> None:
        await on_graph_2()(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, InputEditForm))
        field = pilot.app.screen.query_one("#in-orange_num", Input)
        field.value = ""
        field.focus()
        await pilot.press("2", "full_stop", "5", "enter")
        error = pilot.app.screen.query_one("#err-orange_num")
        await until(pilot, lambda: field.value == "2.5" and "whole number" in str(error.render()))

    assert snap_compare(app, terminal_size=SIZE, run_before=type_a_fraction_of_an_orange)


def test_graph3_step_0_nothing_computed(snap_compare):
    """A fresh batch opens on step 0: x, W and b given, every other edge "?"."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_3())


def test_graph3_trained_net_no_false_failure(snap_compare):
    """300 steps in: book mode's figures show the 1e-7 offset, the verdict is ✔ for each."""
    app, _ = make_app(recording="trained_inspection")
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_3("end"))


class ExactLink(FakeLink):
    """Answers Inspect with tests.test_inspector_code's exact inspection: numbers that every
    CPU and BLAS computes alike, so the gradient picture is the same everywhere."""

    def __init__(self) -> None:
        super().__init__()
        # The header says the exact net's shape, 784-16-8 (FakeLink announces 784-50-10).
        ready, *rest = [self.events.get() for _ in range(self.events.qsize())]
        for event in (dataclasses.replace(ready, shape=(784, 16, 8)), *rest):
            self.events.put(event)

    def send(self, command) -> None:
        ui_harness.FakeLink.send(self, command)
        if isinstance(command, cmd.Inspect):
            self.events.put(exact_inspection())


def test_gradient_picture_of_a_hidden_unit(snap_compare):
    """The last step (Affine1 backward): d W1's column of the unit this batch moves most, as
    28 x 28 pixels (blue: the step raises the weight; red: lowers it), the code that computed
    it marked beside the rule, and excerpts around the largest values."""
    link = ExactLink()
    app = BpTuiApp(lambda: link, HyperParams(), start=False)

    async def at_the_end(pilot) -> None:
        inspector = await open_inspector(pilot)
        await pilot.press("3")
        await until(pilot, lambda: inspector.trace is not None)
        await pilot.press("end")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=at_the_end)


def test_code_pane_in_the_projector_theme(snap_compare):
    """add_apple_orange going backward: AddLayer.backward's line marked, in black on white."""
    link = FakeLink()
    app = BpTuiApp(lambda: link, HyperParams(), start=False, theme="projector")
    assert snap_compare(app, terminal_size=SIZE, run_before=on_graph_2("end", "left", "left"))


def test_code_pane_at_80x24_shows_only_the_marked_lines(snap_compare):
    """A small screen: the panes stack below the graph (scrolled to here) and the code shows
    its def line and the line computing the step."""
    app, _ = make_app()

    async def scrolled_to_the_node(pilot) -> None:
        await on_graph_2("right", "right", "right")(pilot)
        inspector = pilot.app.query_one(Inspector)
        inspector.scroll_to_widget(inspector.query_one("#insp-node"), animate=False, top=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=scrolled_to_the_node)
