"""`bp-tui gradcheck`: the book's check, backprop against numerical gradients on 3 images."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bp_tui.cli.options import Takes, add_shared_options, hyperparams_from, whole_number
from bp_tui.errors import ConfigError

if TYPE_CHECKING:  # the rest when the command runs: building the command line must stay light
    from rich.table import Table

    from bp_tui.nn.gradcheck import GradCheckReport


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    check = subparsers.add_parser(
        "gradcheck", help="backprop against numerical gradients (the book's check)"
    )
    add_shared_options(check)
    check.add_argument(
        "--exact", action="store_true", help="no 1e-7 in the log: the book's figures"
    )
    check.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the report as JSON"
    )
    check.add_argument(
        "--sample",
        type=whole_number,
        metavar="N",
        help="check N random elements of each larger parameter; 0 checks all "
        "(default: all up to 784-200-10, else 2,000)",
    )
    # What it uses: the untrained net's shape, its initial weights, and the data.
    unused = ("iters", "batch_size", "lr", "optimizer", "eval_every")
    check.set_defaults(
        func=run_gradcheck, takes=Takes(ignores=unused, why="it checks the untrained net")
    )
    return check


def report_table(report: GradCheckReport) -> Table:
    """The book's figures for the mode asked for and the verdict, each column under the rule
    that judges it (report.rule_lines, printed below the table as the dashboard shows them)."""
    from rich.table import Table

    table = Table(title=f"gradient check, {report.mode} mode")
    columns = ("param", "mean |diff|", "max |diff|", "at kinks", report.figure_name, "backprop")
    for name in columns:
        table.add_column(name, justify="right")
    for key, c in report.params.items():
        verdict = c.verdict_figure
        mark = f"[green]pass {verdict}[/]" if c.passed else f"[red]FAIL {verdict}[/]"
        if c.unjudged:  # the at-kinks count beside it says why
            mark = "[yellow]not judged[/]"
        figures = (c.shown(v, ".2e") for v in (c.mean_abs_diff, c.max_abs_diff))
        # Kinked elements count in mean and max |diff| but not in rel err: this says why a
        # large max |diff| can stand beside a pass.
        kinks = f"{c.kinked:,}" if c.kinked else ""
        table.add_row(key, *figures, kinks, c.shown_rel_error(".2e"), mark)
    return table


def sample_lines(report: GradCheckReport) -> list[str]:
    """ "checked 2,000 of 78,400 elements of ... (a random sample...)" for each sampled
    parameter."""
    return [
        f"checked {c.checked:,} of {c.size:,} elements of {key} (a random sample; --sample 0 "
        "checks them all)"
        for key, c in report.params.items()
        if c.checked
    ]


def run_gradcheck(args: argparse.Namespace) -> int:
    import numpy as np
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from bp_tui.cli.common import load_data
    from bp_tui.engine.loop import GRADCHECK_SAMPLES
    from bp_tui.engine.trainer import Trainer
    from bp_tui.nn.gradcheck import default_sample, gradient_check

    hp = hyperparams_from(args)
    if args.sample is not None and args.sample < 0:
        raise ConfigError(f"--sample expects 0 (all) or a positive number (got {args.sample})")
    data = load_data(args, quiet=args.json)
    # A freshly initialised net, as the book's gradient_check.py does.
    trainer = Trainer(hp, data)
    params = {k: v.astype(np.float64) for k, v in trainer.net.params.items()}
    sample = default_sample(params) if args.sample is None else (args.sample or None)
    errors = Console(stderr=True, soft_wrap=True)
    # The numerical side takes minutes for big nets: a bar on stderr when it is a terminal.
    with Progress(
        TextColumn("gradient check"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    ) as bar:
        task = bar.add_task("check", total=None)
        report = gradient_check(
            params,
            data.x_train[:GRADCHECK_SAMPLES],
            data.t_train[:GRADCHECK_SAMPLES],
            activation=hp.activation,
            exact=args.exact,
            sample=sample,
            seed=hp.seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        console = Console()
        console.print(report_table(report))
        console.print(
            f"{report.images} images through {trainer.spec} ({hp.activation}); numerical "
            f"gradient {report.method_text}",
            highlight=False,
        )
        for line in report.rule_lines():
            console.print(line, highlight=False)
        console.print(report.explanation, highlight=False)
        for line in sample_lines(report):
            console.print(line, highlight=False)
        verdict = "passed" if report.passed else "FAILED"
        console.print(f"{verdict} in {report.seconds:.3f} s", highlight=False)
    return 0 if report.passed else 1
