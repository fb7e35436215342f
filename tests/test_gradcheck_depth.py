"""The Train tab's gradient check reports every parameter of a deep net, at 80x24 too."""

import numpy as np
import pytest

from bp_tui.engine import HyperParams
from bp_tui.engine import events as ev
from bp_tui.nn import MultiLayerNet, gradient_check
from bp_tui.ui.widgets.gradcheck_panel import GradCheckPanel
from tests.helpers import until
from tests.test_dashboard import text_of
from tests.ui_harness import app_with

NAMES = [f"{p}{k}" for k in range(1, 6) for p in "Wb"]


@pytest.fixture(scope="module")
def report():
    net = MultiLayerNet(784, [20] * 4, 10, "sigmoid", "xavier", rng=np.random.default_rng(0))
    x, t = np.random.default_rng(1).random((3, 784)), np.array([1, 2, 3])
    return gradient_check(dict(net.params), x, t, activation="sigmoid")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_parameter_is_on_screen(report, size):
    assert list(report.params) == NAMES
    app, _ = app_with([ev.GradChecked(report)], HyperParams())
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(GradCheckPanel)
        await until(pilot, lambda: panel.report is report)
        await pilot.pause()
        shown = text_of(panel)
        for name in NAMES:
            assert name in shown, shown


async def test_at_80x24_the_head_keeps_its_line_and_the_keys_their_border():
    """The narrow panel said "passed   exact" / "mode" over two lines and cut its border to
    "iteration 10,00…", the keys gone."""
    net = MultiLayerNet(784, [20], 10, rng=np.random.default_rng(0))
    x, t = np.random.default_rng(1).random((3, 784)), np.array([1, 2, 3])
    exact = gradient_check(dict(net.params), x, t, exact=True, iteration=10_000)
    app, _ = app_with([ev.GradChecked(exact)], HyperParams())
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(GradCheckPanel)
        await until(pilot, lambda: panel.report is exact)
        await until(pilot, lambda: "passed · exact" in text_of(panel).splitlines()[1])
        await until(pilot, lambda: panel.border_subtitle == "g: run  x: mode")
