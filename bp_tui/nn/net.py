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
        # One contiguous array holds the four, each a slice of it: an update can then be one
        # operation over all of them (TwoLayerNet.flat_params). They are ordinary arrays.
        self._flat, views = _packed(self.params, dtype)
        self.params = dict(zip(PARAM_NAMES, views, strict=True))
        self._flat_views = views
        self.epsilon = epsilon
        act_name = f"{self.activation.capitalize()}1"
        self.layers: OrderedDict = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"], needs_dx=input_grad)
        self.layers[act_name] = ACTIVATIONS[self.activation]()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss(epsilon)
        self._workspace: dict[str, np.ndarray] | None = None  # the fused step's buffers

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
        self, x: np.ndarray, t: np.ndarray, *, reuse: bool = False
    ) -> tuple[float, dict[str, np.ndarray]]:
        """One forward and one backward pass: the loss and the gradient of every parameter.

        reuse=True lets a ReLU net given integer labels and rows of its weights' dtype (the
        engine's training step) take a fused path: the very same operations in the same order,
        so the same numbers bit for bit, written into buffers kept from one call to the next.
        The gradients returned, and the layers' state, are then overwritten by the next call:
        for a caller that is done with them by then, as the trainer is after its update.
        """
        if reuse and self._fusable(x, t):
            return self._fused_loss_and_gradient(x, t)
        loss = self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return loss, {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return self.loss_and_gradient(x, t)[1]

    def flat_params(self) -> np.ndarray | None:
        """W1, b1, W2, b2 as the one contiguous array they are slices of (in that order), so
        that one operation updates all four; None once a caller has put another array in
        params (then only params itself is the truth)."""
        return _flat_of(self.params, self._flat_views, self._flat)

    def flat_gradient(self, grads: dict[str, np.ndarray]) -> np.ndarray | None:
        """The fused step's gradients (loss_and_gradient with reuse=True) as the one array
        they are slices of, laid out as flat_params(); None for any other gradients."""
        w = self._workspace
        return None if w is None else _flat_of(grads, w["grad_views"], w["grad"])

    # ---- the training step's fused path ----------------------------------------------------------

    def _fusable(self, x: np.ndarray, t: np.ndarray) -> bool:
        a1 = self.layers["Affine1"]
        return (
            self.activation == "relu"
            and not a1.needs_dx
            and x.ndim == 2
            and x.dtype == a1.W.dtype
            and x.shape[1] == a1.W.shape[0]
            and x.flags.c_contiguous
            and np.ndim(t) == 1
            and np.asarray(t).dtype.kind in "iu"
        )

    def _fused_loss_and_gradient(self, x: np.ndarray, t: np.ndarray):
        """Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss and back, as the layers compute it
        (each comment names the layer code it repeats), into buffers kept between calls.
        Beyond its two big products a step is some twenty small operations on 100x50 and
        100x10 arrays, a few microseconds each, so each one here is the cheapest numpy call
        that gives the layers' very values: the same ufuncs on the same operands, reductions
        into kept buffers, the picked probabilities by one np.take, the ReLU mask applied as a
        bitwise and (exactly np.where(mask, 0, dout), NaN and signs included)."""
        a1, relu, a2, last = (
            self.layers["Affine1"],
            self.layers["Relu1"],
            self.layers["Affine2"],
            self.lastLayer,
        )
        n = x.shape[0]
        w = self._workspace
        if w is None or w["h"].shape[0] != n or w["h"].dtype != x.dtype:
            w = self._workspace = _workspace(n, a1.W, a2.W)
        h, mask, y, dy, dh, col = w["h"], w["mask"], w["y"], w["dy"], w["dh"], w["col"]
        picked, at = w["picked"], w["at"]
        labels = as_labels(t)
        # Affine1.forward: np.dot(x, W) + b
        np.dot(x, a1.W, out=h)
        np.add(h, a1.b, out=h)
        # Relu.forward: mask = x <= 0; np.maximum(x, 0)
        np.less_equal(h, 0, out=mask)
        np.maximum(h, 0, out=h)
        # Affine2.forward
        np.dot(h, a2.W, out=y)
        np.add(y, a2.b, out=y)
        # softmax: x - max, exp, / sum (functions.softmax; np.max and np.sum are these reduces).
        # The max is taken over a transposed copy: ten rows of 100 reduce in a third of the
        # time of 100 rows of ten, and a max is the same number in any order.
        np.copyto(w["yT"], y.T)
        np.maximum.reduce(w["yT"], axis=0, out=w["col_flat"])
        np.subtract(y, col, out=y)
        np.exp(y, out=y)
        np.add.reduce(y, axis=-1, keepdims=True, out=col)
        np.divide(y, col, out=y)
        # cross_entropy_error: -sum(log(y[rows, labels] + eps)) / batch_size, with
        # y[rows, labels] taken from the flat y at rows * classes + labels
        np.add(w["row_starts"], labels, out=at)
        w["y_flat"].take(at, out=picked)  # the method: np.take's Python wrapper costs 1 us
        logs = w["logs"]
        np.add(picked, self.epsilon, out=logs)
        np.log(logs, out=logs)
        loss = -np.add.reduce(logs) / n
        # SoftmaxWithLoss.backward: dx = y.copy(); dx[rows, labels] -= 1; dx *= 1 / batch_size
        # (the picked entries are y[rows, labels], so they become (picked - 1) * (1 / n))
        np.multiply(y, 1 / n, out=dy)
        np.subtract(picked, 1, out=picked)
        np.multiply(picked, 1 / n, out=picked)
        w["dy_flat"].put(at, picked)
        # Affine2.backward: dW = x.T . dout, db = sum(dout), dx = dout . W.T
        np.dot(h.T, dy, out=w["dW2"])
        np.add.reduce(dy, axis=0, out=w["db2"])
        np.dot(dy, a2.W.T, out=dh)
        # Relu.backward: np.where(mask, 0, dout), as dout's bits and'ed with 0 where masked
        # (mask - 1 is 0 there, all ones elsewhere)
        keep = w["keep"]
        np.subtract(mask, 1, out=keep, dtype=keep.dtype)
        np.bitwise_and(w["dh_bits"], keep, out=w["dh_bits"])
        # Affine1.backward without dx (needs_dx=False)
        np.dot(x.T, dh, out=w["dW1"])
        np.add.reduce(dh, axis=0, out=w["db1"])
        # The layers' state, as their own forward and backward would leave it.
        a1.original_x_shape, a1.x, a1.dW, a1.db = x.shape, x, w["dW1"], w["db1"]
        relu.mask = mask
        a2.original_x_shape, a2.x, a2.dW, a2.db = h.shape, h, w["dW2"], w["db2"]
        last.t, last.y, last.loss = t, y, loss
        return loss, dict(w["grads"])


def _packed(params: dict[str, np.ndarray], dtype) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """One array of `dtype` holding the params in PARAM_NAMES order (the values astype gives),
    and each param as a view of it in its own shape."""
    flat = np.empty(sum(params[k].size for k in PARAM_NAMES), dtype)
    views, start = [], 0
    for key in PARAM_NAMES:
        value = params[key]
        view = flat[start : start + value.size].reshape(value.shape)
        view[...] = value
        views.append(view)
        start += value.size
    return flat, tuple(views)


def _flat_of(arrays: dict, views: tuple[np.ndarray, ...], flat: np.ndarray) -> np.ndarray | None:
    W1, b1, W2, b2 = views
    get = arrays.get
    if get("W1") is W1 and get("b1") is b1 and get("W2") is W2 and get("b2") is b2:
        return flat
    return None


def _workspace(n: int, W1: np.ndarray, W2: np.ndarray) -> dict[str, np.ndarray]:
    (d, hidden), classes, dtype = W1.shape, W2.shape[1], W1.dtype
    shapes = {"W1": (d, hidden), "b1": (hidden,), "W2": (hidden, classes), "b2": (classes,)}
    grad, grad_views = _packed({k: np.zeros(shape, dtype) for k, shape in shapes.items()}, dtype)
    w = {
        "h": np.empty((n, hidden), dtype),
        "mask": np.empty((n, hidden), bool),
        "keep": np.empty((n, hidden), np.dtype(f"i{dtype.itemsize}")),
        "y": np.empty((n, classes), dtype),
        "dy": np.empty((n, classes), dtype),
        "dh": np.empty((n, hidden), dtype),
        "col": np.empty((n, 1), dtype),
        "yT": np.empty((classes, n), dtype),
        "picked": np.empty(n, dtype),
        "logs": np.empty(n, dtype),
        "at": np.empty(n, np.intp),
        "row_starts": np.arange(n, dtype=np.intp) * classes,
        "grad": grad,
        "grad_views": grad_views,
    }
    w["y_flat"], w["dy_flat"] = w["y"].reshape(-1), w["dy"].reshape(-1)
    w["col_flat"] = w["col"].reshape(-1)
    w["dh_bits"] = w["dh"].view(w["keep"].dtype)
    w["dW1"], w["db1"], w["dW2"], w["db2"] = grad_views
    w["grads"] = dict(zip(PARAM_NAMES, grad_views, strict=True))
    return w
