"""The chapter's TwoLayerNet, built from the layer classes, with the book's public API."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON, as_labels
from bp_tui.nn.init import init_scale
from bp_tui.nn.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.numerical import numerical_gradient

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


class TwoLayerNet:
    """input -> Affine1 -> Relu1 (or Sigmoid1) -> Affine2 -> SoftmaxWithLoss."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float | str = 0.01,
        *,
        activation: str = "relu",
        rng: np.random.Generator | None = None,
        dtype: type = np.float64,
        epsilon: float = LOG_EPSILON,
        input_grad: bool = True,
    ) -> None:
        """The book's constructor; the keywords are bp-tui's.

        input_grad=False makes backward skip Affine1's dx, which nothing reads during training
        (a (N, 784) product per step): the engine's Trainer asks for it. Left True, every layer's
        backward returns its dx as in the book.
        """
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use relu or sigmoid")
        # Without an rng, draw from np.random like the book, so np.random.seed() still works.
        randn = (lambda *shape: rng.standard_normal(shape)) if rng is not None else np.random.randn
        self.activation = activation
        self.params: dict[str, np.ndarray] = {
            "W1": (init_scale(weight_init_std, input_size) * randn(input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": (init_scale(weight_init_std, hidden_size) * randn(hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.epsilon = epsilon
        act_name = f"{self.activation.capitalize()}1"
        self.layers: OrderedDict = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"], needs_dx=input_grad)
        self.layers[act_name] = ACTIVATIONS[self.activation]()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss(epsilon)

    @property
    def shape(self) -> tuple[int, int, int]:
        (d, h), c = self.params["W1"].shape, self.params["W2"].shape[1]
        return d, h, c

    def predict(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 10_000) -> float:
        """Share of rows classified right; t may be labels or one-hot."""
        labels = as_labels(t)
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            y = self.predict(x[start : start + batch_size])
            correct += int(np.sum(np.argmax(y, axis=1) == labels[start : start + batch_size]))
        return correct / float(x.shape[0])

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Central differences (h = 1e-4), vectorised: same numbers as the book's loop, far faster."""
        return numerical_gradient(
            self.params, x, t, activation=self.activation, epsilon=self.epsilon
        )

    def loss_and_gradient(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """One forward and one backward pass: the loss and the gradient of every parameter."""
        loss = self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return loss, {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return self.loss_and_gradient(x, t)[1]
