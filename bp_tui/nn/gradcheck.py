"""Gradient checking: backprop against central differences, as the book's gradient_check.py.

The numerical side is bp_tui.nn.numerical (many perturbations at a time); this module compares it
with TwoLayerNet's backprop, names the elements a central difference cannot judge, and reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON
from bp_tui.nn.net import PARAM_NAMES, TwoLayerNet
from bp_tui.nn.numerical import H, numerical_gradient

# Thresholds on the relative error ||backprop - numerical|| / (||backprop|| + ||numerical||).
# Book mode: the 1e-7 inside the log is not in SoftmaxWithLoss.backward, so the two differ by ~1e-7
# per sample; exact mode leaves only float64 rounding and the O(h^2) truncation of the difference.
THRESHOLDS = {"book": 1e-5, "exact": 1e-7}

# The one rule for the verdict, in both modes: backprop against the central differences of the
# loss it differentiates. SoftmaxWithLoss.backward's (y - t)/N is the derivative of -log(y), with
# no 1e-7 inside, so the verdict compares with that loss's numerical gradient and the exact
# threshold. Book mode's figures (the loss with +1e-7) are shown beside it, never judged: the
# offset grows as 1e-7 / y for an image whose label gets probability y, so a trained net that is
# sure and wrong on one image shows rel err 1e-5 with backprop right.
VERDICT_THRESHOLD = THRESHOLDS["exact"]
VERDICT_RULE = "backprop vs. the loss it differentiates (no 1e-7 in log): rel err < 1e-7"

EXPLANATIONS = {
    "book": (
        "book mode: its loss has +1e-7 inside log(), which backprop's (y - t)/N leaves out: "
        "an offset of ~1e-7/y per image (y: its label's probability), larger after training, "
        "and no error of backprop"
    ),
    "exact": (
        "exact mode: no 1e-7 in the log, so backprop and central differences (h = 1e-4) agree to "
        "float64 rounding, as the book printed"
    ),
}


@dataclass
class ParamCheck:
    mean_abs_diff: float
    max_abs_diff: float
    rel_error: float  # over the elements whose finite difference is smooth (see kinked)
    passed: bool
    kinked: int = 0  # elements whose +-h step crosses ReLU's corner for some sample
    checked: int | None = None  # elements of a random sample, or None when all were checked
    size: int = 0  # the parameter's elements
    # Against the loss backprop differentiates (no 1e-7): what `passed` judges. In exact mode
    # it is rel_error; in book mode rel_error is the book's figure, with the offset.
    verdict_rel_error: float = 0.0


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
    batch: str = ""  # which images: "training images 0-2", "100 random training images"
    images: int = 0  # how many
    verdict_threshold: float = VERDICT_THRESHOLD

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
                    "verdict_rel_error": c.verdict_rel_error,
                    **({"checked": c.checked, "elements": c.size} if c.checked else {}),
                }
                for k, c in self.params.items()
            },
            "seconds": self.seconds,
            "passed": self.passed,
            "exact": self.exact,
            "threshold": self.threshold,
            "verdict_threshold": self.verdict_threshold,
            "explanation": self.explanation,
            "batch": self.batch,
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
    return ParamCheck(
        float(diff.mean()), float(diff.max()), rel, rel < threshold, n_kinked, verdict_rel_error=rel
    )


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


# A full check costs about W1's elements x hidden units; up to 784 x 200 x 200 (a few seconds)
# every element is checked, beyond it a random sample of SAMPLE elements of each parameter.
FULL_CHECK_WORK = 784 * 200 * 200
SAMPLE = 2_000


def default_sample(params: dict[str, np.ndarray]) -> int | None:
    """None (check every element) for nets up to FULL_CHECK_WORK, else SAMPLE per parameter."""
    d, hidden = params["W1"].shape
    return None if d * hidden * hidden <= FULL_CHECK_WORK else SAMPLE


def kinked_at(params: dict[str, np.ndarray], x: np.ndarray, index: dict, h: float = H) -> dict:
    """kinked_elements, for the W1 and b1 elements at the flat indices `index` only."""
    x2 = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    a1 = x2 @ params["W1"] + params["b1"]
    hidden = params["W1"].shape[1]
    rows, cols = np.divmod(index["W1"], hidden)
    return {
        "W1": (np.abs(x2[:, rows]) * h > np.abs(a1[:, cols])).any(axis=0),
        "b1": (np.abs(a1[:, index["b1"]]) < h).any(axis=0),
    }


def gradient_check(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    *,
    activation: str = "relu",
    exact: bool = False,
    iteration: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    progress=None,
    batch: str = "",
) -> GradCheckReport:
    """Backprop vs. numerical gradient for a copy of params (float64), in book or exact mode.

    The verdict (``passed``) is the same rule in both modes: backprop against the numerical
    gradient of the loss it differentiates (no 1e-7 in the log), rel err < VERDICT_THRESHOLD.
    Book mode also computes the book's figures, for the loss with +1e-7, and shows them unjudged.

    sample: check only that many elements of each larger parameter, drawn at random (seed);
    None checks every element. progress(done, total) follows the numerical side's elements.
    batch: says which images x holds, for the panels.
    """
    start = time.perf_counter()
    epsilon = 0.0 if exact else LOG_EPSILON
    d, hidden = params["W1"].shape
    net = TwoLayerNet(d, hidden, params["W2"].shape[1], activation=activation, epsilon=epsilon)
    for key in PARAM_NAMES:
        net.params[key][...] = params[key]
    rng = np.random.default_rng(seed)
    index = {}
    if sample is not None:
        for key in PARAM_NAMES:
            size = net.params[key].size
            if size > sample:
                index[key] = np.sort(rng.choice(size, sample, replace=False))
    # The loss backprop differentiates first (the verdict); book mode then the book's loss too.
    rounds = [0.0] if exact else [0.0, epsilon]
    gradients: list[dict[str, np.ndarray]] = []

    def follow(done: int, of: int) -> None:  # one bar over both rounds
        if progress is not None:
            progress(len(gradients) * of + done, len(rounds) * of)

    for eps in rounds:
        gradients.append(
            numerical_gradient(
                net.params,
                x,
                t,
                activation=activation,
                epsilon=eps,
                elements=index,
                progress=follow,
            )
        )
    verdict_numerical, numerical = gradients[0], gradients[-1]
    backprop = {k: np.array(v) for k, v in net.gradient(x, t).items()}
    mode = "exact" if exact else "book"
    threshold = THRESHOLDS[mode]
    if activation != "relu":
        kinks = {}
    elif index:
        every = {k: np.arange(net.params[k].size) for k in ("W1", "b1")}
        kinks = kinked_at(net.params, x, {**every, **index})
    else:
        kinks = kinked_elements(net.params, x)
    compared = {
        k: backprop[k].reshape(-1)[index[k]] if k in index else backprop[k] for k in PARAM_NAMES
    }
    kinks = {k: v if k in index else v.reshape(net.params[k].shape) for k, v in kinks.items()}
    checks = {k: compare(compared[k], numerical[k], threshold, kinks.get(k)) for k in PARAM_NAMES}
    for k, check in checks.items():
        judged = compare(compared[k], verdict_numerical[k], VERDICT_THRESHOLD, kinks.get(k))
        check.verdict_rel_error, check.passed = judged.rel_error, judged.passed
    for key, chosen in index.items():
        checks[key].checked, checks[key].size = len(chosen), net.params[key].size
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
        batch=batch,
        images=len(x),
    )
