"""Print the README's results table: every figure from the real `bp-tui` commands, run afresh.

    python scripts/readme_figures.py [--mnist-dir DIR] [--check README.md]

Runs `bp-tui train --dataset sample --json` and `bp-tui gradcheck --dataset sample --json` (book
mode, then --exact); with MNIST (imported from --mnist-dir into a temporary cache, or already in
the cache that $BP_TUI_DATA_DIR or the user cache names) the same on `--dataset mnist`. Runs are
recorded in a temporary BP_TUI_HOME, so none lands in your run list. Prints the table's markdown
rows, each naming its data set; --check also exits 1 unless README.md holds every row verbatim.

Training and the gradient check are seeded (--seed 0), so the figures repeat exactly on the same
numpy and BLAS; times are left out (benchmarks/ measures speed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from bp_tui.data.cache import is_cached

HEADER = ["| what | figure | command |", "| --- | --- | --- |"]
PARAMS = ("W1", "b1", "W2", "b2")
# What the book printed (ch. 5): train_neuralnet.py's last line and gradient_check.py.
BOOK_ACCURACY = "the book: 0.970 / 0.978"
BOOK_GRADCHECK = "the book printed 2.2e-13, 9.7e-13, 8.4e-13, 1.2e-10"


def platform_line() -> str:
    """numpy and its BLAS: another BLAS kernel rounds float32 sums differently, and the 4th
    decimal of an accuracy (or the 2nd digit of a gradient difference) can move with it."""
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    kernel = (
        f"{blas[0]['internal_api']} {blas[0]['version']} ({blas[0].get('architecture')} kernels)"
        if blas
        else "an unknown BLAS"
    )
    return (
        f"Printed by `python scripts/readme_figures.py` with numpy {np.__version__} and {kernel}:"
    )


def bp_tui(env: dict[str, str], *args: str) -> dict:
    """Run `bp-tui ARGS --json` as a user would and return its JSON."""
    print(f"  bp-tui {' '.join(args)} --json", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "bp_tui", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):  # gradcheck exits 1 when a check fails: still a figure
        sys.exit(f"bp-tui {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def train_row(env: dict[str, str], dataset: str, what: str, command: str) -> str:
    result = bp_tui(env, "train", "--dataset", dataset)
    book = f" ({BOOK_ACCURACY})" if dataset == "mnist" else ""
    figure = f"test accuracy {result['test_acc']:.4f}, train {result['train_acc']:.4f}{book}"
    return f"| {what} | {figure} | `{command}` |"


def gradcheck_row(env: dict[str, str], dataset: str, label: str, exact: bool) -> str:
    mode = ["--exact"] if exact else []
    report = bp_tui(env, "gradcheck", "--dataset", dataset, *mode)
    diffs = ", ".join(f"{k} {report['params'][k]['mean_abs_diff']:.1e}" for k in PARAMS)
    worst = max(report["params"][k]["rel_error"] for k in PARAMS)
    own = max(report["params"][k]["verdict_rel_error"] for k in PARAMS)
    verdict = "passed" if report["passed"] else "FAILED"
    book = f" ({BOOK_GRADCHECK})" if exact else ""
    figure = (
        f"mean \\|diff\\| {diffs}{book}; largest rel error {worst:.1e}; backprop {verdict} "
        f"(rel error {own:.0e} < {report['verdict_threshold']:g} against the loss it differentiates)"
    )
    what = f"gradient check, {'exact' if exact else 'book'} mode, {label}"
    command = f"bp-tui gradcheck{' --exact' if exact else ''}"
    return f"| {what} | {figure} | `{command}` |"


def rows(env: dict[str, str], mnist: bool) -> list[str]:
    out = [
        train_row(
            env,
            "sample",
            "shipped sample (10,000 train / 2,000 test), the book's recipe",
            "bp-tui train --dataset sample --json",
        )
    ]
    if mnist:
        out.append(
            train_row(
                env,
                "mnist",
                "MNIST (60,000 / 10,000), the book's recipe",
                "bp-tui data import DIR && bp-tui train --dataset mnist --json",
            )
        )
    # `bp-tui gradcheck` uses MNIST once it is cached, else the sample: one row for each.
    checks = [("mnist", "MNIST (the default once cached)")] if mnist else []
    checks.append(("sample", "shipped sample (the default without MNIST)"))
    for dataset, label in checks:
        for exact in (False, True):
            out.append(gradcheck_row(env, dataset, label, exact))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", help="folder with MNIST's four IDX files (.gz or raw)")
    parser.add_argument("--check", metavar="README", help="exit 1 unless README has every row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bp-tui-figures-") as tmp:
        env = {**os.environ, "BP_TUI_HOME": str(Path(tmp) / "home")}
        if args.mnist_dir:
            env["BP_TUI_DATA_DIR"] = str(Path(tmp) / "cache")
            print(f"  bp-tui data import {args.mnist_dir}", file=sys.stderr, flush=True)
            subprocess.run(
                [sys.executable, "-m", "bp_tui", "data", "import", args.mnist_dir],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        mnist = is_cached("mnist", env.get("BP_TUI_DATA_DIR"))
        if not mnist:
            print("  MNIST is not cached: sample rows only (see --mnist-dir)", file=sys.stderr)
        table = rows(env, mnist)
    table = [platform_line(), "", *HEADER, *table]
    print("\n".join(table))
    if args.check:
        text = Path(args.check).read_text(encoding="utf-8")
        missing = [row for row in table if row not in text]
        for row in missing:
            print(f"not in {args.check}: {row}", file=sys.stderr)
        return 1 if missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
