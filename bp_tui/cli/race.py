"""`bp-tui race optimizers|init`: the book's chapter-6 comparisons, trained side by side."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bp_tui.cli.options import Takes, add_shared_options, shown, whole_number
from bp_tui.cli.words import accuracy_text, counted
from bp_tui.engine.config import CLASSES, IMAGE_SIZE, MAX_HIDDEN_LAYERS
from bp_tui.engine.race import (
    BOOK_RACE,
    BOOK_WIDTH,
    LOSS_EVERY,
    RACES,
    Entry,
    hidden_of_depth,
    run_race,
)
from bp_tui.errors import ConfigError
from bp_tui.nn.model import shape_text

if TYPE_CHECKING:  # rich's table when the race is shown: building the command line stays light
    from rich.table import Table

# The race sets the learning rate, optimizer, initialisation and activation itself.
USERS_OWN = ("iters", "batch_size", "hidden", "seed")
SET_BY_THE_RACE = ("lr", "optimizer", "init", "activation", "eval_every")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    race = subparsers.add_parser(
        "race",
        help="the book's chapter-6 races: optimizers (fig. 6-9) or weight init (fig. 6-15)",
        description=(
            "Train the configurations of one of the book's chapter-6 comparisons side by side, "
            "on the same mini-batches: optimizers (SGD, Momentum, AdaGrad, Adam) or init "
            "(std 0.01, Xavier, He). The book's settings: its five-layer ReLU net "
            "784-100-100-100-100-10, 2,000 iterations of batch 128; optimizers: SGD, Momentum "
            "and AdaGrad at lr 0.01, Adam at 0.001, He initialisation; init: SGD at lr 0.01. "
            "--depth or --hidden race another net."
        ),
    )
    race.add_argument("kind", choices=tuple(RACES), help="which race")
    race.add_argument(
        "--depth",
        type=depth_number,
        default=argparse.SUPPRESS,
        help=f"weight layers of the raced net, each hidden one {BOOK_WIDTH} wide (default 5, "
        f"the book's; 2 to {MAX_HIDDEN_LAYERS + 1})",
    )
    add_shared_options(race)
    race.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object"
    )
    unused = ("lr", "optimizer", "init", "activation", "eval_every")
    race.set_defaults(
        func=run, takes=Takes(ignores=unused, why="each configuration of the race sets it")
    )
    return race


def depth_number(text: str) -> int:
    depth = whole_number(text)
    if not 2 <= depth <= MAX_HIDDEN_LAYERS + 1:
        raise argparse.ArgumentTypeError(
            f"expects a whole number from 2 to {MAX_HIDDEN_LAYERS + 1} (got {shown(text)})"
        )
    return depth


def run(args: argparse.Namespace) -> int:
    if hasattr(args, "depth") and hasattr(args, "hidden"):
        raise ConfigError("--depth and --hidden both shape the net: give one of them")
    base = BOOK_RACE.replace(**{f: getattr(args, f) for f in USERS_OWN if hasattr(args, f)})
    if hasattr(args, "depth"):
        base = base.replace(hidden=hidden_of_depth(args.depth))
    from rich.console import Console

    from bp_tui.cli.common import load_data

    as_json = getattr(args, "json", False)
    data = load_data(args, quiet=as_json)  # a missing or damaged data set: one line, here
    name, data_dir = data.name, getattr(args, "data_dir", None)
    errors = Console(stderr=True, soft_wrap=True)
    if not as_json:
        configs = ", ".join(n for n, _ in RACES[args.kind])
        shape = shape_text((IMAGE_SIZE, *base.hidden, CLASSES))
        errors.print(
            f"racing {configs} on {name}: {shape} ReLU nets, {counted(base.iters, 'iteration')} of "
            f"batch {base.batch_size}"
        )
    entries = run_race(args.kind, name, data_dir, base)
    if as_json:
        print(
            json.dumps(
                {
                    "race": args.kind,
                    "dataset": name,
                    "iterations": base.iters,
                    "batch_size": base.batch_size,
                    "hidden": list(base.hidden),
                    "configurations": [e.to_dict() for e in entries],
                }
            )
        )
    else:
        Console(soft_wrap=True).print(table(entries))
    return 2 if any(e.diverged for e in entries) else 0


def table(entries: list[Entry]) -> Table:
    """Each configuration's loss as the book prints it (every 500 iterations here), then its
    final accuracy."""
    from rich.table import Table

    out = Table(box=None, padding=(0, 1), title="loss (mean of 100 iterations) at iteration")
    out.add_column("", style="bold", no_wrap=True, min_width=8)
    steps = max(len(e.losses) for e in entries)
    shown = [i for i in range(steps) if (i + 1) * LOSS_EVERY % 500 == 0 or i == steps - 1]
    for i in shown:
        out.add_column(f"{min((i + 1) * LOSS_EVERY, entries[0].hp.iters):,}", justify="right")
    out.add_column("train acc", justify="right", no_wrap=True)
    out.add_column("test acc", justify="right", no_wrap=True)
    for e in entries:
        losses = [f"{e.losses[i]:.4f}" if i < len(e.losses) else "-" for i in shown]
        accuracy = (
            [accuracy_text(e.train_acc), accuracy_text(e.test_acc)]
            if not e.diverged
            else ["diverged", "-"]
        )
        out.add_row(e.name, *losses, *accuracy)
    return out
