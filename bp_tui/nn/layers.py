"""The book's layers: forward stores what backward needs; backward takes dout and returns dx."""

from __future__ import annotations

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON, as_labels, cross_entropy_error, sigmoid, softmax


class MulLayer:
    """out = x * y."""

    def __init__(self) -> None:
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        # Each input's gradient is dout times the *other* input.
        return dout * self.y, dout * self.x


class AddLayer:
    """out = x + y."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout * 1, dout * 1


class Relu:
    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        # The book's relu(), max(0, x): one pass, where copying then zeroing the mask takes three.
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # np.where makes a new array: the caller's dout is left as it was (the seed zeroed it in place).
        return np.where(self.mask, 0, dout).astype(dout.dtype, copy=False)


class Sigmoid:
    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out) * self.out


class Affine:
    """out = x . W + b, for input of any rank (flattened to (N, -1) like the book's common layers)."""

    def __init__(self, W: np.ndarray, b: np.ndarray, *, needs_dx: bool = True) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        # needs_dx=False: backward returns None instead of dx. Only for a first layer whose dx
        # nothing reads (the engine's training step), where it saves a (N, 784) product per step.
        self.needs_dx = needs_dx

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        self.dW = np.dot(self.x.T, dout)
        self.db = dout.sum(axis=0)
        if not self.needs_dx:
            return None
        return np.dot(dout, self.W.T).reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax then cross-entropy; t may be integer labels or rows of targets (one-hot or not).

    As in the book, the loss scores rows of targets by their argmax, and backward gives
    (y - t) / batch_size for them.
    """

    def __init__(self, epsilon: float = LOG_EPSILON) -> None:
        self.epsilon = epsilon
        self.loss = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, t, self.epsilon)
        return self.loss

    def backward(self, dout=1) -> np.ndarray:
        y = self.y if self.y.ndim == 2 else self.y.reshape(1, -1)
        batch_size = y.shape[0]
        t = np.asarray(self.t)
        if t.size == y.size:
            # One-hot or any other rows of targets: the book's (y - t) / batch_size.
            return (y - t.reshape(y.shape)) / batch_size * dout
        dx = y.copy()
        dx[np.arange(batch_size), as_labels(t).reshape(-1)] -= 1
        dx *= dout / batch_size  # in place: dx is our own copy
        return dx
