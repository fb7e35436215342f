"""The two-layer net's numerical gradient, many perturbations at a time: a pure function.

The book's loop perturbs one weight per Python iteration (2 forward passes each, 79,520 in all for
784-50-10). Here one weight's perturbation only moves one column of a pre-activation, so a whole
chunk of perturbed copies of the batch goes through the rest of the net as one stacked array.

Only parameters, inputs, labels, the activation's name and the loss's epsilon go in: no net and
no layer objects, so bp_tui.nn.net can import this module and this module imports no net.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON, cross_entropy_error, sigmoid, softmax

H = 1e-4  # the book's h in numerical_gradient (common/gradient.py)
_CHUNK_ELEMENTS = 2_000_000

# The hidden layer's forward, as the layer classes compute it (Relu.forward, Sigmoid.forward).
ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda a: np.maximum(a, 0),
    "sigmoid": sigmoid,
}


def numerical_gradient(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    *,
    activation: str = "relu",
    epsilon: float = LOG_EPSILON,
    h: float = H,
    elements: dict[str, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Every parameter's central-difference gradient (float64), equal to the book's loop.

    params holds W1 b1 W2 b2 of input -> Affine -> activation -> Affine -> softmax with
    cross-entropy, whose log has ``epsilon`` added inside (0 for the exact loss). The params are
    only read.

    elements: for some parameters, the flat indices of the only elements to compute; their
    gradient comes back as a 1-D array in that order. progress(done, total) is called as
    elements are done, over all parameters.
    """
    elements = elements or {}
    try:
        act = ACTIVATION_FUNCTIONS[activation]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}: use relu or sigmoid") from None
    p = {k: np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}
    x2 = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    n, hidden = x2.shape[0], p["W1"].shape[1]
    a1 = x2 @ p["W1"] + p["b1"]
    z1 = act(a1)
    out = z1 @ p["W2"] + p["b2"]

    def losses(scores: np.ndarray) -> np.ndarray:
        return cross_entropy_error(softmax(scores), t, epsilon)

    def hidden_losses(cols: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        # deltas: (K, N) change of pre-activation column cols[k] for each perturbed copy k.
        stack = np.broadcast_to(a1, (len(cols), n, hidden)).copy()
        stack[np.arange(len(cols)), :, cols] += deltas
        return losses(act(stack) @ p["W2"] + p["b2"])

    def output_losses(cols: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        stack = np.broadcast_to(out, (len(cols), *out.shape)).copy()
        stack[np.arange(len(cols)), :, cols] += deltas
        return losses(stack)

    indices = {k: np.asarray(elements[k]) if k in elements else np.arange(p[k].size) for k in p}
    total, done = sum(len(i) for i in indices.values()), [0]

    def grad_of(key: str, source: np.ndarray | None, losses_of) -> np.ndarray:
        # Element k of the parameter is (row, col) = divmod(k, shape[-1]); a bias has no row and a
        # source of ones.
        shape, index = p[key].shape, indices[key]
        size = len(index)
        cols_all = index % shape[-1]
        rows_all = index // shape[-1]
        grad = np.empty(size)
        chunk = max(1, _CHUNK_ELEMENTS // (n * max(hidden, out.shape[1])))
        for start in range(0, size, chunk):
            cols = cols_all[start : start + chunk]
            scale = (
                np.ones((len(cols), n))
                if source is None
                else source[:, rows_all[start : start + chunk]].T
            )
            plus, minus = losses_of(cols, h * scale), losses_of(cols, -h * scale)
            grad[start : start + chunk] = (plus - minus) / (2 * h)
            if progress is not None:
                done[0] += len(cols)
                progress(done[0], total)
        return grad if key in elements else grad.reshape(shape)

    return {
        "W1": grad_of("W1", x2, hidden_losses),
        "b1": grad_of("b1", None, hidden_losses),
        "W2": grad_of("W2", z1, output_losses),
        "b2": grad_of("b2", None, output_losses),
    }


def central_differences(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H
) -> np.ndarray:
    """The book's numerical_gradient(f, x) (common/gradient.py): df/dx by central differences,
    one element at a time, perturbing x in place and putting each element back.

    f is called with x itself, so anything that holds a reference to x (a layer's W) sees the
    perturbation, as the book's TwoLayerNet.numerical_gradient relies on.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat, grad_flat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("central_differences needs an array it can perturb in place")
    for i in range(flat.size):
        kept = flat[i]
        flat[i] = kept + h
        plus = float(f(x))
        flat[i] = kept - h
        minus = float(f(x))
        flat[i] = kept
        grad_flat[i] = (plus - minus) / (2 * h)
    return grad
