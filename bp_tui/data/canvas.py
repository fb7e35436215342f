"""The drawing pad's pixels: strokes of a round-ish pen, straight between the points given,
clipped at the pad's edges. No UI here: the Draw tab feeds it mouse and key positions."""

from __future__ import annotations

import numpy as np

from bp_tui.data.handwriting import FIELD

INK, PAPER = 255, 0
# The pen's pixels around the point drawn (dy, dx): 2 x 2, the width of MNIST's strokes once a
# digit as tall as the pad is scaled to their 20-pixel box.
PEN = ((0, 0), (0, 1), (1, 0), (1, 1))
ERASER = tuple((dy, dx) for dy in (-1, 0, 1, 2) for dx in (-1, 0, 1, 2))  # wider: rubs out


def line(y0: int, x0: int, y1: int, x1: int) -> list[tuple[int, int]]:
    """The pixels of a straight line from (y0, x0) to (y1, x1), both ends in (Bresenham)."""
    points = []
    dy, dx = abs(y1 - y0), abs(x1 - x0)
    step_y, step_x = (1 if y1 > y0 else -1), (1 if x1 > x0 else -1)
    error = dx - dy
    y, x = y0, x0
    while True:
        points.append((y, x))
        if y == y1 and x == x1:
            return points
        twice = 2 * error
        if twice > -dy:
            error -= dy
            x += step_x
        if twice < dx:
            error += dx
            y += step_y


class Canvas:
    """FIELD x FIELD pixels of ink (uint8, 0 paper to 255 ink), drawn in strokes."""

    def __init__(self, size: int = FIELD) -> None:
        self.pixels = np.zeros((size, size), dtype=np.uint8)
        self._last: tuple[int, int] | None = None  # the stroke's previous point
        self.version = 0  # bumped by every change

    @property
    def size(self) -> int:
        return self.pixels.shape[0]

    @property
    def empty(self) -> bool:
        return not self.pixels.any()

    def begin(self, y: int, x: int, erase: bool = False) -> None:
        """A new stroke at (y, x): a dot, and the start of the line to the next point."""
        self._last = None
        self.extend(y, x, erase)

    def extend(self, y: int, x: int, erase: bool = False) -> None:
        """The stroke goes on to (y, x) in a straight line (a dot when it has not begun)."""
        start = self._last or (y, x)
        self._last = (y, x)
        shape, value = (ERASER, PAPER) if erase else (PEN, INK)
        size = self.size
        changed = False
        for py, px in line(*start, y, x):
            for dy, dx in shape:
                ty, tx = py + dy, px + dx
                # Points off the pad still draw what of the pen falls on it: clipped, not lost.
                if 0 <= ty < size and 0 <= tx < size and self.pixels[ty, tx] != value:
                    self.pixels[ty, tx] = value
                    changed = True
        if changed:
            self.version += 1

    def end(self) -> None:
        self._last = None

    def clear(self) -> None:
        self._last = None
        if not self.empty:
            self.pixels[:] = PAPER
            self.version += 1

    def load(self, image: np.ndarray) -> None:
        """Put an image (uint8, FIELD x FIELD or flat) on the pad, to draw over."""
        self._last = None
        self.pixels[:] = np.asarray(image, dtype=np.uint8).reshape(self.pixels.shape)
        self.version += 1
