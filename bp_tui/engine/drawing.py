"""The engine's side of the drawing pad: a drawing made into MNIST's form, then the net's
answer on it, or a batch of one for the inspector. The weights are the run's own, as they are
between two steps (training or paused); the learner's net when --layers trains."""

from __future__ import annotations

import numpy as np

from bp_tui.data.handwriting import FIELD, net_input
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.errors import BpTuiError
from bp_tui.nn.functions import softmax


def _input(trainer, drawing: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if trainer.input_size != FIELD * FIELD:
        raise BpTuiError(
            f"this net reads {trainer.input_size} inputs, not a {FIELD} x {FIELD} drawing"
        )
    return net_input(np.asarray(drawing).reshape(FIELD, FIELD))


def probabilities(trainer, x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged net's scores: NaN shown
        scores = np.asarray(trainer.net.predict(x), dtype=np.float64)
    return softmax(scores)[0]


def prediction(trainer, command: cmd.Predict) -> ev.Prediction:
    made = _input(trainer, command.drawing)
    if made is None:
        return ev.Prediction(command.request, trainer.iteration, None, None)
    image, x = made
    return ev.Prediction(command.request, trainer.iteration, image, probabilities(trainer, x))


def batch_of_one(trainer, command: cmd.Inspect) -> tuple[np.ndarray, np.ndarray, str]:
    """The drawing as the inspector's batch: x (1, 784), its label, and what the batch is."""
    made = _input(trainer, command.drawing)
    if made is None:
        raise BpTuiError("nothing is drawn: draw a digit first")
    _, x = made
    if command.label is None:
        label = int(np.argmax(probabilities(trainer, x)))
        source = f"your drawing, labelled {label} (the net's answer)"
    else:
        label = int(command.label)
        source = f"your drawing, labelled {label}"
    return x, np.array([label], dtype=np.intp), source
