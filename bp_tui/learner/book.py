"""The book's own modules (common.layers, dataset.mnist, ...) as bp-tui's book API.

A learner's file imports them as the book does; each name the book's module defines is looked
up in bp-tui by name. A name bp-tui does not have is left out and reported when imported, never
guessed.
"""

from __future__ import annotations

import importlib
import types

# book module -> {name the book defines: "bp_tui module:attribute" that stands for it}
_NN = "bp_tui.nn"
_FUNCTIONS = {
    name: f"{_NN}:{name}"
    for name in (
        "identity_function",
        "step_function",
        "sigmoid",
        "sigmoid_grad",
        "relu",
        "relu_grad",
        "softmax",
        "sum_squared_error",
        "cross_entropy_error",
        "softmax_loss",
    )
}
_LAYERS = {
    **_FUNCTIONS,
    **{
        name: f"{_NN}:{name}"
        for name in (
            "Relu",
            "Sigmoid",
            "Affine",
            "SoftmaxWithLoss",
            "Dropout",
            "BatchNormalization",
            "Convolution",
            "Pooling",
        )
    },
}
BOOK_MODULES: dict[str, dict[str, str]] = {
    "common.functions": _FUNCTIONS,
    "common.layers": _LAYERS,
    "common.gradient": {
        "numerical_gradient": "bp_tui.nn.numerical:central_differences",
        "_numerical_gradient_1d": "bp_tui.nn.numerical:central_differences",
        "numerical_gradient_2d": "bp_tui.nn.numerical:central_differences",
    },
    "common.util": {
        name: f"{_NN}:{name}"
        for name in ("smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im")
    },
    "common.optimizer": {
        name: f"{_NN}:{name}"
        for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam")
    },
    "common.multi_layer_net": {"MultiLayerNet": f"{_NN}:MultiLayerNet"},
    "common.multi_layer_net_extend": {"MultiLayerNetExtend": f"{_NN}:MultiLayerNetExtend"},
    "common.trainer": {"Trainer": f"{_NN}:Trainer"},
    "dataset.mnist": {"load_mnist": "bp_tui.data:load_mnist"},
    # ch05's own modules, when the learner's folder has none of that name
    "two_layer_net": {"TwoLayerNet": f"{_NN}:TwoLayerNet"},
    "layer_naive": {"MulLayer": f"{_NN}:MulLayer", "AddLayer": f"{_NN}:AddLayer"},
}
PACKAGES = {"common", "dataset"}


def provided(module: str) -> tuple[dict[str, object], list[str]]:
    """The names of a book module that bp-tui has (name -> object), and those it has not."""
    found: dict[str, object] = {}
    missing: list[str] = []
    for name, target in BOOK_MODULES[module].items():
        where, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(where), attribute, None)
        if value is None:
            missing.append(name)
        else:
            found[name] = value
    return found, missing


def book_module(name: str) -> types.ModuleType:
    """A module object standing for the book's module `name` (a package for common, dataset)."""
    module = types.ModuleType(name, f"the book's {name}, as bp-tui's book API")
    if name in PACKAGES:
        module.__path__ = []  # a package: its submodules are imported by name
        return module
    found, missing = provided(name)
    module.__dict__.update(found)
    module.__all__ = sorted(found)
    module.__bp_tui_missing__ = missing
    return module


def is_book_module(name: str) -> bool:
    return name in BOOK_MODULES or name in PACKAGES


def missing_from_book(name: str) -> str | None:
    """Which book module defines `name` that bp-tui lacks (for a NameError's explanation)."""
    for module, names in BOOK_MODULES.items():
        if name in names and name in provided(module)[1]:
            return module
    return None
