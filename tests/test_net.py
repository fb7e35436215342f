"""TwoLayerNet: the book's API, its gradient check and the optimisers."""

import numpy as np
import pytest

from bp_tui.nn import SGD, AdaGrad, Adam, Momentum, Relu, TwoLayerNet, gradient_check
from bp_tui.nn.gradcheck import THRESHOLDS


def digits_like(n=3, seed=0):
    """Sparse inputs in [0, 1] like MNIST pixels, and labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784)) * (rng.random((n, 784)) < 0.2)
    return x, rng.integers(0, 10, n)


def book_numerical_gradient(f, x, h=1e-4):
    """The book's loop, one element per iteration, as common/gradient.py has it."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        keep = x[i]
        x[i] = keep + h
        plus = f(x)
        x[i] = keep - h
        minus = f(x)
        grad[i] = (plus - minus) / (2 * h)
        x[i] = keep
        it.iternext()
    return grad


def test_book_api():
    np.random.seed(0)
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.05)
    x, t = digits_like(5)
    assert net.predict(x).shape == (5, 10)
    assert net.loss(x, t) == pytest.approx(np.log(10), rel=0.01)
    assert net.accuracy(x, t) == net.accuracy(x, np.eye(10)[t])
    grads = net.gradient(x, t)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in net.params.items()}


def test_vectorised_numerical_gradient_equals_the_book_loop():
    net = TwoLayerNet(784, 6, 10, rng=np.random.default_rng(4), activation="sigmoid")
    x, t = digits_like(3)
    fast = net.numerical_gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        slow = book_numerical_gradient(lambda _: net.loss(x, t), net.params[key])
        np.testing.assert_allclose(fast[key], slow, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_gradient_check_passes_in_both_modes(activation):
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(0), activation=activation)
    x, t = digits_like(3)
    for exact in (False, True):
        report = gradient_check(net.params, x, t, activation=activation, exact=exact)
        assert report.passed, report.to_dict()
        assert report.threshold == THRESHOLDS["exact" if exact else "book"]


def test_exact_mode_reaches_the_books_orders_of_magnitude():
    # The book prints W1 2.2e-13, b1 9.7e-13, W2 8.4e-13, b2 1.2e-10 (mean |diff|).
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(0))
    x, t = digits_like(3)
    exact = gradient_check(net.params, x, t, exact=True).params
    book = gradient_check(net.params, x, t, exact=False).params
    for key, ceiling in {"W1": 1e-12, "b1": 1e-11, "W2": 1e-11, "b2": 1e-9}.items():
        assert exact[key].mean_abs_diff < ceiling
        # the 1e-7 in the log makes book mode clearly worse
        assert book[key].mean_abs_diff > 10 * exact[key].mean_abs_diff


def test_gradient_check_catches_a_wrong_backward(monkeypatch):
    from bp_tui.nn import layers

    net = TwoLayerNet(784, 20, 10, rng=np.random.default_rng(0))
    x, t = digits_like(3)
    monkeypatch.setattr(layers.Sigmoid, "backward", lambda self, dout: dout * self.out)
    report = gradient_check(net.params, x, t, activation="sigmoid", exact=True)
    assert not report.passed


@pytest.mark.parametrize(
    "optimizer", [SGD(0.5), Momentum(0.1), AdaGrad(0.1), Adam(0.01)], ids=lambda o: type(o).__name__
)
def test_optimizers_lower_the_loss(optimizer):
    net = TwoLayerNet(784, 20, 10, rng=np.random.default_rng(0))
    x, t = digits_like(20)
    before = net.loss(x, t)
    for _ in range(100):
        optimizer.update(net.params, net.gradient(x, t))
    assert net.loss(x, t) < before * 0.8


def test_params_update_in_place_so_layers_see_them():
    net = TwoLayerNet(784, 10, 10, rng=np.random.default_rng(0))
    x, t = digits_like(4)
    SGD(0.5).update(net.params, net.gradient(x, t))
    assert net.layers["Affine1"].W is net.params["W1"]


def test_relu_corner_is_named_and_left_out_of_the_verdict():
    net = TwoLayerNet(784, 20, 10, rng=np.random.default_rng(0))
    x, t = digits_like(3)
    a1 = x @ net.params["W1"] + net.params["b1"]
    net.params["b1"][5] -= a1[0, 5] - 2e-5  # unit 5 of sample 0 sits 2e-5 from the corner
    report = gradient_check(net.params, x, t, exact=True)
    assert report.params["b1"].kinked >= 1 and report.params["W1"].kinked >= 1
    assert report.passed
    assert "corner" in report.explanation
    worst = np.abs(report.backprop["b1"] - report.numerical["b1"]).argmax()
    assert worst == 5  # the kinked element is where the difference really is


def test_nn_modules_import_each_other_without_cycles():
    import ast
    import pathlib

    import bp_tui.nn

    folder = pathlib.Path(bp_tui.nn.__file__).parent
    imports = {}
    for path in folder.glob("*.py"):
        if path.stem == "__init__":
            continue
        tree = ast.parse(path.read_text())
        imports[path.stem] = {
            node.module.rsplit(".", 1)[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bp_tui.nn.")
        }

    def reaches(start, goal, seen=()):
        return any(
            m == goal or (m not in seen and reaches(m, goal, (*seen, m))) for m in imports[start]
        )

    assert not [m for m in imports if reaches(m, m)]
    assert "gradcheck" not in imports["net"]


def test_numerical_gradient_leaves_the_params_alone_either_way():
    from bp_tui.nn.numerical import numerical_check

    class OwnRelu(Relu):  # a learner's layer: the book's loop, on the net's own loss
        pass

    net = TwoLayerNet(784, 8, 10, rng=np.random.default_rng(5))
    x, t = digits_like(3)
    before = {k: v.copy() for k, v in net.params.items()}
    stacked = numerical_check(net, x, t)
    net.layers["Relu1"] = OwnRelu()
    loop = numerical_check(net, x, t, elements={"W1": np.arange(0, 6272, 97)})
    assert (stacked.method, loop.method) == ("stacked", "loop")
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, before[key])
    np.testing.assert_allclose(
        loop.grads["W1"], stacked.grads["W1"].reshape(-1)[::97], rtol=1e-6, atol=1e-10
    )
    for key in ("b1", "W2", "b2"):
        np.testing.assert_allclose(loop.grads[key], stacked.grads[key], rtol=1e-6, atol=1e-10)


def test_both_losses_from_one_pass_are_each_rounds_own_bit_for_bit():
    from bp_tui.nn.functions import LOG_EPSILON
    from bp_tui.nn.numerical import numerical_check, numerical_checks

    net = TwoLayerNet(784, 8, 10, rng=np.random.default_rng(6))
    net.weight_decay_lambda = 0.1  # the decay terms are added per epsilon too
    x, t = digits_like(3, seed=1)
    elements = {"W1": np.arange(0, 6272, 13)}
    together = numerical_checks(net, x, t, (0.0, LOG_EPSILON), elements=elements)
    for eps, one in zip((0.0, LOG_EPSILON), together, strict=True):
        alone = numerical_check(net, x, t, epsilon=eps, elements=elements)
        assert one.method == alone.method == "stacked"
        for key, grad in alone.grads.items():
            np.testing.assert_array_equal(one.grads[key], grad)
            np.testing.assert_array_equal(one.kinked.get(key), alone.kinked.get(key))


def test_book_mode_perturbs_the_net_no_more_often_than_exact_mode(monkeypatch):
    """Both losses (with and without the 1e-7) are scored on one set of perturbed passes."""
    import bp_tui.nn.numerical as numerical

    passes = []
    real = numerical.softmax
    monkeypatch.setattr(numerical, "softmax", lambda z, **kw: passes.append(1) or real(z, **kw))
    net = TwoLayerNet(784, 8, 10, rng=np.random.default_rng(7))
    x, t = digits_like(3, seed=2)
    counted = {}
    for exact in (True, False):
        passes.clear()
        gradient_check(net.params, x, t, exact=exact)
        counted[exact] = len(passes)
    assert counted[True] > 0 and counted[False] == counted[True]


def test_softmax_of_many_short_rows_and_in_place_is_the_plain_ones_bit_for_bit():
    from bp_tui.nn.functions import softmax

    rng = np.random.default_rng(8)
    scores = rng.normal(0, 30, (700, 3, 10))  # many short rows: the transposed max
    scores[5, 1, 4] = np.nan
    scores[9, 0] = -np.inf
    with np.errstate(invalid="ignore"):
        plain = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
        plain /= np.sum(plain, axis=-1, keepdims=True)
        into = scores.copy()
        softmax(into, out=into)
        np.testing.assert_array_equal(softmax(scores), plain)
    np.testing.assert_array_equal(into, plain)
