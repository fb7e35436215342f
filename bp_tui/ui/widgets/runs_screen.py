"""Earlier runs (c): tick some, and their curves are drawn dimmed under the current run's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from bp_tui.engine.config import HyperParams
from bp_tui.engine.runs import RunInfo, RunRecord, RunStore, brief
from bp_tui.errors import BpTuiError
from bp_tui.ui.series import SMOOTHING

MAX_POINTS = 400  # a compared curve is thinned to this many points: a frame stays cheap
LABEL_FIELDS = ("lr", "optimizer", "batch_size", "hidden", "activation", "init", "seed")
SHORT_NAMES = {"batch_size": "batch"}


@dataclass
class Comparison:
    """What the charts draw of one earlier run."""

    run_id: str
    label: str
    loss_x: list[int]
    loss: list[float]  # smoothed like the live chart's smoothed line
    acc_x: list[int]
    test_acc: list[float]


def label_for(run: RunInfo, hp: HyperParams) -> str:
    """Its start time and what differs from the current run: `23:15 lr 0.3 sigmoid`."""
    differences = [
        _setting(name, getattr(run.hp, name))
        for name in LABEL_FIELDS
        if getattr(run.hp, name) != getattr(hp, name)
    ]
    return " ".join([f"{run.started:%H:%M}", *differences[:2]])


def _setting(name: str, value) -> str:
    if name in ("optimizer", "activation", "init"):
        return str(value)
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{SHORT_NAMES.get(name, name)} {shown}"


def thinned(x: np.ndarray, y: np.ndarray, limit: int = MAX_POINTS) -> tuple[list, list]:
    if len(x) > limit:
        keep = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
        x, y = x[keep], y[keep]
    return x.tolist(), y.tolist()


def smoothed_losses(run: RunRecord) -> tuple[list, list]:
    """The recorded block means, smoothed as the live chart smooths each iteration."""
    points = [(i, v) for i, v in zip(run.loss_iterations, run.losses, strict=True) if v is not None]
    if not points:
        return [], []
    x = np.array([p[0] for p in points])
    values = np.array([p[1] for p in points])
    smooth = np.empty_like(values)
    level = values[0]
    previous = 0
    for k, (iteration, value) in enumerate(zip(x, values, strict=True)):
        # One block stands for (iteration - previous) iterations of the per-iteration average.
        weight = 1.0 - (1.0 - SMOOTHING) ** max(int(iteration - previous), 1)
        level += weight * (value - level)
        smooth[k], previous = level, iteration
    return thinned(x, smooth)


def comparison_of(run: RunRecord, hp: HyperParams) -> Comparison:
    loss_x, loss = smoothed_losses(run)
    acc_x, acc = thinned(
        np.array([e.iteration for e in run.evaluations]),
        np.array([e.test_acc for e in run.evaluations]),
    )
    return Comparison(run.id, label_for(run, hp), loss_x, loss, acc_x, acc)


HEADER = (
    f"{'started':<16}  {'test acc':>8}  {'status':<10}  {'iters':>9}  {'data':<8} hyperparameters"
)


def prompt_for(run: RunInfo) -> Text:
    """One line under HEADER: when, how well, how it ended, the recipe (cut at the right)."""
    accuracy = "-" if run.test_acc is None else f"{run.test_acc:.4f}"
    text = Text.assemble(
        (f"{run.started:%Y-%m-%d %H:%M}", "bold"),
        f"  {accuracy:>8}  ",
        (f"{run.status:<10}", "" if run.status == "finished" else "dim"),
        f"  {run.iterations:>6,} it  {run.dataset:<8} {brief(run.hp)}",
    )
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


class RunsScreen(ModalScreen[list[Comparison] | None]):
    """Dismisses with the chosen runs (an empty list clears the comparison), None when closed."""

    DEFAULT_CSS = """
    RunsScreen {
        align: center middle;
    }
    #runs-box {
        width: 108;
        max-width: 98%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #runs-list {
        height: auto;
        max-height: 20;
        border: none;
        padding: 0;
    }
    #runs-header, #runs-hint, #runs-empty {
        color: $text-muted;
    }
    #runs-header {
        padding: 0 0 0 4;
    }
    """
    BINDINGS = [
        Binding("enter,c", "compare", "Compare", priority=True),
        Binding("x", "clear", "Clear"),
        Binding("escape", "cancel", "Close"),
    ]

    def __init__(self, hp: HyperParams, chosen: list[str] = (), store: RunStore | None = None):  # type: ignore[assignment]
        super().__init__()
        self.hp = hp
        self.store = store or RunStore()
        self.runs = list(reversed(self.store.list()))  # newest first
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-box"):
            if self.runs:
                yield Static(HEADER, id="runs-header")
                yield SelectionList[str](
                    *[(prompt_for(r), r.id, r.id in self.chosen) for r in self.runs],
                    id="runs-list",
                )
                hint = "space tick · enter compare · x clear · esc close"
            else:
                yield Static(
                    "No runs yet. Every run, here or from bp-tui train, is recorded as it goes.",
                    id="runs-empty",
                )
                hint = "esc close"
            yield Static(hint, id="runs-hint")

    def on_mount(self) -> None:
        box = self.query_one("#runs-box")
        box.border_title = "Compare with earlier runs"
        box.border_subtitle = f"{len(self.runs)} runs, newest first"

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_clear(self) -> None:
        if self.runs:
            self.query_one(SelectionList).deselect_all()

    def action_compare(self) -> None:
        if not self.runs:
            self.dismiss(None)
            return
        chosen, problems = [], []
        ticked = set(self.query_one(SelectionList).selected)
        for run_id in [r.id for r in self.runs if r.id in ticked]:  # colours follow the list
            try:
                chosen.append(comparison_of(self.store.load(run_id), self.hp))
            except BpTuiError as error:  # removed or damaged since the list was read
                problems.append(str(error))
        for problem in problems:
            self.app.notify(problem, severity="warning")
        self.dismiss(chosen)
