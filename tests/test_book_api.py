"""The book's API behaves as the book's code does: every expected value is the book's formula,
computed here from the same inputs (ch. 5's layers, dataset/mnist.py's load_mnist)."""

import numpy as np

from bp_tui.data import load_mnist
from bp_tui.engine import HyperParams, Trainer
from bp_tui.nn import Affine, SoftmaxWithLoss, TwoLayerNet
from tests.helpers import tiny_data


def book_softmax(x):
    """common/functions.py's softmax for a batch."""
    x = x.T
    x = x - np.max(x, axis=0)
    y = np.exp(x) / np.sum(np.exp(x), axis=0)
    return y.T


def test_two_layer_net_affine1_backward_returns_dx():
    rng = np.random.default_rng(0)
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=rng)
    x = rng.random((4, 784))
    net.predict(x)
    dout = rng.standard_normal((4, 50))
    dx = net.layers["Affine1"].backward(dout)
    np.testing.assert_allclose(dx, np.dot(dout, net.params["W1"].T), rtol=1e-12)
    np.testing.assert_allclose(net.layers["Affine1"].dW, np.dot(x.T, dout), rtol=1e-12)


def test_the_book_gradient_loop_reaches_the_input():
    # The book's gradient(): lastLayer.backward, then every layer in reverse, dout passed on.
    rng = np.random.default_rng(1)
    net = TwoLayerNet(784, 20, 10, rng=rng)
    x, t = rng.random((3, 1, 28, 28)), np.eye(10)[[3, 1, 4]]
    net.loss(x, t)
    dout = net.lastLayer.backward(1)
    for layer in reversed(list(net.layers.values())):
        dout = layer.backward(dout)
    relu_mask = x.reshape(3, -1) @ net.params["W1"] + net.params["b1"] > 0
    y = book_softmax(net.predict(x))
    d_hidden = ((y - t) / 3) @ net.params["W2"].T * relu_mask
    assert dout.shape == x.shape
    np.testing.assert_allclose(dout.reshape(3, -1), d_hidden @ net.params["W1"].T, rtol=1e-10)


def test_only_the_engine_trainer_skips_the_input_gradient():
    rng = np.random.default_rng(2)
    W, b = rng.standard_normal((6, 3)), np.zeros(3)
    layer = Affine(W, b)
    layer.forward(rng.random((2, 6)))
    dout = rng.standard_normal((2, 3))
    np.testing.assert_allclose(layer.backward(dout), np.dot(dout, W.T), rtol=1e-12)
    # The engine's training step never reads Affine1's dx, so its net does not compute it.
    trainer = Trainer(HyperParams(hidden=5), tiny_data(20, 10))
    first = trainer.net.layers["Affine1"]
    first.forward(trainer.x_train[:2])
    assert first.backward(np.ones((2, 5), dtype=np.float32)) is None
    assert first.dW.shape == (784, 5)


def test_load_mnist_one_hot_labels_are_float64_as_in_the_book():
    (_, labels), (_, test_labels) = load_mnist(dataset="sample")
    (_, t_train), (_, t_test) = load_mnist(dataset="sample", one_hot_label=True)
    for t, digits in ((t_train, labels), (t_test, test_labels)):
        # dataset/mnist.py's _change_one_hot_label
        book = np.zeros((digits.size, 10))
        for idx, row in enumerate(book):
            row[digits[idx]] = 1
        assert t.dtype == book.dtype == np.float64
        np.testing.assert_array_equal(t, book)


def test_softmax_with_loss_soft_targets_give_y_minus_t_over_batch_size():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 10))
    t = rng.random((5, 10))
    t /= t.sum(axis=1, keepdims=True)  # each row a distribution, none of them one-hot
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward()
    np.testing.assert_allclose(dx, (book_softmax(x) - t) / 5, rtol=1e-12, atol=1e-15)


def test_softmax_with_loss_one_hot_rows_agree_with_labels():
    rng = np.random.default_rng(4)
    x, labels = rng.standard_normal((6, 10)), rng.integers(0, 10, 6)
    one_hot, plain = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert one_hot.forward(x, np.eye(10)[labels]) == plain.forward(x, labels)
    expected = (book_softmax(x) - np.eye(10)[labels]) / 6
    np.testing.assert_allclose(one_hot.backward(), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(plain.backward(), expected, rtol=1e-12, atol=1e-15)
