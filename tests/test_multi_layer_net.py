"""The book's ch06 MultiLayerNet and smooth_curve, and its two ch06 experiments reproduced.

Every expected value is the book's formula computed here from the same inputs (the book's
common/multi_layer_net.py, layers.py, optimizer.py and util.py, written out as plain numpy), with
np.random seeded alike: float64 results agree to 1e-12.
"""

import numpy as np
import pytest

from bp_tui.nn import (
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    MultiLayerNet,
    NetSpec,
    Relu,
    Sigmoid,
    TwoLayerNet,
    gradient_check,
    smooth_curve,
)
from bp_tui.nn.numerical import method_for, numerical_check

# ---- the book's formulas ------------------------------------------------------------------------


def book_init(sizes, weight_init_std):
    """MultiLayerNet.__init_weight: W_i = scale * randn(fan_in, fan_out), b_i = 0."""
    params = {}
    for i in range(1, len(sizes)):
        scale = weight_init_std
        if str(weight_init_std).lower() in ("relu", "he"):
            scale = np.sqrt(2.0 / sizes[i - 1])
        elif str(weight_init_std).lower() in ("sigmoid", "xavier"):
            scale = np.sqrt(1.0 / sizes[i - 1])
        params[f"W{i}"] = scale * np.random.randn(sizes[i - 1], sizes[i])
        params[f"b{i}"] = np.zeros(sizes[i])
    return params


def book_loss_and_gradient(params, x, t, activation="relu", decay=0.0):
    """MultiLayerNet.loss and .gradient: Affine/activation layers, SoftmaxWithLoss, L2 decay."""
    depth = len(params) // 2
    inputs, masks, outs = [], [], []
    z = x
    for i in range(1, depth + 1):
        inputs.append(z)
        a = np.dot(z, params[f"W{i}"]) + params[f"b{i}"]
        if i == depth:
            z = a
        elif activation == "relu":
            masks.append(a <= 0)
            z = a.copy()
            z[masks[-1]] = 0
        else:
            z = 1 / (1 + np.exp(-a))
            outs.append(z)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    y = np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True)
    n = y.shape[0]
    loss = -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n
    weight_decay = 0
    for i in range(1, depth + 1):
        weight_decay += 0.5 * decay * np.sum(params[f"W{i}"] ** 2)
    dout = y.copy()
    dout[np.arange(n), t] -= 1
    dout = dout / n
    grads = {}
    for i in range(depth, 0, -1):
        grads[f"W{i}"] = np.dot(inputs[i - 1].T, dout) + decay * params[f"W{i}"]
        grads[f"b{i}"] = np.sum(dout, axis=0)
        dout = np.dot(dout, params[f"W{i}"].T)
        if i > 1 and activation == "relu":
            dout[masks[i - 2]] = 0
        elif i > 1:
            dout = dout * (1.0 - outs[i - 2]) * outs[i - 2]
    return loss + weight_decay, grads


class BookOptimizer:
    """common/optimizer.py's SGD, Momentum, AdaGrad and Adam, with their default settings."""

    def __init__(self, kind, lr=None):
        self.kind = kind
        self.lr = lr if lr is not None else (0.001 if kind == "Adam" else 0.01)
        self.state, self.iter = None, 0

    def update(self, params, grads):
        if self.state is None:
            self.state = {k: np.zeros_like(v) for k, v in params.items()}
            self.second = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - 0.999**self.iter) / (1.0 - 0.9**self.iter)
        for key in params:
            g, s = grads[key], self.state
            if self.kind == "SGD":
                params[key] -= self.lr * g
            elif self.kind == "Momentum":
                s[key] = 0.9 * s[key] - self.lr * g
                params[key] += s[key]
            elif self.kind == "AdaGrad":
                s[key] += g * g
                params[key] -= self.lr * g / (np.sqrt(s[key]) + 1e-7)
            else:
                s[key] += (1 - 0.9) * (g - s[key])
                self.second[key] += (1 - 0.999) * (g**2 - self.second[key])
                params[key] -= lr_t * s[key] / (np.sqrt(self.second[key]) + 1e-7)


def book_smooth_curve(x):
    """common/util.py's smooth_curve."""
    s = np.r_[x[10:0:-1], x, x[-1:-11:-1]]
    w = np.kaiser(11, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5 : len(y) - 5]


def images(n=512, seed=0):
    """MNIST-like float32 rows in [0, 1] (sparse ink), and labels."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 784)) * (rng.random((n, 784)) < 0.2)).astype(np.float32)
    return x, rng.integers(0, 10, n)


BOOK_NET = dict(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)


# ---- the net ------------------------------------------------------------------------------------


def test_multi_layer_net_has_the_books_layers_and_params():
    np.random.seed(0)
    net = MultiLayerNet(**BOOK_NET)
    assert list(net.layers) == [
        "Affine1",
        "Activation_function1",
        "Affine2",
        "Activation_function2",
        "Affine3",
        "Activation_function3",
        "Affine4",
        "Activation_function4",
        "Affine5",
    ]
    assert list(net.params) == [f"{p}{i}" for i in range(1, 6) for p in "Wb"]
    assert net.hidden_layer_num == 4 and net.hidden_size_list == [100, 100, 100, 100]
    assert type(net.last_layer).__name__ == "SoftmaxWithLoss"
    assert net.shape == (784, 100, 100, 100, 100, 10)
    for key, layer in net.layers.items():
        if key.startswith("Affine"):
            assert layer.W is net.params[f"W{key[6:]}"]
    two = TwoLayerNet(784, 50, 10)
    assert list(two.layers) == ["Affine1", "Relu1", "Affine2"] and two.lastLayer is two.last_layer


@pytest.mark.parametrize("init", ["relu", "he", "sigmoid", "xavier", 0.01])
def test_initial_weights_are_the_books_draws(init):
    np.random.seed(3)
    net = MultiLayerNet(784, [30, 20], 10, weight_init_std=init)
    np.random.seed(3)
    book = book_init([784, 30, 20, 10], init)
    for key, value in book.items():
        np.testing.assert_array_equal(net.params[key], value)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("decay", [0, 0.1])
def test_loss_and_gradient_are_the_books_with_weight_decay(activation, decay):
    np.random.seed(1)
    net = MultiLayerNet(784, [40, 30, 20], 10, activation=activation, weight_decay_lambda=decay)
    x, t = images(16)
    book_loss, book_grads = book_loss_and_gradient(net.params, x, t, activation, decay)
    assert net.loss(x, t) == pytest.approx(book_loss, rel=1e-12)
    grads = net.gradient(x, t)
    assert list(grads) == list(net.params)
    for key, value in book_grads.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-12, atol=1e-15)
    if decay:  # the L2 term is really there
        assert net.loss(x, t) > net.last_layer.loss
        assert not np.allclose(grads["W1"], net.layers["Affine1"].dW)


def test_accuracy_takes_labels_or_one_hot():
    np.random.seed(2)
    net = MultiLayerNet(784, [20, 20], 10)
    x, t = images(50)
    labels = np.argmax(net.predict(x), axis=1)
    assert net.accuracy(x, t) == np.sum(labels == t) / 50.0 == net.accuracy(x, np.eye(10)[t])


def test_smooth_curve_is_the_books():
    rng = np.random.default_rng(0)
    for n in (11, 12, 100, 2000):
        losses = list(2.3 * np.exp(-np.arange(n) / 300) + rng.random(n) * 0.1)
        smoothed = smooth_curve(losses)
        assert smoothed.shape == (n,)
        np.testing.assert_allclose(smoothed, book_smooth_curve(np.array(losses)), rtol=1e-15)


# ---- the book's ch06 experiments ----------------------------------------------------------------


# Ten iterations carry every part of the loop (the batch draw, each optimiser's state growing,
# the loss); scripts/book_ch06.py runs the book's full 2,000 against the book's own scripts.
ITERATIONS = 10


def run_experiment(nets, optimizers, iterations, x, t, seed):
    """The loop of ch06/optimizer_compare_mnist.py and weight_init_compare.py: each iteration
    one batch of 128 drawn with np.random.choice, each net a gradient, an update and a loss."""
    losses = {key: [] for key in nets}
    np.random.seed(seed)
    made = {key: make() for key, make in nets.items()}
    for _ in range(iterations):
        batch_mask = np.random.choice(len(x), 128)
        x_batch, t_batch = x[batch_mask], t[batch_mask]
        for key, net in made.items():
            update, loss = optimizers[key]
            update(net, x_batch, t_batch)
            losses[key].append(loss(net, x_batch, t_batch))
    return losses, made


def ours(make_optimizer):
    optimizer = make_optimizer()

    def update(net, x, t):
        optimizer.update(net.params, net.gradient(x, t))

    return update, lambda net, x, t: net.loss(x, t)


def books(kind, lr=None):
    optimizer = BookOptimizer(kind, lr)

    def update(params, x, t):
        optimizer.update(params, book_loss_and_gradient(params, x, t)[1])

    return update, lambda params, x, t: book_loss_and_gradient(params, x, t)[0]


def test_optimizer_compare_mnist_reproduced():
    x, t = images()
    kinds = {"SGD": SGD, "Momentum": Momentum, "AdaGrad": AdaGrad, "Adam": Adam}
    nets = {key: lambda: MultiLayerNet(**BOOK_NET) for key in kinds}
    mine, made = run_experiment(
        nets, {k: ours(lambda c=c: c()) for k, c in kinds.items()}, ITERATIONS, x, t, seed=7
    )
    book_nets = {key: lambda: book_init([784, 100, 100, 100, 100, 10], "relu") for key in kinds}
    book, book_made = run_experiment(
        book_nets, {k: books(k) for k in kinds}, ITERATIONS, x, t, seed=7
    )
    for key in kinds:
        np.testing.assert_allclose(mine[key], book[key], rtol=1e-12)
        for name, value in book_made[key].items():
            np.testing.assert_allclose(made[key].params[name], value, rtol=1e-12, atol=1e-15)
    assert len({round(v[-1], 6) for v in mine.values()}) == 4  # four different runs


def test_weight_init_compare_reproduced():
    x, t = images()
    inits = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}
    nets = {k: lambda w=w: MultiLayerNet(**BOOK_NET, weight_init_std=w) for k, w in inits.items()}
    shared = SGD(lr=0.01)  # the book's one optimizer for the three nets
    mine, _ = run_experiment(
        nets, {k: ours(lambda: shared) for k in inits}, ITERATIONS, x, t, seed=8
    )
    book_nets = {
        k: lambda w=w: book_init([784, 100, 100, 100, 100, 10], w) for k, w in inits.items()
    }
    book, _ = run_experiment(book_nets, {k: books("SGD") for k in inits}, ITERATIONS, x, t, seed=8)
    for key in inits:
        np.testing.assert_allclose(mine[key], book[key], rtol=1e-12)
    # std 0.01 at depth 5: the signal vanishes and the loss sits at ln 10
    assert abs(mine["std=0.01"][-1] - np.log(10)) < 0.01


# ---- the numerical gradient of the net as it is ------------------------------------------------


def test_a_replaced_layer_is_checked_as_it_is():
    """The book's experiment: put a Sigmoid in place of Relu1. The numerical gradient is of
    the net's own loss, so it still matches backprop."""
    np.random.seed(4)
    net = TwoLayerNet(784, 20, 10)
    net.layers["Relu1"] = Sigmoid()
    x, t = images(3)
    backprop, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    for key in net.params:
        np.testing.assert_allclose(numerical[key], backprop[key], rtol=1e-4, atol=1e-7)
    report = gradient_check(net, x, t, exact=True)
    assert report.passed and report.method == "stacked"


def test_a_learners_layer_is_checked_by_the_books_loop():
    class LearnersSigmoid:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * self.out  # wrong: the (1 - out) factor is missing

    np.random.seed(5)
    net = TwoLayerNet(784, 6, 10)
    net.layers["Relu1"] = LearnersSigmoid()
    x, t = images(2)
    assert method_for(net) == "loop"
    report = gradient_check(net, x, t, exact=True, sample=300)
    assert report.method == "loop" and "loop" in report.method_text
    assert not report.params["W1"].passed and report.params["W2"].passed


class OwnRelu(Relu):
    """A learner's ReLU (the same forward and backward): no layer of bp-tui's own."""


def test_stacked_and_loop_agree_with_weight_decay_at_depth():
    np.random.seed(6)
    net = MultiLayerNet(784, [12, 8, 6], 10, weight_decay_lambda=0.3)
    x, t = images(3)
    stacked = numerical_check(net, x, t, elements={"W1": np.arange(0, 9408, 211)})
    net.layers["Activation_function2"] = OwnRelu()  # the same math, not bp-tui's class
    loop = numerical_check(net, x, t, elements={"W1": np.arange(0, 9408, 211)})
    assert (stacked.method, loop.method) == ("stacked", "loop")
    for key in net.params:
        np.testing.assert_allclose(loop.grads[key], stacked.grads[key], rtol=1e-6, atol=1e-9)
    backprop = net.gradient(x, t)
    np.testing.assert_allclose(stacked.grads["W3"], backprop["W3"], rtol=1e-4, atol=1e-7)


def test_the_gradient_check_reports_every_parameter_at_depth_five():
    spec, rng = NetSpec(784, (20, 20, 20, 20), 10, "relu", "he"), np.random.default_rng(0)
    params = spec.init_params(lambda *shape: rng.standard_normal(shape))
    x, t = images(3)
    report = gradient_check(params, x, t, exact=True, sample=200)
    assert list(report.params) == [f"{p}{i}" for i in range(1, 6) for p in "Wb"]
    assert report.passed, report.to_dict()
    assert report.to_dict()["method"] == "stacked"
