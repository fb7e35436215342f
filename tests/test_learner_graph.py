"""The first wrong node of a chain of layers: each node judged on the upstream gradient backprop
gave it, so a wrong node is named where it is, not where its error finally shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bp_tui.learner.graph import build_net, check_chain, first_wrong_node
from bp_tui.nn import Affine, Relu, SoftmaxWithLoss

LEARNERS = Path(__file__).parent / "learners"


class MaskOnTheWrongSide(Relu):
    def backward(self, dout):
        return np.where(self.mask, dout, 0)


class NoBatchSize(SoftmaxWithLoss):
    def backward(self, dout=1):
        return super().backward(dout) * len(self.y)


class DoubleDx(Affine):
    def backward(self, dout):
        super().backward(dout)
        return 2 * np.dot(dout, self.W.T)


class DbOverTheWrongAxis(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = self.db * 0 + dout.sum()  # the right shape, the wrong numbers
        return dx


class BookRelu:
    """The book's Relu, which zeroes its dout in place."""

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    return rng.standard_normal((4, 6)), np.eye(3)[[0, 2, 1, 1]]


def wrong(classes, batch):
    layers, last, _ = build_net(classes, (6, 5, 3))
    return first_wrong_node(layers, last, *batch)


def test_right_layers_have_no_wrong_node(batch):
    layers, last, _ = build_net({"Relu": BookRelu}, (6, 5, 3))
    report = check_chain(layers, last, *batch)
    assert report.passed
    # every node in backward order: the loss, Affine2 (dx, dW, db), Relu, Affine1 (dx, dW, db)
    assert [(c.node, c.quantity) for c in report.checks] == [
        (3, "dx"),
        (2, "dx"),
        (2, "dW"),
        (2, "db"),
        (1, "dx"),
        (0, "dx"),
        (0, "dW"),
        (0, "db"),
    ]


@pytest.mark.parametrize(
    "classes, node, name, quantity",
    [
        ({"Relu": MaskOnTheWrongSide}, 1, "MaskOnTheWrongSide", "dx"),
        ({"SoftmaxWithLoss": NoBatchSize}, 3, "NoBatchSize", "dx"),
        ({"Affine": DoubleDx}, 2, "DoubleDx", "dx"),
        ({"Affine": DbOverTheWrongAxis}, 2, "DbOverTheWrongAxis", "db"),
    ],
)
def test_the_first_wrong_node_is_where_the_error_starts(batch, classes, node, name, quantity):
    found = wrong(classes, batch)
    assert (found.node, found.name, found.quantity) == (node, name, quantity)
    assert found.index is not None and found.got != pytest.approx(found.expected)


def test_nodes_below_a_wrong_one_are_judged_on_what_they_were_given(batch):
    layers, last, _ = build_net({"Relu": MaskOnTheWrongSide}, (6, 5, 3))
    report = check_chain(layers, last, *batch)
    # Affine1's dW is wrong as a gradient of the loss, yet right for the dout it got
    assert [c.passed for c in report.checks if c.node == 0] == [True, True, True]


def test_build_net_shares_its_params_with_the_layers():
    layers, _, params = build_net({}, (6, 5, 3))
    assert layers[0].W is params["W1"] and layers[2].b is params["b2"]
    assert [type(layer).__name__ for layer in layers] == ["Affine", "Relu", "Affine"]


def test_a_book_sized_net_is_checked_on_a_sample_of_elements():
    rng = np.random.default_rng(2)
    layers, last, _ = build_net({}, (784, 50, 10), weight_scale=0.1)
    x, t = rng.random((3, 784)), np.eye(10)[[3, 1, 4]]
    report = check_chain(layers, last, x, t, max_elements=50)
    assert report.passed, report.first_wrong


def test_a_learner_s_classes_build_a_net_whose_first_wrong_node_is_theirs():
    # Their code runs here, so in a process of its own, as an engine process would run it.
    script = (
        "import numpy as np\n"
        "from bp_tui.learner.load import learner_classes\n"
        "from bp_tui.learner.graph import build_net, first_wrong_node\n"
        "classes = learner_classes(__import__('pathlib').Path({!r}))\n"
        "layers, last, params = build_net(classes, (6, 5, 3))\n"
        "rng = np.random.default_rng(0)\n"
        "found = first_wrong_node(layers, last, rng.standard_normal((4, 6)), np.eye(3)[[0, 1, 2, 0]])\n"
        "print(sorted(classes), found.node, found.name, found.quantity)\n"
    ).format(str(LEARNERS / "fault_relu_mask_wrong_side.py"))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    names = (
        "['AddLayer', 'Affine', 'MulLayer', 'Relu', 'Sigmoid', 'SoftmaxWithLoss', 'TwoLayerNet']"
    )
    assert done.stdout.strip() == f"{names} 1 Relu dx"
