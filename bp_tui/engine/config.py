"""The validated hyperparameter record of a training run."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from bp_tui.errors import ConfigError
from bp_tui.nn.init import INIT_SCHEMES
from bp_tui.nn.net import ACTIVATIONS
from bp_tui.nn.optimizers import OPTIMIZERS

# Values an optimiser reads each step can change mid-run; the rest shape the net and wait for reset.
LIVE_FIELDS = frozenset({"lr", "batch_size", "optimizer", "iters", "eval_every"})


@dataclass(frozen=True)
class HyperParams:
    """The book's recipe by default: 10,000 iterations, batch 100, lr 0.1, 50 ReLU units, std 0.01, SGD."""

    iters: int = 10_000
    batch_size: int = 100
    lr: float = 0.1
    hidden: int = 50
    activation: str = "relu"
    init: str = "std"
    optimizer: str = "sgd"
    seed: int = 0
    eval_every: int | None = None  # iterations between evaluations; None: an epoch; 0: at the end

    def __post_init__(self) -> None:
        self._check_int("iters", 1, 100_000_000)
        self._check_int("batch_size", 1, 1_000_000)
        self._check_int("hidden", 1, 10_000)
        self._check_int("seed", 0, 2**32 - 1)
        if self.eval_every is not None:
            self._check_int("eval_every", 0, 100_000_000)
        lr = self.lr
        if (
            isinstance(lr, bool)
            or not isinstance(lr, (int, float))
            or not math.isfinite(lr)
            or lr <= 0
        ):
            raise ConfigError(f"must be a positive number such as 0.1 (got {lr!r})", "lr")
        object.__setattr__(self, "lr", float(lr))
        self._check_choice("activation", ACTIVATIONS)
        self._check_choice("init", INIT_SCHEMES)
        self._check_choice("optimizer", OPTIMIZERS)

    def _check_int(self, name: str, low: int, high: int) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"must be a whole number from {low:,} to {high:,} (got {value!r})", name
            )

    def _check_choice(self, name: str, choices) -> None:
        if getattr(self, name) not in choices:
            raise ConfigError(
                f"must be one of {', '.join(choices)} (got {getattr(self, name)!r})", name
            )

    def replace(self, **changes) -> HyperParams:
        """A validated copy with some values changed."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown hyperparameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> HyperParams:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def describe(self) -> str:
        return (
            f"{self.hidden} {self.activation} units, {self.init} init, {self.optimizer} lr {self.lr:g}, "
            f"batch {self.batch_size}, {self.iters:,} iterations, seed {self.seed}"
        )
