"""`bp-tui`'s command line: the dashboard's options at the top, then each command's module adds
its command (`register`) and declares what it takes of the top level's options (options.Takes)."""

from __future__ import annotations

import argparse
import re

# argparse's "argument --hidden: must be..." said as bp-tui's own checks say it ("--hidden must
# be..."): a bad value reads the same whether argparse or a later check finds it.
ARGUMENT_PREFIX = re.compile(r"^argument (-[^:]*): ")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line and exit status 2, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = ARGUMENT_PREFIX.sub(r"\1 ", message)
        self.exit(2, f"{self.prog.split()[0]}: error: {message}\n")  # as main() says it


def build_parser() -> argparse.ArgumentParser:
    # Here, not at the top: `import bp_tui.cli` imports no numpy (main notes a Ctrl-C in it).
    from bp_tui.cli import (
        check,
        dashboard,
        data_commands,
        gradcheck,
        race,
        runs_commands,
        serve,
        train,
    )
    from bp_tui.cli.options import add_shared_options

    parser = OneLineParser(
        prog="bp-tui",
        description="Train the network of 'Deep Learning from Scratch' ch. 5 and watch backprop work.",
    )
    add_shared_options(parser)
    dashboard.register(parser)
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    for command in (train, gradcheck, data_commands, runs_commands, race, serve, check):
        command.register(sub)
    return parser


def check_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An option the chosen command would ignore is refused: one line naming it, status 2."""
    from bp_tui.cli.options import DASHBOARD_OPTIONS, flag

    command = args.command
    if command is None:
        return
    takes = args.takes
    for name in DASHBOARD_OPTIONS:
        if getattr(args, name, False) and name not in takes.dashboard:
            parser.error(f"{flag(name)} only applies to the dashboard (bp-tui without {command})")
    if getattr(args, "layers", None) is not None:
        if not takes.layers:
            parser.error(
                f"--layers goes with the dashboard or train, not {command}{takes.no_layers_because}"
            )
        if getattr(args, "resume", None):
            parser.error("--layers cannot go with --resume (a run of bp-tui's own layers)")
    if not takes.resume and getattr(args, "resume", None):
        parser.error(f"--resume goes with the dashboard or train, not {command}")
    if not takes.json and getattr(args, "json", False):
        parser.error(f"--json does nothing for {command}")
    for name in takes.ignores:
        if hasattr(args, name):
            parser.error(f"{flag(name)} does nothing for {command} ({takes.why})")
