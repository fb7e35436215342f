"""The `bp-tui` command: the dashboard by default, plus train, gradcheck and data."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bp_tui.errors import BpTuiError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line and exit status 2, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from bp_tui.cli import data_commands, runs_commands
    from bp_tui.cli.options import add_shared_options

    parser = OneLineParser(
        prog="bp-tui",
        description="Train the network of 'Deep Learning from Scratch' ch. 5 and watch backprop work.",
    )
    add_shared_options(parser)
    parser.add_argument("--paused", action="store_true", help="open the dashboard without starting")
    parser.add_argument("--exit-when-done", action="store_true", help="quit when the run finishes")
    parser.add_argument(
        "--resume", metavar="ID", help="go on with a recorded run from its checkpoint (bp-tui runs)"
    )
    parser.add_argument(
        "--json", action="store_true", help="with --exit-when-done: print the summary"
    )
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)

    train = sub.add_parser("train", help="train without the dashboard")
    add_shared_options(train)
    # SUPPRESS: `bp-tui --json train` keeps the top level's --json instead of resetting it to False.
    train.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON summary on stdout",
    )
    train.add_argument("--resume", metavar="ID", default=argparse.SUPPRESS,
                       help="go on with a recorded run from its checkpoint (bp-tui runs)")  # fmt: skip

    check = sub.add_parser(
        "gradcheck", help="backprop against numerical gradients (the book's check)"
    )
    add_shared_options(check)
    check.add_argument(
        "--exact", action="store_true", help="no 1e-7 in the log: the book's figures"
    )
    check.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the report as JSON"
    )

    data_commands.register(sub)
    runs_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            from bp_tui.cli.train import run_train

            return run_train(args)
        if args.command == "gradcheck":
            from bp_tui.cli.gradcheck import run_gradcheck

            return run_gradcheck(args)
        if args.command in ("data", "runs"):
            return args.func(args)
        from bp_tui.ui import run_dashboard

        return run_dashboard(args)
    except BpTuiError as error:
        print(f"bp-tui: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
