"""`bp-tui serve`: the same dashboard in a browser tab (textual-serve), one per visitor."""

from __future__ import annotations

import argparse
import shlex
import sys

from bp_tui.cli import HYPERPARAMETERS
from bp_tui.cli.options import add_shared_options, speed_limit, theme_name
from bp_tui.errors import ConfigError

LOCAL = "127.0.0.1"  # only this machine; another address must be asked for with --host


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expects a port from 1 to 65535 (got {text!r})")
    return port


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    serve = subparsers.add_parser(
        "serve",
        help="the dashboard in a web browser (http://127.0.0.1:8000 by default)",
        description=(
            "Serve the dashboard to web browsers: each page that opens gets its own dashboard "
            "and training run, with the options given here. Only this machine can connect "
            "unless --host names another address (0.0.0.0: every network it is on)."
        ),
    )
    serve.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--host",
        default=LOCAL,
        help=f"address to listen on (default {LOCAL}: this machine only)",
    )
    add_shared_options(serve)
    serve.add_argument("--paused", action="store_true", help="open each dashboard paused")
    serve.add_argument(
        "--speed",
        type=speed_limit,
        default=None,
        metavar="N|full",
        help="slow motion in each dashboard: at most N iterations a second",
    )
    serve.add_argument(
        "--theme",
        type=theme_name,
        default=None,
        metavar="NAME",
        help="each dashboard's colours (see bp-tui --help)",
    )
    serve.set_defaults(func=run)
    return serve


def dashboard_command(args: argparse.Namespace) -> str:
    """The command each browser page runs: this Python, bp-tui, the options given to serve."""
    from bp_tui.cli.options import flag
    from bp_tui.engine.config import hidden_text

    words = [sys.executable, "-m", "bp_tui"]
    for name in ("dataset", "data_dir", *HYPERPARAMETERS):
        if hasattr(args, name):
            value = getattr(args, name)
            words += [flag(name), hidden_text(value) if name == "hidden" else str(value)]
    if args.paused:
        words.append("--paused")
    if args.speed is not None:
        words += ["--speed", f"{args.speed:g}"]
    if args.theme is not None:
        words += ["--theme", args.theme]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ConfigError("needs textual-serve: pip install textual-serve") from None
    from bp_tui.cli.options import hyperparams_from

    hyperparams_from(args)  # a bad value is refused here, not in every page
    url = f"http://{args.host}:{args.port}"
    print(f"bp-tui: serving the dashboard at {url} (Ctrl-C stops)", file=sys.stderr)
    Server(dashboard_command(args), host=args.host, port=args.port, title="bp-tui").serve()
    return 0
