"""The math: the book's layers, the two-layer net, optimisers and gradient checking (numpy only)."""

from bp_tui.nn.functions import cross_entropy_error, sigmoid, softmax
from bp_tui.nn.gradcheck import GradCheckReport, gradient_check
from bp_tui.nn.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.net import TwoLayerNet
from bp_tui.nn.optimizers import SGD, AdaGrad, Adam, Momentum, make_optimizer

__all__ = [
    "AdaGrad",
    "Adam",
    "AddLayer",
    "Affine",
    "GradCheckReport",
    "Momentum",
    "MulLayer",
    "Relu",
    "SGD",
    "Sigmoid",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "cross_entropy_error",
    "gradient_check",
    "make_optimizer",
    "sigmoid",
    "softmax",
]
