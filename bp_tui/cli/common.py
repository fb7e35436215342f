"""Loading the data set the options name, and BLAS threads, for every command."""

from __future__ import annotations

import argparse
import sys

from bp_tui.data import Dataset, load_dataset, resolve_dataset


def load_data(args: argparse.Namespace, quiet: bool = False) -> Dataset:
    """The data set --dataset names (or the default), saying which one on stderr."""
    name, note = resolve_dataset(getattr(args, "dataset", None), getattr(args, "data_dir", None))
    if note and not quiet:
        print(note, file=sys.stderr)
    return load_dataset(name, getattr(args, "data_dir", None))
