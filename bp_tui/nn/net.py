"""The book's two nets on one model (nn/model.py): ch05's TwoLayerNet and ch06's MultiLayerNet."""

from __future__ import annotations

import numpy as np

from bp_tui.nn.functions import LOG_EPSILON
from bp_tui.nn.model import ACTIVATIONS, LayerNet, NetSpec, Network, param_names

__all__ = ["ACTIVATIONS", "PARAM_NAMES", "MultiLayerNet", "TwoLayerNet"]

# The ch05 net's parameters; a net of any depth names its own (net.param_names).
PARAM_NAMES = param_names(2)


class TwoLayerNet(LayerNet):
    """input -> Affine1 -> Relu1 (or Sigmoid1) -> Affine2 -> SoftmaxWithLoss (lastLayer)."""

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

        Without an rng the weights are drawn from np.random like the book, so np.random.seed()
        still works. input_grad=False makes backward skip Affine1's dx, which nothing reads
        during training (a (N, 784) product per step): the engine asks for it.
        """
        spec = NetSpec(input_size, (hidden_size,), output_size, activation, weight_init_std)
        super().__init__(spec, rng=rng, dtype=dtype, epsilon=epsilon, input_grad=input_grad)


class MultiLayerNet(Network):
    """The book's common/multi_layer_net.py: Affine1, Activation_function1, ..., AffineN, then
    last_layer (SoftmaxWithLoss); weight decay (L2) in loss and gradient."""

    def __init__(
        self,
        input_size: int,
        hidden_size_list: list[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0,
        *,
        rng: np.random.Generator | None = None,
        dtype: type = np.float64,
        epsilon: float = LOG_EPSILON,
    ) -> None:
        spec = NetSpec(
            input_size, tuple(hidden_size_list), output_size, activation, weight_init_std
        )
        self.input_size, self.output_size = input_size, output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        randn = (lambda *shape: rng.standard_normal(shape)) if rng is not None else np.random.randn
        self._build(
            spec,
            spec.init_params(randn),
            activation_key=lambda i: f"Activation_function{i}",
            dtype=dtype,
            epsilon=epsilon,
        )
