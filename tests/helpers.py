"""Small synthetic data for tests: fast, deterministic, and needing no download."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class TinyData:
    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    source: str = "synthetic"


def tiny_data(
    n_train: int = 600, n_test: int = 200, seed: int = 0, name: str = "sample"
) -> TinyData:
    """Ten separable blobs in 784 dimensions: a net learns them in a few hundred steps."""
    rng = np.random.default_rng(seed)
    # Each class inks its own 78 pixels, over faint noise, like a very easy MNIST.
    centres = np.zeros((10, 784), dtype=np.float32)
    for label in range(10):
        centres[label, label * 78 : (label + 1) * 78] = 1.0

    def make(n):
        labels = rng.integers(0, 10, n)
        x = centres[labels] * 0.8 + 0.2 * rng.random((n, 784), dtype=np.float32)
        return x.astype(np.float32), labels.astype(np.uint8)

    (xa, ta), (xb, tb) = make(n_train), make(n_test)
    return TinyData(name, xa, ta, xb, tb)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `bp-tui ARGV`, in-process (argparse errors exit)."""
    from bp_tui.cli import main

    capsys.readouterr()  # drop anything printed before
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


# Generous: a test waits for a condition, never for a time, and a loaded machine may be slow.
WAIT_SECONDS = 60.0


def wait_until(condition: Callable[[], object], timeout: float = WAIT_SECONDS) -> None:
    """Return once `condition()` is true; fail the test if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"timed out after {timeout:.0f} s waiting for a condition"
        )
        time.sleep(0.01)


async def until(pilot, condition: Callable[[], object], timeout: float = WAIT_SECONDS) -> None:
    """wait_until for a running app: lets the app work between the checks."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for the app"
        await pilot.pause(0.02)
