"""A step-by-step record of forward and backward through the book's layer classes.

The math is the layers' own (bp_tui.nn.layers): this module only calls forward/backward in order
and writes down, for every step, what went in, what came out and the local derivative rule with
the live numbers. A UI replays the record with ``Trace.state_at(k)``.

Graphs: the book's apple example, apple and orange, and the two-layer network on a mini-batch.
Every node here has exactly one output edge and every edge feeds at most one node (no fan-out),
which is all these graphs need.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bp_tui.errors import ConfigError
from bp_tui.nn.functions import LOG_EPSILON
from bp_tui.nn.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.model import ACTIVATIONS, LayerNet, spec_of_params


@dataclass
class Edge:
    """A value flowing between nodes; value and grad are the final ones (None if never known)."""

    name: str
    value: Any = None
    grad: Any = None
    source: str | None = None  # the node computing it; None for a graph input
    target: str | None = None  # the node reading it; None for the graph's output
    kind: str = "hidden"  # graph inputs "input", "param", "label"; inner "hidden"; the "output"

    @property
    def differentiable(self) -> bool:
        """False for the labels t: no gradient ever flows into them."""
        return self.kind != "label"


@dataclass
class Node:
    name: str  # "mul_apple", "Affine1"
    op: str  # "x", "+", "Affine", "ReLU", "Sigmoid", "Softmax-with-Loss"
    inputs: list[str]
    outputs: list[str]
    layer: Any = field(repr=False, default=None)


@dataclass(frozen=True)
class Source:
    """A method's source, dedented, and where it starts."""

    qualname: str  # "Affine.backward"
    lines: tuple[str, ...]
    path: str
    first_line: int


@dataclass(frozen=True)
class CodeView:
    """The method a step ran, and for each marked line (index into source.lines) what it
    computes: an edge ("a1"), a parameter's gradient, "d apple, d apple_num"."""

    source: Source
    marks: dict[int, str]
    phase: str


@dataclass(frozen=True)
class WrongNode:
    """The first node of the backward pass whose gradient departs from central differences of
    its own forward: which node, which of its input edges, and what that gradient should be."""

    node: str  # the trace's node name: "Relu1", "SoftmaxWithLoss"
    edge: str  # the input edge whose gradient is wrong: "a1", "W2"
    index: tuple[int, ...] | None = None  # its first wrong element (None: missing or misshapen)
    got: float | None = None
    expected: float | None = None
    shape: tuple[int, ...] | None = None  # the gradient's shape, when it is not its edge's
    expected_shape: tuple[int, ...] | None = None

    def __str__(self) -> str:
        text = f"first wrong node: {self.node}, its d {self.edge}"
        if self.shape is not None:
            return f"{text} has shape {self.shape}, should be {self.expected_shape}"
        if self.index is None or self.got is None:
            return f"{text} is missing or of the wrong shape"
        at = ", ".join(map(str, self.index))
        return f"{text}[{at}] is {self.got:.4g}, should be {self.expected:.4g}"


@dataclass
class TraceStep:
    """One forward or backward call of one node.

    Forward steps fill inputs/outputs (grad dicts empty); backward steps fill grad_in (the
    gradient from above, keyed by the node's output edge) and grads_out (the gradients passed on,
    keyed by input edge; labels get none), with inputs/outputs empty. ``rule`` may have several
    lines (one per input for a backward step), separated by newlines.
    """

    index: int
    phase: str  # "forward" or "backward"
    node: str
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    grad_in: dict[str, Any] = field(default_factory=dict)
    grads_out: dict[str, Any] = field(default_factory=dict)
    rule: str = ""
    code: CodeView | None = None  # the method it ran, when its layer lives in another process


@dataclass
class Trace:
    title: str
    nodes: list[Node]
    edges: dict[str, Edge]
    steps: list[TraceStep] = field(default_factory=list)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    @property
    def n_forward(self) -> int:
        return sum(s.phase == "forward" for s in self.steps)

    def state_at(self, k: int) -> dict[str, tuple[Any, Any]]:
        """edge -> (value or None, grad or None) known after step k; k = -1 is before anything.

        A value is known once a forward step has read or written it, a gradient once a backward
        step has read or written it (so the seed gradient 1 appears at the first backward step).
        """
        if not -1 <= k < len(self.steps):
            raise IndexError(f"step {k} is outside -1..{len(self.steps) - 1}")
        value: dict[str, Any] = dict.fromkeys(self.edges)
        grad: dict[str, Any] = dict.fromkeys(self.edges)
        for step in self.steps[: k + 1]:
            if step.phase == "forward":
                value.update(step.inputs)
                value.update(step.outputs)
            else:
                grad.update(step.grad_in)
                grad.update(step.grads_out)
        return {name: (value[name], grad[name]) for name in self.edges}

    def param_grads(self) -> dict[str, np.ndarray]:
        """The gradient of every "param" edge (W1 b1 W2 b2 for the network; empty for apples)."""
        return {n: e.grad for n, e in self.edges.items() if e.kind == "param"}

    def grad_norms(self, upto: int | None = None) -> dict[str, dict[str, float]]:
        """node -> {input edge: Frobenius norm of the gradient the node passes to it}, for the
        backward steps done by step `upto` (default: all of them).

        For the network: Affine1 {x, W1, b1}, Relu1/Sigmoid1 {a1}, Affine2 {z1, W2, b2},
        SoftmaxWithLoss {a2}.
        """
        return {
            s.node: {e: float(np.linalg.norm(g)) for e, g in s.grads_out.items()}
            for s in self.steps[: None if upto is None else upto + 1]
            if s.phase == "backward"
        }


# --- numbers for people ------------------------------------------------------------------------


def fmt(v: Any) -> str:
    """A scalar in 4 significant digits (110.00000000000001 -> "110"); an array by its shape."""
    if np.ndim(v) == 0:
        return f"{float(v):.4g}"
    return str(tuple(np.shape(v)))


def excerpt_origin(a: Any, rows: int = 3, cols: int = 4) -> tuple[int, int]:
    """(first row, first column) of a rows x cols window of a 2-D array around its largest
    |value|, as centred on it as the edges allow; (0, 0) when every value is 0.

    A corner is a poor excerpt: MNIST's border pixels are 0, and so are their rows of x^T and
    of dW1. A 1-D array is one row; a NaN counts as the largest.
    """
    arr = np.atleast_2d(np.asarray(a, dtype=np.float64))
    if arr.size == 0 or not np.any(arr):
        return 0, 0
    magnitude = np.abs(arr)
    if np.isnan(magnitude).any():
        magnitude = np.where(np.isnan(magnitude), np.inf, magnitude)
    r, c = np.unravel_index(int(np.argmax(magnitude)), arr.shape)
    first_row = int(min(max(r - (rows - 1) // 2, 0), max(arr.shape[0] - rows, 0)))
    first_col = int(min(max(c - (cols - 1) // 2, 0), max(arr.shape[1] - cols, 0)))
    return first_row, first_col


def largest_column(a: Any) -> int:
    """The column of a 2-D array with the largest norm (for dW1: the hidden unit whose weights
    this batch moves most); 0 when all are 0."""
    arr = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=np.inf)
    return int(np.argmax(np.linalg.norm(arr, axis=0))) if arr.size else 0


def tensor_stats(a: Any) -> dict[str, Any]:
    """shape, mean, std, min, max (floats; None if empty), and sample: a 3x4 window (4 values
    of a vector) around the largest |value|, its first row and column in rows and cols."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.size == 0:
        return dict(
            shape=arr.shape,
            mean=None,
            std=None,
            min=None,
            max=None,
            sample=arr.copy(),
            rows=0,
            cols=0,
        )
    flat = arr.reshape(arr.shape[0], -1) if arr.ndim > 2 else arr
    if flat.ndim == 0:
        sample, r, c = flat, 0, 0
    elif flat.ndim == 1:
        r, c = excerpt_origin(flat, rows=1, cols=4)
        sample = flat[c : c + 4]
    else:
        r, c = excerpt_origin(flat)
        sample = flat[r : r + 3, c : c + 4]
    return {
        "shape": arr.shape,
        "mean": float(arr.mean()),
        "std": float(arr.std()),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "sample": np.array(sample),
        "rows": r,
        "cols": c,
    }


def _frozen(v: Any) -> Any:
    """What the trace keeps: a float, or a read-only copy nobody (UI or layer) can change."""
    if np.ndim(v) == 0:
        return float(v)
    out = np.array(v)
    out.setflags(write=False)
    return out


def _fresh(v: Any) -> Any:
    """What a layer gets: its own writable copy, so an in-place layer cannot touch the record."""
    return v if np.ndim(v) == 0 else np.array(v)


# --- one node: call the layer, say the rule ---------------------------------------------------


def _forward(node: Node, ins: dict[str, Any]) -> Any:
    args = [_fresh(ins[e]) for e in node.inputs]
    if node.op == "Affine":  # W and b already live in the layer
        return node.layer.forward(args[0])
    return node.layer.forward(*args)


def _backward(node: Node, dout: Any) -> list[Any]:
    """Gradients aligned with node.inputs (None for the labels t)."""
    grads = node.layer.backward(_fresh(dout))
    if node.op == "Affine":
        return [grads, node.layer.dW, node.layer.db]
    if node.op == "Softmax-with-Loss":
        return [grads, None]
    return list(grads) if node.op in ("x", "+") else [grads]


def _forward_rule(node: Node, ins: dict[str, Any], out: Any) -> str:
    (o,), i = node.outputs, node.inputs
    v = [ins[e] for e in i]
    if node.op in ("x", "+"):
        sym = "*" if node.op == "x" else "+"
        return f"{o} = {i[0]} {sym} {i[1]} = {fmt(v[0])} {sym} {fmt(v[1])} = {fmt(out)}"
    if node.op == "Affine":
        x2 = (v[0].shape[0], int(np.prod(v[0].shape[1:])))
        return (
            f"{o} = {i[0]} . {i[1]} + {i[2]}: {x2} . {v[1].shape} + {v[2].shape} -> {np.shape(out)}"
        )
    if node.op == "ReLU":
        zeroed = int(np.count_nonzero(v[0] <= 0))
        return f"{o} = max(0, {i[0]}) -> {np.shape(out)} ({zeroed} of {np.size(out)} units are 0)"
    if node.op == "Sigmoid":
        return f"{o} = 1 / (1 + exp(-{i[0]})) -> {np.shape(out)}"
    n = np.shape(v[0])[0]
    return f"{o} = cross_entropy(softmax({i[0]}), {i[1]}) = {fmt(out)}, mean over N = {n}"


def _misshapen(node: Node, ins: dict[str, Any], grads: list) -> list[str]:
    """A gradient not of its edge's shape (a learner's backward can give one), in words beside
    the book's rule, which gives the edge's own shape."""
    return [
        f"✖ your d {e} has shape {np.shape(g)}, {e} is {np.shape(ins[e])}"
        for e, g in zip(node.inputs, grads, strict=True)
        if g is not None and isinstance(ins[e], np.ndarray) and np.shape(g) != np.shape(ins[e])
    ]


def _backward_rule(node: Node, ins: dict[str, Any], out: Any, dout: Any, grads: list) -> str:
    """The book's rule of the node's backward, with the shapes that rule gives."""
    i, g = node.inputs, grads
    shape = [
        np.shape(ins[e]) if isinstance(ins[e], np.ndarray) else np.shape(gk)
        for e, gk in zip(i, grads, strict=True)
    ]
    if node.op == "x":
        return "\n".join(
            f"d {i[k]} = dout * {i[1 - k]} = {fmt(dout)} * {fmt(ins[i[1 - k]])} = {fmt(g[k])}"
            for k in (0, 1)
        )
    if node.op == "+":
        return "\n".join(f"d {e} = dout * 1 = {fmt(gk)}" for e, gk in zip(i, g, strict=True))
    if node.op == "Affine":
        x, W = ins[i[0]], ins[i[1]]
        x2 = (x.shape[0], int(np.prod(x.shape[1:])))
        d = np.shape(dout)
        return "\n".join(
            [
                f"d {i[1]} = {i[0]}^T . dout: {x2[::-1]} . {d} -> {shape[1]}",
                f"d {i[2]} = sum(dout, axis=0) -> {shape[2]}",
                f"d {i[0]} = dout . {i[1]}^T: {d} . {W.shape[::-1]} -> {shape[0]}",
            ]
        )
    if node.op == "ReLU":
        blocked = int(np.count_nonzero(ins[i[0]] <= 0))
        return (
            f"d {i[0]} = dout where {i[0]} > 0, else 0 ({blocked} of {np.size(dout)} units blocked)"
        )
    if node.op == "Sigmoid":
        slope = out * (1.0 - out)
        return (
            f"d {i[0]} = dout * {node.outputs[0]} * (1 - {node.outputs[0]}) -> {shape[0]} "
            f"(local slope mean {fmt(slope.mean())}, max {fmt(slope.max())}, never above 0.25)"
        )
    n = np.shape(ins[i[0]])[0]
    return f"d {i[0]} = dout * (y - t) / N = {fmt(dout)} * (y - t) / {n} -> {shape[0]}"


# --- building and running a graph ---------------------------------------------------------------


def _run(title: str, nodes: list[Node], given: dict[str, Any], kinds: dict[str, str]) -> Trace:
    """Forward every node left to right, then backward right to left from the seed 1."""
    edges: dict[str, Edge] = {}
    for node in nodes:
        for e in node.inputs:
            edges.setdefault(e, Edge(e, kind=kinds.get(e, "input"))).target = node.name
        for e in node.outputs:
            edges.setdefault(e, Edge(e, kind="hidden")).source = node.name
    (final,) = [e for e in edges.values() if e.target is None]
    final.kind = "output"
    for name, v in given.items():
        edges[name].value = _frozen(v)

    steps: list[TraceStep] = []
    for node in nodes:
        ins = {e: edges[e].value for e in node.inputs}
        out = _frozen(_forward(node, ins))
        edges[node.outputs[0]].value = out
        rule = _forward_rule(node, ins, out)
        steps.append(
            TraceStep(len(steps), "forward", node.name, ins, {node.outputs[0]: out}, rule=rule)
        )

    final.grad = 1.0
    for node in reversed(nodes):
        (o,) = node.outputs
        dout = edges[o].grad
        grads = [None if g is None else _frozen(g) for g in _backward(node, dout)]
        ins = {e: edges[e].value for e in node.inputs}
        passed = {}
        for e, g in zip(node.inputs, grads, strict=True):
            if g is not None and edges[e].differentiable:
                edges[e].grad = passed[e] = g
        rule = _backward_rule(node, ins, edges[o].value, dout, grads)
        rule = "\n".join([rule, *_misshapen(node, ins, grads)])
        steps.append(
            TraceStep(
                len(steps), "backward", node.name, grad_in={o: dout}, grads_out=passed, rule=rule
            )
        )
    return Trace(title, nodes, edges, steps)


def apple_trace(apple: float = 100, apple_num: float = 2, tax: float = 1.1) -> Trace:
    """The book's first graph: apple * apple_num -> apple_price; * tax -> price."""
    nodes = [
        Node("mul_apple", "x", ["apple", "apple_num"], ["apple_price"], MulLayer()),
        Node("mul_tax", "x", ["apple_price", "tax"], ["price"], MulLayer()),
    ]
    given = {"apple": float(apple), "apple_num": float(apple_num), "tax": float(tax)}
    return _run(f"Buying {fmt(apple_num)} apples at {fmt(apple)}, tax {fmt(tax)}", nodes, given, {})


def apple_orange_trace(
    apple: float = 100,
    apple_num: float = 2,
    orange: float = 150,
    orange_num: float = 3,
    tax: float = 1.1,
) -> Trace:
    """(apple * apple_num + orange * orange_num) * tax, the book's second graph."""
    nodes = [
        Node("mul_apple", "x", ["apple", "apple_num"], ["apple_price"], MulLayer()),
        Node("mul_orange", "x", ["orange", "orange_num"], ["orange_price"], MulLayer()),
        Node("add_apple_orange", "+", ["apple_price", "orange_price"], ["all_price"], AddLayer()),
        Node("mul_tax", "x", ["all_price", "tax"], ["price"], MulLayer()),
    ]
    given = {
        "apple": float(apple),
        "apple_num": float(apple_num),
        "orange": float(orange),
        "orange_num": float(orange_num),
        "tax": float(tax),
    }
    title = (
        f"Buying {fmt(apple_num)} apples at {fmt(apple)} and {fmt(orange_num)} oranges "
        f"at {fmt(orange)}, tax {fmt(tax)}"
    )
    return _run(title, nodes, given, {})


OPS = {Affine: "Affine", Relu: "ReLU", Sigmoid: "Sigmoid", SoftmaxWithLoss: "Softmax-with-Loss"}


def _own_copy(layer: Any) -> Any:
    """The trace's own layer, so that stepping it never touches the live net: an Affine with
    copies of W and b, any other layer deep-copied (a replaced layer keeps its settings)."""
    if isinstance(layer, Affine):
        return Affine(np.array(layer.W), np.array(layer.b))
    return copy.deepcopy(layer)


def book_op(layer: Any) -> str:
    """The graph's name for what one of bp-tui's layers does ("Affine", "ReLU", ...)."""
    return OPS.get(type(layer), type(layer).__name__)


def net_title(net: Any, batch: int, op_of: Callable[[Any], str] = book_op) -> str:
    """ "TwoLayerNet 784-50-10 (ReLU), batch of 100": the book's name for a net of this depth."""
    weights = [layer.W for layer in net.layers.values() if op_of(layer) == "Affine"]
    widths = [weights[0].shape[0], *(w.shape[1] for w in weights)] if weights else []
    name = "TwoLayerNet" if len(weights) == 2 else f"{len(weights)}-layer net"
    kinds = {op_of(layer) for layer in net.layers.values()}
    ops = sorted(kinds - {"Affine"})
    shape = "-".join(map(str, widths))
    return f"{name} {shape} ({', '.join(ops) or 'linear'}), batch of {batch}"


def net_trace(
    net: Any, x: np.ndarray, t: np.ndarray, op_of: Callable[[Any], str] = book_op
) -> Trace:
    """x -> every layer of net.layers in order -> its loss layer <- t, then back: any depth.

    The edges are named by position: Affine k gives a{k}, the layer after it z{k}; an Affine's
    weight and bias take their names in net.params (W1, b1, ...). The trace runs on its own
    copy of each layer: the net, its parameters and its layers' state are left as they were.
    op_of names what a layer does (layers of other classes than bp-tui's: a learner's).
    """
    names = {id(v): k for k, v in net.params.items()}
    last = getattr(net, "last_layer", None) or net.lastLayer
    nodes, kinds = [], {"t": "label"}
    edge, k = "x", 0
    for name, layer in net.layers.items():
        if op_of(layer) == "Affine":
            k += 1
            weight, bias = names.get(id(layer.W), f"W{k}"), names.get(id(layer.b), f"b{k}")
            kinds.update({weight: "param", bias: "param"})
            out = f"a{k}"
            nodes.append(Node(name, "Affine", [edge, weight, bias], [out], _own_copy(layer)))
        else:
            out = f"z{k}"
            nodes.append(Node(name, op_of(layer), [edge], [out], _own_copy(layer)))
        edge = out
    nodes.append(Node("SoftmaxWithLoss", op_of(last), [edge, "t"], ["loss"], _own_copy(last)))
    given = {"x": np.asarray(x), "t": np.asarray(t)}
    for node in nodes:
        if node.op == "Affine":
            given[node.inputs[1]], given[node.inputs[2]] = node.layer.W, node.layer.b
    return _run(net_title(net, len(x), op_of), nodes, given, kinds)


def network_trace(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    activation: str = "relu",
    *,
    epsilon: float = LOG_EPSILON,
) -> Trace:
    """The trace of the net these parameters (W1, b1, ..., Wn, bn) make with this activation,
    on copies of them: x -> Affine1 -> Relu1|Sigmoid1 -> ... -> AffineN -> SoftmaxWithLoss <- t.

    t may be labels or one-hot rows. Affine1 also passes a gradient to x, as the book's nets do.
    """
    if activation not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {activation!r}: use relu or sigmoid")
    try:
        spec = spec_of_params(params, activation)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    x = np.asarray(x)
    features = int(np.prod(x.shape[1:])) if x.ndim >= 2 else -1
    if features != spec.input_size:
        raise ConfigError(f"x has shape {x.shape} but W1 expects rows of {spec.input_size}")
    if len(np.asarray(t)) != len(x):
        raise ConfigError(f"x has {len(x)} rows but t has {len(np.asarray(t))}")
    return net_trace(LayerNet(spec, params, epsilon=epsilon), x, t)


# --- editing the apple graphs' inputs -----------------------------------------------------------

COUNT_INPUTS = ("apple_num", "orange_num")
PRICE_INPUTS = ("apple", "orange")
INPUT_NAMES = ("apple", "apple_num", "orange", "orange_num", "tax")
MAX_INPUT = 1e9


def parse_input_value(name: str, text: str) -> float:
    """The number typed for input ``name``, or ConfigError with one line saying what is wrong."""
    if name not in INPUT_NAMES:
        raise ConfigError(f"unknown input {name!r}: use one of {', '.join(INPUT_NAMES)}")
    s = str(text).strip()
    if not s:
        raise ConfigError(f"{name}: enter a number")
    try:
        v = float(s)
    except ValueError:
        raise ConfigError(f"{name}: {s!r} is not a number") from None
    if not math.isfinite(v):
        raise ConfigError(f"{name}: {s!r} is not a finite number")
    if v < 0:
        kind = "count" if name in COUNT_INPUTS else "price" if name in PRICE_INPUTS else "tax rate"
        raise ConfigError(f"{name}: a {kind} cannot be negative (got {fmt(v)})")
    if name in COUNT_INPUTS and not v.is_integer():
        raise ConfigError(f"{name}: a count must be a whole number (got {fmt(v)})")
    if v > MAX_INPUT:
        raise ConfigError(f"{name}: {fmt(v)} is too large (at most {MAX_INPUT:g})")
    return v


def with_input(kwargs: dict[str, float], name: str, text: str) -> dict[str, float]:
    """A copy of a builder's kwargs with ``name`` set to the parsed ``text`` (ConfigError if bad)."""
    return {**kwargs, name: parse_input_value(name, text)}
