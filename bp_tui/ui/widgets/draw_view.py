"""The Draw tab: draw a digit, see it as the net sees it (made the way MNIST's digits were), the
net's ten probabilities as it is drawn, and send it to the Inspector to follow it through.

The engine does the work: each change asks it for a Prediction (commands.Predict), one request
at a time with the newest drawing, so the pad never queues work for training; while training
runs, the answer is asked again now and then from the newer weights.
"""

from __future__ import annotations

from time import monotonic

import numpy as np
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget

from bp_tui.data.handwriting import FIELD
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.events import RunState
from bp_tui.ui.bindings import PAD_BINDINGS, keys_for
from bp_tui.ui.drawing.halfblock import grayscale
from bp_tui.ui.widgets.closing import unless_closing
from bp_tui.ui.widgets.drawn import Drawn
from bp_tui.ui.widgets.pad_canvas import PadCanvas

ANSWER_TIMEOUT = 1.0  # seconds before an unanswered request (an engine gone) is given up
REFRESH_SECONDS = 0.5  # while training runs, the answer is asked again this often at most
EIGHTHS = " ▏▎▍▌▋▊▉█"


class DrawView(Horizontal, can_focus=True):
    DEFAULT_CSS = """
    DrawView {
        height: 1fr;
    }
    DrawView > .draw--muted { color: $text-muted; }
    DrawView > .draw--top { color: $text-primary; text-style: bold; }
    DrawView > .draw--bar { color: $primary; }
    DrawView > .draw--top-bar { color: $accent; }
    #draw-input, #draw-answer {
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    #draw-input {
        width: auto;
        height: auto;
    }
    #draw-side {
        width: 1fr;
        height: 1fr;
    }
    #draw-answer {
        width: 1fr;
        min-width: 18;
        height: 13;
        padding: 0 1;
    }
    #draw-hint {
        width: 1fr;
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES = {"draw--muted", "draw--top", "draw--bar", "draw--top-bar"}
    BINDINGS = PAD_BINDINGS
    # The run as the app has it: the answer follows the weights as training goes.
    progress: var[ev.Progress | None] = var(None, always_update=True)
    run_state: var[RunState] = var(RunState.STARTING)

    class PredictionWanted(Message):
        """Ask the engine for the net's answer on the drawing."""

        def __init__(self, command: cmd.Predict) -> None:
            super().__init__()
            self.command = command

    class FollowWanted(Message):
        """Send the drawing to the Inspector's graph 3 as a batch of one (label None: the net's
        answer)."""

        def __init__(self, drawing: np.ndarray, label: int | None) -> None:
            super().__init__()
            self.drawing, self.label = drawing, label

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.answer: ev.Prediction | None = None
        self.requests = 0  # requests sent so far (the latest one's number)
        self.asked: int | None = None  # the request awaiting its answer
        self.asked_at = -1e9
        self.answered_at = -1e9
        self.stale = False  # the drawing changed since the request under way
        self.source = ""  # where the drawing came from ("test image #12, a 7"), or ""
        self.shown = False

    def compose(self) -> ComposeResult:
        yield PadCanvas(id="draw-pad")
        yield Drawn(self._input, id="draw-input")
        with Vertical(id="draw-side"):
            yield Drawn(self._answer, picture=False, id="draw-answer")
            yield Drawn(self._hint, picture=False, id="draw-hint")

    @property
    def pad(self) -> PadCanvas:
        return self.query_one(PadCanvas)

    @unless_closing
    def on_mount(self) -> None:
        self.query_one("#draw-input").border_title = "What the net sees"
        self._titles()

    @unless_closing
    def on_resize(self) -> None:
        # 80 columns: the bars keep what room there is; the footer shows the keys.
        narrow = self.size.width < 100
        self.set_class(narrow, "-narrow")
        self.query_one("#draw-answer").border_title = "Answer" if narrow else "The net's answer"

    def on_show(self) -> None:
        self.shown = True
        self.focus()  # shown = its tab was chosen: the keys draw
        self._refresh_answer()

    def on_hide(self) -> None:
        self.shown = False
        if self.has_focus:
            self.screen.set_focus(None)

    def on_focus(self) -> None:
        self.pad.show_cursor = True
        self.pad.set_class(True, "-focused")
        self.pad.refresh()

    def on_blur(self) -> None:
        self.pad.show_cursor = False
        self.pad.set_class(False, "-focused")
        self.pad.refresh()

    def _titles(self) -> None:
        pad = self.pad
        pad.border_title = self.source or "Draw a digit"
        pad.border_subtitle = f"{keys_for('clear', bindings=PAD_BINDINGS)}: clear"

    # ---- the drawing -> the engine --------------------------------------------------------------

    def on_pad_canvas_changed(self, message: PadCanvas.Changed) -> None:
        message.stop()
        self.ask()

    def ask(self) -> None:
        """Ask for the net's answer on the drawing as it is now: at once, or when the request
        under way is answered (the newest drawing then)."""
        if self.pad.canvas.empty:
            self.answer, self.asked, self.stale = None, None, False
            self._redraw()
            return
        if self.asked is not None and monotonic() - self.asked_at < ANSWER_TIMEOUT:
            self.stale = True
            return
        self.requests += 1
        self.asked, self.asked_at, self.stale = self.requests, monotonic(), False
        drawing = self.pad.canvas.pixels.copy()
        self.post_message(self.PredictionWanted(cmd.Predict(drawing, self.requests)))

    def show_prediction(self, prediction: ev.Prediction) -> None:
        """The engine's answer; an older one than shown is dropped, a blank pad's too."""
        if prediction.request == self.asked:
            self.asked = None
        newest = self.answer.request if self.answer is not None else 0
        if prediction.request >= newest and not self.pad.canvas.empty:
            self.answer, self.answered_at = prediction, monotonic()
            self._redraw()
        if self.stale:
            self.ask()

    def watch_progress(self) -> None:
        self._refresh_answer()

    def _refresh_answer(self) -> None:
        """New weights since the answer shown: ask again (while shown, now and then)."""
        answer, progress = self.answer, self.progress
        if not self.shown or answer is None or progress is None or self.asked is not None:
            return
        if answer.iteration == progress.iteration:
            return
        if monotonic() - self.answered_at >= REFRESH_SECONDS or (
            self.run_state is not RunState.RUNNING
        ):
            self.ask()

    def load(self, image: np.ndarray, source: str) -> None:
        """A digit onto the pad to change (a test image from the Digits tab)."""
        self.pad.canvas.load(image)
        self.source = source
        self._titles()
        self.pad.changed()

    def _redraw(self) -> None:
        # Both panes keep their size whatever they show: no relayout of the screen per answer.
        for part in self.query(Drawn):
            part.changed(layout=False)

    # ---- keys -----------------------------------------------------------------------------------

    def action_move(self, rows: int, columns: int, drawing: bool = False) -> None:
        self.pad.move(rows, columns, drawing)

    def action_paint(self) -> None:
        self.pad.paint()

    def action_erase(self) -> None:
        self.pad.paint(erase=True)

    def action_clear(self) -> None:
        self.pad.canvas.clear()
        self.source = ""
        self._titles()
        self.pad.changed()

    def action_follow(self, label: int | None = None) -> None:
        if self.pad.canvas.empty:
            self.notify("Nothing is drawn: draw a digit first, then follow it.", timeout=4)
            return
        self.post_message(self.FollowWanted(self.pad.canvas.pixels.copy(), label))

    # ---- drawing the panes ----------------------------------------------------------------------

    def style(self, name: str) -> Style:
        return self.get_component_rich_style(f"draw--{name}", partial=name != "muted")

    def _input(self, part: Widget) -> RenderableType:
        if self.answer is None or self.answer.image is None:
            image = np.zeros((FIELD, FIELD), dtype=np.uint8)  # its place kept: nothing jumps
        else:
            image = self.answer.image
        paper, ink, _ = self.pad.colours()
        return grayscale(image, paper, ink)

    def _answer(self, part: Widget) -> RenderableType:
        muted = self.style("muted")
        if self.pad.canvas.empty:
            return Text(
                "Nothing drawn, so nothing to predict.\nDraw a digit on the pad.", style=muted
            )
        answer = self.answer
        if answer is None or answer.probabilities is None:
            return Text("Asking the net…", style=muted)
        probabilities = answer.probabilities
        top = int(np.nanargmax(probabilities)) if np.isfinite(probabilities).any() else -1
        width = max(part.size.width - 9, 4)
        out = Text(no_wrap=True, overflow="crop", end="")
        for digit, p in enumerate(probabilities.tolist()):
            row_style = self.style("top") if digit == top else Style()
            bar_style = self.style("top-bar" if digit == top else "bar")
            out.append(f"{digit} ", row_style)
            eighths = round(p * width * 8) if np.isfinite(p) else 0
            bar = EIGHTHS[-1] * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
            out.append(f"{bar:<{width}}", bar_style)
            out.append(f"{p:6.1%}\n" if np.isfinite(p) else "   nan\n", row_style)
        if top >= 0:
            out.append(f"It reads {top}", self.style("top"))
        if part.size.width >= 24:
            out.append(f" · iteration {answer.iteration:,}", muted)
        return out

    def _hint(self, part: Widget) -> RenderableType:
        keys = {a: keys_for(a, bindings=PAD_BINDINGS) for a in ("follow", "follow(0)", "paint")}
        if self.has_class("-narrow"):  # 80x24: a line a key, under the answer
            return Text(
                f"⇧+arrows: draw\n{keys['follow']}: Inspector\n{keys['follow(0)']}: labelled",
                end="",
            )
        return Text(
            "Left button draws, right erases; or the arrows and "
            f"{keys['paint']}, shift+arrows draw. {keys['follow']}: follow it through the net "
            f"in the Inspector, {keys['follow(0)']}: with that label.",
            end="",
        )
