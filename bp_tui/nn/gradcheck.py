"""Gradient checking: backprop against central differences, as the book's gradient_check.py.

The numerical side is bp_tui.nn.numerical (the net's own loss, many perturbations at a time when
it can); this module compares it with the net's backprop, names the elements a central
difference cannot judge, and reports which way the numerical side was computed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON
from bp_tui.nn.model import LayerNet, spec_of_params
from bp_tui.nn.numerical import METHODS, H, numerical_checks

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

# A gradient that has vanished (a deep sigmoid net's first layer: |dW| ~ 1e-8) is smaller than
# what central differences can resolve: each loss is rounded to ~eps * |loss|, so the difference
# quotient carries ~eps * |loss| / h of noise (2e-12 for a loss of 2.3) and the relative error
# reads 1e-5 with backprop right. Where every |diff| lies under this floor, backprop and the
# numerical gradient agree as far as float64 can tell, and the verdict says so.
NOISE_FACTOR = 32

EXPLANATIONS = {
    "own": (
        "your layers: your backprop against central differences of your own loss, whose "
        "log keeps the book's 1e-7 (about 5e-7 of rel err on the first images): rel err < 1e-5"
    ),
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
    verdict_max_abs_diff: float = 0.0
    # passed only because every |diff| is under the rounding floor (see NOISE_FACTOR)
    within_noise: bool = False
    shape: tuple[int, ...] | None = None  # the gradient's shape, when it is not the parameter's
    expected_shape: tuple[int, ...] | None = None
    judged: int | None = None  # elements in the rel err (the smooth ones)

    @property
    def unjudged(self) -> bool:
        """Every element compared steps across a ReLU kink (tiny pre-activations, as in a deep
        net of std 0.01): no rel err could judge it, so it passes without a figure."""
        return self.judged == 0 and self.shape is None

    @property
    def mark(self) -> str:
        return "✖" if not self.passed else "–" if self.unjudged else "✔"

    def shape_problem(self, name: str) -> str:
        """ "your d W1 has shape (50, 784), W1 is (784, 50)"; "" when the shapes agree."""
        if self.shape is None:
            return ""
        return f"your d {name} has shape {self.shape}, {name} is {self.expected_shape}"

    def shown(self, value: float, spec: str = ".1e") -> str:
        """One of this check's figures as the tables print it; "–" for a gradient of another
        shape than its parameter (nothing was compared)."""
        return "–" if self.shape is not None else format(value, spec)

    def shown_rel_error(self, spec: str = ".1e") -> str:
        """The rel err as the tables print it; "–" when no element could be judged."""
        return "–" if self.unjudged else self.shown(self.rel_error, spec)

    def verdict(self, exact: bool) -> str:
        """The verdict as the tables show it: the mark, and what it judged but where exact mode's
        rel err alone decided (its figure is in the rel err column)."""
        plain = exact and not self.within_noise and not self.unjudged
        return self.mark if plain else f"{self.mark} {self.verdict_figure}"

    @property
    def verdict_figure(self) -> str:
        """What the verdict judged: the rel err, or the largest |diff| under the floor."""
        if self.shape is not None:
            return "shape"
        if self.unjudged:
            return "at kinks"
        if self.within_noise:
            return f"|Δ| {self.verdict_max_abs_diff:.0e}"
        return f"{self.verdict_rel_error:.0e}"


def power(threshold: float) -> str:
    """1e-07 -> "1e-7", as the book writes its thresholds."""
    return f"1e{round(math.log10(threshold))}"


def noise_floor(loss: float) -> float:
    """The |diff| under which central differences (h = H) cannot tell two gradients apart."""
    return NOISE_FACTOR * float(np.finfo(np.float64).eps) * max(abs(loss), 1.0) / H


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
    method: str = "stacked"  # how the numerical side was computed: a key of numerical.METHODS
    first_wrong: str = ""  # a learner's net: where its backward pass first goes wrong, in words

    @property
    def two_figures(self) -> bool:
        """Book mode on bp-tui's layers: the book's rel err (its loss, 1e-7 in the log) is shown
        beside the verdict's (backprop's own loss), each under its own rule."""
        return not self.exact and self.verdict_threshold == VERDICT_THRESHOLD

    @property
    def figure_name(self) -> str:
        """The rel err column's name: in book mode the book's own figure."""
        return "book rel err" if self.two_figures else "rel err"

    def rule_lines(self, short: bool = False) -> list[str]:
        """What each figure is judged by, in one reading: the dashboard and `bp-tui gradcheck`
        print these same lines under their tables (short: the rules alone, for a small panel)."""
        if short:
            rule = f"backprop: rel err < {power(self.verdict_threshold)}"
            if self.two_figures:
                book = (
                    f"book rel err (1e-7 in the log): the book's rule < {power(THRESHOLDS['book'])}"
                )
                return [f"{rule} against its own loss", book]
            return [f"{rule}; exact mode" if self.exact else f"{rule}, the book's rule"]
        verdict = f"backprop passes at rel err < {power(self.verdict_threshold)}"
        if self.two_figures:
            return [
                f"{verdict}, against its own loss (no 1e-7 in the log)",
                "book rel err: of the book's loss, 1e-7 in its log (an offset, no error); "
                f"the book's rule is rel err < {power(THRESHOLDS['book'])}",
            ]
        if self.exact:  # what exact mode is, the explanation below says
            return [verdict]
        return [f"{verdict}, against your own loss (1e-7 in its log): the book's rule"]

    @property
    def method_text(self) -> str:
        return f"{self.method}: {METHODS[self.method]}"

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
                    "within_noise": c.within_noise,
                    "unjudged": c.unjudged,
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
            "method": self.method,
        }


def compare(
    backprop: np.ndarray,
    numerical: np.ndarray,
    threshold: float,
    kinked: np.ndarray | None = None,
    floor: float = 0.0,
) -> ParamCheck:
    """The book's mean |diff|, the max, and a relative error that leaves out kinked elements;
    passed when the rel err is under threshold or every smooth |diff| under floor."""
    diff = np.abs(backprop - numerical)
    smooth = ~kinked if kinked is not None else np.ones(diff.shape, dtype=bool)
    scale = np.linalg.norm(backprop[smooth]) + np.linalg.norm(numerical[smooth])
    rel = float(np.linalg.norm(diff[smooth]) / scale) if scale > 0 else 0.0
    n_kinked = int(diff.size - smooth.sum())
    largest = float(diff[smooth].max()) if smooth.any() else 0.0
    within_noise = not rel < threshold and largest < floor
    return ParamCheck(
        float(diff.mean()),
        float(diff.max()),
        rel,
        rel < threshold or within_noise,
        n_kinked,
        verdict_rel_error=rel,
        verdict_max_abs_diff=largest,
        within_noise=within_noise,
        judged=int(smooth.sum()),
    )


def misshapen_check(shape: tuple[int, ...], expected: tuple[int, ...]) -> ParamCheck:
    """A gradient of another shape than its parameter's: failed, no figure to compare."""
    inf = float("inf")
    return ParamCheck(
        inf,
        inf,
        inf,
        False,
        verdict_rel_error=inf,
        verdict_max_abs_diff=inf,
        shape=shape,
        expected_shape=expected,
    )


# A full check costs about W1's elements x hidden units; up to 784 x 200 x 200 (a few seconds)
# every element is checked, beyond it a random sample of SAMPLE elements of each parameter.
FULL_CHECK_WORK = 784 * 200 * 200
SAMPLE = 2_000


def check_work(params: dict[str, np.ndarray]) -> int:
    """About what a full check costs per image: each weight's element times the hidden units its
    perturbation passes through (784 x 50 x 50 for the book's ch05 net)."""
    widths = [np.shape(params[f"W{i}"])[1] for i in range(1, len(params) // 2 + 1)]
    return sum(
        int(np.size(params[f"W{i}"])) * max(sum(widths[i - 1 : -1]), 1)
        for i in range(1, len(widths) + 1)
    )


def default_sample(params: dict[str, np.ndarray]) -> int | None:
    """None (check every element) for nets up to FULL_CHECK_WORK, else SAMPLE per parameter."""
    return None if check_work(params) <= FULL_CHECK_WORK else SAMPLE


def gradient_check(
    params: dict[str, np.ndarray] | object,
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
    """Backprop vs. numerical gradient, in book or exact mode.

    params: W1, b1, ..., Wn, bn of a chain with this activation (checked on a float64 copy), or
    a net itself, checked as it is (its own layers, a learner's too: then by the book's loop).
    The verdict (``passed``) is the same rule in both modes: backprop against the numerical
    gradient of the loss it differentiates (no 1e-7 in the log), rel err < VERDICT_THRESHOLD.
    Book mode also computes the book's figures, for the loss with +1e-7, and shows them unjudged.

    sample: check only that many elements of each larger parameter, drawn at random (seed);
    None checks every element. progress(done, total) follows the numerical side's elements.
    batch: says which images x holds, for the panels.
    """
    start = time.perf_counter()
    if isinstance(params, dict):
        spec = spec_of_params(params, activation)
        net = LayerNet(spec, {k: np.asarray(v, np.float64) for k, v in params.items()})
    else:
        net = params
    names = list(net.params)
    rng = np.random.default_rng(seed)
    index = {}
    if sample is not None:
        for key in names:
            size = np.size(net.params[key])
            if size > sample:
                index[key] = np.sort(rng.choice(size, sample, replace=False))
    # The loss backprop differentiates first (the verdict); book mode the book's loss too, both
    # from the same perturbed forward passes. A loss layer without bp-tui's epsilon has only its
    # own loss to offer.
    own_only = getattr(net.last_layer, "epsilon", None) is None
    epsilons = (None,) if own_only else (0.0,) if exact else (0.0, LOG_EPSILON)
    results = numerical_checks(net, x, t, epsilons, elements=index, progress=progress)
    verdict_numerical, numerical = results[0].grads, results[-1].grads
    kinks = results[0].kinked
    backprop = {k: np.array(v, dtype=np.float64) for k, v in net.gradient(x, t).items()}
    mode = "exact" if exact else "book"
    threshold = THRESHOLDS[mode]
    # A gradient not of its parameter's shape (a learner's backprop) cannot be compared: it fails.
    misshapen = {k for k in names if backprop[k].shape != np.shape(net.params[k])}
    compared = {k: backprop[k].reshape(-1)[index[k]] if k in index else backprop[k] for k in names}
    checks = {
        k: misshapen_check(backprop[k].shape, np.shape(net.params[k]))
        if k in misshapen
        else compare(compared[k], numerical[k], threshold, kinks.get(k))
        for k in names
    }
    # A learner's loss keeps the book's 1e-7 in its log, which no round here can take out:
    # their backprop is judged on it with the book's threshold.
    verdict_threshold = THRESHOLDS["book"] if own_only else VERDICT_THRESHOLD
    floor = noise_floor(float(net.loss(x, t)))
    for k, check in checks.items():
        if k in misshapen:
            continue
        judged = compare(compared[k], verdict_numerical[k], verdict_threshold, kinks.get(k), floor)
        check.verdict_rel_error, check.passed = judged.rel_error, judged.passed
        check.verdict_max_abs_diff = judged.verdict_max_abs_diff
        check.within_noise = judged.within_noise
    for key, chosen in index.items():
        checks[key].checked, checks[key].size = len(chosen), np.size(net.params[key])
    explanation = EXPLANATIONS["own" if own_only else mode]
    tiny = [k for k, c in checks.items() if c.within_noise]
    if tiny:
        explanation += (
            f"; {', '.join(tiny)}: too small for a rel err, every |diff| < {floor:.0e} (float64's "
            "rounding of the loss, over h): they agree as far as float64 can tell"
        )
    n_kinked = sum(c.kinked for c in checks.values())
    if n_kinked:
        explanation += (
            f"; {n_kinked:,} elements step across a ReLU's corner, where a central "
            "difference is no derivative: left out of rel err"
        )
    unjudged = [k for k, c in checks.items() if c.unjudged]
    if unjudged:
        explanation += (
            f"; {', '.join(unjudged)}: every element checked is at a corner, so none is judged "
            "(their pre-activations are within h of 0: tiny weights, as std 0.01 makes them)"
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
        verdict_threshold=verdict_threshold,
        method=results[0].method,
    )
