"""`bp-tui serve`: the same dashboard in a browser tab (textual-serve), one per visitor."""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
from pathlib import Path
from urllib.parse import quote

from bp_tui.cli.options import HYPERPARAMETERS, Takes, add_shared_options, speed_limit, theme_name
from bp_tui.cli.words import counted
from bp_tui.errors import ConfigError

LOCAL = "127.0.0.1"  # only this machine; another address must be asked for with --host
SESSION_MB = 450  # one MNIST session's memory, dashboard and engine (benchmarks/bench_serve.py)


def default_max_sessions() -> int:
    """One session a core (its engine trains on one), no more than the memory holds."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        free_mb = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError, AttributeError):
        free_mb = SESSION_MB * (cores or 1)
    return max(1, min(cores or 1, free_mb // SESSION_MB))


def session_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= 1000:
        raise argparse.ArgumentTypeError(
            f"expects a number of sessions from 1 to 1000 (got {text!r})"
        )
    return count


def token_text(text: str) -> str:
    if not text.strip() or not text.isprintable():
        raise argparse.ArgumentTypeError("expects a token of printable characters")
    return text


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
    serve.add_argument(
        "--token",
        type=token_text,
        default=None,
        metavar="TEXT",
        help="the token a browser needs (default: a random one, printed in the URL)",
    )
    serve.add_argument(
        "--no-token",
        action="store_true",
        help="no token: anyone on this machine may connect (only with a loopback --host)",
    )
    serve.add_argument(
        "--max-sessions",
        type=session_count,
        default=None,
        metavar="N",
        help="browser pages served at once, each a dashboard and a training engine "
        f"(default here {default_max_sessions()}: one a core, within the free memory)",
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
    # only to be refused with a reason: the browser never runs code
    serve.add_argument("--layers", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    serve.set_defaults(
        func=run,
        takes=Takes(
            dashboard=("paused", "speed", "theme"),
            no_layers_because=" (the browser never runs code)",
        ),
    )
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
        from bp_tui.cli import classroom
    except ImportError:
        raise ConfigError("needs textual-serve: pip install textual-serve") from None
    import asyncio

    from bp_tui.cli.options import hyperparams_from

    hyperparams_from(args)  # a bad value is refused here, not in every page
    if args.no_token and args.token is not None:
        raise ConfigError("--token and --no-token contradict each other")
    local = classroom.is_loopback(classroom.resolve(args.host, args.port))
    if args.no_token and not local:
        raise ConfigError(
            f"--no-token is only for this machine; {args.host} is reachable from others"
        )
    token = None if args.no_token else (args.token or secrets.token_hex(24))
    server = classroom.Classroom(
        dashboard_command(args),
        host=args.host,
        port=args.port,
        token=token,
        max_sessions=args.max_sessions or default_max_sessions(),
    )

    def ready() -> None:
        if not local:
            print(
                f"bp-tui: warning: {args.host} can be reached from other machines: anyone who "
                f"can reach port {args.port} with this URL can drive training here, on this "
                "machine's cores (plain HTTP: the token is not encrypted)",
                file=sys.stderr,
            )
        print(
            f"bp-tui: serving the dashboard at {url(args.host, args.port, token)} "
            f"(at most {counted(server.max_sessions, 'session')}; Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )

    classroom.log_in_one_line()
    signum = asyncio.run(server.run(ready))
    print(f"bp-tui: serve stopped ({signal_name(signum)})", file=sys.stderr)
    return 0


def url(host: str, port: int, token: str | None) -> str:
    """The address to open: a name others can use for a wildcard host, and the token."""
    import socket

    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    query = f"?token={quote(token, safe='')}" if token else ""
    return f"http://{host}:{port}/{query}"


def signal_name(signum: int) -> str:
    import signal

    return signal.Signals(signum).name
