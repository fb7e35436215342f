"""The drawing pad itself: 28 x 28 pixels drawn two rows a cell, as the Digits tab draws digits.

The left button draws, the right one erases; a stroke runs in straight lines between the mouse's
positions, and keeps going (clipped) when the mouse leaves the pad. A terminal that reports the
pointer in pixels places the pen within the cell; others at its top row (the pen is two rows
tall, so a stroke still covers the cell).
"""

from __future__ import annotations

from math import floor

from textual import events
from textual.color import Color
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from bp_tui.data.canvas import Canvas
from bp_tui.ui.drawing.halfblock import grayscale
from bp_tui.ui.widgets.digits import theme_color

DRAW_BUTTON, ERASE_BUTTON = 1, 3


class PadCanvas(Widget):
    DEFAULT_CSS = """
    PadCanvas {
        width: auto;
        height: auto;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    PadCanvas.-focused {
        border: round $primary;
    }
    """

    class Changed(Message):
        """The drawing changed (a stroke under way, a key, a clear, a load)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.canvas = Canvas()
        self.cursor = (self.canvas.size // 2, self.canvas.size // 2)  # (row, column) pixel
        self.show_cursor = False  # while the pad has the keys
        self._stroke: bool | None = None  # None: no stroke; else whether it erases
        self._drawn: tuple | None = None
        self._theme_colours: tuple | None = None

    # ---- drawing --------------------------------------------------------------------------------

    def get_content_width(self, container, viewport) -> int:
        return self.canvas.size

    def get_content_height(self, container, viewport, width: int) -> int:
        return (self.canvas.size + 1) // 2

    def render_line(self, y: int) -> Strip:
        """Row y of the picture: the pad is redrawn at every mouse move, so its rows are kept
        as strips (Textual's Line API), made once per change rather than through a renderable."""
        key = (self.canvas.version, self.cursor, self.show_cursor, self.app.theme)
        if self._drawn is None or self._drawn[0] != key:
            paper, ink, accent = self.colours()
            mark = self.cursor if self.show_cursor else None
            picture = grayscale(self.canvas.pixels, paper, ink, mark=mark, mark_colour=accent)
            console = self.app.console
            rows = [Strip(line.render(console)) for line in picture.split("\n")]
            self._drawn = key, rows
        rows = self._drawn[1]
        return rows[y] if y < len(rows) else Strip.blank(self.size.width)

    def colours(self) -> tuple[Color, Color, Color]:
        """Paper, ink and cursor from the theme, read once per theme (reading costs ms)."""
        theme = self.app.theme
        if self._theme_colours is None or self._theme_colours[0] != theme:
            names = ("surface", "foreground", "accent")
            self._theme_colours = theme, tuple(theme_color(self, n) for n in names)
        return self._theme_colours[1]

    def changed(self) -> None:
        self.refresh()
        self.post_message(self.Changed())

    # ---- the mouse ------------------------------------------------------------------------------

    def pixel_at(self, event: events.MouseEvent) -> tuple[int, int]:
        """The pixel under the pointer (row, column), off the pad when the pointer is."""
        left = self.content_region.x - self.region.x
        top = self.content_region.y - self.region.y
        return floor((event.pointer_y - top) * 2), floor(event.pointer_x - left)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button not in (DRAW_BUTTON, ERASE_BUTTON):
            return
        event.stop()
        self._stroke = event.button == ERASE_BUTTON
        self.capture_mouse()  # the stroke goes on (clipped) outside the pad
        self._to(self.pixel_at(event), begin=True)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._stroke is not None:
            self._to(self.pixel_at(event))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._stroke is not None:
            self._to(self.pixel_at(event))
            self._end()

    def _to(self, pixel: tuple[int, int], begin: bool = False) -> None:
        version = self.canvas.version
        if begin:
            self.canvas.begin(*pixel, erase=self._stroke)
        else:
            self.canvas.extend(*pixel, erase=self._stroke)
        size = self.canvas.size
        self.cursor = (min(max(pixel[0], 0), size - 1), min(max(pixel[1], 0), size - 1))
        if self.canvas.version != version:
            self.changed()

    def _end(self) -> None:
        self._stroke = None
        self.canvas.end()
        self.release_mouse()

    # ---- keys (called by the Draw tab, which has the focus) -------------------------------------

    def move(self, rows: int, columns: int, drawing: bool = False) -> None:
        size = self.canvas.size
        y, x = self.cursor
        target = (min(max(y + rows, 0), size - 1), min(max(x + columns, 0), size - 1))
        if drawing:
            version = self.canvas.version
            self.canvas.begin(y, x)
            self.canvas.extend(*target)
            self.canvas.end()
            if self.canvas.version != version:
                self.cursor = target
                self.changed()
                return
        self.cursor = target
        self.refresh()

    def paint(self, erase: bool = False) -> None:
        version = self.canvas.version
        self.canvas.begin(*self.cursor, erase=erase)
        self.canvas.end()
        if self.canvas.version != version:
            self.changed()
