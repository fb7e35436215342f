"""Optimisers shaped like the book's (ch. 6): update(params, grads) changes params in place."""

from __future__ import annotations

import numpy as np

Arrays = dict[str, np.ndarray]


class SGD:
    """params -= lr * grad."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: Arrays, grads: Arrays) -> None:
        for key in params:
            params[key] -= self.lr * grads[key]

    def state(self) -> Arrays:
        return {}

    def load_state(self, state: Arrays) -> None:
        pass


class _Stateful:
    """Optimisers that keep one array per parameter between updates."""

    slots: tuple[str, ...] = ()

    def state(self) -> Arrays:
        out = {}
        for slot in self.slots:
            for key, value in (getattr(self, slot) or {}).items():
                out[f"{slot}/{key}"] = value
        if hasattr(self, "iter"):
            out["iter"] = np.array(self.iter)
        return out

    def load_state(self, state: Arrays) -> None:
        for name, value in state.items():
            if name == "iter":
                self.iter = int(value)
                continue
            slot, key = name.split("/", 1)
            if getattr(self, slot) is None:
                setattr(self, slot, {})
            getattr(self, slot)[key] = np.array(value)


class Momentum(_Stateful):
    """v = momentum * v - lr * grad; params += v."""

    slots = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params: Arrays, grads: Arrays) -> None:
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params:
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.v[key]


class AdaGrad(_Stateful):
    """h += grad^2; params -= lr * grad / sqrt(h): each weight gets its own shrinking rate."""

    slots = ("h",)

    def __init__(self, lr: float = 0.01) -> None:
        self.lr, self.h = lr, None

    def update(self, params: Arrays, grads: Arrays) -> None:
        if self.h is None:
            self.h = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam(_Stateful):
    """Momentum and AdaGrad combined, with the book's bias-corrected rate."""

    slots = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params: Arrays, grads: Arrays) -> None:
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * (1.0 - self.beta2**self.iter) ** 0.5 / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}


def make_optimizer(name: str, lr: float):
    try:
        return OPTIMIZERS[name](lr=lr)
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}: use {', '.join(OPTIMIZERS)}") from None
