"""Chapter 6's diagnostics (bp_tui.nn.stats) at depth 2 and depth 5."""

import numpy as np
import pytest
from deep_nets import LayerChain

from bp_tui.nn import TwoLayerNet, stats

WIDTHS5 = [784, 100, 100, 100, 100, 10]  # the book's MultiLayerNet of chapter 6


def _batch(rows=100, features=784, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((rows, features)), rng.integers(0, 10, rows)


def test_no_norms_before_a_step():
    assert stats.layer_grad_norms(TwoLayerNet(784, 50, 10)) == {}


def test_two_layer_norms_are_those_of_its_gradient():
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(0))
    x, t = _batch()
    grads = net.gradient(x, t)
    norms = stats.layer_grad_norms(net)
    assert list(norms) == ["Affine1", "Affine2"]
    assert norms["Affine1"] == pytest.approx(np.linalg.norm(grads["W1"]), rel=1e-12)
    assert norms["Affine2"] == pytest.approx(np.linalg.norm(grads["W2"]), rel=1e-12)


def test_five_layer_norms_follow_the_layers():
    net = LayerChain(WIDTHS5, "relu", std="xavier")
    x, t = _batch()
    grads = net.gradient(x, t)
    norms = stats.layer_grad_norms(net)
    assert list(norms) == [f"Affine{k}" for k in range(1, 6)]
    for k in range(1, 6):
        assert norms[f"Affine{k}"] == pytest.approx(np.linalg.norm(grads[f"W{k}"]), rel=1e-12)


def test_sigmoid_with_small_weights_vanishes_layer_by_layer():
    """--activation sigmoid --init std (0.01) at depth 5: each layer's ‖dW‖ is far below the
    next one's, the first some five orders of magnitude below the last."""
    net = LayerChain(WIDTHS5, "sigmoid", std=0.01)
    net.gradient(*_batch())
    norms = list(stats.layer_grad_norms(net).values())
    for lower, upper in zip(norms, norms[1:], strict=False):
        assert lower < upper / 5
    assert norms[0] < norms[-1] * 1e-4


def _histograms(std):
    x = np.random.default_rng(1).standard_normal(
        (1000, 100)
    )  # the book's weight_init_activation_histogram.py
    return stats.activation_histograms(LayerChain([100] * 6, "sigmoid", std=std), x)


def _shares(histogram):
    counts, edges = histogram
    return counts / counts.sum(), edges


def test_activation_histograms_name_each_hidden_layer_on_shared_bins():
    histograms = _histograms(1.0)
    assert list(histograms) == [f"Activation_function{k}" for k in range(1, 5)]
    for counts, edges in histograms.values():
        assert len(counts) == stats.ACTIVATION_BINS and counts.sum() == 1000 * 100
        np.testing.assert_array_equal(edges, np.linspace(0, 1, stats.ACTIVATION_BINS + 1))


def test_sigmoid_std_1_piles_at_0_and_1():  # the book's figure 6-10
    for histogram in _histograms(1.0).values():
        share, _ = _shares(histogram)
        assert share[0] + share[-1] > 0.5


def test_sigmoid_std_001_piles_at_one_half():  # figure 6-11
    for histogram in _histograms(0.01).values():
        share, edges = _shares(histogram)
        middle = (edges[:-1] >= 0.4) & (edges[1:] <= 0.6)
        assert share[middle].sum() > 0.99


def test_sigmoid_xavier_spreads():  # figure 6-13
    for histogram in _histograms("xavier").values():
        share, _ = _shares(histogram)
        assert share[0] + share[-1] < 0.05 and share.max() < 0.25


def test_relu_histograms_span_the_values():
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(0), weight_init_std="he")
    x, _ = _batch()
    ((name, (counts, edges)),) = stats.activation_histograms(net, x).items()
    assert name == "Relu1" and edges[0] == 0.0
    assert edges[-1] == pytest.approx(net.layers["Relu1"].forward(x @ net.params["W1"]).max())
    assert counts.sum() == 100 * 50
