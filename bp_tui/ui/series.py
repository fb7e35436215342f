"""A loss history for drawing: a fixed number of bins however long the run, so a frame costs the
same at iteration 100 and at 1,000,000."""

from __future__ import annotations

import numpy as np

# The smoothed line is an exponential moving average; smoothing is the weight the previous
# average keeps at each iteration, on TensorBoard's scale (0: none, 0.99: very smooth).
SMOOTHING = 0.95
SMOOTHINGS = (0.0, 0.6, 0.9, 0.95, 0.99)  # what S steps through


def smoothed_blocks(means: np.ndarray, counts: np.ndarray, smoothing: float) -> np.ndarray:
    """The moving average after each block of iterations, from the blocks' mean values: a block
    of n iterations moves the average as n iterations of its mean would."""
    out = np.empty(len(means))
    level = None
    for k, (mean, count) in enumerate(zip(means.tolist(), counts.tolist(), strict=True)):
        level = mean if level is None else mean + smoothing ** max(count, 1) * (level - mean)
        out[k] = level
    return out


class BinnedSeries:
    """Per-iteration values folded into at most `capacity` bins of equal width.

    When the bins fill up, neighbours merge pairwise and the width doubles.
    """

    def __init__(self, capacity: int = 512, smoothing: float = SMOOTHING) -> None:
        self.capacity = capacity
        self.smoothing = smoothing
        self.clear()

    def clear(self) -> None:
        self.width = 1
        self.sums = np.zeros(self.capacity)
        self.smooth_sums = np.zeros(self.capacity)
        self.counts = np.zeros(self.capacity, dtype=np.int64)
        self.bins = 0  # bins in use (the last may be partly filled)
        self.count = 0  # values seen
        self.smoothed: float | None = None

    def extend(self, values) -> None:
        for value in np.asarray(values, dtype=np.float64):
            self.append(float(value))

    def append(self, value: float) -> None:
        if not np.isfinite(value):
            return
        self.smoothed = (
            value if self.smoothed is None else value + self.smoothing * (self.smoothed - value)
        )
        index = self.count // self.width
        if index >= self.capacity:
            self._merge()
            index = self.count // self.width
        self.sums[index] += value
        self.smooth_sums[index] += self.smoothed
        self.counts[index] += 1
        self.bins = index + 1
        self.count += 1

    def set_smoothing(self, smoothing: float) -> None:
        """Smooth the whole line again, as it would have been smoothed from the start (from the
        bins' means: their single values are gone)."""
        self.smoothing = smoothing
        if not self.bins:
            return
        counts = self.counts[: self.bins]
        means = self.sums[: self.bins] / np.maximum(counts, 1)
        levels = smoothed_blocks(means, counts, smoothing)
        self.smooth_sums[: self.bins] = levels * counts
        self.smoothed = float(levels[-1])

    def _merge(self) -> None:
        half = self.capacity // 2
        for array in (self.sums, self.smooth_sums, self.counts):
            array[:half] = array[0::2] + array[1::2]
            array[half:] = 0
        self.width *= 2

    def points(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(iteration at each bin's centre, mean value, mean smoothed value); with `limit`, at
        most that many points (neighbouring bins merged), as many as a chart has columns."""
        group = 1 if not limit else max(1, -(-self.bins // max(limit, 1)))
        bins = -(-self.bins // group)
        counts, sums, smooth_sums = (
            np.pad(a[: self.bins], (0, bins * group - self.bins)).reshape(bins, group).sum(axis=1)
            for a in (self.counts, self.sums, self.smooth_sums)
        )
        width = self.width * group
        keep = counts > 0
        x = np.arange(bins) * width + (np.minimum(counts, width) + 1) // 2  # the middle iteration
        return (
            x[keep],
            (sums / np.maximum(counts, 1))[keep],
            (smooth_sums / np.maximum(counts, 1))[keep],
        )


def thin(x, y, limit: int) -> tuple[list, list]:
    """At most `limit` points of a line (every k-th), its last point kept."""
    x, y = list(x), list(y)
    step = max(1, -(-len(x) // max(limit, 1)))
    if step == 1:
        return x, y
    return x[::step] + x[-1:], y[::step] + y[-1:]


class EpochScale:
    """Iterations to epochs for one run, from (iteration, epoch) pairs it reported: piecewise,
    since a batch size changed mid-run changes an epoch's length."""

    def __init__(self, anchors: list[tuple[int, float]] = ()) -> None:  # type: ignore[assignment]
        self.iterations, self.epochs = [0], [0.0]
        for iteration, epoch in anchors:
            self.note(iteration, epoch)

    def note(self, iteration: int, epoch: float) -> None:
        if iteration > self.iterations[-1]:
            self.iterations.append(iteration)
            self.epochs.append(epoch)

    def __call__(self, iterations) -> np.ndarray:
        x = np.asarray(iterations, dtype=float)
        its, eps = self.iterations, self.epochs
        if len(its) < 2:
            return x * 0.0
        # Past the last pair, at the last known pace.
        pace = (eps[-1] - eps[-2]) / (its[-1] - its[-2])
        return np.where(x <= its[-1], np.interp(x, its, eps), eps[-1] + (x - its[-1]) * pace)
