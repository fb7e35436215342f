"""The Inspector's graph 3 on a learner's layers (bp-tui --layers): their trace comes from the
engine (their code runs only there), each step shows their method's source with the lines
behind it marked, and a wrong backward pass has its first wrong node marked and explained."""

import re

import pytest

from bp_tui.nn.trace import WrongNode
from bp_tui.ui.inspector.inspector import Inspector
from tests.helpers import until
from tests.test_dashboard import text_of
from tests.test_layers_dashboard import LEARNERS, app_on, shown


def marked_lines(inspector) -> list[str]:
    """The code pane's marked lines ("▶ ..."), as the screen shows them."""
    text = text_of(inspector.query_one("#insp-node"))
    return [line.strip("│ ") for line in text.splitlines() if "▶" in line]


async def open_graph_3(pilot, app) -> Inspector:
    await pilot.press("t", "3")
    inspector = app.query_one(Inspector)
    await until(pilot, lambda: inspector.inspection and inspector.inspection.report)
    return inspector


@pytest.mark.parametrize(
    "file, affine, forward",
    [
        ("book_style.py", "Affine", "np.dot"),
        # other names for everything: weights, bias, grad_weights, the @ operator
        ("style_korean.py", "Affine_Layer", "inp @ self.weights + self.bias"),
    ],
)
async def test_their_code_and_its_lines_are_shown_for_each_step_of_a_correct_file(
    file, affine, forward
):
    app, _ = app_on(LEARNERS / file)
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_graph_3(pilot, app)
        assert inspector.inspection.wrong is None
        node = inspector.query_one("#insp-node")
        await pilot.press("n")  # Affine1's forward: their Affine.forward
        await until(pilot, lambda: f"the code: {affine}.forward  {file}:" in text_of(node))
        await until(
            pilot,
            lambda: any(forward in line and "→ a1" in line for line in marked_lines(inspector)),
        )
        await pilot.press("end")  # Affine1's backward: dW, db stored, dx returned
        await until(pilot, lambda: f"{affine}.backward" in text_of(node))
        await until(pilot, lambda: len(marked_lines(inspector)) == 3)
        marked = " ".join(marked_lines(inspector))
        for label in ("← d W1", "← d b1", "← d x"):
            assert label in marked
        assert "✖" not in text_of(app.query_one("#insp-graph"))


async def test_a_wrong_relu_is_the_first_wrong_node_marked_in_the_graph_and_the_pane():
    app, _ = app_on(LEARNERS / "fault_relu_mask_wrong_side.py")
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_graph_3(pilot, app)
        await until(pilot, lambda: isinstance(inspector.inspection.wrong, WrongNode))
        assert (inspector.inspection.wrong.node, inspector.inspection.wrong.edge) == ("Relu1", "a1")
        legend = inspector.query_one("#insp-legend")
        await until(pilot, lambda: "✖ Relu1 (red) is the first node" in text_of(legend))
        await pilot.press("end", "left")  # Relu1's backward step
        node = inspector.query_one("#insp-node")
        await until(pilot, lambda: "Relu.backward" in text_of(node))
        # their faulty line is the one behind the step, and the pane says what it should be
        await until(
            pilot, lambda: any("dout[~self.mask] = 0" in line for line in marked_lines(inspector))
        )
        await until(
            pilot,
            lambda: re.search(
                r"✖ first wrong node: Relu1, its d a1\[\d+, \d+\] is \S+, should be \S+",
                shown(node),
            ),
        )


async def test_a_layer_that_raises_is_the_inspector_s_one_line_and_the_run_is_not_failed():
    """Their Affine.forward says `slef`: every forward raises, from the start. The dashboard
    stays up (ready, not failed) and graph 3 says what raised and where, not a traceback."""
    from bp_tui.engine import RunState

    app, _ = app_on(LEARNERS / "fault_typo_slef.py")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await pilot.press("t", "3")
        graph = app.query_one("#insp-graph")
        await until(
            pilot,
            lambda: (
                "your Affine.forward raised NameError: name 'slef' is not defined at "
                "fault_typo_slef.py line" in shown(graph)
            ),
        )
        assert app.run_state is RunState.READY


async def test_a_transposed_dw_is_shown_with_its_shape_and_is_the_first_wrong_node():
    """Their dW has W's shape transposed: the check ends FAILED, Affine2 (the first in the
    backward pass) is marked with the shape it should have, and Affine1's backward, where the
    picture of dW1's columns would be, says the shapes instead."""
    app, _ = app_on(LEARNERS / "fault_affine_dw_transposed.py")
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_graph_3(pilot, app)
        await until(pilot, lambda: isinstance(inspector.inspection.wrong, WrongNode))
        wrong = inspector.inspection.wrong
        assert (wrong.node, wrong.edge) == ("Affine2", "W2")
        side = inspector.query_one("#insp-side")
        await until(pilot, lambda: re.search(r"W1 .*✖ shape", shown(side)))
        await until(pilot, lambda: "✖ your d W1 has shape (8, 784), W1 is (784, 8)" in shown(side))
        node = inspector.query_one("#insp-node")
        await pilot.press("end", "left", "left")  # Affine2's backward
        await until(
            pilot,
            lambda: (
                "✖ first wrong node: Affine2, its d W2 has shape (10, 8), should be (8, 10)"
                in shown(node)
            ),
        )
        await pilot.press("end")  # Affine1's backward: their dW1 is (8, 784)
        await until(pilot, lambda: "your d W1 has shape (8, 784), W1 is (784, 8)" in shown(side))


async def test_a_db_of_the_batch_s_shape_shows_the_book_s_rule_and_their_shape_apart():
    app, _ = app_on(LEARNERS / "fault_affine_db_is_dout.py")
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_graph_3(pilot, app)
        await until(pilot, lambda: isinstance(inspector.inspection.wrong, WrongNode))
        assert inspector.inspection.wrong.node == "Affine2"
        node = inspector.query_one("#insp-node")
        await pilot.press("end")
        await until(pilot, lambda: "Affine.backward" in text_of(node))
        await until(pilot, lambda: "sum(dout, axis=0) -> (8,)" in shown(node))
        await until(pilot, lambda: "your d b1 has shape (100, 8), b1 is (8,)" in shown(node))


async def test_gradients_never_stored_are_graph_3_s_one_line_not_a_check_for_ever():
    """Their Affine never stores dW and db: graph 3 says the check could not run and why
    (it waited for ever on "…" before)."""
    app, _ = app_on(LEARNERS / "fault_affine_grads_never_stored.py")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t", "3")
        inspector = app.query_one(Inspector)
        await until(
            pilot,
            lambda: (
                "gave no gradient for W1, b1, W2, b2: does your Affine.backward store self.dW"
                in shown(inspector.query_one("#insp-graph"))
            ),
        )
