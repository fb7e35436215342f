"""The network's trace at any depth: every node of net.layers forward, then back."""

import numpy as np
import pytest

from bp_tui.nn import MultiLayerNet, Sigmoid, TwoLayerNet
from bp_tui.nn.trace import net_trace, network_trace

WIDTHS5 = [100, 100, 100, 100]


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(3)
    return rng.random((20, 784)), rng.integers(0, 10, 20)


def five_layers(activation="sigmoid"):
    return MultiLayerNet(784, WIDTHS5, 10, activation, "xavier", rng=np.random.default_rng(0))


def test_every_layer_forward_then_back_at_depth_5(batch):
    x, t = batch
    net = five_layers()
    tr = net_trace(net, x, t)
    keys = list(net.layers)
    assert [n.name for n in tr.nodes] == [*keys, "SoftmaxWithLoss"]
    assert [s.node for s in tr.steps] == [*keys, "SoftmaxWithLoss", "SoftmaxWithLoss", *keys[::-1]]
    assert tr.title == "5-layer net 784-100-100-100-100-10 (Sigmoid), batch of 20"
    assert tr.nodes[2].inputs == ["z1", "W2", "b2"] and tr.nodes[8].outputs == ["a5"]
    expected = net.gradient(x, t)
    got = tr.param_grads()
    assert list(got) == list(net.param_names)
    for name in net.param_names:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-12, atol=1e-15)
    assert tr.edges["loss"].value == pytest.approx(net.loss(x, t))


def test_the_trace_leaves_the_live_net_alone(batch):
    x, t = batch
    net = five_layers("relu")
    before = {k: v.copy() for k, v in net.params.items()}
    net.gradient(x[:5], t[:5])
    state = net.layers["Affine3"].dW.copy(), net.layers["Activation_function2"].mask.copy()
    net_trace(net, x, t)
    for k, v in before.items():
        np.testing.assert_array_equal(net.params[k], v)
    np.testing.assert_array_equal(net.layers["Affine3"].dW, state[0])
    np.testing.assert_array_equal(net.layers["Activation_function2"].mask, state[1])


def test_a_replaced_layer_is_traced_as_it_is(batch):
    """The book's way to experiment: net.layers['Relu1'] = Sigmoid()."""
    x, t = batch
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(1))
    net.layers["Relu1"] = Sigmoid()
    tr = net_trace(net, x, t)
    assert tr.node("Relu1").op == "Sigmoid"
    for name, grad in net.gradient(x, t).items():
        np.testing.assert_allclose(tr.param_grads()[name], grad, rtol=1e-12, atol=1e-15)


def test_parameters_of_any_depth_make_their_net(batch):
    x, t = batch
    net = five_layers("relu")
    tr = network_trace(net.params, x, t, "relu")
    assert [n.name for n in tr.nodes][:3] == ["Affine1", "Relu1", "Affine2"]
    assert len(tr.nodes) == 10 and list(tr.param_grads()) == list(net.param_names)
    np.testing.assert_allclose(tr.param_grads()["W1"], net.gradient(x, t)["W1"], rtol=1e-12)
