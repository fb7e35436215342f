"""Snapshots of the Draw tab: a seven on the pad, MNIST's form of it and the net's answer.

The answer is given by hand (fixed probabilities) and the seven is 20 pixels tall, so that MNIST's
form of it is scaled by exactly 1: no BLAS-rounded float reaches the picture."""

import numpy as np
from textual.widgets import TabbedContent

from bp_tui.data.canvas import Canvas
from bp_tui.data.handwriting import mnist_style
from bp_tui.engine import HyperParams
from bp_tui.engine import events as ev
from bp_tui.engine.events import RunState
from bp_tui.ui.widgets.draw_view import DrawView
from tests.helpers import until
from tests.ui_harness import app_with

PROBABILITIES = np.array([0.004, 0.021, 0.032, 0.061, 0.002, 0.011, 0.001, 0.812, 0.014, 0.042])


def seven() -> np.ndarray:
    canvas = Canvas()
    canvas.begin(4, 7)
    canvas.extend(4, 19)
    canvas.extend(22, 11)  # rows 4 to 23 with the pen: 20 tall
    canvas.end()
    return canvas.pixels.copy()


def paused_app():
    """The app as a paused engine of the book's net left it: the header says so."""
    hp = HyperParams()
    return app_with(
        [
            ev.EngineReady("sample", 10_000, 2_000, (784, 50, 10), hp),
            ev.StateChanged(RunState.PAUSED, hp),
        ],
        hp,
    )


def drawn(app, link):
    """run_before: the Draw tab with a seven, answered as an engine would."""

    async def run(pilot) -> None:
        await until(pilot, lambda: app.run_state is RunState.PAUSED)
        app.query_one(TabbedContent).active = "draw"
        view = app.query_one(DrawView)
        await until(pilot, lambda: app.focused is view)
        view.pad.canvas.load(seven())
        view.pad.changed()
        await until(pilot, lambda: view.asked is not None)
        link.events.put(ev.Prediction(view.asked, 1200, mnist_style(seven()), PROBABILITIES))
        await until(pilot, lambda: view.answer is not None)

    return run


def test_draw_tab(snap_compare):
    app, link = paused_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=drawn(app, link))


def test_draw_tab_at_80x24(snap_compare):
    app, link = paused_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=drawn(app, link))
