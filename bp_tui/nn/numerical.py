"""A net's numerical gradient: central differences of its own loss, as the book's.

Two ways, the same numbers to rounding:
- "stacked", for a chain of bp-tui's own layers (Affine, Relu, Sigmoid, then SoftmaxWithLoss):
  moving one weight of Affine k only moves one column of that layer's output, so a chunk of
  perturbed copies of the batch goes through the rest of the chain, the layers' own forward
  methods on float64 copies, as one stacked array; it also sees which steps cross a ReLU's
  corner, where a central difference is no derivative.
- "loop", for anything else (a learner's layer in the chain): the book's loop, each element of
  net.params moved by +-h in place and net.loss called twice, then put back.

Only duck typing of the net (layers, last_layer, params, loss): this module imports no net.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bp_tui.nn.functions import cross_entropy_error, softmax
from bp_tui.nn.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

H = 1e-4  # the book's h in numerical_gradient (common/gradient.py)
_CHUNK_ELEMENTS = 2_000_000
ROW_WISE_LAYERS = (Affine, Relu, Sigmoid)  # each row of the output depends on its row only
METHODS = {
    "stacked": "many perturbations at a time through bp-tui's layers",
    "loop": "the book's loop: one element at a time, the net's own loss",
}


@dataclass
class NumericalGradient:
    grads: dict[str, np.ndarray]
    method: str  # a key of METHODS
    # For the stacked method: per element computed, whether its +-h step moved some ReLU's
    # input across 0 for some image (the parameters with a ReLU after them only).
    kinked: dict[str, np.ndarray]


def method_for(net) -> str:
    """ "stacked" when the net is a chain of bp-tui's layers holding its params, else "loop"."""
    return "stacked" if _param_places(net) is not None else "loop"


def numerical_gradient(net, x: np.ndarray, t: np.ndarray, **options) -> dict[str, np.ndarray]:
    """Every parameter's central-difference gradient of net.loss (see numerical_check)."""
    return numerical_check(net, x, t, **options).grads


def numerical_check(
    net,
    x: np.ndarray,
    t: np.ndarray,
    *,
    epsilon: float | None = None,
    h: float = H,
    elements: dict[str, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NumericalGradient:
    """Central differences (h) of the net's loss for every parameter in net.params, the
    book's numbers to rounding; the params are left as they were.

    epsilon: the 1e-7 inside the log of bp-tui's SoftmaxWithLoss for this computation only (0 for
    the exact loss); None keeps the net's own. elements: for some parameters, the flat indices
    of the only elements to compute; their gradient comes back as a 1-D array in that order.
    progress(done, total) is called as elements are done, over all parameters.
    """
    (result,) = numerical_checks(net, x, t, (epsilon,), h=h, elements=elements, progress=progress)
    return result


def numerical_checks(
    net,
    x: np.ndarray,
    t: np.ndarray,
    epsilons: tuple[float | None, ...],
    *,
    h: float = H,
    elements: dict[str, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[NumericalGradient]:
    """numerical_check for each of several epsilons, in one pass where it can: the stacked way
    scores each perturbed forward pass with every epsilon's loss (the same numbers, bit for
    bit, as one pass per epsilon); the loop goes round once per epsilon."""
    elements = elements or {}
    indices = {
        k: np.asarray(elements[k]) if k in elements else np.arange(np.size(v))
        for k, v in net.params.items()
    }
    places = _param_places(net)
    if places is None:
        total = len(epsilons) * sum(len(i) for i in indices.values())

        def follow(round_: int):  # one count over every round
            if progress is None:
                return None
            return lambda done, of: progress(round_ * of + done, total)

        rounds = [
            (_loop(net, x, t, eps, h, indices, follow(at)), {}) for at, eps in enumerate(epsilons)
        ]
        method = "loop"
    else:
        rounds = _stacked(net, places, x, t, epsilons, h, indices, progress)
        method = "stacked"

    def shaped(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            k: v if k in elements else v.reshape(np.shape(net.params[k])) for k, v in arrays.items()
        }

    return [NumericalGradient(shaped(grads), method, shaped(kinked)) for grads, kinked in rounds]


def _param_places(net) -> dict[str, tuple[int, str]] | None:
    """name -> (index of its Affine layer in the chain, "W" or "b"), when the net is made only of
    bp-tui's row-wise layers and a SoftmaxWithLoss and its params are its Affine layers' arrays;
    else None."""
    layers = list(net.layers.values())
    if type(getattr(net, "last_layer", None)) is not SoftmaxWithLoss:
        return None
    if not all(type(layer) in ROW_WISE_LAYERS for layer in layers):
        return None
    by_id = {}
    for index, layer in enumerate(layers):
        if type(layer) is Affine:
            by_id[id(layer.W)], by_id[id(layer.b)] = (index, "W"), (index, "b")
    places = {name: by_id.get(id(value)) for name, value in net.params.items()}
    if None in places.values() or len(places) != len(by_id):
        return None
    return places


def _float64_chain(layers: list) -> list:
    """Copies of the layers in float64 (new objects: their forward state is their own)."""
    chain = []
    for layer in layers:
        if type(layer) is Affine:
            chain.append(Affine(np.array(layer.W, np.float64), np.array(layer.b, np.float64)))
        else:
            chain.append(type(layer)())
    return chain


def _stacked(net, places, x, t, epsilons, h, indices, progress):
    """(grads, kinked) for each epsilon, from one set of perturbed forward passes."""
    chain = _float64_chain(list(net.layers.values()))
    own = net.last_layer.epsilon
    epsilons = [own if epsilon is None else epsilon for epsilon in epsilons]
    decay = float(getattr(net, "weight_decay_lambda", 0) or 0)
    weights = [layer.W for layer in chain if type(layer) is Affine]
    base_decay = sum(0.5 * decay * np.sum(W**2) for W in weights) if decay else 0.0
    # inputs[k]: what layer k receives; outputs of Affine layers are inputs[k + 1]
    inputs = [np.asarray(x, dtype=np.float64).reshape(len(x), -1)]
    for layer in chain:
        inputs.append(layer.forward(inputs[-1]))
    n = inputs[0].shape[0]
    total, done = sum(len(i) for i in indices.values()), [0]
    grads: list[dict] = [{} for _ in epsilons]
    kinked: dict[str, np.ndarray] = {}

    corners = [layer_input <= 0 for layer_input in inputs]  # where each ReLU's input is <= 0
    kept: dict[str, np.ndarray] = {}  # buffers reused by every chunk: no fresh pages each time

    def buffer(what: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        size = int(np.prod(shape))
        flat = kept.get(what)
        if flat is None or flat.size < size or flat.dtype != dtype:
            flat = kept[what] = np.empty(size, dtype)
        return flat[:size].reshape(shape)

    def losses_of(k: int, cols: np.ndarray, deltas: np.ndarray) -> tuple[list, np.ndarray]:
        """The losses of each perturbed copy (column cols[c] of layer k's output moved by
        deltas[c]), one array per epsilon, and whether a ReLU after it saw an input cross 0
        for some image. The layers' own arithmetic (Affine: dot then + b; Relu: maximum with
        0; softmax), into kept buffers: the same numbers as their forward methods."""
        out = inputs[k + 1]
        count = len(cols)
        stack = buffer("stack", (count, *out.shape))
        np.copyto(stack, out)
        copies = np.arange(count)
        stack[copies, :, cols] += deltas
        z = stack.reshape(count * n, -1)
        crossed = np.zeros(count, dtype=bool)
        for j in range(k + 1, len(chain)):
            layer = chain[j]
            if type(layer) is Relu:
                if j == k + 1:  # right after the perturbed layer only the moved column can cross 0
                    moved = (stack[copies, :, cols] <= 0) != corners[j][:, cols].T
                else:  # deeper, every unit may
                    below = np.less_equal(z, 0, out=buffer("mask", z.shape, bool))
                    moved = below.reshape(count, n, -1) != corners[j]
                    moved = moved.any(axis=2)
                crossed |= moved.any(axis=1)
                z = np.maximum(z, 0, out=z)
            elif type(layer) is Affine:
                product = buffer(f"z{j % 2}", (len(z), layer.W.shape[1]))
                z = np.add(np.dot(z, layer.W, out=product), layer.b, out=product)
            else:
                z = layer.forward(z)
        y = z.reshape(count, n, -1)
        softmax(y, out=y)
        return [cross_entropy_error(y, t, eps) for eps in epsilons], crossed

    for name, (k, kind) in places.items():
        param = chain[k].W if kind == "W" else chain[k].b
        width = param.shape[-1]
        index = indices[name]
        cols_all = index % width
        rows_all = index // width
        grad = [np.empty(len(index)) for _ in epsilons]
        kinks = np.zeros(len(index), dtype=bool)
        widest = max(a.shape[1] for a in inputs[k + 1 :])
        chunk = max(1, _CHUNK_ELEMENTS // (n * widest))
        for start in range(0, len(index), chunk):
            cols = cols_all[start : start + chunk]
            if kind == "W":
                scale = inputs[k][:, rows_all[start : start + chunk]].T
            else:
                scale = np.ones((len(cols), n))
            pluses, crossed_plus = losses_of(k, cols, h * scale)
            minuses, crossed_minus = losses_of(k, cols, -h * scale)
            for at, (plus, minus) in enumerate(zip(pluses, minuses, strict=True)):
                if decay and kind == "W":
                    w = param.reshape(-1)[index[start : start + chunk]]
                    rest = base_decay - 0.5 * decay * w**2
                    plus = plus + rest + 0.5 * decay * (w + h) ** 2
                    minus = minus + rest + 0.5 * decay * (w - h) ** 2
                elif decay:
                    plus, minus = plus + base_decay, minus + base_decay
                grad[at][start : start + chunk] = (plus - minus) / (2 * h)
            kinks[start : start + chunk] = crossed_plus | crossed_minus
            if progress is not None:
                done[0] += len(cols)
                progress(done[0], total)
        for at, values in enumerate(grad):
            grads[at][name] = values
        if any(type(layer) is Relu for layer in chain[k + 1 :]):
            kinked[name] = kinks
    return [(each, kinked) for each in grads]


def _loop(net, x, t, epsilon, h, indices, progress):
    """The book's numerical_gradient over each parameter of the net, on its own loss."""
    last = net.last_layer
    saved = getattr(last, "epsilon", None)
    if epsilon is not None and saved is not None:
        last.epsilon = epsilon
    total, done = sum(len(i) for i in indices.values()), 0
    grads = {}
    try:
        for name, param in net.params.items():
            grad = np.empty(len(indices[name]))
            for at, i in enumerate(indices[name]):
                where = np.unravel_index(i, np.shape(param))  # in place: the net reads param
                keep = param[where]
                param[where] = keep + h
                plus = net.loss(x, t)
                param[where] = keep - h
                minus = net.loss(x, t)
                grad[at] = (plus - minus) / (2 * h)
                param[where] = keep
                done += 1
                if progress is not None and (done % 64 == 0 or done == total):
                    progress(done, total)
            grads[name] = grad
    finally:
        if epsilon is not None and saved is not None:
            last.epsilon = saved
    return grads


def central_differences(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H
) -> np.ndarray:
    """The book's numerical_gradient(f, x) (common/gradient.py): df/dx by central differences,
    one element at a time, perturbing x in place and putting each element back.

    f is called with x itself, so anything that holds a reference to x (a layer's W) sees the
    perturbation, as the book's TwoLayerNet.numerical_gradient relies on.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat, grad_flat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("central_differences needs an array it can perturb in place")
    for i in range(flat.size):
        kept = flat[i]
        flat[i] = kept + h
        plus = float(f(x))
        flat[i] = kept - h
        minus = float(f(x))
        flat[i] = kept
        grad_flat[i] = (plus - minus) / (2 * h)
    return grad
