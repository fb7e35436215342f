"""`bp-tui runs [list] | show ID | export ID --csv FILE | rm ID...`, and what `--resume ID` needs."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING

from bp_tui.cli.options import HYPERPARAMETERS, Takes
from bp_tui.cli.words import accuracy_text, counted

if TYPE_CHECKING:  # the run store and rich when an action runs: building the command line is light
    from bp_tui.engine.resume import Resume
    from bp_tui.engine.runs import DamagedRun, RunInfo, RunRecord, RunStore

SHOWN_EVALUATIONS = 10  # `runs show` prints the last ones; export --csv has them all


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `runs` subcommand and its actions; each action sets ``func(args) -> int``."""
    runs = subparsers.add_parser(
        "runs",
        help="list, show, export or remove recorded runs",
        description="Every run (dashboard or bp-tui train) is recorded; these read the records.",
    )
    add_json(runs)
    runs.set_defaults(
        func=run_list,
        takes=Takes(
            ignores=(*HYPERPARAMETERS, "dataset", "data_dir"), why="it only reads the run records"
        ),
    )
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION")

    listing = actions.add_parser("list", help="one line per run (the default)")
    add_json(listing)
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="one run: hyperparameters, result, evaluations")
    show.add_argument("id", metavar="ID", help="a run id, a unique start of one, or latest")
    add_json(show)
    show.set_defaults(func=run_show)

    export = actions.add_parser("export", help="a run's metrics as CSV")
    export.add_argument("id", metavar="ID", help="a run id, a unique start of one, or latest")
    export.add_argument("--csv", required=True, metavar="FILE", help="the CSV file (- for stdout)")
    export.set_defaults(func=run_export)

    remove = actions.add_parser("rm", help="delete runs and their checkpoints")
    remove.add_argument("ids", metavar="ID", nargs="+", help="run ids (or unique starts of them)")
    remove.set_defaults(func=run_remove)
    return runs


def add_json(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: never overwrite a --json given earlier on the line.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON instead"
    )


# ---- formatting ---------------------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def info_json(run: RunInfo) -> dict:
    return {
        "id": run.id,
        "started": run.started.isoformat(),
        "dataset": run.dataset,
        "hp": run.hp.to_dict(),
        "status": run.status,
        "iterations": run.iterations,
        "test_acc": run.test_acc,
        "train_seconds": run.duration,
        "checkpoint": str(run.checkpoint) if run.checkpoint else None,
    }


# ---- actions ------------------------------------------------------------------------------------


def damaged_json(run: DamagedRun) -> dict:
    return {"id": run.id, "status": "damaged", "error": run.reason}


def changes_of(store: RunStore, run: RunRecord) -> str:
    """What changed as the run went (`lr 0.1→0.05 at 3,000`); an ended run's listing read no
    metric lines, so those of a run that ended with other values are read now."""
    from bp_tui.engine.runs import changes_brief

    return changes_brief(store.changes(run), run.hp)


def run_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bp_tui.engine.runs import RunStore, printable
    from bp_tui.engine.runs import brief as hp_brief

    store = RunStore()
    runs, damaged = store.scan()
    changed = {run.id: changes_of(store, run) for run in runs}
    if getattr(args, "json", False):
        print(json.dumps([info_json(r) for r in runs] + [damaged_json(d) for d in damaged]))
        return 0
    console = Console()
    if not runs and not damaged:
        console.print(
            f"no runs yet in {printable(store.root)}", soft_wrap=True, highlight=False, markup=False
        )
        return 0
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column, justify in (
        ("id", "left"),
        ("started", "left"),
        ("data set", "left"),
        ("hyperparameters", "left"),
        ("iters", "right"),
        ("test acc", "right"),
        ("training", "right"),  # the time spent training, not the session's wall clock
        ("status", "left"),
        *([("changed as it went", "left")] if any(changed.values()) else []),
    ):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    # Text cells: what a record says is shown as text, never read as markup or escape codes.
    for run in runs:
        table.add_row(
            *(
                Text(printable(cell))
                for cell in (
                    run.id,
                    f"{run.started:%m-%d %H:%M}",
                    run.dataset,
                    hp_brief(run.hp),
                    f"{run.iterations:,}",
                    accuracy_text(run.test_acc),
                    duration_text(run.duration),
                    run.status,
                    *([changed[run.id]] if any(changed.values()) else []),
                )
            )
        )
    for bad in damaged:
        table.add_row(
            *(
                Text(printable(cell))
                for cell in (bad.id, "-", "-", "-", "-", "-", "-", f"damaged: {bad.reason}")
            )
        )
    width = console.measure(table, options=console.options.update_width(10_000)).maximum
    if not console.is_terminal:  # piped: one line per run, however wide
        console.width = max(console.width, width)
    elif width > console.width:
        # A narrow terminal would cut ids short, and an id must stay whole to be typed: two lines
        # a run instead (the id holds the start time too).
        for run in runs:
            console.print(
                printable(
                    f"{run.id}  {run.dataset}  {counted(run.iterations, 'iter')}  test "
                    f"{accuracy_text(run.test_acc)}  {duration_text(run.duration)}  "
                    f"{run.status}"
                ),
                highlight=False,
                markup=False,
            )
            console.print(
                printable(
                    f"    {run.started:%Y-%m-%d %H:%M}  {hp_brief(run.hp)}"
                    + (f"; changed {changed[run.id]}" if changed[run.id] else "")
                ),
                style="dim",
                highlight=False,
                markup=False,
            )
        for bad in damaged:
            console.print(
                printable(f"{bad.id}  damaged: {bad.reason}"), highlight=False, markup=False
            )
        return 0
    console.print(table, highlight=False)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from bp_tui.engine.runs import RunStore, printable

    run = RunStore().load(args.id)
    if getattr(args, "json", False):
        value = info_json(run)
        value.update(
            summary=run.summary,
            changes=run.changes,
            resumed_from=run.resumed_from,
            evaluations=[dataclasses.asdict(e) for e in run.evaluations],
        )
        print(json.dumps(value))
        return 0
    console = Console(soft_wrap=True, highlight=False)
    lines: list[tuple[str, str]] = [
        ("run", f"{run.id}  ({run.status})"),
        ("started", f"{run.started:%Y-%m-%d %H:%M:%S}"),
        ("data set", run.dataset),
        ("hyperparameters", run.hp.describe()),
    ]
    result = f"{counted(run.iterations, 'iteration')}, test accuracy {accuracy_text(run.test_acc)}"
    summary = run.summary or {}
    if summary.get("train_acc") is not None:
        result += f", train accuracy {summary['train_acc']:.4f}"
    if summary.get("final_loss") is not None:
        result += f", last loss {summary['final_loss']:.4f}"
    lines.append(("result", f"{result}; {duration_text(run.duration)} of training"))
    if summary.get("message"):
        lines.append(("why", summary["message"]))
    for change in run.changes:
        text = ", ".join(f"{k} {v}" for k, v in change.get("changes", {}).items())
        lines.append(("change", f"from iteration {change['iteration'] + 1:,}: {text}"))
    if run.resumed_from:
        lines.append(("loaded from", run.resumed_from))
    lines.append(("folder", str(run.folder)))
    lines.append(("checkpoint", str(run.checkpoint) if run.checkpoint else "none"))
    width = max(len(label) for label, _ in lines)
    for label, text in lines:
        console.print(printable(f"{label:<{width}}  {text}"), markup=False)
    if run.evaluations:
        table = Table(box=None, pad_edge=False, show_edge=False, title_justify="left")
        for column in ("epoch", "iteration", "train acc", "test acc"):
            table.add_column(column, justify="right")
        shown = run.evaluations[-SHOWN_EVALUATIONS:]
        for e in shown:
            table.add_row(
                f"{e.epoch:.2f}", f"{e.iteration:,}", f"{e.train_acc:.4f}", f"{e.test_acc:.4f}"
            )
        earlier = len(run.evaluations) - len(shown)
        console.print()
        console.print(table)
        if earlier:
            console.print(f"({earlier} earlier evaluations: bp-tui runs export {run.id} --csv -)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from bp_tui.engine.runs import RunStore, csv_text, printable

    store = RunStore()
    if args.csv == "-":
        sys.stdout.write(csv_text(store.load(args.id)))
        return 0
    run_id = store.resolve(args.id)
    path = store.export_csv(run_id, args.csv)
    print(printable(f"exported run {run_id} to {path}"), file=sys.stderr)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from bp_tui.engine.runs import RunStore, printable

    store = RunStore()
    ids = [store.resolve(ref) for ref in args.ids]  # every id is checked before any is removed
    for run_id in ids:
        store.check_free(run_id)  # and none is being trained (remove checks again, locked)
    for run_id in dict.fromkeys(ids):
        store.remove(run_id)
        print(printable(f"removed run {run_id}"))
    return 0


# ---- --resume -----------------------------------------------------------------------------------


def plan_resume(args: argparse.Namespace, *, for_train: bool = False) -> Resume:
    """`--resume ID` with the other options of the command line; one-line BpTuiError on a conflict."""
    from bp_tui.engine import resume
    from bp_tui.engine.config import HyperParams

    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(HyperParams)
        if hasattr(args, f.name)
    }
    return resume.plan(
        args.resume, given, getattr(args, "dataset", None), needs_iterations=for_train
    )
