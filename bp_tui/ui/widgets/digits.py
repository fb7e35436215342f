"""The Digits tab: test images with their true and predicted labels, and the confusion matrix.

The images come once from the engine (ImageSet), the answers with each evaluation (Insight).
The view takes focus when its tab is shown, so its arrow keys win over the tab bar's.
"""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget

from bp_tui.engine import events as ev
from bp_tui.nn.analysis import mistake_order
from bp_tui.ui.bindings import DRAW_DIGIT
from bp_tui.ui.colours import theme_color
from bp_tui.ui.drawing.halfblock import grayscale, side_by_side
from bp_tui.ui.widgets.closing import unless_closing
from bp_tui.ui.widgets.drawn import Drawn

GAP = 2  # blank cells between two images
CAPTION_ROWS = 1
# The help's rows for key pairs
ROWS, PAGES, ENDS = Binding.Group("Rows"), Binding.Group("Pages"), Binding.Group("First / last")
STYLES = ("right", "wrong", "muted", "cursor", "title")


class DigitsView(Horizontal, can_focus=True):
    DEFAULT_CSS = """
    DigitsView {
        height: 1fr;
    }
    DigitsView > .digits--right { color: $text-success; }
    DigitsView > .digits--wrong { color: $text-error; text-style: bold; }
    DigitsView > .digits--muted { color: $text-muted; }
    DigitsView > .digits--cursor { background: $primary 60%; text-style: bold; }
    DigitsView > .digits--title { color: $text-primary; text-style: bold; }
    #digits-page, #digits-confusion {
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    DigitsView:focus #digits-page {
        border: round $primary;
    }
    #digits-page {
        width: 1fr;
        height: 1fr;
    }
    #digits-side {
        width: auto;
        height: 1fr;
    }
    #digits-confusion {
        width: auto;
        height: auto;
    }
    #digits-detail {
        width: auto;
        max-width: 48;
        height: auto;
        padding: 0 1;
    }
    """
    COMPONENT_CLASSES = {f"digits--{name}" for name in STYLES}
    BINDINGS = [
        Binding("left", "move(-1)", "Browse", key_display="←→"),
        Binding("right", "move(1)", "Next image", show=False, key_display="←→"),
        # A group is one row of the help: its keys, its description.
        Binding("up", "move_rows(-1)", "Row up", show=False, group=ROWS),
        Binding("down", "move_rows(1)", "Row down", show=False, group=ROWS),
        Binding("pageup", "move_pages(-1)", "Page up", show=False, group=PAGES),
        Binding("pagedown", "move_pages(1)", "Page down", show=False, group=PAGES),
        Binding("home", "jump(0)", "First", show=False, group=ENDS),
        Binding("end", "jump(-1)", "Last", show=False, group=ENDS),
        Binding("m", "toggle_mistakes", "Mistakes/all"),
        DRAW_DIGIT,
    ]

    class DrawWanted(Message):
        """The image under the cursor onto the Draw tab's pad, to change it."""

        def __init__(self, image: np.ndarray, source: str) -> None:
            super().__init__()
            self.image, self.source = image, source

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.images: np.ndarray | None = None  # uint8 (N, 784)
        self.labels: np.ndarray | None = None
        self.insight: ev.Insight | None = None
        self.mistakes_only = False
        self.order = np.zeros(0, dtype=np.intp)  # image indices in browsing order
        self.cursor = 0  # a position in order
        self.per_page, self.per_row = 1, 1  # set by the page's last drawing

    def compose(self) -> ComposeResult:
        yield Drawn(self._page, id="digits-page")
        with Vertical(id="digits-side"):
            yield Drawn(self._confusion, id="digits-confusion")
            yield Drawn(self._detail, id="digits-detail")

    @unless_closing
    def on_mount(self) -> None:
        self.query_one("#digits-confusion").border_title = "Confusion"
        self.redraw()

    def on_show(self) -> None:
        self.focus()  # shown = its tab was chosen: the arrows browse the digits

    def on_hide(self) -> None:
        if self.has_focus:
            self.screen.set_focus(None)

    # ---- engine data ----------------------------------------------------------------------------

    def set_images(self, images: ev.ImageSet) -> None:
        self.images, self.labels = images.images, np.asarray(images.labels)
        self._reorder()

    def show(self, insight: ev.Insight) -> None:
        self.insight = insight
        self._reorder()

    def _reorder(self) -> None:
        """Recompute the browsing order, staying on the same image when it is still there."""
        current = self.order[self.cursor] if self.cursor < len(self.order) else None
        if self.labels is None:
            self.order = np.zeros(0, dtype=np.intp)
        elif self.mistakes_only and self.insight is not None:
            self.order = mistake_order(
                self.labels, self.insight.predictions, self.insight.confidences
            )
        else:
            self.order = np.arange(len(self.labels))
        found = np.flatnonzero(self.order == current) if current is not None else []
        self.cursor = int(found[0]) if len(found) else min(self.cursor, max(len(self.order) - 1, 0))
        self.redraw()

    # ---- keys -----------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        if len(self.order):
            self.cursor = int(np.clip(self.cursor + delta, 0, len(self.order) - 1))
            self.redraw()

    def action_move_rows(self, rows: int) -> None:
        self.action_move(rows * self.per_row)

    def action_move_pages(self, pages: int) -> None:
        self.action_move(pages * self.per_page)

    def action_jump(self, position: int) -> None:
        self.action_move((position % max(len(self.order), 1)) - self.cursor)

    def action_draw(self) -> None:
        if self.images is None or not len(self.order):
            return
        index = int(self.order[self.cursor])
        label = int(self.labels[index])
        self.post_message(self.DrawWanted(self.images[index], f"test image #{index}, a {label}"))

    def action_toggle_mistakes(self) -> None:
        if self.insight is None:
            self.notify("No predictions yet: they come with the first evaluation.")
            return
        self.mistakes_only = not self.mistakes_only
        self.cursor = 0
        self._reorder()

    # ---- drawing --------------------------------------------------------------------------------

    def redraw(self) -> None:
        page = self.query_one("#digits-page")
        page.border_title = (
            "Mistakes, most confident first" if self.mistakes_only else "Test images"
        )
        page.border_subtitle = self._position()
        for part in self.query(Drawn):
            part.changed()

    def _position(self) -> str:
        if not len(self.order):
            return ""
        where = f"{self.cursor + 1:,} of {len(self.order):,}"
        return f"{where} · m: {'all images' if self.mistakes_only else 'mistakes only'}"

    def style(self, name: str) -> Style:
        # Faded colours (alpha) only come out right blended with the background: full style.
        return self.get_component_rich_style(f"digits--{name}", partial=name != "muted")

    def _page(self, part: Widget) -> RenderableType:
        if self.images is None:
            return Text("The test images arrive with the engine.", style=self.style("muted"))
        if not len(self.order):
            return Text(
                f"No mistakes on the {len(self.images):,} test images.", style=self.style("right")
            )
        side = int(round(np.sqrt(self.images.shape[1])))
        width, height = part.size
        self.per_row = max(1, (width + GAP) // (side + GAP))
        rows = max(1, height // (side // 2 + CAPTION_ROWS + 1))
        self.per_page = self.per_row * rows
        start = self.cursor // self.per_page * self.per_page
        shown = self.order[start : start + self.per_page]
        background, ink = theme_color(self, "surface"), theme_color(self, "foreground")
        out = Text(no_wrap=True, overflow="crop", end="")
        for row in range(0, len(shown), self.per_row):
            if row:
                out.append("\n\n")
            chunk = shown[row : row + self.per_row]
            pictures = [
                grayscale(self.images[i].reshape(side, side), background, ink) for i in chunk
            ]
            out.append_text(side_by_side(pictures, GAP))
            out.append("\n")
            captions = [self._caption(int(i), start + row + k, side) for k, i in enumerate(chunk)]
            out.append_text(side_by_side(captions, GAP))
        return out

    def _caption(self, index: int, position: int, width: int) -> Text:
        """'7 → 2  96%   #1234': true label, prediction and confidence, the image's number."""
        true = int(self.labels[index])
        text = Text(no_wrap=True, overflow="crop", end="")
        if self.insight is None:
            text.append(f"{true} → ?", self.style("muted"))
        else:
            predicted = int(self.insight.predictions[index])
            confidence = float(self.insight.confidences[index])
            style = self.style("right" if predicted == true else "wrong")
            text.append(f"{true} → {predicted} {confidence:5.1%}", style)
        number = f"#{index}"
        text.append(" " * max(width - text.cell_len - len(number), 1))
        text.append(number, self.style("muted"))
        if position == self.cursor:
            text.stylize(self.style("cursor"))
        return text

    def _confusion(self, part: Widget) -> RenderableType:
        if self.insight is None:
            return Text("after the first evaluation", style=self.style("muted"))
        counts = self.insight.confusion
        classes = counts.shape[0]
        cell = max(len(str(int(counts.max()))), 2) + 1
        muted, title = self.style("muted"), self.style("title")
        surface = theme_color(self, "surface")
        good, bad = theme_color(self, "success"), theme_color(self, "error")
        foreground = theme_color(self, "foreground").hex6
        off_diagonal = counts.copy()
        np.fill_diagonal(off_diagonal, 0)
        worst = max(int(off_diagonal.max()), 1)
        highlight = self._current_pair()
        out = Text(no_wrap=True, end="")
        out.append("t\\p", muted)
        for j in range(classes):
            out.append(f"{j:>{cell}}", title)
        for i in range(classes):
            out.append("\n")
            out.append(f"{i:>3}", title)
            row_total = max(int(counts[i].sum()), 1)
            for j in range(classes):
                n = int(counts[i, j])
                # Right answers in green by their share of the row, mistakes in red by their
                # count against the worst confusion: the red cells are the ones to look at.
                if i == j:
                    shade = surface.blend(good, 0.15 + 0.55 * n / row_total)
                else:
                    shade = surface.blend(bad, 0.8 * (n / worst) ** 0.5) if n else surface
                style = Style(color=foreground, bgcolor=shade.hex6)
                if (i, j) == highlight:
                    style += Style(bold=True, underline=True)
                label = f"{n:>{cell}}" if n else f"{'·':>{cell}}"
                out.append(label, style if n else style + Style(dim=True))
        return out

    def _current_pair(self) -> tuple[int, int] | None:
        if self.insight is None or not len(self.order):
            return None
        index = int(self.order[self.cursor])
        return int(self.labels[index]), int(self.insight.predictions[index])

    def _detail(self, part: Widget) -> RenderableType:
        muted = self.style("muted")
        out = Text(end="")
        if self.insight is not None:
            out.append(
                f"iteration {self.insight.iteration:,} · epoch {self.insight.epoch:.2f}\n", muted
            )
            if self.labels is not None:
                wrong = int(np.count_nonzero(self.insight.predictions != self.labels))
                out.append(f"{wrong:,} of {len(self.labels):,} test images wrong\n", muted)
        out.append("rows: true label · columns: predicted\n", muted)
        out.append("←→↑↓ browse · PgUp/PgDn page · Home/End", muted)
        return out
