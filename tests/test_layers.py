"""Every layer's backward against a numerical gradient, and the book's printed examples."""

import numpy as np
import pytest

from bp_tui.nn import (
    AddLayer,
    Affine,
    MulLayer,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    cross_entropy_error,
    softmax,
)


def numerical(f, x, h=1e-6):
    """Central differences of a scalar f with respect to every element of x (float64)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + h
        plus = f()
        x[i] = keep - h
        minus = f()
        x[i] = keep
        grad[i] = (plus - minus) / (2 * h)
    return grad


def test_book_apple_example():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    d_apple_price, d_tax = mul_tax.backward(1)
    d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    assert price == pytest.approx(220)
    assert (d_apple, d_apple_num, d_tax) == pytest.approx((2.2, 110, 200))


def test_seed_apple_orange_example():
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    all_price = add.forward(mul_apple.forward(100, 2), mul_orange.forward(150, 3))
    price = mul_tax.forward(all_price, 1.1)
    d_all, d_tax = mul_tax.backward(1)
    d_apple_price, d_orange_price = add.backward(d_all)
    d_orange, d_orange_num = mul_orange.backward(d_orange_price)
    d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    assert price == pytest.approx(715)
    assert (d_apple_num, d_apple, d_orange, d_orange_num, d_tax) == pytest.approx(
        (110, 2.2, 3.3, 165, 650)
    )


@pytest.mark.parametrize("layer_class", [Relu, Sigmoid])
def test_activation_backward_matches_numerical(layer_class):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences off the ReLU corner
    upstream = rng.standard_normal((4, 5))
    layer = layer_class()
    layer.forward(x)
    analytic = layer.backward(upstream)
    expected = numerical(lambda: float(np.sum(layer_class().forward(x) * upstream)), x)
    np.testing.assert_allclose(analytic, expected, rtol=1e-6, atol=1e-8)


def test_relu_backward_leaves_its_input_alone():
    relu = Relu()
    relu.forward(np.array([[-1.0, 2.0]]))
    dout = np.array([[5.0, 6.0]])
    dx = relu.backward(dout)
    np.testing.assert_array_equal(dout, [[5.0, 6.0]])
    np.testing.assert_array_equal(dx, [[0.0, 6.0]])
    np.testing.assert_array_equal(relu.backward(dout), dx)  # a second backward gives the same


def test_affine_backward_matches_numerical_for_nd_input():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 2, 2))  # N-d input is flattened to (3, 8)
    W, b = rng.standard_normal((8, 4)), rng.standard_normal(4)
    upstream = rng.standard_normal((3, 4))

    def f():
        return float(np.sum(Affine(W, b).forward(x) * upstream))

    layer = Affine(W, b)
    layer.forward(x)
    dx = layer.backward(upstream)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, numerical(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.dW, numerical(f, W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.db, numerical(f, b), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_backward_matches_numerical(one_hot):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 10))
    labels = rng.integers(0, 10, 4)
    t = np.eye(10)[labels] if one_hot else labels
    layer = SoftmaxWithLoss(epsilon=0.0)
    layer.forward(x, t)
    analytic = layer.backward(1)
    expected = numerical(lambda: float(SoftmaxWithLoss(epsilon=0.0).forward(x, t)), x)
    np.testing.assert_allclose(analytic, expected, rtol=1e-5, atol=1e-9)


def test_one_hot_and_labels_give_the_same_loss():
    x = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
    loss_labels = SoftmaxWithLoss().forward(x, np.array([1, 0]))
    loss_one_hot = SoftmaxWithLoss().forward(x, np.array([[0, 1, 0], [1, 0, 0]]))
    assert loss_labels == pytest.approx(loss_one_hot)


def test_softmax_is_stable_for_1d_and_2d():
    big = np.array([1000.0, 1001.0, 1002.0])
    one = softmax(big)
    assert np.all(np.isfinite(one)) and one.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(one, softmax(big - 1000))
    two = softmax(np.stack([big, -big]))
    np.testing.assert_allclose(two.sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(two[0], one)


def test_cross_entropy_of_the_book_example():
    # The book's ch. 4 example: y for the right class 0.6 gives -log(0.6 + 1e-7) = 0.5108...
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert cross_entropy_error(y, t) == pytest.approx(0.510825457099338)
