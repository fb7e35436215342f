"""`bp-tui data download | import DIR | info`: fill and inspect the data cache."""

from __future__ import annotations

import argparse
import os

from bp_tui.cli.options import HYPERPARAMETERS, Takes
from bp_tui.errors import DataError

# rich's progress and table and the data package are imported by the action that uses them:
# building the command line (every start of the dashboard) must not pay for them.


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `data` subcommand and its actions; each action sets ``func(args) -> int``."""
    data = subparsers.add_parser(
        "data",
        help="download, import or inspect the data sets",
        description="Fill and inspect the data cache (MNIST, Fashion-MNIST).",
    )
    add_data_dir(data)
    data.set_defaults(takes=Takes(ignores=HYPERPARAMETERS, why="it trains nothing", json=False))
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    download = actions.add_parser("download", help="download MNIST or Fashion-MNIST")
    add_dataset(download)
    add_data_dir(download)
    download.set_defaults(func=run_download)

    imp = actions.add_parser("import", help="copy the four IDX files from a folder into the cache")
    imp.add_argument("dir", metavar="DIR", help="folder with the four IDX files, .gz or raw")
    add_dataset(imp)
    add_data_dir(imp)
    imp.set_defaults(func=run_import)

    info = actions.add_parser("info", help="what is cached, where, and the default data set")
    add_data_dir(info)
    info.set_defaults(func=run_info)
    return data


def add_dataset(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: never overwrite a --dataset given before `data`.
    parser.add_argument(
        "--dataset", default=argparse.SUPPRESS, help="mnist (default) or fashion-mnist"
    )


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="data cache folder (default: $BP_TUI_DATA_DIR or the user cache)",
    )


def chosen_dataset(args: argparse.Namespace) -> str:
    from bp_tui.data.sources import DOWNLOADABLE

    name = getattr(args, "dataset", None) or "mnist"
    if name == "sample":
        raise DataError("the sample ships with bp-tui: choose --dataset mnist or fashion-mnist")
    if name not in DOWNLOADABLE:
        raise DataError(f"unknown data set {name!r}: choose mnist or fashion-mnist")
    return name


def run_download(args: argparse.Namespace) -> int:
    """Download with a progress bar per file."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from bp_tui.data import download_dataset
    from bp_tui.data.sources import LABELS

    name = chosen_dataset(args)
    console = Console()
    console.print(f"Downloading {LABELS[name]} ...")
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(file: str, done: int, total: int) -> None:
            if file not in tasks:
                tasks[file] = bar.add_task(file, total=total or None)
            bar.update(tasks[file], completed=done, total=total or None)

        folder = download_dataset(name, getattr(args, "data_dir", None), progress=progress)
    console.print(f"{LABELS[name]} is ready in {folder}", soft_wrap=True)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bp_tui.data import import_dataset
    from bp_tui.data.sources import LABELS

    name = chosen_dataset(args)
    folder = import_dataset(args.dir, name, getattr(args, "data_dir", None))
    Console().print(f"imported {LABELS[name]} from {args.dir} into {folder}", soft_wrap=True)
    return 0


def size(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} B"


def run_info(args: argparse.Namespace) -> int:
    """Aligned lines: the cache folder, each data set's state, the sample, the default choice."""
    from rich.console import Console
    from rich.table import Table

    from bp_tui.data import cache_info, resolve_dataset

    override = getattr(args, "data_dir", None)
    info = cache_info(override)
    origin = (
        "--data-dir"
        if override
        else "$BP_TUI_DATA_DIR"
        if os.environ.get("BP_TUI_DATA_DIR")
        else "user cache"
    )
    console = Console()
    console.print(f"cache folder: {info.data_dir} ({origin})", soft_wrap=True)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("data set", "state", "files", "decoded", "folder"):
        table.add_column(column)
    for ds in info.datasets:
        present = [n for n in ds.files.values() if n is not None]
        files = f"{len(present)} of 4, {size(sum(present))}" if present else "0 of 4"
        state = "cached" if ds.cached else "not cached"
        # Folders are shown relative to the cache folder above, so the table stays narrow.
        table.add_row(ds.name, state, files, "yes" if ds.decoded else "no", f"{ds.folder.name}/")
    sample = f"1 npz, {size(info.sample.stat().st_size)}" if info.sample else "-"
    table.add_row("sample", "shipped" if info.sample else "missing", sample, "-", "(below)")
    console.print(table)
    console.print(f"sample file: {info.sample or 'not installed'}", soft_wrap=True)
    name, note = resolve_dataset(None, override)
    console.print(f"default data set: {name} - {note}", soft_wrap=True)
    return 0
