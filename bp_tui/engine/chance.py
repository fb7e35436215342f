"""A run stuck at chance level: the net scores as a uniform guess over the ten digits would.

A uniform guess has accuracy 1/10 and cross-entropy ln 10 = 2.30. A run whose accuracy stays
near 1/10 while its loss stays near (or above) ln 10 for two evaluations in a row is guessing,
whatever its accuracy axis, autoscaled to 0.089-0.114, makes the noise look like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CLASSES = 10
CHANCE_ACCURACY = 1 / CLASSES
CHANCE_LOSS = math.log(CLASSES)
EVALUATIONS = 2  # in a row, before a run is called stuck
# The init that keeps each activation's signal (and gradient) alive through many layers (§6.2).
INIT_FOR = {"relu": "he", "sigmoid": "xavier"}
INIT_NAMES = {"he": "He", "xavier": "Xavier", "std": "std 0.01"}


@dataclass(frozen=True)
class Advice:
    """What to try for a run at chance, by its recipe: `cause` says why when it is known (a deep
    net of std 0.01 weights: the gradient vanishes), then each suggestion that applies."""

    cause: str
    lower_lr: bool
    init: str | None  # an init scheme to try (INIT_SCHEMES), None when it is already suited
    optimizer: bool

    def phrase(self, lower_lr: str, init: str, optimizer: str) -> str:
        """The suggestions as one phrase, each worded by the caller: "lower the learning rate,
        or try He init or another optimizer" (the dashboard names keys, the CLI options; init
        is formatted with the scheme's name and key: "{name} init", "--init {key}")."""
        tries = ([init.format(name=INIT_NAMES[self.init], key=self.init)] if self.init else []) + (
            [optimizer] if self.optimizer else []
        )
        parts = ([lower_lr] if self.lower_lr else []) + (
            [f"try {' or '.join(tries)}"] if tries else []
        )
        return ", or ".join(parts)

    def words(self) -> str:
        """The advice in words, its cause first when known, then ", then reset"."""
        text = self.phrase("lower the learning rate", "{name} init", "another optimizer")
        return f"{self.cause}: {text}, then reset" if self.cause else f"{text}, then reset"


def advice(activation: str, init: str, depth: int) -> Advice:
    """For a run at chance with this recipe (depth: its hidden layers). Tiny weights in a deep
    net starve the gradient before it reaches the first layers, whatever the rate: the init is
    the fix, and a lower rate would only slow it further."""
    suited = INIT_FOR.get(activation)
    if init == "std" and depth >= 2 and suited:
        cause = f"the gradient vanishes through {depth} layers of std 0.01 weights"
        return Advice(cause, lower_lr=False, init=suited, optimizer=False)
    return Advice("", lower_lr=True, init=suited if init != suited else None, optimizer=True)


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
