"""A chain of layers checked node by node: the first node of the backward pass that goes wrong.

A gradient error shows in every parameter below the node that makes it; only checking each
node on its own says where it starts. Each node gets the upstream gradient backprop really
gave it, and its own backward (dx and each parameter's gradient) is compared with central
differences of its own forward against that upstream gradient. The loss node goes first, then
the layers from the last to the first: the first that departs is the first wrong node.

Works with any layers of the book's API (forward / backward / stored dW, db), the learner's or
bp-tui's; it runs their code, so it belongs in a process that runs it (the check's child, or an
engine process started for their layers). build_net gives such a chain from the learner's
classes, bp-tui's standing in for those they did not write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bp_tui.learner.probe import GRADIENT_TOLERANCE, relative_error
from bp_tui.nn import Affine, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.functions import LOG_EPSILON, softmax
from bp_tui.nn.model import param_names
from bp_tui.nn.numerical import H

STANDARD = {"Affine": Affine, "Relu": Relu, "Sigmoid": Sigmoid, "SoftmaxWithLoss": SoftmaxWithLoss}
# a parameter attribute -> the attributes its gradient may be stored under
_GRADIENT_NAMES = ("d{}", "grad_{}", "{}_grad", "d_{}", "grad{}")


@dataclass
class NodeCheck:
    """One quantity of one node: its backprop value against central differences."""

    node: int  # position in the chain; len(layers) is the loss node
    name: str  # the layer's class name
    quantity: str  # "dx", or the gradient of a parameter ("dW", "db")
    rel_error: float
    passed: bool
    index: tuple[int, ...] | None = None  # the first wrong element
    got: float | None = None
    expected: float | None = None
    shape: tuple[int, ...] | None = None  # a gradient not of its array's shape: its shape
    expected_shape: tuple[int, ...] | None = None

    @property
    def misshapen(self) -> str:
        """ "has shape (50, 784), should be (784, 50)"; "" for a gradient of the right shape."""
        if self.shape is None:
            return ""
        return f"has shape {self.shape}, should be {self.expected_shape}"


@dataclass
class ChainCheck:
    checks: list[NodeCheck] = field(default_factory=list)  # in backward order

    @property
    def first_wrong(self) -> NodeCheck | None:
        return next((c for c in self.checks if not c.passed), None)

    @property
    def passed(self) -> bool:
        return self.first_wrong is None


def build_net(
    classes: Mapping[str, type],
    sizes: Sequence[int],
    *,
    activation: str = "Relu",
    rng: np.random.Generator | None = None,
    weight_scale: float = 1.0,
) -> tuple[list, object, dict[str, np.ndarray]]:
    """Layers Affine, activation, ..., Affine and a SoftmaxWithLoss made from `classes` (the
    learner's, by book name) or bp-tui's for a name they lack; and the params W1, b1, ... that
    the Affine layers hold (the same arrays, so an update of params reaches them)."""
    rng = rng or np.random.default_rng(0)
    make = {name: classes.get(name) or STANDARD[name] for name in STANDARD}
    layers: list = []
    params: dict[str, np.ndarray] = {}
    names = iter(param_names(len(sizes) - 1))  # the names bp_tui.nn gives a net this deep
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        weights, biases = next(names), next(names)
        params[weights] = weight_scale * rng.standard_normal((fan_in, fan_out))
        params[biases] = weight_scale * 0.1 * rng.standard_normal(fan_out)
        layers.append(make["Affine"](params[weights], params[biases]))
        if i < len(sizes) - 1:
            layers.append(make[activation]())
    return layers, make["SoftmaxWithLoss"](), params


def check_chain(
    layers: Sequence,
    last_layer,
    x: np.ndarray,
    t: np.ndarray,
    *,
    tolerance: float = GRADIENT_TOLERANCE,
    max_elements: int | None = 200,
    rng: np.random.Generator | None = None,
) -> ChainCheck:
    """Every node's backward against central differences of its own forward, in backward order.

    max_elements: a random sample of at most this many elements of each array is differenced
    (None: all), so a chain as big as the book's 784-50-10 net stays quick. Elements where the
    forward has a kink within h (ReLU at 0) are left out: no difference there is a derivative.
    Exceptions from the layers are theirs and propagate.
    """
    rng = rng or np.random.default_rng(0)
    inputs = [np.array(x, dtype=np.float64)]
    for layer in layers:
        inputs.append(np.asarray(layer.forward(inputs[-1].copy()), dtype=np.float64))
    last_layer.forward(inputs[-1].copy(), t)
    upstream = [None] * len(layers) + [1]
    grads_in: list = [None] * (len(layers) + 1)
    stored: list[dict[str, np.ndarray]] = [{} for _ in layers]
    grads_in[-1] = _as_array(last_layer.backward(1))
    for i in range(len(layers) - 1, -1, -1):
        upstream[i] = grads_in[i + 1]
        given = None if upstream[i] is None else upstream[i].copy()  # theirs may change it
        grads_in[i] = _as_array(layers[i].backward(given))
        stored[i] = {
            g: np.array(v, dtype=np.float64)
            for g, v in _gradients(layers[i]).items()
            if v is not None
        }
    result = ChainCheck()
    # The loss node: d loss / d scores, the 1e-7 of the book's log allowed for.
    scores = inputs[-1]
    loss_tolerance = tolerance + _log_epsilon_allowance(scores, t)
    numeric, kinks = _differences(
        lambda s: float(np.asarray(last_layer.forward(s.copy(), t))),
        scores.copy(),
        max_elements,
        rng,
    )
    result.checks.append(
        _judge(
            len(layers),
            type(last_layer).__name__,
            "dx",
            grads_in[-1],
            numeric,
            kinks,
            loss_tolerance,
        )
    )
    for i in range(len(layers) - 1, -1, -1):
        layer, dout = layers[i], upstream[i]
        name = type(layer).__name__
        if dout is None:
            break  # the node above gave nothing: that node is already the wrong one

        def projected(a, layer=layer, dout=dout) -> float:
            return float(np.sum(np.asarray(layer.forward(a.copy()), dtype=np.float64) * dout))

        numeric, kinks = _differences(projected, inputs[i].copy(), max_elements, rng)
        result.checks.append(_judge(i, name, "dx", grads_in[i], numeric, kinks, tolerance))
        for gradient_name, param in _parameters(layer).items():
            numeric, kinks = _differences(
                lambda _, layer=layer, dout=dout, a=inputs[i]: projected(a, layer, dout),
                param,
                max_elements,
                rng,
            )
            got = stored[i].get(gradient_name)
            result.checks.append(_judge(i, name, gradient_name, got, numeric, kinks, tolerance))
        layer.forward(inputs[i].copy())  # its state as backprop left it, for whoever reads it
    return result


def first_wrong_node(layers: Sequence, last_layer, x, t, **options) -> NodeCheck | None:
    """The earliest check of the backward pass whose gradient departs from the numerical one."""
    return check_chain(layers, last_layer, x, t, **options).first_wrong


# ---- the pieces ------------------------------------------------------------------------------


def _as_array(value) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=np.float64)


def _parameters(layer) -> dict[str, np.ndarray]:
    """gradient name -> the parameter array it is the gradient of (W -> dW), for every array
    attribute of the layer whose gradient it stores under one of the usual names."""
    found = {}
    attrs = vars(layer) if hasattr(layer, "__dict__") else {}
    for name, value in attrs.items():
        if not isinstance(value, np.ndarray):
            continue
        for pattern in _GRADIENT_NAMES:
            gradient = pattern.format(name)
            if gradient in attrs:
                found[gradient] = value
                break
    return found


def weights_and_bias(layer) -> tuple[np.ndarray | None, np.ndarray | None]:
    """An Affine's weight matrix and bias, whatever it calls them (the book: W and b): else
    the 2-D and the 1-D array it stores a gradient for."""
    found = list(_parameters(layer).values())
    pair = []
    for book, ndim in (("W", 2), ("b", 1)):
        named = getattr(layer, book, None)
        if not isinstance(named, np.ndarray):
            named = next((p for p in found if p.ndim == ndim), None)
        pair.append(named)
    return pair[0], pair[1]


def gradient_name(layer, param: np.ndarray | None) -> str | None:
    """The attribute the layer stores the gradient of its array `param` under (W -> "dW")."""
    return next((g for g, p in _parameters(layer).items() if p is param), None)


def gradient_of(layer, param: np.ndarray | None):
    """The gradient the layer stores for its array `param` (None when it stores none)."""
    name = gradient_name(layer, param)
    return None if name is None else getattr(layer, name, None)


def _gradients(layer) -> dict[str, object]:
    attrs = vars(layer) if hasattr(layer, "__dict__") else {}
    return {g: attrs.get(g) for g in _parameters(layer)}


def _differences(f, x: np.ndarray, max_elements: int | None, rng) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of f at x (perturbed in place, put back), at a sample of elements
    (NaN elsewhere); and where one-sided differences disagree (a kink within h)."""
    flat = x.reshape(-1)
    numeric = np.full(flat.size, np.nan)
    kinks = np.zeros(flat.size, dtype=bool)
    chosen = np.arange(flat.size)
    if max_elements is not None and flat.size > max_elements:
        chosen = np.sort(rng.choice(flat.size, max_elements, replace=False))
    centre = f(x)
    for k in chosen:
        kept = flat[k]
        flat[k] = kept + H
        plus = f(x)
        flat[k] = kept - H
        minus = f(x)
        flat[k] = kept
        numeric[k] = (plus - minus) / (2 * H)
        right, left = (plus - centre) / H, (centre - minus) / H
        kinks[k] = abs(right - left) > 1e-3 * max(abs(right), abs(left), 1e-3)
    return numeric.reshape(x.shape), kinks.reshape(x.shape)


def _judge(node, name, quantity, got, numeric, kinks, tolerance) -> NodeCheck:
    if got is None:
        return NodeCheck(node, name, quantity, float("inf"), False)
    if np.shape(got) != numeric.shape:
        return NodeCheck(
            node,
            name,
            quantity,
            float("inf"),
            False,
            shape=np.shape(got),
            expected_shape=numeric.shape,
        )
    use = ~np.isnan(numeric) & ~kinks
    if not use.any():
        return NodeCheck(node, name, quantity, 0.0, True)
    error = relative_error(np.nan_to_num(got[use], nan=np.inf), numeric[use])
    if error < tolerance and np.all(np.isfinite(got[use])):
        return NodeCheck(node, name, quantity, error, True)
    scale = max(float(np.max(np.abs(numeric[use]))), 1e-300)
    bad = use & ~(np.abs(got - np.nan_to_num(numeric)) <= tolerance * scale)
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None
    return NodeCheck(
        node,
        name,
        quantity,
        error,
        False,
        index,
        float(got[index]) if index is not None else None,
        float(numeric[index]) if index is not None else None,
    )


def _log_epsilon_allowance(scores: np.ndarray, t: np.ndarray) -> float:
    """How far backprop's (y - t) / N may be from the derivative of a loss with the book's 1e-7
    in its log: about 1e-7 / y of the right class's probability y (twice that, to be safe)."""
    labels = t.argmax(axis=1) if np.ndim(t) == 2 else np.asarray(t)
    picked = softmax(scores)[np.arange(len(scores)), labels]
    return 2 * LOG_EPSILON / max(float(picked.min()), 1e-300)
