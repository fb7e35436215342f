"""The options shared by `bp-tui` and its commands, and what each command declares it takes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bp_tui.engine.config import (
    MAX_HIDDEN_LAYERS,
    MAX_PARAMS,
    MAX_WIDTH,
    HyperParams,
    NotANumber,
    hidden_text,
    parse_number,
    parse_value,
)
from bp_tui.errors import ConfigError
from bp_tui.nn.init import INIT_SCHEMES
from bp_tui.nn.net import ACTIVATIONS
from bp_tui.nn.optimizers import OPTIMIZERS

DATASET_CHOICES = ("sample", "mnist", "fashion-mnist")

# HyperParams' fields, each an option.
HYPERPARAMETERS = (
    "iters",
    "batch_size",
    "lr",
    "hidden",
    "activation",
    "init",
    "optimizer",
    "seed",
    "eval_every",
)
DASHBOARD_OPTIONS = ("paused", "exit_when_done", "speed", "theme")  # the dashboard's own

LAYERS_HELP = (
    "train the layers of your own file (.py or .ipynb): your TwoLayerNet, or bp-tui's net "
    "made of your Affine, Relu, Sigmoid, SoftmaxWithLoss (runs your code)"
)


@dataclass(frozen=True)
class Takes:
    """What a command takes of the options `bp-tui` itself has (a command's module declares it:
    `parser.set_defaults(func=run, takes=Takes(...))`); the rest are refused, one line each."""

    ignores: tuple[str, ...] = ()  # the shared options it would do nothing with...
    why: str = ""  # ...and why
    dashboard: tuple[str, ...] = ()  # of DASHBOARD_OPTIONS, those it passes on (serve)
    layers: bool = False  # --layers
    no_layers_because: str = ""  # said when it refuses --layers
    resume: bool = False  # --resume
    json: bool = True  # --json


def flag(field: str) -> str:
    """The option that sets a hyperparameter: flag("batch_size") -> "--batch-size"."""
    return "--" + field.replace("_", "-")


def error_line(error: Exception) -> str:
    """What the command line says of an error: a bad value is named by its flag."""
    if isinstance(error, ConfigError) and error.field:
        return f"{flag(error.field)} {error.problem}"
    return str(error)


def shown(text: str, limit: int = 40) -> str:
    """A value echoed in an error line: quoted, and cut so that the line stays one line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def whole_number(text: str) -> int:
    try:
        return parse_number(text, int)
    except NotANumber as error:
        raise argparse.ArgumentTypeError(
            f"expects a whole number{error.hint} (got {shown(text)})"
        ) from None


def number(text: str) -> float:
    try:
        return parse_number(text, float)
    except NotANumber as error:
        raise argparse.ArgumentTypeError(
            f"expects a number such as 0.1{error.hint} (got {shown(text)})"
        ) from None


def hyperparameter(field: str):
    """The parser of a hyperparameter's option: the edit form's reading of the text, and the
    value checked alone as HyperParams checks it, so that a bad value is one message whatever
    is wrong with it ("0" or "x" alike)."""

    def parse(text: str):
        try:
            value = parse_value(field, text)
            HyperParams().replace(**{field: value})
        except ConfigError as error:
            raise argparse.ArgumentTypeError(error.problem) from None
        return value

    return parse


def speed_limit(text: str) -> float | None:
    """--speed: "full" (None) or a positive number of iterations a second."""
    if text.strip().lower() == "full":
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = float("nan")
    if not 0 < speed <= 1e6:
        raise argparse.ArgumentTypeError(
            f"expects iterations a second such as 5, or full (got {shown(text)})"
        )
    return speed


def theme_name(text: str) -> str:
    """--theme: one of Textual's themes or bp-tui's own (projector)."""
    from bp_tui.ui.settings import theme_names

    names = theme_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"expects one of {', '.join(names)} (got {shown(text)})")
    return text


def choice(choices):
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise argparse.ArgumentTypeError(
                f"expects one of {', '.join(choices)} (got {shown(text)})"
            )
        return text.lower()

    return parse


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """Every option defaults to SUPPRESS, so a subcommand never overwrites what the top level got."""
    d = HyperParams()
    add = parser.add_argument
    s = argparse.SUPPRESS
    add(
        "--dataset",
        type=choice(DATASET_CHOICES),
        default=s,
        help="sample, mnist or fashion-mnist (default: mnist when cached, else the shipped sample)",
    )
    add(
        "--data-dir",
        default=s,
        help="data cache folder (default: $BP_TUI_DATA_DIR or the user cache)",
    )
    add(
        "--iters",
        type=hyperparameter("iters"),
        default=s,
        help=f"training iterations (default {d.iters:,})",
    )
    add(
        "--batch-size",
        type=hyperparameter("batch_size"),
        default=s,
        help=f"mini-batch size (default {d.batch_size})",
    )
    add("--lr", type=hyperparameter("lr"), default=s, help=f"learning rate (default {d.lr})")
    add(
        "--hidden",
        type=hyperparameter("hidden"),
        default=s,
        help=f"hidden layer widths, a comma list: 50 is the book's 784-50-10, 100,100,100,100 "
        f"its ch06 net (default {hidden_text(d.hidden)}; up to {MAX_HIDDEN_LAYERS} layers of "
        f"{MAX_WIDTH:,}, {MAX_PARAMS:,} parameters in all)",
    )
    add(
        "--activation", type=choice(tuple(ACTIVATIONS)), default=s, help="relu (default) or sigmoid"
    )
    add(
        "--init",
        type=choice(INIT_SCHEMES),
        default=s,
        help="std (the book's 0.01, default), he or xavier",
    )
    add(
        "--optimizer",
        type=choice(tuple(OPTIMIZERS)),
        default=s,
        help="sgd (default), momentum, adagrad or adam",
    )
    add("--seed", type=hyperparameter("seed"), default=s, help=f"random seed (default {d.seed})")
    add(
        "--eval-every",
        type=hyperparameter("eval_every"),
        default=s,
        help="iterations between accuracy evaluations; 0 = only at the end (default: one epoch)",
    )


def hyperparams_from(args: argparse.Namespace) -> HyperParams:
    """Validated HyperParams; raises ConfigError naming the bad option."""
    fields = HYPERPARAMETERS
    return HyperParams(**{f: getattr(args, f) for f in fields if hasattr(args, f)})
