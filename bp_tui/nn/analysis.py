"""What a trained net answers and what it learned: predictions, confusion, histograms, dead units.

numpy only, no state: the engine calls `summarize` after each evaluation and sends the result on.
"""

from __future__ import annotations

import numpy as np

from bp_tui.nn.functions import softmax

CHUNK = 10_000  # rows per forward pass: bounds the hidden layer's memory on a big test set
HISTOGRAM_BINS = 32
Histogram = tuple[np.ndarray, np.ndarray]  # (counts, edges), as np.histogram gives them


def _answers(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probabilities = softmax(scores)
    labels = probabilities.argmax(axis=1)
    return labels, probabilities[np.arange(len(labels)), labels]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[i, j]: images of class i predicted as j (rows true, columns predicted)."""
    true = np.asarray(true, dtype=np.intp)
    predicted = np.asarray(predicted, dtype=np.intp)
    flat = np.bincount(true * classes + predicted, minlength=classes * classes)
    return flat.reshape(classes, classes)


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> Histogram:
    """Counts and edges of the finite values (an exploding run's inf and NaN are left out)."""
    values = np.asarray(values).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(bins, dtype=np.int64), np.linspace(-1.0, 1.0, bins + 1)
    # float64: float32 edges of a narrow range can come out unevenly spaced.
    return np.histogram(finite.astype(np.float64), bins=bins)


def mistake_order(true: np.ndarray, predicted: np.ndarray, confidences: np.ndarray) -> np.ndarray:
    """Indices of the wrongly predicted rows, the most confident mistake first."""
    wrong = np.flatnonzero(np.asarray(true) != np.asarray(predicted))
    # Stable: equal confidences keep the test set's order, so a picture is reproducible.
    return wrong[np.argsort(-np.asarray(confidences)[wrong], kind="stable")]


def as_bytes(x: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] as uint8: a quarter of float32's size, and exact for MNIST's bytes."""
    return np.rint(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)


def summarize(net, x: np.ndarray, t: np.ndarray) -> dict:
    """Everything the Digits and Learned tabs show, from the net and the test set, in one pass.

    Gradients are the last mini-batch's, left on the Affine layers by backward; before the
    first step (or after a load) there are none and grad_histograms is empty.
    """
    n, hidden_size, classes = len(x), net.shape[1], net.shape[-1]
    labels = np.zeros(n, dtype=np.uint8 if classes <= 256 else np.intp)
    confidences = np.zeros(n, dtype=np.float32)
    fired = np.zeros(hidden_size, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n, CHUNK):
            rows = slice(start, start + CHUNK)
            # net.predict's pass, layer by layer, to count the first layer's ReLUs on the way
            # (it is most of the cost: a second pass for them would nearly double it).
            out = x[rows]
            for name, output in net.forward_steps(out):
                if name == "Affine1":
                    fired += np.count_nonzero(output > 0, axis=0)
                out = output
            labels[rows], confidences[rows] = _answers(out)
    relu = net.activation == "relu"
    grads = {}
    for i in range(1, net.depth + 1):
        layer = net.affine(i)
        grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
    return {
        "activation": net.activation,
        "predictions": labels,
        "confidences": confidences,
        "confusion": confusion_matrix(t, labels, classes),
        "first_weights": np.array(net.params["W1"], dtype=np.float32),  # a copy: training goes on
        "histograms": {name: histogram(net.params[name]) for name in net.param_names},
        "grad_histograms": {name: histogram(g) for name, g in grads.items() if g is not None},
        "fire_rate": (fired / max(n, 1)).astype(np.float32) if relu else None,
        "dead_fraction": float(np.mean(fired == 0)) if relu else None,
    }
