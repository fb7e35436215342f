"""The inspector's code pane and gradient picture: the layer code shown is the class's own
source with the lines that compute the step marked; d W1 of a hidden unit as a 28 x 28 picture."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
import pytest
from rich.style import Style
from textual.color import Color

from bp_tui.engine import events as ev
from bp_tui.nn.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.trace import apple_orange_trace, network_trace
from bp_tui.ui.inspector.inspector_code import (
    COMPUTES,
    SOFTMAX_BACKWARD,
    code_for,
    code_pane,
    method_source,
)
from bp_tui.ui.inspector.inspector_unit import Colours, shown_unit, unit_picture
from tests.test_inspector import plain

LAYERS = (MulLayer, AddLayer, Affine, Relu, Sigmoid, SoftmaxWithLoss)
GLYPHS = 8  # images, classes, and pairs of hidden units of the exact inspection


def glyph(kind: int) -> np.ndarray:
    """A 28 x 28 binary shape per class: ring, bar, bar, diagonal, cross, box, disk, X."""
    y, x = np.mgrid[0:28, 0:28]
    r = np.hypot(y - 13.5, x - 13.5)
    shapes = [
        (r > 6) & (r < 9),
        (abs(x - 13.5) < 2) & (abs(y - 13.5) < 10),
        (abs(y - 13.5) < 2) & (abs(x - 13.5) < 10),
        (abs(x - y) < 2) & (r < 11),
        ((abs(x - 13.5) < 1.5) | (abs(y - 13.5) < 1.5)) & (r < 10),
        (np.maximum(abs(x - 13.5), abs(y - 13.5)) > 7)
        & (np.maximum(abs(x - 13.5), abs(y - 13.5)) < 10),
        r < 7,
        ((abs(x - y) < 1.5) | (abs(x + y - 27) < 1.5)) & (r < 11),
    ]
    return shapes[kind].astype(np.float64).ravel()


def exact_inspection() -> ev.Inspection:
    """An Inspection whose every product and sum is exact in float64, so that any CPU and BLAS
    traces the same numbers (snapshots): 8 binary images, one per class, 16 hidden units in
    pairs that see one class each (the last pair never fires), W2 so that a2 = 0 exactly, so y =
    1/8 and dout = (1/8 - t) / 8 are powers of two."""
    x = np.stack([glyph(k) for k in range(GLYPHS)])
    w1 = np.repeat(x.T / 64, 2, axis=1)  # units 2i and 2i+1 both weigh class i's pixels
    b1 = np.full(2 * GLYPHS, 0.25)
    b1[-2:] = -16.0  # more than any image's input: off for every image
    w2 = np.zeros((2 * GLYPHS, GLYPHS))
    w2[0::2, :] = np.eye(GLYPHS)
    w2[1::2, :] = -np.eye(GLYPHS)  # the pair's equal outputs cancel: a2 = 0
    params = {"W1": w1, "b1": b1, "W2": w2, "b2": np.zeros(GLYPHS)}
    t = np.arange(GLYPHS)
    return ev.Inspection(0, "relu", params, x, t, None, indices=np.arange(GLYPHS))


def exact_trace():
    i = exact_inspection()
    return network_trace(i.params, i.x, i.t, i.activation)


COLOURS = Colours(Color(200, 0, 0), Color(255, 255, 255), Color(0, 0, 200))


# ---- the code ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", LAYERS)
def test_the_code_shown_is_the_layer_classes_own_source(cls):
    class_source = inspect.getsource(cls)
    for method in ("forward", "backward"):
        source = method_source(cls, method)
        expected = textwrap.dedent(inspect.getsource(getattr(cls, method))).splitlines()
        assert list(source.lines) == expected
        assert textwrap.indent("\n".join(expected), "    ") in class_source
        assert source.qualname == f"{cls.__name__}.{method}"
        assert source.path == "bp_tui/nn/layers.py"
        assert inspect.getsourcelines(cls)[1] < source.first_line


def test_every_marked_piece_is_one_line_of_its_method():
    tables = [*COMPUTES.items()]
    tables += [((SoftmaxWithLoss, "backward"), c) for c in SOFTMAX_BACKWARD.values()]
    for (cls, method), computes in tables:
        lines = method_source(cls, method).lines
        for piece, _ in computes:
            assert sum(piece in line for line in lines) == 1, (cls, method, piece)


def marked(trace, node: str, phase: str) -> dict[str, str]:
    """{marked line, stripped: what it computes} for a node's step."""
    step = next(s for s in trace.steps if s.node == node and s.phase == phase)
    view = code_for(trace, step)
    return {view.source.lines[i].strip(): label for i, label in view.marks.items()}


def test_the_marked_lines_are_the_ones_computing_the_step():
    net = exact_trace()
    assert marked(net, "Affine1", "forward") == {"return np.dot(self.x, self.W) + self.b": "a1"}
    assert marked(net, "Affine1", "backward") == {
        "self.dW = np.dot(self.x.T, dout)": "d W1",
        "self.db = dout.sum(axis=0)": "d b1",
        "return np.dot(dout, self.W.T).reshape(self.original_x_shape)": "d x",
    }
    assert marked(net, "Relu1", "backward") == {
        "return np.where(self.mask, 0, dout).astype(dout.dtype, copy=False)": "d a1"
    }
    labels = marked(net, "SoftmaxWithLoss", "backward")  # t holds labels: that branch
    assert list(labels) == [
        "dx = y.copy()",
        "dx[np.arange(batch_size), as_labels(t).reshape(-1)] -= 1",
        "dx *= dout / batch_size  # in place: dx is our own copy",
    ]
    i = exact_inspection()
    one_hot = network_trace(i.params, i.x, np.eye(GLYPHS)[i.t], "sigmoid")
    assert list(marked(one_hot, "SoftmaxWithLoss", "backward")) == [
        "return (y - t.reshape(y.shape)) / batch_size * dout"
    ]
    assert marked(one_hot, "Sigmoid1", "forward") == {"self.out = sigmoid(x)": "z1"}
    apples = apple_orange_trace()
    assert marked(apples, "mul_apple", "backward") == {
        "return dout * self.y, dout * self.x": "d apple, d apple_num"
    }
    assert marked(apples, "add_apple_orange", "forward") == {"return x + y": "all_price"}


def test_the_pane_keeps_the_labels_and_cuts_long_lines():
    net = exact_trace()
    step = next(s for s in net.steps if s.node == "Affine1" and s.phase == "backward")
    view = code_for(net, step)
    wide = plain(code_pane(view, {}), width=100)
    assert "the code: Affine.backward  bp_tui/nn/layers.py:" in wide
    assert "▶     self.dW = np.dot(self.x.T, dout)" in wide and "← d W1" in wide
    assert "      if not self.needs_dx:" in wide  # unmarked lines are there, unmarked
    narrow = plain(code_pane(view, {}), width=40).splitlines()
    assert all(len(line.rstrip()) <= 40 for line in narrow)
    assert any(line.rstrip().endswith("← d x") and "…" in line for line in narrow)
    short = plain(code_pane(view, {}, short=True), width=100)
    assert "def backward" in short and "needs_dx" not in short and "  …" in short


def test_the_pane_styles_come_from_the_palette():
    apples = apple_orange_trace()
    step = next(s for s in apples.steps if s.node == "mul_tax" and s.phase == "backward")
    palette = {"code-keyword": Style(color="red"), "code-line": Style(bgcolor="blue")}
    lines = code_pane(code_for(apples, step), palette).lines(80)
    (current,) = [line for line in lines if line.plain.startswith("▶")]
    assert "return dout * self.y, dout * self.x" in current.plain
    spans = {current.plain[s.start : s.end]: s.style for s in current.spans}
    assert spans["return"].color.name == "red"
    tint = [s.style for s in current.spans if (s.start, s.end) == (0, len(current))]
    assert tint and tint[-1].bgcolor.name == "blue"  # the whole line, over the tokens' colours


# ---- the gradient picture ------------------------------------------------------------------------


def test_the_picture_waits_for_d_w1_and_draws_the_unit_asked_for():
    net = exact_trace()
    last = len(net.steps) - 1
    assert unit_picture(net, last - 1, None, COLOURS, {}, "[ ]") is None  # d W1 not yet
    d_w1 = net.edges["W1"].grad
    strongest = int(np.argmax(np.linalg.norm(d_w1, axis=0)))
    assert shown_unit(net, None) == strongest
    assert shown_unit(net, 2 * GLYPHS + 3) == 3  # wraps around
    text = unit_picture(net, last, None, COLOURS, {}, "[ ]")
    lines = text.plain.splitlines()
    assert lines[0].startswith(f"d W1[:, {strongest}]  unit {strongest}'s 784 weights as 28 × 28")
    assert len(lines) == 1 + 14 and "the one this batch" in text.plain
    dead = unit_picture(net, last, 2 * GLYPHS - 1, COLOURS, {}, "[ ]").plain
    assert "off for every image" in dead


def test_the_picture_colours_where_the_step_pushes_each_weight():
    """Unit 0 sees class 0 (the ring): the step raises its weights on the ring (d < 0, blue)
    and lowers them on the other images' pixels (d > 0, red); blank pixels stay white."""
    net = exact_trace()
    text = unit_picture(net, len(net.steps) - 1, 0, COLOURS, {}, "[ ]")
    lines = text.split("\n")[1:]  # the picture's rows, two pixel rows each

    def pixel(row: int, col: int) -> tuple[int, int, int]:
        """The colour of a pixel: a cell's foreground on even rows, its background on odd."""
        line = lines[row // 2]
        style = next(s.style for s in line.spans if s.start <= col < s.end)
        return tuple((style.color if row % 2 == 0 else style.bgcolor).triplet)

    ring, others = glyph(0).reshape(28, 28), sum(glyph(k) for k in range(1, GLYPHS)).reshape(28, 28)
    only_ring = np.argwhere((ring > 0) & (others == 0))[0]
    only_others = np.argwhere((ring == 0) & (others > 0))[0]
    blank = np.argwhere((ring == 0) & (others == 0))[0]
    assert pixel(*only_ring) == (0, 0, 200)  # raised, full colour: -7/64 is the largest |d|
    red, green, blue = pixel(*only_others)  # lowered: d = +1/64 per image, towards red
    assert red > green and red > blue and (red, green, blue) != (255, 255, 255)
    assert pixel(*blank) == (255, 255, 255)  # no image inks it: d = 0
