"""A run stuck at chance level: the net scores as a uniform guess over the ten digits would.

A uniform guess has accuracy 1/10 and cross-entropy ln 10 = 2.30. A run whose accuracy stays
near 1/10 while its loss stays near (or above) ln 10 for two evaluations in a row is guessing,
whatever its accuracy axis, autoscaled to 0.089-0.114, makes the noise look like.
"""

from __future__ import annotations

import math

CLASSES = 10
CHANCE_ACCURACY = 1 / CLASSES
CHANCE_LOSS = math.log(CLASSES)
EVALUATIONS = 2  # in a row, before a run is called stuck
ADVICE = "lower the learning rate, or try He init or another optimizer, then reset"


def looks_like_chance(accuracy: float, loss: float | None) -> bool:
    """One evaluation at chance: accuracy within half of 1/10 of it, and the loss (when known)
    at least 80% of ln 10."""
    near = abs(accuracy - CHANCE_ACCURACY) <= CHANCE_ACCURACY / 2
    return near and (loss is None or not math.isfinite(loss) or loss >= 0.8 * CHANCE_LOSS)


class ChanceWatch:
    """Counts the evaluations in a row at chance; `stuck` once there were EVALUATIONS."""

    def __init__(self) -> None:
        self.in_a_row = 0

    def see(self, test_accuracy: float, loss: float | None) -> bool:
        """Take one evaluation; True the first time the run counts as stuck."""
        self.in_a_row = self.in_a_row + 1 if looks_like_chance(test_accuracy, loss) else 0
        return self.in_a_row == EVALUATIONS

    @property
    def stuck(self) -> bool:
        return self.in_a_row >= EVALUATIONS
