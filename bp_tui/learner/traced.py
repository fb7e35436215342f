"""The Inspector's graph 3 on a learner's layers: the book's trace (bp_tui.nn.trace) of their
net, each step carrying the source of the method it ran with the lines behind it marked.

Which line computed what is watched, not guessed: each of their forward and backward calls runs
under a line tracer (sys.settrace, this thread only, one frame deep) that credits every line
with the names it bound or changed in place (a local, or an attribute of self). The lines of a
step are those that wrote what the method returned (the return line when nothing else did),
and for an Affine's backward those that stored dW and db.

Runs their code: only for a process started for their path (the dashboard's engine process).
The trace it gives holds no object of theirs, so it can go to the UI through a pipe.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
import textwrap
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bp_tui.learner.graph import gradient_name, gradient_of, weights_and_bias
from bp_tui.learner.names import book_name_of
from bp_tui.learner.source import FILENAME_PREFIX, LearnerFile
from bp_tui.nn.trace import CodeView, Source, Trace, WrongNode, book_op, net_trace

# The trace's name for what a book class does.
OPS = {
    "Affine": "Affine",
    "Relu": "ReLU",
    "Sigmoid": "Sigmoid",
    "SoftmaxWithLoss": "Softmax-with-Loss",
}
CHECKSUM_LIMIT = 4_000_000  # bytes: an array above this is followed by identity only


@dataclass
class Call:
    """What one call of a method did: its code, the lines that wrote each name, where it
    returned and which names held the value it returned."""

    code: object
    writes: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    returned_at: int | None = None
    returned_by: tuple[str, ...] = ()

    def lines_of(self, name: str) -> list[int]:
        return sorted(line for line, names in self.writes.items() if name in names)

    def result_lines(self) -> list[int]:
        """The lines that made the returned value: those that wrote a name holding it, else
        the return statement itself."""
        lines = sorted({line for name in self.returned_by for line in self.lines_of(name)})
        if not lines and self.returned_at is not None:
            lines = [self.returned_at]
        return lines


def _fingerprint(value: object) -> tuple:
    """Changes when a name is bound to another object or an array is changed in place."""
    if isinstance(value, np.ndarray) and value.nbytes <= CHECKSUM_LIMIT:
        try:
            return id(value), value.shape, zlib.crc32(np.ascontiguousarray(value).view(np.uint8))
        except (TypeError, ValueError):  # an array of objects
            pass
    return (id(value),)


def _names(frame) -> dict[str, object]:
    """The frame's locals and its self's attributes (as self.name)."""
    names = {k: v for k, v in frame.f_locals.items() if k != "self"}
    me = frame.f_locals.get("self")
    if me is not None and hasattr(me, "__dict__"):
        names.update({f"self.{k}": v for k, v in vars(me).items()})
    return names


def watched_call(method, *args) -> tuple[object, Call | None]:
    """method(*args), and what each of its lines wrote (None for a method without Python code)."""
    code = getattr(getattr(method, "__func__", method), "__code__", None)
    if code is None:
        return method(*args), None
    call = Call(code)
    state: dict = {"line": None, "before": {}}

    def local(frame, event, arg):
        if event not in ("line", "return"):
            return local
        names = _names(frame)
        now = {k: _fingerprint(v) for k, v in names.items()}
        if state["line"] is not None:
            before = state["before"]
            call.writes[state["line"]] |= {k for k, v in now.items() if before.get(k) != v}
        state["line"], state["before"] = frame.f_lineno, now
        if event == "return":
            call.returned_at = frame.f_lineno
            call.returned_by = tuple(k for k, v in names.items() if v is arg and arg is not None)
        return local

    def calls(frame, event, arg):
        return local if event == "call" and frame.f_code is code else None

    kept = sys.gettrace()
    sys.settrace(calls)
    try:
        result = method(*args)
    finally:
        sys.settrace(kept)
    return result, call


class Watched:
    """One of their layers, its forward and backward watched; the rest of it as it is (an
    Affine's dW is their gradient of W, whatever they named it)."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.calls: dict[str, Call | None] = {}

    def forward(self, *args):
        return self._watch("forward", *args)

    def backward(self, *args):
        return self._watch("backward", *args)

    def _watch(self, phase: str, *args):
        result, self.calls[phase] = watched_call(getattr(self.layer, phase), *args)
        if result is None and phase == "forward":
            raise TypeError(f"{type(self.layer).__name__}.forward returned None")
        return result

    # An Affine's parameters and their gradients under the book's names, as the trace reads them.
    @property
    def W(self):  # noqa: N802
        return weights_and_bias(self.layer)[0]

    @property
    def b(self):
        return weights_and_bias(self.layer)[1]

    @property
    def dW(self):  # noqa: N802
        return gradient_of(self.layer, self.W)

    @property
    def db(self):
        return gradient_of(self.layer, self.b)

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("layer", "calls"):
            raise AttributeError(name)
        return getattr(self.layer, name)

    def __deepcopy__(self, memo) -> Watched:
        import copy

        return Watched(copy.deepcopy(self.layer, memo))


def op_of(layer) -> str:
    """The trace's name for what their layer does (by its class's book name); bp-tui's own."""
    inner = layer.layer if isinstance(layer, Watched) else layer
    if type(inner).__module__.startswith("bp_tui."):
        return book_op(inner)
    return OPS.get(book_name_of(type(inner).__name__) or "", type(inner).__name__)


def learner_trace(net, x: np.ndarray, t: np.ndarray, files: dict[str, LearnerFile]) -> Trace:
    """The trace of net (their TwoLayerNet or a chain with their layers: layers, params and a
    last layer) on x and one-hot t, every step of their code with its source and marked lines.
    Their layers are left out of the trace it returns; bp-tui's own stay (the UI reads them)."""
    view = _Net(net)
    trace = net_trace(view, x, t, op_of=op_of)
    steps = []
    for step in trace.steps:
        node = trace.node(step.node)
        layer = node.layer
        call = layer.calls.get(step.phase) if isinstance(layer, Watched) else None
        code = _code_view(call, node, step.phase, layer, files) if call is not None else None
        steps.append(dataclasses.replace(step, code=code))
    nodes = [
        dataclasses.replace(n, layer=None) if isinstance(n.layer, Watched) else n
        for n in trace.nodes
    ]
    return dataclasses.replace(trace, nodes=nodes, steps=steps)


def wrong_node(trace: Trace, checked, layers: dict) -> WrongNode | None:
    """graph.check_chain's first wrong check in the trace's terms: the node by its name in
    net.layers (the loss node after them), the input edge whose gradient departs."""
    if checked is None:
        return None
    names = [*layers, "SoftmaxWithLoss"]
    node = trace.node(names[checked.node])
    edge = node.inputs[0]
    if checked.quantity != "dx" and node.op == "Affine":
        layer = layers[node.name]
        is_w = gradient_name(layer, weights_and_bias(layer)[0]) == checked.quantity
        edge = node.inputs[1] if is_w else node.inputs[2]
    return WrongNode(
        node.name,
        edge,
        checked.index,
        checked.got,
        checked.expected,
        checked.shape,
        checked.expected_shape,
    )


class _Net:
    """A net's layers watched, for net_trace (which copies each layer it runs)."""

    def __init__(self, net) -> None:
        self.params = net.params
        self.layers = {k: _watched(v) for k, v in net.layers.items()}
        self.last_layer = _watched(net.last_layer)


def _watched(layer):
    return layer if type(layer).__module__.startswith("bp_tui.") else Watched(layer)


def _code_view(call: Call, node, phase: str, layer: Watched, files) -> CodeView | None:
    source = method_source(call.code, files)
    if source is None:
        return None
    labels: dict[int, list[str]] = defaultdict(list)
    if phase == "forward":
        for line in call.result_lines():
            labels[line].append(node.outputs[0])
    else:
        for line in call.result_lines():
            labels[line].append(f"d {node.inputs[0]}")
        if node.op == "Affine":
            for edge, param in zip(node.inputs[1:], weights_and_bias(layer.layer), strict=True):
                gradient = gradient_name(layer.layer, param)
                for line in call.lines_of(f"self.{gradient}") if gradient else []:
                    labels[line].append(f"d {edge}")
    marks = {
        line - source.first_line: ", ".join(names)
        for line, names in labels.items()
        if 0 <= line - source.first_line < len(source.lines)
    }
    return CodeView(source, marks, phase)


def method_source(code, files: dict[str, LearnerFile]) -> Source | None:
    """The source of their method (code object) from the file bp-tui read, the def to its end."""
    filename = code.co_filename
    if not filename.startswith(FILENAME_PREFIX):
        return None
    file, _, cell = filename[len(FILENAME_PREFIX) :].partition("#")
    learner = files.get(file)
    if learner is None:
        return None
    piece = next((p for p in learner.pieces if p.cell == (int(cell) if cell else None)), None)
    if piece is None:
        return None
    first = code.co_firstlineno
    end = first
    for node in ast.walk(ast.parse(piece.source)):
        if isinstance(node, ast.FunctionDef) and node.lineno == first:
            end = node.end_lineno or first
            break
    text = textwrap.dedent("\n".join(piece.source.splitlines()[first - 1 : end]))
    where = f"{Path(file).name} cell {cell}" if cell else Path(file).name
    qualname = code.co_qualname if hasattr(code, "co_qualname") else code.co_name
    return Source(qualname, tuple(text.splitlines()), where, first)
