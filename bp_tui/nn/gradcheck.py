"""Gradient checking: backprop against central differences, computed many perturbations at a time.

The book's loop perturbs one weight per Python iteration (2 forward passes each, 79,520 in all for
784-50-10). Here one weight's perturbation only moves one column of a pre-activation, so a whole
chunk of perturbed copies of the batch goes through the rest of the net as one stacked array.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON, cross_entropy_error, softmax
from bp_tui.nn.net import PARAM_NAMES, TwoLayerNet

H = 1e-4
# Thresholds on the relative error ||backprop - numerical|| / (||backprop|| + ||numerical||).
# Book mode: the 1e-7 inside the log is not in SoftmaxWithLoss.backward, so the two differ by ~1e-7
# per sample; exact mode leaves only float64 rounding and the O(h^2) truncation of the difference.
THRESHOLDS = {"book": 1e-5, "exact": 1e-7}
_CHUNK_ELEMENTS = 2_000_000

EXPLANATIONS = {
    "book": (
        "book mode: the loss has +1e-7 inside log() but backprop's (y - t)/N does not, so the two "
        "differ by ~1e-7; exact mode gets the book's printed 1e-10..1e-13 back"
    ),
    "exact": (
        "exact mode: no 1e-7 in the log, so backprop and central differences (h = 1e-4) agree to "
        "float64 rounding, as the book printed"
    ),
}


def _losses(net: TwoLayerNet, out: np.ndarray, t: np.ndarray, epsilon: float) -> np.ndarray:
    return cross_entropy_error(softmax(out), t, epsilon)


def _central(loss_plus: np.ndarray, loss_minus: np.ndarray, h: float) -> np.ndarray:
    return (loss_plus - loss_minus) / (2 * h)


def numerical_gradient_net(
    net: TwoLayerNet, x: np.ndarray, t: np.ndarray, h: float = H, epsilon: float | None = None
) -> dict[str, np.ndarray]:
    """Every parameter's central-difference gradient, equal to the book's per-element loop."""
    eps = net.lastLayer.epsilon if epsilon is None else epsilon
    p = {k: v.astype(np.float64) for k, v in net.params.items()}
    x2 = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    n, hidden = x2.shape[0], p["W1"].shape[1]
    act = type(net.layers[list(net.layers)[1]])()
    a1 = x2 @ p["W1"] + p["b1"]
    z1 = act.forward(a1)
    out = z1 @ p["W2"] + p["b2"]

    def hidden_losses(cols: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        # deltas: (K, N) change of pre-activation column cols[k] for each perturbed copy k.
        stack = np.broadcast_to(a1, (len(cols), n, hidden)).copy()
        stack[np.arange(len(cols)), :, cols] += deltas
        return _losses(net, act.forward(stack) @ p["W2"] + p["b2"], t, eps)

    def output_losses(cols: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        stack = np.broadcast_to(out, (len(cols), *out.shape)).copy()
        stack[np.arange(len(cols)), :, cols] += deltas
        return _losses(net, stack, t, eps)

    def grad_of(shape, source: np.ndarray | None, losses) -> np.ndarray:
        # Element k of the parameter is (row, col) = divmod(k, shape[-1]); a bias has no row and a
        # source of ones.
        size = int(np.prod(shape))
        cols_all = np.arange(size) % shape[-1]
        rows_all = np.arange(size) // shape[-1]
        grad = np.empty(size)
        chunk = max(1, _CHUNK_ELEMENTS // (n * max(hidden, out.shape[1])))
        for start in range(0, size, chunk):
            cols = cols_all[start : start + chunk]
            scale = (
                np.ones((len(cols), n))
                if source is None
                else source[:, rows_all[start : start + chunk]].T
            )
            grad[start : start + chunk] = _central(
                losses(cols, h * scale), losses(cols, -h * scale), h
            )
        return grad.reshape(shape)

    return {
        "W1": grad_of(p["W1"].shape, x2, hidden_losses),
        "b1": grad_of(p["b1"].shape, None, hidden_losses),
        "W2": grad_of(p["W2"].shape, z1, output_losses),
        "b2": grad_of(p["b2"].shape, None, output_losses),
    }


@dataclass
class ParamCheck:
    mean_abs_diff: float
    max_abs_diff: float
    rel_error: float  # over the elements whose finite difference is smooth (see kinked)
    passed: bool
    kinked: int = 0  # elements whose +-h step crosses ReLU's corner for some sample


@dataclass
class GradCheckReport:
    params: dict[str, ParamCheck]
    exact: bool
    threshold: float
    seconds: float
    explanation: str
    iteration: int | None = None
    backprop: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    numerical: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.params.values())

    @property
    def mode(self) -> str:
        return "exact" if self.exact else "book"

    def to_dict(self) -> dict:
        return {
            "params": {
                k: {
                    "mean_abs_diff": c.mean_abs_diff,
                    "max_abs_diff": c.max_abs_diff,
                    "rel_error": c.rel_error,
                    "passed": c.passed,
                    "kinked": c.kinked,
                }
                for k, c in self.params.items()
            },
            "seconds": self.seconds,
            "passed": self.passed,
            "exact": self.exact,
            "threshold": self.threshold,
            "explanation": self.explanation,
        }


def compare(
    backprop: np.ndarray, numerical: np.ndarray, threshold: float, kinked: np.ndarray | None = None
) -> ParamCheck:
    """The book's mean |diff|, the max, and a relative error that leaves out kinked elements."""
    diff = np.abs(backprop - numerical)
    smooth = ~kinked if kinked is not None else np.ones(diff.shape, dtype=bool)
    scale = np.linalg.norm(backprop[smooth]) + np.linalg.norm(numerical[smooth])
    rel = float(np.linalg.norm(diff[smooth]) / scale) if scale > 0 else 0.0
    n_kinked = int(diff.size - smooth.sum())
    return ParamCheck(float(diff.mean()), float(diff.max()), rel, rel < threshold, n_kinked)


def kinked_elements(params: dict[str, np.ndarray], x: np.ndarray, h: float = H) -> dict:
    """W1 and b1 elements whose central difference straddles ReLU's corner for some sample.

    Moving W1[i, j] by h moves unit j's input by h * x[n, i]; when that reaches across 0 the two
    sides see different slopes and the difference is no derivative at all. Backprop is right there.
    """
    x2 = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    a1 = x2 @ params["W1"] + params["b1"]
    reach_b = np.abs(a1) < h  # (N, H)
    # W1[i, j] is kinked when |a1[n, j]| < h * |x[n, i]| for some n.
    reach_w = (np.abs(x2)[:, :, None] * h > np.abs(a1)[:, None, :]).any(axis=0)
    return {"W1": reach_w, "b1": reach_b.any(axis=0)}


def gradient_check(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    *,
    activation: str = "relu",
    exact: bool = False,
    iteration: int | None = None,
) -> GradCheckReport:
    """Backprop vs. numerical gradient for a copy of params (float64), in book or exact mode."""
    start = time.perf_counter()
    d, hidden = params["W1"].shape
    net = TwoLayerNet(
        d,
        hidden,
        params["W2"].shape[1],
        activation=activation,
        epsilon=0.0 if exact else LOG_EPSILON,
    )
    for key in PARAM_NAMES:
        net.params[key][...] = params[key]
    numerical = net.numerical_gradient(x, t)
    backprop = {k: np.array(v) for k, v in net.gradient(x, t).items()}
    mode = "exact" if exact else "book"
    threshold = THRESHOLDS[mode]
    kinks = kinked_elements(net.params, x) if activation == "relu" else {}
    checks = {k: compare(backprop[k], numerical[k], threshold, kinks.get(k)) for k in PARAM_NAMES}
    explanation = EXPLANATIONS[mode]
    n_kinked = sum(c.kinked for c in checks.values())
    if n_kinked:
        explanation += (
            f"; {n_kinked:,} W1/b1 elements step across ReLU's corner, where a central "
            "difference is no derivative: left out of rel err"
        )
    return GradCheckReport(
        params=checks,
        exact=exact,
        threshold=threshold,
        seconds=time.perf_counter() - start,
        explanation=explanation,
        iteration=iteration,
        backprop=backprop,
        numerical=numerical,
    )
