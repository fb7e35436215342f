"""Run the book's ch06 scripts twice, as the book has them and with only their imports changed to
bp-tui's, seeded alike, and compare what they print.

    python scripts/book_ch06.py BOOK_DIR [--data-dir DIR] [--seed N] [--iters N]

BOOK_DIR is a checkout of github.com/oreilly-japan/deep-learning-from-scratch (nothing of it is
copied here). Both runs read MNIST through bp-tui's loader (the book's dataset/mnist.py would
download it): the book's run gets it as its own `dataset.mnist.load_mnist`, bp-tui's run by the
changed import `from bp_tui.data import load_mnist`, with $BP_TUI_DATA_DIR set to --data-dir.
matplotlib is replaced by a stand-in that draws nothing when it is not installed. --iters
replaces the scripts' `max_iterations = 2000` (the only change beyond the imports, for a quicker
look); the default keeps 2000. Exit status 1 when a printed loss differs by more than 1e-12.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPTS = ("ch06/optimizer_compare_mnist.py", "ch06/weight_init_compare.py")
# The book's import -> bp-tui's.
IMPORTS = {
    "from dataset.mnist import load_mnist": "from bp_tui.data import load_mnist",
    "from common.util import smooth_curve": "from bp_tui.nn import smooth_curve",
    "from common.multi_layer_net import MultiLayerNet": "from bp_tui.nn import MultiLayerNet",
    "from common.optimizer import *": "from bp_tui.nn.optimizers import *",
    "from common.optimizer import SGD": "from bp_tui.nn.optimizers import SGD",
}
TOLERANCE = 1e-12

# Runs in the child: stand-ins for what the book's script needs and this machine may lack.
PRELUDE = r"""
import sys, types, numpy as np
try:
    import matplotlib
    matplotlib.use("Agg")
except ImportError:
    plt = types.ModuleType("matplotlib.pyplot")
    plt.__getattr__ = lambda name: (lambda *a, **k: None)
    sys.modules["matplotlib"] = types.ModuleType("matplotlib")
    sys.modules["matplotlib.pyplot"] = plt
if BOOKS_LOADER:
    from bp_tui.data import load_mnist
    mnist = types.ModuleType("dataset.mnist")
    mnist.load_mnist = load_mnist
    sys.modules["dataset"] = types.ModuleType("dataset")
    sys.modules["dataset.mnist"] = mnist
np.random.seed(SEED)
"""


def script_text(book: Path, script: str, ours: bool, iters: int | None) -> str:
    text = (book / script).read_text(encoding="utf-8")
    if ours:
        for theirs, mine in IMPORTS.items():
            if theirs in text:
                text = text.replace(theirs, mine)
    if iters is not None:
        text = re.sub(r"^max_iterations = 2000$", f"max_iterations = {iters}", text, flags=re.M)
    return text


def run(book: Path, script: str, ours: bool, args) -> list[tuple[str, float]]:
    prelude = PRELUDE.replace("BOOKS_LOADER", str(not ours)).replace("SEED", str(args.seed))
    code = prelude + script_text(book, script, ours, args.iters)
    env = dict(os.environ, BP_TUI_DATA_DIR=str(args.data_dir), OPENBLAS_NUM_THREADS="1")
    # The book's run imports its own common/ from the checkout (its sys.path.append(os.pardir)).
    cwd = book / Path(script).parent
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{script} ({'bp-tui' if ours else 'book'}) failed:\n{done.stderr[-2000:]}")
    found = []
    for line in done.stdout.splitlines():
        key, _, value = line.partition(":")
        if value and not line.startswith("="):
            found.append((key, float(value)))
        elif line.startswith("="):
            found.append((line.strip("="), float("nan")))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book", type=Path, help="a checkout of the book's repository")
    parser.add_argument("--data-dir", type=Path, required=True, help="bp-tui's MNIST cache")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iters", type=int, default=None)
    args = parser.parse_args()
    worst_all = 0.0
    for script in SCRIPTS:
        book, ours = run(args.book, script, False, args), run(args.book, script, True, args)
        if [k for k, _ in book] != [k for k, _ in ours]:
            print(f"{script}: the two runs printed different lines")
            return 1
        worst = max(
            (abs(a - b) for (_, a), (_, b) in zip(book, ours, strict=True) if a == a), default=0.0
        )
        worst_all = max(worst_all, worst)
        print(f"{script}: {len(book)} lines, largest difference {worst:.1e}")
        for (key, a), (_, b) in zip(book, ours, strict=True):
            print(f"  {key:>22}  book {a:.15f}  bp-tui {b:.15f}" if a == a else f"  {key}")
    print("equal to 1e-12" if worst_all <= TOLERANCE else f"DIFFERENT: {worst_all:.1e} > 1e-12")
    return 0 if worst_all <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
