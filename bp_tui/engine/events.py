"""What the engine reports: plain picklable dataclasses, so the same loop can talk to a thread
(queue.Queue) or to another process (multiprocessing.Queue). What it accepts is in commands.py.
The dashboard posts each as the message of its kind (bp_tui/ui/messages.py has the path).
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
    layers: str = ""  # the learner's file whose layers train (bp-tui --layers), or ""


@dataclass
class Recording:
    """The run is recorded in this run folder (bp-tui runs show ID): the dashboard leaves it
    out of the earlier runs it compares with."""

    run_id: str


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
    report: Any  # bp_tui.nn.gradcheck.GradCheckReport; None when the check could not run
    problem: str = ""  # why not: the learner's backprop raised (one line, their layer and line)


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
    # A learner's layers (bp-tui --layers): their trace, made where their code runs; with the
    # report, the first node of their backward pass that goes wrong; or why there is no trace.
    trace: Any = None
    wrong: Any = None
    problem: str = ""
    source: str = ""  # where x comes from when not the training images ("your drawing ...")


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
    first_weights: np.ndarray  # float32 (784, H) copy of the first layer's weights
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
class Prediction:
    """The net's answer on a drawing (commands.Predict), with the weights of `iteration`."""

    request: int
    iteration: int
    image: np.ndarray | None  # uint8 (28, 28): the drawing made as MNIST's images were; None: blank
    probabilities: np.ndarray | None  # (10,) softmax of the net's scores; None: nothing drawn


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
    `action` names what fixes it ("reset", "save"), for the dashboard to show that action's key,
    with `action_text` beside the key when the action's name alone would not say it.
    """

    message: str
    field: str | None = None
    action: str | None = None
    action_text: str = ""


# ---- streams of events ----------------------------------------------------------------------------

# What training sends as it goes, which may merge while nothing reads it (a new kind of news sent
# at every step or evaluation belongs here, or a suspended dashboard's engine queues it unbounded).
STREAMING = (Progress, Evaluation, Insight, GradNorms, Activations)
LATEST_ONLY = (Insight, Activations)  # pictures of the net now: an older one is never drawn


def merged(events: list, event: object) -> None:
    """Append `event` to `events`, folding a Progress into the last Progress (and GradNorms into
    the last GradNorms) when only training news came after it: the losses of both, the newer
    counts and clock; of Insights and Activations only the latest is kept. However long nothing reads them,
    the news of a run at work stays a few events (and its evaluations)."""
    kind = type(event)
    if kind in (Progress, GradNorms):
        at = _last_of(events, kind)
        folded = None if at is None else folded_news(events[at], event)
        if folded is not None:
            events[at] = folded
            return
    elif kind in LATEST_ONLY:
        events[:] = [e for e in events if type(e) is not kind]
    events.append(event)


def _last_of(events: list, kind: type) -> int | None:
    """Where the last `kind` is in events, if only training news follows it."""
    for at in range(len(events) - 1, -1, -1):
        if type(events[at]) is kind:
            return at
        if not isinstance(events[at], STREAMING):
            return None
    return None


def folded_news(earlier, later):
    """One Progress (or GradNorms) for two in a row: both's losses (norms), the later's counts
    and clock; None for GradNorms of other layers, which stay apart."""
    if isinstance(later, Progress):
        return dataclasses.replace(later, losses=np.concatenate([earlier.losses, later.losses]))
    if earlier.norms.keys() != later.norms.keys():
        return None  # another net's layers: kept apart
    return GradNorms(
        np.concatenate([earlier.iterations, later.iterations]),
        {name: np.concatenate([earlier.norms[name], later.norms[name]]) for name in later.norms},
    )
