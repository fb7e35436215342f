"""An earlier run as the charts compare it: its curves, what it did differently, its results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bp_tui.engine.config import HyperParams
from bp_tui.ui.drawing.braille import DASH_DOT, DASHED, DOTTED
from bp_tui.ui.names import format_value
from bp_tui.ui.series import EpochScale, smoothed_blocks

if TYPE_CHECKING:  # the run store is the Runs screen's, opened after the first frame
    from bp_tui.engine.runs import RunInfo, RunRecord

MAX_POINTS = 400  # a compared curve is thinned to this many points: a frame stays cheap
LABEL_FIELDS = ("lr", "optimizer", "batch_size", "hidden", "activation", "init", "seed")
SHORT_NAMES = {"batch_size": "batch"}
CHOICES = ("optimizer", "activation", "init")  # shown by their names alone: SGD, ReLU, He


# Earlier runs chosen for comparison (c): each its own hue, none near the live lines' blue,
# orange and green, and each its own line pattern for NO_COLOR.
COMPARE_COLORS = (
    (190, 110, 220),  # violet
    (90, 190, 200),  # teal
    (220, 110, 140),  # rose
    (175, 160, 80),  # olive
    (150, 150, 150),  # grey
)
COMPARE_PATTERNS = (DASHED, DASH_DOT, DOTTED)


def compare_color(index: int) -> tuple[int, int, int]:
    return COMPARE_COLORS[index % len(COMPARE_COLORS)]


def compare_pattern(index: int) -> tuple[int, ...]:
    return COMPARE_PATTERNS[index % len(COMPARE_PATTERNS)]


@dataclass(eq=False)  # one run is one comparison (and its arrays have no single truth value)
class Comparison:
    """What the charts and the results table show of one earlier run."""

    run_id: str
    label: str
    loss_x: np.ndarray  # the recorded loss blocks: their last iteration and mean
    loss_means: np.ndarray
    acc_x: list[int]
    acc_epochs: list[float]
    test_acc: list[float]
    final: dict  # iterations, final_loss, train_acc, test_acc, status

    def loss_line(self, smoothing: float) -> tuple[np.ndarray, list]:
        """The loss smoothed as the live chart smooths it, thinned for drawing."""
        if not len(self.loss_x):
            return np.array([]), []
        # One block stands for (iteration - previous) iterations of the per-iteration average.
        counts = np.diff(self.loss_x, prepend=0)
        x, y = thinned(self.loss_x, smoothed_blocks(self.loss_means, counts, smoothing))
        return np.asarray(x), y

    def epoch_scale(self) -> EpochScale:
        return EpochScale(list(zip(self.acc_x, self.acc_epochs, strict=True)))


def differences(run: RunInfo, hp: HyperParams, changes: list[dict] | None = None) -> list[str]:
    """What this run did differently from `hp`: its start values (`lr 0.3`) and the changes made
    as it went (`lr 0.1→0.05 at 3,000`, from `changes`, else the run's own change lines); the
    display names of names.py."""
    final = getattr(run, "final_hp", run.hp)
    from bp_tui.engine.runs import change_steps, when_changed

    steps = change_steps(getattr(run, "changes", []) if changes is None else changes)
    out = []
    for name in LABEL_FIELDS:
        start, end = getattr(run.hp, name), getattr(final, name)
        if start != end:
            when = f" {when_changed(steps[name])}" if name in steps else ""
            out.append(f"{_setting(name, start)}→{format_value(name, end)}{when}")
        elif start != getattr(hp, name):
            out.append(_setting(name, start))
    return out


def label_for(run: RunInfo, hp: HyperParams) -> str:
    """Its start time and what differed from the current run: `23:15 lr 0.3 Sigmoid`."""
    return " ".join([f"{run.started:%H:%M}", *differences(run, hp)])


def _setting(name: str, value) -> str:
    shown = format_value(name, value)
    return shown if name in CHOICES else f"{SHORT_NAMES.get(name, name)} {shown}"


def thinned(x: np.ndarray, y: np.ndarray, limit: int = MAX_POINTS) -> tuple[list, list]:
    if len(x) > limit:
        keep = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
        x, y = x[keep], y[keep]
    return x.tolist(), y.tolist()


def comparison_of(run: RunRecord, hp: HyperParams) -> Comparison:
    points = [(i, v) for i, v in zip(run.loss_iterations, run.losses, strict=True) if v is not None]
    last = run.evaluations[-1] if run.evaluations else None
    summary = run.summary or {}
    final = {
        "iterations": run.iterations,
        "final_loss": summary.get("final_loss", points[-1][1] if points else None),
        "train_acc": summary.get("train_acc", last.train_acc if last else None),
        "test_acc": run.test_acc,
        "status": run.status,
    }
    return Comparison(
        run.id,
        label_for(run, hp),
        np.array([p[0] for p in points], dtype=float),
        np.array([p[1] for p in points], dtype=float),
        [e.iteration for e in run.evaluations],
        [e.epoch for e in run.evaluations],
        [e.test_acc for e in run.evaluations],
        final,
    )
