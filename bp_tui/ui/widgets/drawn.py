"""The one base of the dashboard's hand-drawn pieces (digits, weights, graphs, detail panes)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget


class Drawn(Widget):
    """Draws itself at render time with `draw(self)`, so that a resize or a theme change redraws
    it; layout asks several times a frame, so it draws once per (version, size, theme).

    `version` reads the owner's count of changes (default: this widget's own, bumped by
    changed()). A picture (`picture=True`) never wraps: it is measured line by line.
    """

    DEFAULT_CSS = """
    Drawn.-picture {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(
        self,
        draw: Callable[[Drawn], RenderableType],
        *,
        version: Callable[[], int] | None = None,
        picture: bool = True,
        **kw,
    ) -> None:
        super().__init__(**kw)
        self.draw = draw
        self._own_version = 0
        self.version = version or (lambda: self._own_version)
        self.picture = picture
        self.set_class(picture, "-picture")
        self._drawn: tuple[tuple, RenderableType] | None = None

    def changed(self, layout: bool = True) -> None:
        """Draw again; layout=False when the size cannot change (no relayout of the screen)."""
        self._own_version += 1
        self.refresh(layout=layout)

    def render(self) -> RenderableType:
        key = (self.version(), self.size, self.app.theme)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = key, self.draw(self)
        return self._drawn[1]

    def _lines(self) -> list[Text]:
        drawn = self.render()
        return drawn.split("\n", allow_blank=True) if isinstance(drawn, Text) else [Text("")]

    def get_content_width(self, container: Size, viewport: Size) -> int:
        if not self.picture:
            return super().get_content_width(container, viewport)
        return max((line.cell_len for line in self._lines()), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.picture:
            return super().get_content_height(container, viewport, width)
        return len(self._lines())
