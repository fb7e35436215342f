"""A loss history for drawing: a fixed number of bins however long the run, so a frame costs the
same at iteration 100 and at 1,000,000."""

from __future__ import annotations

import numpy as np

SMOOTHING = 0.05  # weight of the newest loss in the smoothed line (an exponential moving average)


class BinnedSeries:
    """Per-iteration values folded into at most `capacity` bins of equal width.

    When the bins fill up, neighbours merge pairwise and the width doubles.
    """

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
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
            value if self.smoothed is None else self.smoothed + SMOOTHING * (value - self.smoothed)
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
