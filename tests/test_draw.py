"""The Draw tab: a digit drawn with the mouse or the keys, made into MNIST's form, the net's
answer from the engine, and the drawing followed through the Inspector's graph 3."""

from __future__ import annotations

import numpy as np
import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import TabbedContent

from bp_tui.data.canvas import Canvas
from bp_tui.data.datasets import load_dataset, to_float
from bp_tui.data.handwriting import BOX, FIELD, mnist_style, net_input
from bp_tui.engine import HyperParams, RunState, blas, drawing
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.remote import ThreadLink
from bp_tui.engine.trainer import Trainer
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.inspector.inspector import Inspector
from bp_tui.ui.widgets.digits import DigitsView
from bp_tui.ui.widgets.draw_view import DrawView
from bp_tui.ui.widgets.pad_canvas import PadCanvas
from tests.helpers import until
from tests.test_engine import DATA, of, run_engine
from tests.ui_harness import app_with

# ---- the drawing made into MNIST's form ---------------------------------------------------------


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    total = image.sum()
    return (ys * image).sum() / total, (xs * image).sum() / total


def test_a_small_mark_is_scaled_to_20_pixels_keeping_its_aspect_and_centred_by_mass():
    drawing = np.zeros((FIELD, FIELD), dtype=np.uint8)
    drawing[1:9, 2:6] = 255  # 8 tall, 4 wide, in a corner
    image = mnist_style(drawing)
    assert image.dtype == np.uint8 and image.shape == (FIELD, FIELD)
    rows, columns = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    assert len(rows) == BOX and len(columns) == BOX // 2  # 8 x 4 -> 20 x 10
    y, x = centre_of_mass(image.astype(float))
    assert abs(y - FIELD / 2) <= 0.5 and abs(x - FIELD / 2) <= 0.5


def test_a_slanted_stroke_comes_out_anti_aliased_grey():
    canvas = Canvas()
    canvas.begin(3, 3)
    canvas.extend(20, 9)
    image = mnist_style(canvas.pixels)
    greys = image[(image > 0) & (image < 255)]
    assert len(greys) > 10  # grey edges, not a black-and-white stamp


def test_nothing_drawn_gives_nothing_and_the_input_is_scaled_as_the_data_sets():
    assert mnist_style(np.zeros((FIELD, FIELD), dtype=np.uint8)) is None
    assert net_input(np.zeros((FIELD, FIELD))) is None
    drawing = np.zeros((FIELD, FIELD), dtype=np.uint8)
    drawing[10:20, 12:15] = 255
    image, x = net_input(drawing)
    assert x.dtype == np.float32 and x.shape == (1, FIELD * FIELD)
    np.testing.assert_array_equal(x, to_float(image[None]))


def test_a_stroke_is_a_continuous_line_clipped_at_the_edges():
    canvas = Canvas()
    canvas.begin(-10, -10)  # off the pad
    canvas.extend(40, 40)  # across it and off again
    diagonal = canvas.pixels[np.arange(FIELD), np.arange(FIELD)]
    assert (diagonal == 255).all()
    canvas.begin(0, 0, erase=True)
    assert canvas.pixels[0, 0] == 0 and canvas.pixels[FIELD - 1, FIELD - 1] == 255


# ---- the engine's answers -----------------------------------------------------------------------


def a_seven() -> np.ndarray:
    canvas = Canvas()
    canvas.begin(4, 6)
    canvas.extend(4, 20)
    canvas.extend(24, 10)
    canvas.end()
    return canvas.pixels.copy()


@pytest.mark.parametrize("hidden", [(50,), (100, 100)])
def test_the_engine_predicts_a_drawing_and_inspects_it_as_a_batch_of_one(hidden):
    seven = a_seven()
    commands = [
        cmd.Predict(seven, request=4),
        cmd.Predict(np.zeros((FIELD, FIELD), dtype=np.uint8), request=5),
        cmd.Inspect(drawing=seven, label=7),
        cmd.Inspect(drawing=seven),
        cmd.Run(),
    ]
    _, events_ = run_engine(HyperParams(iters=3, hidden=hidden), commands, start=False)
    answer, blank = of(events_, ev.Prediction)
    assert answer.request == 4 and blank.request == 5
    np.testing.assert_array_equal(answer.image, mnist_style(seven))
    assert answer.probabilities.shape == (10,) and abs(answer.probabilities.sum() - 1) < 1e-9
    assert blank.image is None and blank.probabilities is None
    labelled, _, guessed, checked = of(events_, ev.Inspection)
    np.testing.assert_array_equal(labelled.x, net_input(seven)[1])
    assert labelled.t.tolist() == [7] and labelled.indices is None
    assert labelled.source == "your drawing, labelled 7"
    assert guessed.t.tolist() == [int(np.argmax(answer.probabilities))]
    assert "(the net's answer)" in guessed.source
    assert checked.report.passed and len(checked.params) == 2 * (len(hidden) + 1)


def test_the_learners_layers_answer_when_they_train():
    from tests.test_layers_train import LEARNERS

    trainer = Trainer(HyperParams(iters=3), DATA, layers=LEARNERS / "book_style.py")
    answer = drawing.prediction(trainer, cmd.Predict(a_seven(), 1))
    x = net_input(a_seven())[1]
    expected = np.exp(trainer.net.predict(x)[0])
    np.testing.assert_allclose(answer.probabilities, expected / expected.sum())


# ---- the pad in the dashboard: mouse and keys ---------------------------------------------------


def sent(link, kind):
    return [c for c in link.commands if isinstance(c, kind)]


async def open_draw_tab(app, pilot) -> tuple[DrawView, PadCanvas]:
    app.query_one(TabbedContent).active = "draw"
    view = app.query_one(DrawView)
    await until(pilot, lambda: app.focused is view)
    return view, view.pad


def answer_to(link, trainer) -> ev.Prediction:
    """What the engine answers to the app's latest Predict, fed back to the app."""
    answer = drawing.prediction(trainer, sent(link, cmd.Predict)[-1])
    link.events.put(answer)
    return answer


async def test_the_mouse_draws_strokes_erases_and_is_clipped_at_the_edges():
    app, link = app_with([])
    trainer = Trainer(HyperParams(iters=3), DATA)
    async with app.run_test(size=(120, 40)) as pilot:
        view, pad = await open_draw_tab(app, pilot)
        answer_text = lambda: view.query_one("#draw-answer").render().plain  # noqa: E731
        assert "Nothing drawn, so nothing to predict" in answer_text()
        # A stroke from cell (3, 2) to (20, 10): the pen is two rows tall, a cell's two pixels.
        await pilot.mouse_down(pad, offset=(1 + 3, 1 + 2))
        await pilot.hover(pad, offset=(1 + 20, 1 + 10))
        await pilot.mouse_up(pad, offset=(1 + 20, 1 + 10))
        pixels = pad.canvas.pixels
        assert pixels[4, 3] == 255 and pixels[20, 20] == 255
        rows_inked = np.flatnonzero(pixels.any(axis=1))
        assert rows_inked.tolist() == list(range(4, 22))  # no gaps: a line, not two dots
        # One request at a time: the first (the stroke's first dot) answered, the newest
        # drawing is asked for.
        assert len(sent(link, cmd.Predict)) == 1
        answer_to(link, trainer)
        await until(pilot, lambda: np.array_equal(sent(link, cmd.Predict)[-1].drawing, pixels))
        answer = answer_to(link, trainer)
        await until(pilot, lambda: view.answer is not None and view.answer.request == 2)
        top = int(np.argmax(answer.probabilities))
        assert f"It reads {top}" in answer_text()
        # The right button erases where it goes.
        await pilot.mouse_down(pad, offset=(1 + 3, 1 + 2), button=3)
        await pilot.mouse_up(pad, offset=(1 + 3, 1 + 2))
        assert pixels[4, 3] == 0 and pixels[20, 20] == 255
        # A stroke that leaves the pad draws up to its edge and nothing is lost.
        before = pixels.copy()
        await pilot.mouse_down(pad, offset=(1 + 25, 1 + 1))
        await pilot.hover(pad, offset=(1 + 40, 1 + 1))
        await pilot.mouse_up(pad, offset=(1 + 40, 1 + 1))
        assert (pixels[2, 25:] == 255).all() and (pixels[before > 0] == 255).all()
        # Resizing keeps the drawing.
        drawn = pixels.copy()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        np.testing.assert_array_equal(pad.canvas.pixels, drawn)
        assert pad.region.width == FIELD + 2


async def test_the_keys_draw_without_a_mouse_and_clear():
    app, link = app_with([])
    async with app.run_test(size=(80, 24)) as pilot:
        view, pad = await open_draw_tab(app, pilot)
        start = pad.cursor
        await pilot.press("space", "shift+right", "shift+right", "shift+down", "left", "space")
        y, x = start
        for pixel in [(y, x), (y, x + 2), (y + 1, x + 2)]:
            assert pad.canvas.pixels[pixel] == 255
        assert pad.cursor == (y + 1, x + 1)
        assert sent(link, cmd.Predict)
        await pilot.press("c")
        assert pad.canvas.empty
        count = len(sent(link, cmd.Predict))
        assert "nothing to predict" in view.query_one("#draw-answer").render().plain
        await pilot.press("enter")  # nothing to follow: said, and nothing sent
        assert len(sent(link, cmd.Predict)) == count and not sent(link, cmd.Inspect)


async def test_a_test_image_from_the_digits_tab_lands_on_the_pad():
    images = ev.ImageSet("sample", (DATA.x_test[:5] * 255).astype(np.uint8), DATA.t_test[:5])
    app, _ = app_with([images])
    async with app.run_test(size=(120, 40)) as pilot:
        digits = app.query_one(DigitsView)
        app.query_one(TabbedContent).active = "digits"
        await until(pilot, lambda: digits.images is not None and app.focused is digits)
        await pilot.press("right", "d")
        view = app.query_one(DrawView)
        await until(pilot, lambda: app.focused is view)
        np.testing.assert_array_equal(view.pad.canvas.pixels.ravel(), images.images[1])
        assert view.pad.border_title == f"test image #1, a {DATA.t_test[1]}"


async def test_the_drawing_followed_through_the_inspector_to_its_unit_picture():
    hp = HyperParams(iters=1_000, eval_every=0)
    link = ThreadLink(hp, DATA, start=False, progress_interval=0.02, blas_threads=1)
    app = BpTuiApp(lambda: link, hp, start=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        view, pad = await open_draw_tab(app, pilot)
        pad.canvas.load(a_seven())
        pad.changed()
        await until(pilot, lambda: view.answer is not None and app.focused is view)
        await pilot.press("3")  # labelled 3, whatever the net says
        inspector = app.query_one(Inspector)
        await until(pilot, lambda: inspector.drawing)  # the app has sent the drawing
        await until(pilot, lambda: app.focused is inspector)
        await until(pilot, lambda: inspector.inspection is not None and inspector.trace)
        assert app.query_one(TabbedContent).active == "inspector"
        assert inspector.graph == 3 and inspector.k == -1
        assert inspector.inspection.t.tolist() == [3] and len(inspector.inspection.x) == 1
        subtitle = lambda: inspector.query_one("#insp-graph").border_subtitle  # noqa: E731
        assert "your drawing, labelled 3" in subtitle()
        await pilot.press("end")  # the last step: the dW1 picture of the unit it moves most

        def side() -> str:
            drawn = inspector.query_one("#insp-side").render()
            return "".join(getattr(r, "plain", "") for r in getattr(drawn, "renderables", []))

        await until(pilot, lambda: "the one this batch" in side() and "d W1[:, " in side())
        # Another tab and back: the drawing stays (3 asks for a fresh batch).
        await pilot.press("t")
        app.query_one(TabbedContent).active = "inspector"
        await until(pilot, lambda: app.focused is inspector)
        assert "your drawing" in subtitle()


# ---- 200 MNIST test digits painted stroke by stroke ---------------------------------------------


class PadApp(App):
    def compose(self) -> ComposeResult:
        yield PadCanvas()


INK = 64  # the painter follows pixels at least this dark, as a person tracing would
PAINTED = 200


def strokes(image: np.ndarray) -> list[tuple[int, int, int]]:
    """Where a person tracing the digit puts the pen: each row's runs of pixels (row, first,
    last) at which the whole 2 x 2 pen lies on the digit's ink."""
    ink = image >= INK
    fits = ink[:-1, :-1] & ink[1:, :-1] & ink[:-1, 1:] & ink[1:, 1:]
    out = []
    for row in range(fits.shape[0]):
        columns = np.flatnonzero(fits[row])
        for run in np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1):
            if len(run):
                out.append((row, int(run[0]), int(run[-1])))
    return out


def mouse(kind, pad: PadCanvas, row: int, column: int, button: int = 1):
    """A mouse event at pixel (row, column) as a terminal reporting the pointer in pixels
    sends it: a fraction of a cell, relative to the widget, as Textual passes it on."""
    x, y = 1 + column + 0.5, 1 + (row + 0.5) / 2
    return kind(pad, x, y, 0, 0, button, False, False, False)


@pytest.fixture(scope="module")
def trained():
    """A net trained here, the same on every run (seeded): 300 steps on the shipped sample."""
    trainer = Trainer(HyperParams(iters=300, lr=0.5, seed=3, eval_every=0), load_dataset("sample"))
    with blas.limited(1):
        for _ in range(300):
            trainer.step()
    return trainer


async def test_200_mnist_digits_painted_stroke_by_stroke_are_read_as_the_originals(trained):
    images = (trained.x_test[:PAINTED] * 255).round().astype(np.uint8).reshape(-1, FIELD, FIELD)
    originals = trained.net.predict(trained.x_test[:PAINTED]).argmax(axis=1)
    painted = []
    async with PadApp().run_test(size=(40, 20)) as pilot:
        pad = pilot.app.query_one(PadCanvas)
        for image in images:
            pad.canvas.clear()
            # The pad's own mouse handlers, called as Textual calls them (its dispatch of
            # these events is the pilot's test above): 200 digits' strokes in a second, not a
            # minute of screen updates between them.
            for row, first, last in strokes(image):
                pad.on_mouse_down(mouse(events.MouseDown, pad, row, first))
                pad.on_mouse_move(mouse(events.MouseMove, pad, row, last))
                pad.on_mouse_up(mouse(events.MouseUp, pad, row, last, button=0))
            answer = drawing.prediction(trained, cmd.Predict(pad.canvas.pixels.copy()))
            painted.append(int(np.argmax(answer.probabilities)))
    agree = float(np.mean(np.array(painted) == originals))
    print(f"painted digits read as the originals: {agree:.1%} of {PAINTED}")
    assert agree >= 0.9


async def test_the_palette_follows_the_drawing_too():
    app, link = app_with([])
    async with app.run_test(size=(120, 40)) as pilot:
        view, pad = await open_draw_tab(app, pilot)
        pad.canvas.load(a_seven())
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title.startswith("Follow the")
        )
        command.callback()
        await until(pilot, lambda: sent(link, cmd.Inspect))
        inspect = sent(link, cmd.Inspect)[-1]
        assert inspect.label is None and np.array_equal(inspect.drawing, a_seven())
        inspector = app.query_one(Inspector)
        await until(pilot, lambda: app.focused is inspector and inspector.drawing)
