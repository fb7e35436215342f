"""The math: the book's layers, its nets (TwoLayerNet, MultiLayerNet) on one model, optimisers and
gradient checking (numpy only)."""

from bp_tui.nn.functions import cross_entropy_error, sigmoid, smooth_curve, softmax
from bp_tui.nn.gradcheck import GradCheckReport, gradient_check
from bp_tui.nn.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.model import LayerNet, NetSpec, Network
from bp_tui.nn.net import MultiLayerNet, TwoLayerNet
from bp_tui.nn.optimizers import SGD, AdaGrad, Adam, Momentum, make_optimizer

__all__ = [
    "AdaGrad",
    "Adam",
    "AddLayer",
    "Affine",
    "GradCheckReport",
    "LayerNet",
    "Momentum",
    "MulLayer",
    "MultiLayerNet",
    "NetSpec",
    "Network",
    "Relu",
    "SGD",
    "Sigmoid",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "cross_entropy_error",
    "gradient_check",
    "make_optimizer",
    "sigmoid",
    "smooth_curve",
    "softmax",
]
