"""One model of a network: its description (NetSpec) and the chain of layers every caller runs.

A network is input -> Affine1 -> activation -> ... -> AffineN -> SoftmaxWithLoss, as the book's
MultiLayerNet builds it. Its parameters are named W1, b1, ..., Wn, bn by position; the names
come from here and nowhere else. Every pass, forward and backward, loops over `layers`.
"""

from __future__ import annotations

import functools
import operator
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from bp_tui.nn import fused, numerical
from bp_tui.nn.functions import LOG_EPSILON, as_labels
from bp_tui.nn.init import init_scale
from bp_tui.nn.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}
# The layer class of each activation name, and back: a net's activation is its layers' own.
ACTIVATION_OF = {cls: name for name, cls in ACTIVATIONS.items()}


def param_names(layers: int) -> tuple[str, ...]:
    """W1, b1, ..., Wn, bn for a net of `layers` Affine layers, in the book's order."""
    return tuple(name for i in range(1, layers + 1) for name in (f"W{i}", f"b{i}"))


def shape_text(sizes: tuple[int, ...]) -> str:
    """784-100-100-10."""
    return "-".join(str(size) for size in sizes)


@dataclass(frozen=True)
class NetSpec:
    """What a network is: its layer widths, activation and initialisation."""

    input_size: int
    hidden: tuple[int, ...]
    output_size: int
    activation: str = "relu"
    init: float | str = "relu"  # a std, or "he"/"relu", "xavier"/"sigmoid", "std" (0.01)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}: use relu or sigmoid")
        if min((self.input_size, self.output_size, *self.hidden)) < 1:
            raise ValueError(f"every layer needs at least one unit, not {self.sizes}")

    @property
    def sizes(self) -> tuple[int, ...]:
        """(input, hidden..., output): (784, 50, 10) for the book's ch05 net."""
        return (self.input_size, *self.hidden, self.output_size)

    @property
    def depth(self) -> int:
        """How many Affine layers (weight matrices) the net has."""
        return len(self.hidden) + 1

    @functools.cached_property
    def param_names(self) -> tuple[str, ...]:
        return param_names(self.depth)

    @property
    def param_count(self) -> int:
        sizes = self.sizes
        return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def __str__(self) -> str:
        return shape_text(self.sizes)

    def init_params(
        self, randn: Callable[..., np.ndarray] = np.random.randn
    ) -> dict[str, np.ndarray]:
        """Fresh weights as the book's MultiLayerNet draws them: W1, then W2, ..., each scale *
        randn(fan_in, fan_out), every bias zero (float64)."""
        params: dict[str, np.ndarray] = {}
        sizes = self.sizes
        for i in range(1, len(sizes)):
            scale = init_scale(self.init, sizes[i - 1])
            params[f"W{i}"] = scale * randn(sizes[i - 1], sizes[i])
            params[f"b{i}"] = np.zeros(sizes[i])
        return params


def spec_of_params(
    params: dict[str, np.ndarray], activation: str = "relu", init: float | str = "relu"
) -> NetSpec:
    """The NetSpec whose parameters these are (W1..Wn, b1..bn); ValueError if they are no chain."""
    weights = []
    while f"W{len(weights) + 1}" in params:
        weights.append(np.shape(params[f"W{len(weights) + 1}"]))
    if not weights or set(params) != set(param_names(len(weights))):
        raise ValueError(f"parameters {sorted(params)} are not W1, b1, ..., Wn, bn")
    for i, (w, nxt) in enumerate(zip(weights, weights[1:] + [None], strict=True), start=1):
        if len(w) != 2 or (nxt is not None and (len(nxt) != 2 or nxt[0] != w[1])):
            raise ValueError(f"W{i} of shape {w} does not chain on to W{i + 1} of shape {nxt}")
        if np.shape(params[f"b{i}"]) != (w[1],):
            raise ValueError(f"b{i} has shape {np.shape(params[f'b{i}'])}, not ({w[1]},)")
    hidden = tuple(w[1] for w in weights[:-1])
    return NetSpec(weights[0][0], hidden, weights[-1][1], activation, init)


class Network:
    """A chain of layers and a SoftmaxWithLoss, with the book's API (predict, loss, accuracy,
    gradient, numerical_gradient). Subclasses name the layers as the book's nets do."""

    layers: OrderedDict
    params: dict[str, np.ndarray]
    weight_decay_lambda: float = 0.0

    def _build(
        self,
        spec: NetSpec,
        params: dict[str, np.ndarray],
        *,
        activation_key: Callable[[int], str],
        dtype=np.float64,
        epsilon: float = LOG_EPSILON,
        input_grad: bool = True,
    ) -> None:
        """Pack params into one array of dtype (each a view of it, so one operation can update
        all of them) and lay out Affine1, activation 1, ..., AffineN with them. dtype=None
        takes the arrays as they are, uncopied (a read-only pass over weights held elsewhere)."""
        self.spec = spec
        self.activation = spec.activation
        names = self._param_names = spec.param_names
        if dtype is None:
            self._flat, self._flat_views = None, ()
            self.params = {key: params[key] for key in names}
        else:
            self._flat = np.empty(sum(params[k].size for k in names), dtype)
            views, start = [], 0
            for key in names:
                view = self._flat[start : start + params[key].size].reshape(params[key].shape)
                view[...] = params[key]
                views.append(view)
                start += params[key].size
            self._flat_views = tuple(views)
            self.params = dict(zip(names, views, strict=True))
        self.epsilon = epsilon
        self.layers = OrderedDict()
        for i in range(1, spec.depth + 1):
            W, b = self.params[f"W{i}"], self.params[f"b{i}"]
            # Only the first layer's dx may be skipped: nothing reads the gradient of the input.
            self.layers[f"Affine{i}"] = Affine(W, b, needs_dx=input_grad or i > 1)
            if i < spec.depth:
                self.layers[activation_key(i)] = ACTIVATIONS[spec.activation]()
        self._last = SoftmaxWithLoss(epsilon)
        self._workspace = None  # the fused step's buffers

    @property
    def last_layer(self):
        """The loss layer: SoftmaxWithLoss (ch06's name; ch05's TwoLayerNet says lastLayer)."""
        return self._last

    @last_layer.setter
    def last_layer(self, layer) -> None:
        self._last = layer

    @property
    def lastLayer(self):  # noqa: N802 - the book's ch05 name
        return self._last

    @lastLayer.setter
    def lastLayer(self, layer) -> None:  # noqa: N802
        self._last = layer

    @property
    def depth(self) -> int:
        return self.spec.depth

    @property
    def shape(self) -> tuple[int, ...]:
        """The layer widths, input to output: (784, 50, 10)."""
        return self.spec.sizes

    @property
    def param_names(self) -> tuple[str, ...]:
        return self._param_names

    def affine(self, index: int):
        """The index-th Affine layer (from 1), as the book's gradient reads it."""
        return self.layers[f"Affine{index}"]

    def activations(self) -> Iterator[tuple[str, object]]:
        """(key, layer) of each hidden activation layer, first to last."""
        for key, layer in self.layers.items():
            if not key.startswith("Affine"):
                yield key, layer

    # ---- the book's API --------------------------------------------------------------------------

    def predict(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def forward_steps(self, x: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        """predict, one layer at a time: (key, that layer's output) in order."""
        for key, layer in self.layers.items():
            x = layer.forward(x)
            yield key, x

    def weight_decay(self) -> float:
        """The book's L2 term: 0.5 * lambda * sum(W ** 2) over every weight matrix."""
        decay = 0
        if self.weight_decay_lambda:
            for i in range(1, self.depth + 1):
                decay += 0.5 * self.weight_decay_lambda * np.sum(self.params[f"W{i}"] ** 2)
        return decay

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        loss = self._last.forward(self.predict(x), t)
        return loss + self.weight_decay() if self.weight_decay_lambda else loss

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 10_000) -> float:
        """Share of rows classified right; t may be labels or one-hot."""
        labels = as_labels(t)
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            y = self.predict(x[start : start + batch_size])
            correct += int(np.sum(np.argmax(y, axis=1) == labels[start : start + batch_size]))
        return correct / float(x.shape[0])

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Central differences (h = 1e-4) of this net's own loss, as the book's: stacked (many
        perturbations at a time) for a chain of bp-tui's layers, else the book's loop."""
        return numerical.numerical_gradient(self, x, t)

    def loss_and_gradient(
        self, x: np.ndarray, t: np.ndarray, *, reuse: bool = False
    ) -> tuple[float, dict[str, np.ndarray]]:
        """One forward and one backward pass: the loss and the gradient of every parameter.

        reuse=True lets a chain of bp-tui's Affine and ReLU layers given integer labels and rows
        of its weights' dtype (the engine's training step) take the fused path (nn/fused.py):
        the very same operations in the same order, so the same numbers bit for bit, written
        into buffers kept from one call to the next. The gradients returned, and the layers'
        state, are then overwritten by the next call.
        """
        if reuse and not self.weight_decay_lambda and fused.fusable(self, x, t):
            return fused.loss_and_gradient(self, x, t)
        loss = self.loss(x, t)
        dout = self._last.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        decay = self.weight_decay_lambda
        for i in range(1, self.depth + 1):
            layer = self.affine(i)
            grads[f"W{i}"] = layer.dW + decay * layer.W if decay else layer.dW
            grads[f"b{i}"] = layer.db
        return loss, grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return self.loss_and_gradient(x, t)[1]

    def flat_params(self) -> np.ndarray | None:
        """Every parameter as the one contiguous array they are slices of (in param_names
        order), so that one operation updates them all; None once a caller has put another
        array in params (then only params itself is the truth)."""
        return _flat_of(self.params, self.param_names, self._flat_views, self._flat)

    def flat_gradient(self, grads: dict[str, np.ndarray]) -> np.ndarray | None:
        """The fused step's gradients as the one array they are slices of, laid out as
        flat_params(); None for any other gradients."""
        w = self._workspace
        if w is None:
            return None
        return _flat_of(grads, self.param_names, w.grad_views, w.grad)


def _flat_of(arrays: dict, names, views, flat: np.ndarray | None) -> np.ndarray | None:
    if flat is not None and all(map(operator.is_, map(arrays.get, names), views)):
        return flat
    return None


class LayerNet(Network):
    """A net of a NetSpec with given (or fresh) parameters: what the engine, the gradient check
    and the analysis build. Layers are named as the book's ch05 TwoLayerNet names them
    (Affine1, Relu1, Affine2, ...)."""

    def __init__(
        self,
        spec: NetSpec,
        params: dict[str, np.ndarray] | None = None,
        *,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
        epsilon: float = LOG_EPSILON,
        input_grad: bool = True,
    ) -> None:
        if params is None:
            randn = (
                (lambda *shape: rng.standard_normal(shape)) if rng is not None else np.random.randn
            )
            params = spec.init_params(randn)
        self._build(
            spec,
            params,
            activation_key=lambda i: f"{spec.activation.capitalize()}{i}",
            dtype=dtype,
            epsilon=epsilon,
            input_grad=input_grad,
        )
