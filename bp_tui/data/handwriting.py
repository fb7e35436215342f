"""A hand-drawn digit made into the input MNIST's makers would have made of it.

MNIST's digits were size-normalised into a 20 x 20 box keeping their aspect ratio, anti-aliased
into grey levels, then placed in a 28 x 28 field with their centre of mass at its centre (LeCun
et al., "The MNIST database"). A drawing that skips this is another kind of picture to a net
trained on MNIST: too big, too thin or off-centre, and misread.
"""

from __future__ import annotations

import numpy as np

from bp_tui.data.datasets import to_float

FIELD = 28  # MNIST's images are FIELD x FIELD
BOX = 20  # the digit's bounding box is scaled to fit BOX x BOX


def _area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) weights of a box-filter resampling: how much of each source pixel each
    target pixel covers, so every target is the mean of the area it sees (anti-aliased)."""
    scale = target / source
    starts = np.arange(target)[:, None] / scale
    ends = (np.arange(target)[:, None] + 1) / scale
    pixels = np.arange(source)[None, :]
    overlap = np.clip(np.minimum(ends, pixels + 1) - np.maximum(starts, pixels), 0.0, None)
    return overlap * scale


def _resized(image: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = _area_weights(image.shape[0], height)
    columns = _area_weights(image.shape[1], width)
    return rows @ image @ columns.T


def mnist_style(drawing: np.ndarray) -> np.ndarray | None:
    """A drawing (H, W) of ink values, uint8 0-255 or floats in [0, 1] -> MNIST's form: uint8
    (FIELD, FIELD), the ink's bounding box scaled to BOX keeping its aspect, grey at its edges,
    its centre of mass at the field's centre. None when nothing is drawn."""
    ink = np.asarray(drawing, dtype=np.float64)
    if np.asarray(drawing).dtype == np.uint8:
        ink = ink / 255.0
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    columns = np.flatnonzero(ink.max(axis=0) > 0)
    if not len(rows):
        return None
    box = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = BOX / max(box.shape)
    height = max(1, min(BOX, round(box.shape[0] * scale)))
    width = max(1, min(BOX, round(box.shape[1] * scale)))
    digit = np.clip(_resized(box, height, width), 0.0, 1.0)
    # The centre of mass to pixel (14, 14), where MNIST's own sit (their mean is 14.0, 14.0),
    # in whole pixels (no extra blur);
    # kept inside the field (a lopsided mark could otherwise be pushed past its edge).
    ys, xs = np.indices(digit.shape)
    total = digit.sum()
    centre_y, centre_x = (ys * digit).sum() / total, (xs * digit).sum() / total
    top = int(np.clip(round(FIELD / 2 - centre_y), 0, FIELD - height))
    left = int(np.clip(round(FIELD / 2 - centre_x), 0, FIELD - width))
    field = np.zeros((FIELD, FIELD))
    field[top : top + height, left : left + width] = digit
    return np.rint(field * 255).astype(np.uint8)


def net_input(drawing: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The drawing as MNIST's bytes (FIELD, FIELD) and as the net's input row (1, FIELD**2),
    scaled as the data sets are (byte / 255, float32); None when nothing is drawn."""
    image = mnist_style(drawing)
    if image is None:
        return None
    return image, to_float(image[None])
