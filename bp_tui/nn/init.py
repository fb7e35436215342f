"""Weight initialisation: the book's fixed std, He (for ReLU) or Xavier (for Sigmoid)."""

from __future__ import annotations

import numpy as np

INIT_SCHEMES = ("std", "he", "xavier")


def init_scale(scheme: str | float, fan_in: int, std: float = 0.01) -> float:
    """The standard deviation of a layer's initial weights.

    Accepts the book's spellings too: a number, "relu"/"he" or "sigmoid"/"xavier".
    """
    if isinstance(scheme, (int, float)):
        return float(scheme)
    name = scheme.lower()
    if name == "std":
        return std
    if name in ("he", "relu"):
        return float(np.sqrt(2.0 / fan_in))
    if name in ("xavier", "sigmoid"):
        return float(np.sqrt(1.0 / fan_in))
    raise ValueError(f"unknown initialisation {scheme!r}: use a number, std, he or xavier")
