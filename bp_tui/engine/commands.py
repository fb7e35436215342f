"""What the engine accepts: plain picklable dataclasses, read between iterations.

They take effect in the order they were sent; a Pause or Stop ends a Step(n) under way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Run:
    pass


@dataclass
class Pause:
    pass


@dataclass
class Step:
    count: int = 1


@dataclass
class Stop:
    pass


@dataclass
class Reset:
    pass


@dataclass
class SetParams:
    changes: dict[str, Any]


@dataclass
class CheckGradient:
    exact: bool = False


@dataclass
class Inspect:
    """A fresh random batch of training images and the net's parameters, for the inspector;
    seed None draws another batch each time (a number: the same batch, as recordings need).
    last_step: in slow motion, the training step just taken instead: its batch and the
    weights it started from."""

    batch_size: int = 100
    exact: bool = False
    seed: int | None = None
    last_step: bool = False
    # A drawing (uint8 28 x 28 ink) as the batch, of one, and its label (None: the net's
    # answer). Left out of repr: the recordings of tests are keyed by their commands' repr.
    drawing: np.ndarray | None = field(default=None, repr=False)
    label: int | None = field(default=None, repr=False)


@dataclass
class Save:
    path: str | None = None


@dataclass
class Load:
    path: str | None = None  # None = the latest checkpoint


@dataclass
class SetSpeed:
    """Slow motion: at most this many iterations a second (None: as fast as the machine goes)."""

    iters_per_second: float | None = None


@dataclass
class Predict:
    """The net's answer on a drawing (uint8 28 x 28 ink, as the pad holds it): a Prediction
    with the same `request` number follows."""

    drawing: np.ndarray
    request: int = 0
