"""Pictures in the terminal: two pixel rows per cell, as '▀' with the top pixel in the foreground
colour and the bottom one in the background colour.

Only drawing here: values are mapped onto a small palette of colours taken from the theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import groupby

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.color import Color

UPPER_HALF = "▀"
LEVELS = 24  # colours per ramp: smooth to the eye, few enough styles to stay fast


def ramp(start: Color, end: Color, levels: int = LEVELS) -> list[str]:
    """`levels` colours from start to end, as hex strings."""
    return [start.blend(end, i / (levels - 1)).hex6 for i in range(levels)]


def diverging_palette(
    negative: Color, zero: Color, positive: Color, levels: int = LEVELS
) -> list[str]:
    """Negative -> zero -> positive; the middle colour is exactly `zero`."""
    half = levels // 2
    return ramp(negative, zero, half + 1)[:-1] + ramp(zero, positive, levels - half)


@lru_cache(maxsize=4096)
def _style(top: str, bottom: str) -> Style:
    return Style(color=top, bgcolor=bottom)


def halfblock(indices: np.ndarray, palette: Sequence[str]) -> Text:
    """Draw a (H, W) array of palette indices: one line per two rows, one cell per column.

    An odd last row is drawn over the palette's first colour (the picture's background).
    """
    indices = np.asarray(indices, dtype=np.intp)
    if indices.shape[0] % 2:
        indices = np.vstack([indices, np.zeros((1, indices.shape[1]), dtype=np.intp)])
    text = Text(no_wrap=True, overflow="crop", end="")
    for y in range(0, indices.shape[0], 2):
        if y:
            text.append("\n")
        pairs = zip(indices[y].tolist(), indices[y + 1].tolist(), strict=True)
        # Runs of equal cells share one span: a digit's background is mostly one run.
        for (top, bottom), run in groupby(pairs):
            text.append(UPPER_HALF * len(list(run)), _style(palette[top], palette[bottom]))
    return text


def grayscale(image: np.ndarray, background: Color, ink: Color, levels: int = LEVELS) -> Text:
    """A digit: pixel values in [0, 1] (or 0-255 as uint8) from background to ink."""
    values = np.asarray(image, dtype=np.float32)
    if np.asarray(image).dtype == np.uint8:
        values = values / 255.0
    indices = np.rint(np.clip(values, 0.0, 1.0) * (levels - 1))
    return halfblock(indices, ramp(background, ink, levels))


def diverging(
    weights: np.ndarray,
    negative: Color,
    zero: Color,
    positive: Color,
    scale: float | None = None,
    levels: int = LEVELS,
) -> Text:
    """Weights: 0 in `zero`, +scale and above in `positive`, -scale and below in `negative`.

    scale defaults to the largest magnitude, so that every picture uses its whole range.
    """
    values = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if scale is None:
        scale = float(np.abs(values).max()) if values.size else 0.0
    unit = np.clip(values / scale, -1.0, 1.0) if scale > 0 else np.zeros_like(values)
    palette = diverging_palette(negative, zero, positive, levels)
    middle = levels // 2
    # Round away from the middle only when the value is not 0, so that 0 is exactly `zero`.
    steps = np.where(unit < 0, np.rint(unit * middle), np.rint(unit * (levels - 1 - middle)))
    return halfblock(steps + middle, palette)


def side_by_side(pictures: Sequence[Text], gap: int = 1) -> Text:
    """Pictures left to right, `gap` blank cells apart; a shorter one is padded below."""
    rows = [picture.split("\n", allow_blank=True) for picture in pictures]
    widths = [max((line.cell_len for line in lines), default=0) for lines in rows]
    out = Text(no_wrap=True, overflow="crop", end="")
    for y in range(max((len(lines) for lines in rows), default=0)):
        if y:
            out.append("\n")
        for i, (lines, width) in enumerate(zip(rows, widths, strict=True)):
            line = lines[y] if y < len(lines) else Text("")
            out.append_text(line)
            # No trailing blanks after the last picture.
            pad = width - line.cell_len + (gap if i < len(rows) - 1 else 0)
            out.append(" " * pad if i < len(rows) - 1 else "")
    return out
