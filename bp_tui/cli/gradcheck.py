"""`bp-tui gradcheck`: the book's check, backprop against numerical gradients on 3 images."""

from __future__ import annotations

import argparse
import json

import numpy as np
from rich.console import Console
from rich.table import Table

from bp_tui.cli.common import load_data
from bp_tui.cli.options import hyperparams_from
from bp_tui.engine.loop import GRADCHECK_SAMPLES
from bp_tui.engine.trainer import Trainer
from bp_tui.nn.gradcheck import GradCheckReport, gradient_check


def report_table(report: GradCheckReport) -> Table:
    table = Table(
        title=f"gradient check, {report.mode} mode (pass: rel error < {report.threshold:g})"
    )
    for name in ("param", "mean |diff|", "max |diff|", "rel error", ""):
        table.add_column(name, justify="right")
    for key, c in report.params.items():
        mark = "[green]pass[/]" if c.passed else "[red]FAIL[/]"
        table.add_row(
            key, f"{c.mean_abs_diff:.2e}", f"{c.max_abs_diff:.2e}", f"{c.rel_error:.2e}", mark
        )
    return table


def run_gradcheck(args: argparse.Namespace) -> int:
    hp = hyperparams_from(args)
    data = load_data(args, quiet=args.json)
    # A freshly initialised net, as the book's gradient_check.py does.
    trainer = Trainer(hp, data)
    params = {k: v.astype(np.float64) for k, v in trainer.net.params.items()}
    report = gradient_check(
        params,
        data.x_train[:GRADCHECK_SAMPLES],
        data.t_train[:GRADCHECK_SAMPLES],
        activation=hp.activation,
        exact=args.exact,
    )
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        console = Console()
        console.print(report_table(report))
        console.print(report.explanation, highlight=False)
        verdict = "passed" if report.passed else "FAILED"
        console.print(f"{verdict} in {report.seconds:.3f} s", highlight=False)
    return 0 if report.passed else 1
