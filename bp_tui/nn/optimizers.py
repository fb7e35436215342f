"""Optimisers shaped like the book's (ch. 6): update(params, grads) changes params in place.

Each saves its own state (state(), load_state()) and says what a saved state must hold
(check_state), so a checkpoint of any optimiser at any depth round-trips.
"""

from __future__ import annotations

import numpy as np

Arrays = dict[str, np.ndarray]


class Optimizer:
    """What every optimiser has: a learning rate, update, and its state as named arrays."""

    name = ""
    slots: tuple[str, ...] = ()  # one array per parameter each
    counts_steps = False  # keeps "iter", the number of updates made

    lr: float

    def update(self, params: Arrays, grads: Arrays) -> None:
        raise NotImplementedError

    def state(self) -> Arrays:
        out = {}
        for slot in self.slots:
            for key, value in (getattr(self, slot) or {}).items():
                out[f"{slot}/{key}"] = value
        if self.counts_steps:
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

    @classmethod
    def check_state(cls, state: Arrays, shapes: dict[str, tuple[int, ...]]) -> None:
        """ValueError naming what is wrong when `state` is not one this optimiser saved for
        parameters of these shapes: each slot for all parameters or none, shaped like them."""
        allowed = {f"{slot}/{key}" for slot in cls.slots for key in shapes}
        unknown = sorted(set(state) - allowed - ({"iter"} if cls.counts_steps else set()))
        if unknown:
            raise ValueError(
                f"its {cls.name} state has unexpected slots ({', '.join(unknown)[:60]})"
            )
        for slot in cls.slots:
            present = [k for k in shapes if f"{slot}/{k}" in state]
            if len(present) not in (0, len(shapes)):
                raise ValueError(f"its {cls.name} state misses part of {slot}")
            for key in present:
                value = state[f"{slot}/{key}"]
                if value.dtype.kind != "f" or value.shape != shapes[key]:
                    raise ValueError(
                        f"its {cls.name} slot {slot}/{key} is not {shapes[key]} numbers"
                    )
        if cls.counts_steps:
            value = state.get("iter")
            if value is None or value.shape != () or value.dtype.kind not in "iu" or value < 0:
                raise ValueError(f"its {cls.name} step count is missing or not a whole number")


class SGD(Optimizer):
    """params -= lr * grad."""

    name = "sgd"

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr
        self._steps: dict[str, np.ndarray] = {}

    def update(self, params: Arrays, grads: Arrays) -> None:
        """In place, into a buffer kept per parameter: the very products and differences of
        params[key] -= lr * grads[key] without a temporary array each step. Elementwise, so
        parameters packed in one array (Network.flat_params) update in one operation."""
        steps = self._steps
        for key, param in params.items():
            step = steps.get(key)
            if step is None or step.shape != param.shape or step.dtype != param.dtype:
                step = steps[key] = np.empty_like(param)
            np.multiply(grads[key], self.lr, out=step)
            np.subtract(param, step, out=param)


class Momentum(Optimizer):
    """v = momentum * v - lr * grad; params += v."""

    name = "momentum"
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


class AdaGrad(Optimizer):
    """h += grad^2; params -= lr * grad / sqrt(h): each weight gets its own shrinking rate."""

    name = "adagrad"
    slots = ("h",)

    def __init__(self, lr: float = 0.01) -> None:
        self.lr, self.h = lr, None

    def update(self, params: Arrays, grads: Arrays) -> None:
        if self.h is None:
            self.h = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam(Optimizer):
    """Momentum and AdaGrad combined, with the book's bias-corrected rate."""

    name = "adam"
    counts_steps = True
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
