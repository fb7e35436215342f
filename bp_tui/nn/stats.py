"""Chapter 6's diagnostics of a net of any depth: each layer's weight-gradient norm and each
hidden layer's activations, read by looping over ``net.layers`` (numpy only, no state).

The gradient norm is ‖dW‖ of each Affine layer, the gradient its weights are updated with: the
lesson of vanishing gradients is that a layer whose dW is a millionth of the last one's does not
learn. (What a layer passes back, dx, shrinks alike, but the training step never computes the
first layer's dx: nothing reads it.)
"""

from __future__ import annotations

import numpy as np

ACTIVATION_BINS = 30  # the book's figures 6-10 to 6-14: plt.hist(a.flatten(), 30, range=(0, 1))
Histogram = tuple[np.ndarray, np.ndarray]  # (counts, edges), as np.histogram gives them


def layer_grad_norms(net) -> dict[str, float]:
    """Layer name -> Frobenius norm of its weights' last gradient (layer.dW, left by backward),
    for every layer of `net.layers` that has weights, in the net's order; empty before a step."""
    norms = {}
    for name, layer in net.layers.items():
        grad = getattr(layer, "dW", None)
        if grad is not None:
            norms[name] = float(np.linalg.norm(grad))
    return norms


def hidden_activations(net, x: np.ndarray) -> dict[str, np.ndarray]:
    """Layer name -> output of every layer without weights (the activations: Relu1, Sigmoid1,
    Activation_function2...) on the batch x, one forward pass through `net.layers`."""
    outputs = {}
    out = x
    with np.errstate(over="ignore", invalid="ignore"):
        for name, layer in net.layers.items():
            out = layer.forward(out)
            if not hasattr(layer, "W"):
                outputs[name] = out
    return outputs


def activation_histograms(net, x: np.ndarray, bins: int = ACTIVATION_BINS) -> dict[str, Histogram]:
    """Each hidden layer's activation histogram on the batch x, every layer on the same bins so
    that they compare as the book's figures do: 0 to 1 when every value lies there (a sigmoid
    net), else from the lowest to the highest finite value of any layer. Non-finite values
    (a diverged net) are left out."""
    outputs = hidden_activations(net, x)
    finite = {name: a[np.isfinite(a)].astype(np.float64) for name, a in outputs.items()}
    values = [a for a in finite.values() if a.size]
    low = min((float(a.min()) for a in values), default=0.0)
    high = max((float(a.max()) for a in values), default=1.0)
    if low >= 0.0 and high <= 1.0:
        low, high = 0.0, 1.0
    elif high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    return {name: (np.histogram(a, bins=edges)[0], edges.copy()) for name, a in finite.items()}
