"""The validated hyperparameter record of a training run."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from bp_tui.errors import ConfigError
from bp_tui.nn.init import INIT_SCHEMES
from bp_tui.nn.net import ACTIVATIONS
from bp_tui.nn.optimizers import OPTIMIZERS

# Values an optimiser reads each step can change mid-run; the rest shape the net and wait for reset.
LIVE_FIELDS = frozenset({"lr", "batch_size", "optimizer", "iters", "eval_every"})


def waits_for_reset(field: str) -> bool:
    """Whether a new value of `field` takes effect only at the next reset (it shapes the net)."""
    return field not in LIVE_FIELDS


def split_changes(hp: HyperParams, pending: dict, changes: dict) -> tuple[dict, dict]:
    """The rule of what applies now and what waits for the reset, for the engine and the
    dashboard alike: (the live values of `changes` that differ from hp's, the values waiting for
    the reset once `changes` joins `pending`, those hp already has left out)."""
    live = {k: v for k, v in changes.items() if not waits_for_reset(k) and getattr(hp, k) != v}
    waiting = {**pending, **{k: v for k, v in changes.items() if waits_for_reset(k)}}
    return live, {k: v for k, v in waiting.items() if getattr(hp, k) != v}


# The limits of --hidden (README, "Command line"): up to MAX_HIDDEN_LAYERS widths of 1 to
# MAX_WIDTH units, and at most MAX_PARAMS weights and biases for MNIST's 784 inputs and 10
# classes (80 MB of float32, four times that with Adam's two moments and the gradient).
MAX_WIDTH = 10_000
MAX_HIDDEN_LAYERS = 10
MAX_PARAMS = 20_000_000
IMAGE_SIZE, CLASSES = 784, 10
HIDDEN_RULE = (
    f"a comma list of 1 to {MAX_HIDDEN_LAYERS} widths from 1 to {MAX_WIDTH:,}, such as 100,100"
)


# The limits of the whole-number hyperparameters.
INT_LIMITS = {
    "iters": (1, 100_000_000),
    "batch_size": (1, 1_000_000),
    "seed": (0, 2**32 - 1),
    "eval_every": (0, 100_000_000),
}
LR_RULE = "a positive number such as 0.1"
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+")  # 10,000 and 1,000,000; not 100,50 nor 1,,0
DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")  # 0,5: the decimal point of many languages


class NotANumber(ValueError):
    """Text that is not a number of the kind asked; `hint` tells how to write one ("" if none)."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def parse_number(text: str, kind: type) -> int | float:
    """A number as a person types it, for the command line and the edit form alike: ASCII only;
    commas only as thousands separators of a whole number (10,000), never a decimal comma."""
    text = str(text).strip()
    if not text.isascii():  # int() takes other scripts' digits ("１０"); people mean ASCII
        raise NotANumber()
    if "," in text:
        if kind is float:
            decimal = DECIMAL_COMMA.fullmatch(text)
            raise NotANumber(f"; use a point: {text.replace(',', '.')}" if decimal else "")
        if not THOUSANDS.fullmatch(text):
            raise NotANumber("; commas only between groups of three digits, as in 10,000")
        text = text.replace(",", "")
    try:
        return kind(text)
    except ValueError:
        raise NotANumber() from None


def rule(field: str) -> str:
    """What a hyperparameter typed as text must be, as its error says."""
    if field in INT_LIMITS:
        low, high = INT_LIMITS[field]
        return f"a whole number from {low:,} to {high:,}"
    return HIDDEN_RULE if field == "hidden" else LR_RULE


def parse_value(field: str, text: str):
    """A hyperparameter typed as text (lr, batch_size, hidden, iters, seed, eval_every) as
    its value; ConfigError (of `field`) saying what it must be. HyperParams checks its limits."""
    if field == "hidden":
        return parse_hidden(text)
    if field == "eval_every" and str(text).strip() in ("", "epoch"):
        return None
    try:
        return parse_number(text, float if field == "lr" else int)
    except NotANumber as error:
        raise ConfigError(
            f"must be {rule(field)}{error.hint} (got {_shown(text)})", field
        ) from None


def parse_hidden(text: str) -> tuple[int, ...]:
    """ "100,100" -> (100, 100); ConfigError (field "hidden") for anything else."""
    parts = str(text).strip().split(",")
    try:
        if not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
            raise ValueError
        widths = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"must be {HIDDEN_RULE} (got {_shown(text)})", "hidden") from None
    return widths


def hidden_text(hidden: tuple[int, ...] | int) -> str:
    """(100, 100) -> "100,100", as --hidden takes it (a lone width as it is)."""
    if isinstance(hidden, (tuple, list)):
        return ",".join(str(width) for width in hidden)
    return str(hidden)


def lr_text(lr: float) -> str:
    """A learning rate as a person types it: three significant figures (halving 0.1 five
    times gives 0.003125, shown 0.00312)."""
    return f"{lr:.3g}"


def _shown(text: str, limit: int = 40) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


@dataclass(frozen=True)
class HyperParams:
    """The book's recipe by default: 10,000 iterations, batch 100, lr 0.1, 50 ReLU units, std 0.01, SGD."""

    iters: int = 10_000
    batch_size: int = 100
    lr: float = 0.1
    hidden: tuple[int, ...] = (50,)  # the hidden layers' widths; an int is one layer
    activation: str = "relu"
    init: str = "std"
    optimizer: str = "sgd"
    seed: int = 0
    eval_every: int | None = None  # iterations between evaluations; None: an epoch; 0: at the end

    def __post_init__(self) -> None:
        self._check_int("iters")
        self._check_int("batch_size")
        self._check_hidden()
        self._check_int("seed")
        if self.eval_every is not None:
            self._check_int("eval_every")
        lr = self.lr
        if (
            isinstance(lr, bool)
            or not isinstance(lr, (int, float))
            or not math.isfinite(lr)
            or lr <= 0
        ):
            raise ConfigError(f"must be {LR_RULE} (got {lr!r})", "lr")
        object.__setattr__(self, "lr", float(lr))
        self._check_choice("activation", ACTIVATIONS)
        self._check_choice("init", INIT_SCHEMES)
        self._check_choice("optimizer", OPTIMIZERS)

    def _check_int(self, name: str) -> None:
        value = getattr(self, name)
        low, high = INT_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"must be {rule(name)} (got {value!r})", name)

    def _check_hidden(self) -> None:
        value = self.hidden
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, str):
            value = parse_hidden(value)
        if isinstance(value, list):
            value = tuple(value)
        if (
            not isinstance(value, tuple)
            or not 1 <= len(value) <= MAX_HIDDEN_LAYERS
            or not all(
                isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= MAX_WIDTH
                for w in value
            )
        ):
            got = hidden_text(value) if isinstance(value, tuple) else repr(self.hidden)
            raise ConfigError(f"must be {HIDDEN_RULE} (got {_shown(got)})", "hidden")
        sizes = (IMAGE_SIZE, *value, CLASSES)
        params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        if params > MAX_PARAMS:
            raise ConfigError(
                f"makes a net of {params:,} weights and biases, more than the {MAX_PARAMS:,} "
                f"allowed (got {hidden_text(value)})",
                "hidden",
            )
        object.__setattr__(self, "hidden", value)

    @property
    def depth(self) -> int:
        """How many weight matrices: hidden layers + 1."""
        return len(self.hidden) + 1

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
        """The record as JSON has it (hidden a list)."""
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> HyperParams:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def describe(self) -> str:
        return (
            f"hidden {hidden_text(self.hidden)} {self.activation}, {self.init} init, {self.optimizer} lr {lr_text(self.lr)}, "
            f"batch {self.batch_size}, {self.iters:,} iterations, seed {self.seed}"
        )


def check_batch_size(batch_size: int, train_size: int) -> None:
    """ConfigError (field "batch_size") for a batch larger than the training set: each
    iteration would go round it more than once."""
    if batch_size > train_size:
        raise ConfigError(
            f"must be at most {train_size:,}, the training images of the data set "
            f"(got {batch_size:,})",
            "batch_size",
        )


def check_iters_left(iters: int, iteration: int) -> None:
    """ConfigError (field "iters") for a run length below the iteration the run has reached:
    the run cannot be made shorter than what it has done (the same value ends it there)."""
    if iters < iteration:
        raise ConfigError(
            f"must be at least {iteration:,}, the iteration the run is at "
            f"({iteration:,} ends it now)",
            "iters",
        )
