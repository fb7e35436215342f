"""The computational-graph trace: the book's apple graphs and the network on a real mini-batch."""

import numpy as np
import pytest

from bp_tui.data.datasets import load_dataset
from bp_tui.errors import ConfigError
from bp_tui.nn.net import PARAM_NAMES, TwoLayerNet
from bp_tui.nn.trace import (
    apple_orange_trace,
    apple_trace,
    excerpt_origin,
    fmt,
    largest_column,
    network_trace,
    parse_input_value,
    tensor_stats,
    with_input,
)

approx = pytest.approx


@pytest.fixture(scope="module")
def batch():
    """The first 100 training images of the shipped MNIST sample."""
    ds = load_dataset("sample")
    return ds.x_train[:100], ds.t_train[:100]


def values(trace):
    return {name: e.value for name, e in trace.edges.items()}


def grads(trace):
    return {name: e.grad for name, e in trace.edges.items()}


def test_apple_values_gradients_and_rules():
    tr = apple_trace()
    assert [n.name for n in tr.nodes] == ["mul_apple", "mul_tax"]
    assert values(tr) == approx(
        {"apple": 100, "apple_num": 2, "apple_price": 200, "tax": 1.1, "price": 220}
    )
    assert grads(tr) == approx(
        {"apple": 2.2, "apple_num": 110, "apple_price": 1.1, "tax": 200, "price": 1}
    )
    assert [(s.phase, s.node) for s in tr.steps] == [
        ("forward", "mul_apple"),
        ("forward", "mul_tax"),
        ("backward", "mul_tax"),
        ("backward", "mul_apple"),
    ]
    back = tr.steps[3]
    assert back.grad_in == approx({"apple_price": 1.1})
    assert back.grads_out == approx({"apple": 2.2, "apple_num": 110})
    assert back.rule.splitlines() == [
        "d apple = dout * apple_num = 1.1 * 2 = 2.2",
        "d apple_num = dout * apple = 1.1 * 100 = 110",
    ]
    assert tr.steps[1].rule == "price = apple_price * tax = 200 * 1.1 = 220"
    assert tr.edges["apple"].source is None and tr.edges["apple"].target == "mul_apple"
    assert tr.edges["price"].target is None and tr.edges["price"].kind == "output"


def test_apple_orange_values_and_gradients():
    tr = apple_orange_trace()
    assert values(tr) == approx(
        {
            "apple": 100,
            "apple_num": 2,
            "orange": 150,
            "orange_num": 3,
            "apple_price": 200,
            "orange_price": 450,
            "all_price": 650,
            "tax": 1.1,
            "price": 715,
        }
    )
    assert grads(tr) == approx(
        {
            "apple": 2.2,
            "apple_num": 110,
            "orange": 3.3,
            "orange_num": 165,
            "apple_price": 1.1,
            "orange_price": 1.1,
            "all_price": 1.1,
            "tax": 650,
            "price": 1,
        }
    )
    add = next(s for s in tr.steps if s.phase == "backward" and s.node == "add_apple_orange")
    assert add.rule.splitlines() == [
        "d apple_price = dout * 1 = 1.1",
        "d orange_price = dout * 1 = 1.1",
    ]
    assert apple_orange_trace(tax=1.0, orange_num=0).edges["price"].value == approx(200)


def test_state_at_replays_forward_then_backward():
    tr = apple_orange_trace()
    assert len(tr.steps) == 8 and tr.n_forward == 4
    before = tr.state_at(-1)
    assert set(before) == set(tr.edges)
    assert all(v is None and g is None for v, g in before.values())

    mid = tr.state_at(1)  # mul_apple and mul_orange done
    assert mid["apple_price"][0] == approx(200) and mid["orange_price"][0] == approx(450)
    assert mid["all_price"] == (None, None) and mid["price"] == (None, None)
    assert mid["tax"] == (None, None)  # not read yet
    assert all(g is None for _, g in mid.values())

    fwd = tr.state_at(3)
    assert all(v is not None for v, _ in fwd.values())
    assert all(g is None for _, g in fwd.values())
    assert fwd["price"][0] == approx(715)

    first_back = tr.state_at(4)  # mul_tax backward: the seed and its two gradients
    assert first_back["price"][1] == 1
    assert first_back["tax"][1] == approx(650) and first_back["all_price"][1] == approx(1.1)
    assert first_back["apple"][1] is None

    end = tr.state_at(7)
    assert {k: g for k, (_, g) in end.items()} == approx(grads(tr))
    assert {k: v for k, (v, _) in end.items()} == approx(values(tr))
    for k in (-2, 8):
        with pytest.raises(IndexError):
            tr.state_at(k)


def test_fmt_hides_float_noise():
    assert fmt(110.00000000000001) == "110"
    assert fmt(2.2000000000000002) == "2.2"
    assert fmt(np.zeros((3, 4))) == "(3, 4)"


def make_net(activation, seed=0):
    return TwoLayerNet(784, 50, 10, rng=np.random.default_rng(seed), activation=activation)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_network_gradients_equal_two_layer_net(batch, activation):
    x, t = batch
    net = make_net(activation)
    before = {k: v.copy() for k, v in net.params.items()}
    tr = network_trace(net.params, x, t, activation=activation)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(net.params[k], before[k])  # caller's params untouched
    loss, expected = net.loss_and_gradient(x, t)
    got = tr.param_grads()
    assert list(got) == list(PARAM_NAMES)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-15)
    assert tr.edges["loss"].value == approx(loss)
    act = "Relu1" if activation == "relu" else "Sigmoid1"
    assert [n.name for n in tr.nodes] == ["Affine1", act, "Affine2", "SoftmaxWithLoss"]
    assert tr.edges["t"].grad is None and not tr.edges["t"].differentiable
    assert tr.edges["x"].grad.shape == x.shape


def test_network_rules_show_shapes(batch):
    x, t = batch
    tr = network_trace(make_net("relu").params, x, t)
    fwd = {s.node: s.rule for s in tr.steps if s.phase == "forward"}
    back = {s.node: s.rule for s in tr.steps if s.phase == "backward"}
    assert fwd["Affine1"] == "a1 = x . W1 + b1: (100, 784) . (784, 50) + (50,) -> (100, 50)"
    assert "d W1 = x^T . dout: (784, 100) . (100, 50) -> (784, 50)" in back["Affine1"]
    assert "d b1 = sum(dout, axis=0) -> (50,)" in back["Affine1"]
    assert "d z1 = dout . W2^T: (100, 10) . (10, 50) -> (100, 50)" in back["Affine2"]
    blocked = int(np.count_nonzero(tr.edges["a1"].value <= 0))
    assert f"({blocked} of 5000 units blocked)" in back["Relu1"]
    assert back["SoftmaxWithLoss"] == "d a2 = dout * (y - t) / N = 1 * (y - t) / 100 -> (100, 10)"


def test_relu_backward_leaves_incoming_gradient_alone(batch):
    x, t = batch
    net = make_net("relu")
    tr = network_trace(net.params, x, t)
    dz1, da1 = tr.edges["z1"].grad, tr.edges["a1"].grad
    np.testing.assert_allclose(dz1, tr.edges["a2"].grad @ net.params["W2"].T)
    blocked = tr.edges["a1"].value <= 0
    assert np.any(dz1[blocked] != 0)  # still there where ReLU blocked it
    assert np.all(da1[blocked] == 0)
    np.testing.assert_array_equal(da1[~blocked], dz1[~blocked])
    relu_step = next(s for s in tr.steps if s.phase == "backward" and s.node == "Relu1")
    assert relu_step.grad_in["z1"] is dz1
    assert not dz1.flags.writeable  # the record is read-only


def test_grad_norms_and_tensor_stats(batch):
    x, t = batch
    tr = network_trace(make_net("sigmoid").params, x[:10], t[:10], activation="sigmoid")
    norms = tr.grad_norms()
    assert list(norms) == ["SoftmaxWithLoss", "Affine2", "Sigmoid1", "Affine1"]
    assert set(norms["Affine1"]) == {"x", "W1", "b1"} and set(norms["Sigmoid1"]) == {"a1"}
    assert norms["Affine2"]["W2"] == approx(np.linalg.norm(tr.edges["W2"].grad))
    assert "local slope mean" in next(
        s.rule for s in tr.steps if s.node == "Sigmoid1" and s.phase == "backward"
    )

    a = np.arange(60.0).reshape(6, 10)
    st = tensor_stats(a)
    assert st["shape"] == (6, 10) and st["min"] == 0 and st["max"] == 59
    assert st["mean"] == approx(29.5) and st["std"] == approx(a.std())
    # The window around the largest |value| (59, bottom right), as far as the edges allow.
    np.testing.assert_array_equal(st["sample"], a[3:, 6:])
    assert (st["rows"], st["cols"]) == (3, 6)
    np.testing.assert_array_equal(tensor_stats(np.arange(10))["sample"], [6, 7, 8, 9])
    assert tensor_stats(2.5)["mean"] == 2.5


def test_excerpts_show_values_not_a_corner_of_zeros():
    """MNIST's border pixels are 0: x's and dW1's top-left corners are zeros. The excerpt is
    the window around the largest |value|, centred on it where the edges allow."""
    d_w1 = np.zeros((784, 50))
    d_w1[400, 20], d_w1[401, 21] = -0.004, 0.003
    assert excerpt_origin(d_w1) == (399, 19)  # rows 399-401, columns 19-22
    st = tensor_stats(d_w1)
    assert st["sample"][1, 1] == -0.004 and (st["rows"], st["cols"]) == (399, 19)
    corner = np.zeros((5, 6))
    corner[0, 5] = 1.0
    assert excerpt_origin(corner) == (0, 2)  # clamped to the edges
    assert excerpt_origin(np.zeros((5, 6))) == (0, 0)  # nothing stands out: the corner
    assert excerpt_origin(np.array([[1.0, np.nan, 0.0]]), rows=1, cols=1) == (0, 1)
    assert excerpt_origin(np.array([0.0, 0, 0, 0, 0, 5]), rows=1, cols=4) == (0, 2)


def test_largest_column_is_the_unit_this_batch_moves_most():
    d_w1 = np.zeros((784, 50))
    d_w1[:, 7] = 0.001
    d_w1[3, 9] = 0.01  # one large element, a smaller norm than column 7's 784 small ones
    assert largest_column(d_w1) == 7
    assert largest_column(np.zeros((4, 3))) == 0


def test_network_trace_refuses_bad_arguments(batch):
    x, t = batch
    params = make_net("relu").params
    with pytest.raises(ConfigError, match="unknown activation"):
        network_trace(params, x, t, activation="tanh")
    with pytest.raises(ConfigError, match="W1 expects"):
        network_trace(params, x[:, :100], t)
    with pytest.raises(ConfigError, match="rows"):
        network_trace(params, x, t[:5])


def test_parse_input_value_and_with_input():
    assert parse_input_value("apple", " 120 ") == 120.0
    assert parse_input_value("tax", "1.08") == 1.08
    assert parse_input_value("orange_num", "0") == 0.0
    refusals = {
        ("apple", "abc"): "is not a number",
        ("apple", ""): "enter a number",
        ("tax", "inf"): "not a finite number",
        ("tax", "nan"): "not a finite number",
        ("apple_num", "-1"): "count cannot be negative",
        ("orange", "-5"): "price cannot be negative",
        ("tax", "-0.1"): "cannot be negative",
        ("apple_num", "2.5"): "whole number",
        ("apple", "1e12"): "too large",
        ("banana", "1"): "unknown input",
    }
    for (name, text), message in refusals.items():
        with pytest.raises(ConfigError, match=message) as err:
            parse_input_value(name, text)
        assert "\n" not in str(err.value)

    kwargs = with_input({"apple": 100.0, "apple_num": 2.0, "tax": 1.1}, "apple_num", "3")
    assert kwargs == {"apple": 100.0, "apple_num": 3.0, "tax": 1.1}
    assert apple_trace(**kwargs).edges["price"].value == approx(330)
