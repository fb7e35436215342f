"""`bp-tui` with no subcommand: the dashboard, its engine in a process of its own."""

from __future__ import annotations

import argparse
import json
import multiprocessing.resource_tracker
import signal
import sys
from pathlib import Path

from bp_tui.cli.options import LAYERS_HELP, speed_limit, theme_name


def register(parser: argparse.ArgumentParser) -> None:
    """The dashboard's own options, on `bp-tui` itself (the shared ones are there already)."""
    parser.add_argument("--paused", action="store_true", help="open the dashboard without starting")
    parser.add_argument("--exit-when-done", action="store_true", help="quit when the run finishes")
    parser.add_argument(
        "--theme",
        type=theme_name,
        default=None,
        metavar="NAME",
        help="the dashboard's colours, remembered for next time: projector (black on white, "
        "for a projector), textual-dark (default), textual-light, nord, gruvbox... "
        "(the palette, ctrl+p, lists them all)",
    )
    parser.add_argument(
        "--speed",
        type=speed_limit,
        default=None,
        metavar="N|full",
        help="slow motion: at most N iterations a second (1, 5, 50...; default full)",
    )
    parser.add_argument(
        "--resume", metavar="ID", help="go on with a recorded run from its checkpoint (bp-tui runs)"
    )
    parser.add_argument(
        "--json", action="store_true", help="with --exit-when-done: print the summary"
    )
    parser.add_argument("--layers", type=Path, metavar="PATH", help=LAYERS_HELP)
    parser.add_argument(
        "--watch",
        action="store_true",
        help="with --layers: check your file at each save; r (reset) trains the saved layers",
    )


def run_dashboard(args: argparse.Namespace) -> int:
    from bp_tui import paths
    from bp_tui.cli.options import hyperparams_from
    from bp_tui.data import resolve_dataset
    from bp_tui.data.cache import dataset_folder, is_cached, train_size
    from bp_tui.data.datasets import missing_message
    from bp_tui.engine import memory
    from bp_tui.engine.config import IMAGE_SIZE, check_batch_size
    from bp_tui.engine.remote import ProcessLink
    from bp_tui.errors import DataError
    from bp_tui.ui import lifecycle

    layers = getattr(args, "layers", None)
    if getattr(args, "watch", False) and layers is None:
        from bp_tui.errors import BpTuiError

        raise BpTuiError("--watch goes with --layers PATH: it checks your file at each save")
    if layers is not None:
        from bp_tui.learner.source import readable_learner_files

        # a missing or unreadable file: one line here, not in the engine
        readable_learner_files(layers)
        layers = layers.resolve()
    data_dir = getattr(args, "data_dir", None)
    paths.home()  # where the run is recorded: a name no file system takes is one line here
    resume = None
    if getattr(args, "resume", None) is not None:
        from bp_tui.cli.runs_commands import plan_resume

        resume = plan_resume(args)
        hp, name, note = resume.hp, resume.dataset, ""
    else:
        hp = hyperparams_from(args)
        name, note = resolve_dataset(getattr(args, "dataset", None), data_dir)
    if name != "sample" and not is_cached(name, data_dir):
        raise DataError(missing_message(name, dataset_folder(name, data_dir)))
    memory.check_fits(hp.hidden, hp.batch_size, IMAGE_SIZE)  # before the engine takes it all
    images = train_size(name, data_dir)
    if images is not None:
        check_batch_size(hp.batch_size, images)
    # The values first: a bad one is named even without a terminal.
    headless = lifecycle.check_terminal(headless_allowed=args.exit_when_done)
    # Textual replaces stderr, and a multiprocessing start inside the running app then fails
    # ("bad value(s) in fds_to_keep"): the resource tracker must start before the app does.
    multiprocessing.resource_tracker.ensure_running()

    def new_link() -> ProcessLink:
        return ProcessLink(
            hp, name, data_dir, start=False, resume=resume, speed=args.speed, layers=layers
        )

    # The engine's process starts first: it imports numpy and loads the data while this
    # process imports Textual and draws the first frame (two cores, both busy).
    links = [new_link()]
    links[0].start()
    from bp_tui.ui.app import BpTuiApp

    watchdog = lifecycle.Watchdog()
    app = BpTuiApp(
        lambda: links.pop() if links else new_link(),
        hp,
        start=not args.paused,
        exit_when_done=args.exit_when_done,
        note=note,
        theme=args.theme,
        on_quit=watchdog.arm,
        watch=layers if getattr(args, "watch", False) else None,
    )
    from bp_tui.cli.plumbing import quit_on_signal

    if not headless:
        lifecycle.watch_hangup()  # an input stream that ends is a SIGHUP
    try:
        with quit_on_signal(app, watchdog):  # SIGTERM, SIGHUP, SIGINT: quit as q does
            summary = app.run(headless=headless)
    finally:
        # The app is done: from here on the process only ends. A Ctrl-C more (the terminal
        # takes it as a signal again) must not raise in multiprocessing's exit, and if that
        # exit hangs the watchdog ends it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        watchdog.arm(1)
    if args.json and summary is not None:
        print(json.dumps(summary))
    elif args.exit_when_done and summary is None:
        print("bp-tui: the run did not finish", file=sys.stderr)
        return 2
    return 2 if summary and summary.get("diverged") else 0
