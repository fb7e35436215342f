"""The training step's fused path: a chain Affine -> Relu -> ... -> Affine -> SoftmaxWithLoss
forward and back, as the layer classes compute it, into buffers kept between calls.

Beyond its big products a step is some twenty small operations per layer, a few microseconds
each, so each one here is the cheapest numpy call that gives the layers' very values: the same
ufuncs on the same operands in the same order, reductions into kept buffers, the picked
probabilities by one np.take, the ReLU mask applied as a bitwise and, forward and back (exactly
np.maximum(x, 0) and np.where(mask, 0, dout), NaN and signs included). tests/test_fast_step.py holds it to the layer
classes bit for bit at several depths. Only for a net of bp-tui's own layers (fusable).
"""

from __future__ import annotations

import numpy as np

from bp_tui.nn.functions import as_labels
from bp_tui.nn.layers import Affine, Relu, SoftmaxWithLoss


def fusable(net, x: np.ndarray, t: np.ndarray) -> bool:
    """Whether net is Affine, Relu, ..., Affine of bp-tui's classes with a SoftmaxWithLoss, the
    first layer's dx unused, and x rows of the weights' dtype with integer labels t."""
    layers = tuple(net.layers.values())
    affines, relus = layers[::2], layers[1::2]
    if len(affines) != len(relus) + 1 or type(net.last_layer) is not SoftmaxWithLoss:
        return False
    if any(type(a) is not Affine for a in affines) or any(type(r) is not Relu for r in relus):
        return False
    first = layers[0]
    return (
        not first.needs_dx
        and x.ndim == 2
        and x.dtype == first.W.dtype
        and x.shape[1] == first.W.shape[0]
        and x.flags.c_contiguous
        and np.ndim(t) == 1
        and np.asarray(t).dtype.kind in "iu"
        and all(a.W.dtype == x.dtype and a.b.dtype == x.dtype for a in affines)
    )


class Workspace:
    """The buffers of one batch size: each hidden layer's output, mask and gradient, the
    logits' and the gradients of every parameter, these packed as one array (W1, b1, ...)."""

    def __init__(self, n: int, weights: list[np.ndarray]) -> None:
        dtype = weights[0].dtype
        bits = np.dtype(f"i{dtype.itemsize}")
        widths = [W.shape[1] for W in weights]
        classes = widths[-1]
        self.n, self.dtype = n, dtype
        self.h = [np.empty((n, width), dtype) for width in widths[:-1]]
        self.h_bits = [h.view(bits) for h in self.h]
        self.mask = [np.empty((n, width), bool) for width in widths[:-1]]
        self.keep = [np.empty((n, width), bits) for width in widths[:-1]]
        self.dh = [np.empty((n, width), dtype) for width in widths[:-1]]
        self.dh_bits = [d.view(bits) for d in self.dh]
        self.y = np.empty((n, classes), dtype)
        self.dy = np.empty((n, classes), dtype)
        self.col = np.empty((n, 1), dtype)
        self.col_flat = self.col.reshape(-1)
        self.yT = np.empty((classes, n), dtype)
        self.picked = np.empty(n, dtype)
        self.logs = np.empty(n, dtype)
        self.at = np.empty(n, np.intp)
        self.row_starts = np.arange(n, dtype=np.intp) * classes
        self.y_flat, self.dy_flat = self.y.reshape(-1), self.dy.reshape(-1)
        shapes = [s for W in weights for s in (W.shape, (W.shape[1],))]
        self.grad = np.zeros(sum(int(np.prod(s)) for s in shapes), dtype)
        views, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            views.append(self.grad[start : start + size].reshape(shape))
            start += size
        self.grad_views = tuple(views)
        self.grads: dict[str, np.ndarray] = {}  # the names of grad_views, given at first use

    def fits(self, n: int, dtype) -> bool:
        return self.n == n and self.dtype == dtype


def loss_and_gradient(net, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """net.loss_and_gradient(x, t) for a fusable net, the same numbers bit for bit; the layers'
    state is left as their own forward and backward would leave it."""
    layers = list(net.layers.values())
    affines, relus, last = layers[::2], layers[1::2], net.last_layer
    n = x.shape[0]
    w = net._workspace
    if w is None or not w.fits(n, x.dtype) or len(w.h) != len(relus):
        w = net._workspace = Workspace(n, [a.W for a in affines])
    labels = as_labels(t)
    inputs = [x]
    for a, h, mask, keep, h_bits in zip(  # the last Affine has none
        affines, w.h, w.mask, w.keep, w.h_bits, strict=False
    ):
        # Affine.forward: np.dot(x, W) + b; Relu.forward: mask = x <= 0; np.maximum(x, 0),
        # here as x's bits and'ed with 0 where masked (mask - 1 is 0 there, all ones elsewhere):
        # the very bits of np.maximum(x, 0), -0 and NaN included, and the backward pass uses
        # the same keep
        np.dot(inputs[-1], a.W, out=h)
        np.add(h, a.b, out=h)
        np.less_equal(h, 0, out=mask)
        np.subtract(mask, 1, out=keep, dtype=keep.dtype)
        np.bitwise_and(h_bits, keep, out=h_bits)
        inputs.append(h)
    y, col = w.y, w.col
    np.dot(inputs[-1], affines[-1].W, out=y)
    np.add(y, affines[-1].b, out=y)
    # softmax: x - max, exp, / sum (functions.softmax; np.max and np.sum are these reduces).
    # The max is taken over a transposed copy: ten rows of 100 reduce in a third of the
    # time of 100 rows of ten, and a max is the same number in any order.
    np.copyto(w.yT, y.T)
    np.maximum.reduce(w.yT, axis=0, out=w.col_flat)
    np.subtract(y, col, out=y)
    np.exp(y, out=y)
    np.add.reduce(y, axis=-1, keepdims=True, out=col)
    np.divide(y, col, out=y)
    # cross_entropy_error: -sum(log(y[rows, labels] + eps)) / batch_size, with
    # y[rows, labels] taken from the flat y at rows * classes + labels
    picked, at, logs = w.picked, w.at, w.logs
    np.add(w.row_starts, labels, out=at)
    w.y_flat.take(at, out=picked)  # the method: np.take's Python wrapper costs 1 us
    np.add(picked, last.epsilon, out=logs)
    np.log(logs, out=logs)
    loss = -np.add.reduce(logs) / n
    # SoftmaxWithLoss.backward: dx = y.copy(); dx[rows, labels] -= 1; dx *= 1 / batch_size
    # (the picked entries are y[rows, labels], so they become (picked - 1) * (1 / n))
    np.multiply(y, 1 / n, out=w.dy)
    np.subtract(picked, 1, out=picked)
    np.multiply(picked, 1 / n, out=picked)
    w.dy_flat.put(at, picked)
    dout = w.dy
    for i in range(len(affines) - 1, -1, -1):
        a, dW, db = affines[i], w.grad_views[2 * i], w.grad_views[2 * i + 1]
        # Affine.backward: dW = x.T . dout, db = sum(dout), dx = dout . W.T (none for the first)
        np.dot(inputs[i].T, dout, out=dW)
        np.add.reduce(dout, axis=0, out=db)
        a.original_x_shape, a.x, a.dW, a.db = inputs[i].shape, inputs[i], dW, db
        if i == 0:
            break
        np.dot(dout, a.W.T, out=w.dh[i - 1])
        # Relu.backward: np.where(mask, 0, dout), as dout's bits and'ed with the forward's keep
        np.bitwise_and(w.dh_bits[i - 1], w.keep[i - 1], out=w.dh_bits[i - 1])
        relus[i - 1].mask = w.mask[i - 1]
        dout = w.dh[i - 1]
    last.t, last.y, last.loss = t, y, loss
    if not w.grads:
        w.grads = dict(zip(net.param_names, w.grad_views, strict=True))
    return loss, dict(w.grads)
