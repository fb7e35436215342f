"""A run's history kept in bounded memory: its mini-batch losses (the run's metrics.jsonl has
every one) and how many evaluations stay in memory."""

from __future__ import annotations

from array import array

import numpy as np

# The last losses kept in memory and in a checkpoint: enough for the divergence window, a resume
# and the charts' replay after a load; the run's metrics.jsonl keeps every one (as means of 10).
LOSS_TAIL = 2**15
EVALUATION_TAIL = 5_000  # the last evaluations kept likewise (every one is in metrics.jsonl)


class LossHistory:
    """The run's mini-batch losses by iteration (index i is iteration i + 1), keeping only the
    last LOSS_TAIL to 2 * LOSS_TAIL of them, so a run of any length takes bounded memory.

    len() counts every loss of the run; indexing and slicing use those run-wide indices, and a
    slice returns the part still kept (a list, as slicing the full list did).
    """

    def __init__(self, values=(), start: int = 0, keep: int = LOSS_TAIL) -> None:
        self._values = array("d", values)
        self.start = start  # the index of the first loss kept
        self.keep = keep

    def append(self, value: float) -> None:
        values = self._values
        values.append(value)
        if len(values) >= 2 * self.keep:
            drop = len(values) - self.keep
            del values[:drop]
            self.start += drop

    def __len__(self) -> int:
        return self.start + len(self._values)

    def __getitem__(self, key):
        if isinstance(key, slice):
            first, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("a loss history slices with step 1 only")
            first = max(first, self.start)
            return self._values[first - self.start : max(stop - self.start, 0)].tolist()
        index = key + len(self) if key < 0 else key
        if not self.start <= index < len(self):
            raise IndexError(f"loss {key} is not kept (only the last {len(self._values)} are)")
        return self._values[index - self.start]

    def __iter__(self):
        """The losses still kept."""
        return iter(self._values)

    def recent(self, count: int = LOSS_TAIL) -> np.ndarray:
        """The last `count` losses kept, as float64."""
        return np.array(self._values[max(len(self._values) - count, 0) :], dtype=np.float64)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LossHistory):
            return self.start == other.start and self._values == other._values
        try:
            return len(other) == len(self) and list(other[self.start :]) == self._values.tolist()  # type: ignore[arg-type,index]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LossHistory({len(self)} losses, the last {len(self._values)} kept)"
