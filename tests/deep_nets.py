"""A net of any depth built from the book's layer classes, for tests of code that loops over
net.layers (the book's MultiLayerNet layout: Affine1, Activation_function1, ..., AffineN)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from bp_tui.nn.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class LayerChain:
    """input -> (Affine -> activation) x hidden -> Affine -> SoftmaxWithLoss, with the book's
    keys, params W1, b1, ..., Wn, bn and its predict / loss / gradient."""

    def __init__(self, widths, activation="sigmoid", std=0.01, seed=0):
        rng = np.random.default_rng(seed)
        self.activation = activation
        self.params = {}
        self.layers = OrderedDict()
        depth = len(widths) - 1
        for k in range(1, depth + 1):
            fan_in, fan_out = widths[k - 1], widths[k]
            scale = std if isinstance(std, float) else np.sqrt(1.0 / fan_in)
            self.params[f"W{k}"] = scale * rng.standard_normal((fan_in, fan_out))
            self.params[f"b{k}"] = np.zeros(fan_out)
            self.layers[f"Affine{k}"] = Affine(self.params[f"W{k}"], self.params[f"b{k}"])
            if k < depth:
                self.layers[f"Activation_function{k}"] = ACTIVATIONS[activation]()
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for k in range(1, (len(self.layers) + 1) // 2 + 1):
            grads[f"W{k}"] = self.layers[f"Affine{k}"].dW
            grads[f"b{k}"] = self.layers[f"Affine{k}"].db
        return grads
