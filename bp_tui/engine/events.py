"""What the engine reports: plain picklable dataclasses, so the same loop can talk to a thread
(queue.Queue) or to another process (multiprocessing.Queue). What it accepts is in commands.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from bp_tui.engine.config import HyperParams


class RunState(str, Enum):
    STARTING = "starting"  # the engine has not reported yet (the dashboard's first moments)
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    DIVERGED = "diverged"
    FAILED = "failed"


# ---- events -------------------------------------------------------------------------------------


@dataclass
class EngineReady:
    """The engine has its data and net: what the header shows."""

    dataset: str
    train_size: int
    test_size: int
    shape: tuple[int, int, int]
    hp: HyperParams


@dataclass
class Progress:
    """Losses of the iterations since the previous Progress, and the run's clock."""

    iteration: int  # iterations done
    total: int
    epoch: float
    total_epochs: float
    losses: np.ndarray
    iters_per_second: float
    train_seconds: float
    elapsed: float


@dataclass
class Evaluation:
    """Accuracy on the whole train and test sets after `iteration` updates."""

    iteration: int
    epoch: float
    train_acc: float
    test_acc: float


@dataclass
class StateChanged:
    state: RunState
    hp: HyperParams
    pending: dict[str, Any] = field(default_factory=dict)  # values that wait for the next reset
    message: str = ""


@dataclass
class ParamsChanged:
    """Live values took effect at `iteration`; pending ones wait for reset."""

    iteration: int
    hp: HyperParams
    pending: dict[str, Any]
    changes: dict[str, Any]


@dataclass
class RunReset:
    hp: HyperParams
    shape: tuple[int, int, int]


@dataclass
class Finished:
    summary: dict


@dataclass
class Diverged:
    iteration: int
    lr: float
    message: str


@dataclass
class Failed:
    """The engine stopped on a fault of its own: one line for the user, the traceback for a log."""

    message: str
    details: str = ""  # the traceback; the run's folder keeps it in error.log


@dataclass
class GradChecked:
    report: Any  # bp_tui.nn.gradcheck.GradCheckReport


@dataclass
class Inspection:
    """A copy of the net's parameters and one mini-batch, for the graph inspector.

    Sent twice per Inspect: at once with report None (the graph can be drawn), then again
    with the gradient check of this same batch once it is done.
    """

    iteration: int
    activation: str
    params: dict
    x: np.ndarray
    t: np.ndarray
    report: Any  # the gradient check of this same batch; None in the first answer
    indices: np.ndarray | None = None  # which training images x holds


@dataclass
class ImageSet:
    """The test images and labels, sent once at the start: the Digits tab draws them."""

    dataset: str
    images: np.ndarray  # uint8 (N, 784): a quarter of float32's size through the pipe
    labels: np.ndarray  # (N,) true labels


@dataclass
class Insight:
    """The net's answers on the test set and what it has learned (bp_tui.nn.analysis.summarize).

    Sent at the start, after a reset or load, and after each evaluation.
    """

    iteration: int
    epoch: float
    activation: str
    predictions: np.ndarray  # (N,) predicted label of each test image
    confidences: np.ndarray  # float32 (N,) softmax probability of that label
    confusion: np.ndarray  # (10, 10) counts, rows true, columns predicted
    w1: np.ndarray  # float32 (784, H) copy of the first layer's weights
    histograms: dict[
        str, tuple[np.ndarray, np.ndarray]
    ]  # each of the net's parameters -> (counts, edges)
    grad_histograms: dict[str, tuple[np.ndarray, np.ndarray]]  # the last step's; empty before
    fire_rate: np.ndarray | None  # (H,) share of test images each ReLU fires on; None: sigmoid
    dead_fraction: float | None  # share of ReLUs firing on none; None: sigmoid


@dataclass
class GradNorms:
    """Each layer's ‖dW‖ every few iterations since the previous GradNorms (bp_tui.nn.stats):
    sent with each Progress, for the chart of vanishing gradients."""

    iterations: np.ndarray  # (k,) the iteration after whose step each norm was taken
    norms: dict[str, np.ndarray]  # layer name (Affine1, ...) -> (k,) its ‖dW‖ at those

    def joined(self, later: GradNorms) -> GradNorms:
        """This one's samples, then those of `later` (the same layers)."""
        return GradNorms(
            np.concatenate([self.iterations, later.iterations]),
            {n: np.concatenate([v, later.norms[n]]) for n, v in self.norms.items()},
        )

    @classmethod
    def of(cls, samples: list[tuple[int, dict[str, float]]]) -> GradNorms:
        """From (iteration, {layer: norm}) samples of one net."""
        names = samples[0][1]
        return cls(
            np.array([i for i, _ in samples], dtype=np.int64),
            {name: np.array([s[name] for _, s in samples]) for name in names},
        )


@dataclass
class Activations:
    """Each hidden layer's activation histogram on a fixed batch of test images, sent with
    each Insight (bp_tui.nn.stats.activation_histograms: the book's figures 6-10 to 6-14)."""

    iteration: int
    activation: str
    batch: int  # images in the batch
    histograms: dict[str, tuple[np.ndarray, np.ndarray]]  # layer name -> (counts, edges)


@dataclass
class Saved:
    path: str


@dataclass
class Loaded:
    path: str
    iteration: int


@dataclass
class SpeedChanged:
    """Slow motion's limit took effect (None: full speed)."""

    iters_per_second: float | None


@dataclass
class Notice:
    """A problem with a command that changed nothing (bad value, unreadable checkpoint...).

    A bad value names its hyperparameter in `field` (the message says what is wrong with it);
    `action` names what fixes it ("reset", "save"), for the dashboard to show that action's key.
    """

    message: str
    field: str | None = None
    action: str | None = None


# ---- streams of events ----------------------------------------------------------------------------

# What training sends as it goes.
STREAMING = (Progress, Evaluation, Insight, GradNorms, Activations)


def merged(events: list, event: object) -> None:
    """Append `event` to `events`, folding a Progress into the last Progress (the losses of
    both, the newer counts and clock) and GradNorms into the last GradNorms (the samples of
    both) when only training news of the other kind lies between; of Insight and Activations
    only the latest is kept."""
    progress_at = _foldable(events, Progress, GradNorms) if isinstance(event, Progress) else None
    norms_at = _foldable(events, GradNorms, Progress) if isinstance(event, GradNorms) else None
    if progress_at is not None:
        losses = np.concatenate([events[progress_at].losses, event.losses])
        events[progress_at] = dataclasses.replace(event, losses=losses)
    elif norms_at is not None and set(events[norms_at].norms) == set(event.norms):
        events[norms_at] = events[norms_at].joined(event)
    elif isinstance(event, (Insight, Activations)):  # only the latest is drawn
        events[:] = [e for e in events if not isinstance(e, type(event))] + [event]
    else:
        events.append(event)


def _foldable(events: list, kind: type, over: type) -> int | None:
    """The index of the last event of `kind`, found looking back over events of type `over`
    only (Progress and GradNorms come in turns); None when another event comes first."""
    for at in range(len(events) - 1, -1, -1):
        if isinstance(events[at], kind):
            return at
        if not isinstance(events[at], over):
            return None
    return None
