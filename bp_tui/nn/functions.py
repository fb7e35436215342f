"""The book's loss and activation functions, numerically stable, for any number of leading axes."""

from __future__ import annotations

import numpy as np

# The book's current code adds this inside the log; its printed gradient check predates it.
LOG_EPSILON = 1e-7


def softmax(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax over the last axis; subtracting the max keeps exp from overflowing.
    out: where to write it (x itself works: in place), else a new array."""
    shifted = np.subtract(x, row_max(x), out=out)
    exp = np.exp(shifted, out=shifted)  # in place: shifted is out or a temporary of our own
    exp /= np.sum(exp, axis=-1, keepdims=True)
    return exp


def row_max(x: np.ndarray) -> np.ndarray:
    """np.max(x, axis=-1, keepdims=True). Many short rows (the numerical gradient's stacked
    copies, ten scores each) are reduced across a transposed copy, five times faster: a max is
    the same number in any order."""
    if x.ndim < 2 or x.shape[-1] > 16 or x.size < 4096:
        return np.max(x, axis=-1, keepdims=True)
    rows = x.reshape(-1, x.shape[-1])
    across = np.empty(rows.shape[::-1], x.dtype)
    np.copyto(across, rows.T)
    return np.maximum.reduce(across, axis=0).reshape(*x.shape[:-1], 1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    # Clipping avoids overflow warnings in exp for large negative inputs.
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def as_labels(t: np.ndarray) -> np.ndarray:
    """Integer labels from labels or one-hot rows."""
    t = np.asarray(t)
    return t.argmax(axis=-1) if t.ndim >= 2 else t.astype(np.intp, copy=False)


def cross_entropy_error(y: np.ndarray, t: np.ndarray, epsilon: float = LOG_EPSILON) -> np.ndarray:
    """Mean cross-entropy of probabilities y (..., N, C) against labels or one-hot t.

    Leading axes beyond (N, C) are kept, so many perturbed copies of a batch are scored at once.
    """
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = np.asarray(t).reshape(1, -1) if np.ndim(t) == 1 and np.size(t) == y.shape[1] else t
    labels = as_labels(t).reshape(-1)
    batch_size = y.shape[-2]
    picked = y[..., np.arange(batch_size), labels]
    return -np.sum(np.log(picked + epsilon), axis=-1) / batch_size


def smooth_curve(x, window: int = 11, beta: float = 2.0) -> np.ndarray:
    """A loss curve smoothed as the book's common/util.py does for its ch06 figures: a Kaiser
    window (11 points, beta 2) run over the curve padded with its own mirror image at both
    ends (the book's padding: x[10..1] before, x[-1..-10] after), as long as the curve."""
    values = np.asarray(x, dtype=np.float64)
    padded = np.concatenate([values[1:window][::-1], values, values[::-1][: window - 1]])
    kernel = np.kaiser(window, beta)
    smoothed = np.convolve(kernel / kernel.sum(), padded, mode="valid")
    half = window // 2
    return smoothed[half : len(smoothed) - half]
