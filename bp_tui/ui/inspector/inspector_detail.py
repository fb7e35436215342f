"""The inspector's text: the current node in detail, and a summary beside it.

Pure functions of (trace, step, palette) returning Rich renderables; numbers come from the trace
(and, for the network, from the engine's gradient check of the same batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from bp_tui.nn.trace import Trace, TraceStep, fmt, tensor_stats
from bp_tui.ui.inspector.graph_view import GIVEN_KINDS, UNKNOWN
from bp_tui.ui.inspector.inspector_code import code_for, code_pane

OP_NAMES = {
    "x": "multiply (×)",
    "+": "add (+)",
    "Affine": "Affine: x · W + b",
    "ReLU": "Relu: max(0, x)",
    "Sigmoid": "Sigmoid: 1 / (1 + exp(-x))",
    "Softmax-with-Loss": "SoftmaxWithLoss: cross entropy of softmax",
}
# What the backward pass of each tensor node will do, shown while going forward.
BACKWARD_PREVIEW = {
    "Affine": "dW = xᵀ · dout,  db = Σ dout over the batch,  dx = dout · Wᵀ",
    "ReLU": "dout passes where the input was > 0 and is blocked (0) elsewhere",
    "Sigmoid": "dout · y · (1 − y): the local slope is at most 0.25",
    "Softmax-with-Loss": "(y − t) / N: the softmax output minus the one-hot labels",
}


def _st(palette: dict[str, Style], *names: str) -> Style:
    return Style.combine(palette.get(n, Style()) for n in names)


def _num(v: float) -> str:
    return f"{v:.2g}"


def tensor_block(name: str, v: Any, palette: dict, kind: str = "value") -> list[Text]:
    """The shape, a line of statistics, then a few values around the largest |value| (a corner
    of MNIST's x or of the first layer's dW is all 0), saying which rows and columns they are."""
    s = tensor_stats(v)
    sample = np.atleast_2d(s["sample"])
    rows, cols = sample.shape
    r, c = s["rows"], s["cols"]
    where = ""
    if np.ndim(v) == 1 and np.size(v) > cols:
        where = f"   elements {c}-{c + cols - 1}"
    elif np.ndim(v) >= 2 and np.size(v) > sample.size:
        where = f"   rows {r}-{r + rows - 1}, cols {c}-{c + cols - 1}"
    if where and np.any(sample):
        where += ", around max |value|"
    head = Text.assemble(
        (f"{name} ", _st(palette, kind, "bold")),
        (str(tuple(s["shape"])), _st(palette, "bold")),
        (where, _st(palette, "muted", "italic")),
    )
    stats = Text("  ")
    for key in ("mean", "std", "min", "max"):
        stats.append(f" {key} ", _st(palette, "muted"))
        stats.append(UNKNOWN if s[key] is None else _num(s[key]), _st(palette, kind))
        stats.append(" ")
    label_w = len(str(r + rows - 1)) if np.ndim(v) >= 2 else 0
    lines = []
    for i, row in enumerate(sample):
        label = f"{r + i:>{label_w}} │" if label_w else ""
        line = Text("  " + label, _st(palette, "muted"))
        line.append("".join(f" {x:>9.3g}" for x in row))
        lines.append(line)
    return [head, stats, *lines]


def _value_lines(names, values: dict, palette: dict, kind: str) -> list[Text]:
    """name = scalar on one line each, or a tensor block."""
    out: list[Text] = []
    for name in names:
        v = values[name]
        label = f"d {name}" if kind == "grad" else name
        if np.ndim(v) == 0:
            out.append(
                Text.assemble((f"{label} = ", _st(palette, "bold")), (fmt(v), _st(palette, kind)))
            )
        else:
            out.extend(tensor_block(label, v, palette, kind))
    return out


def _section(title: str, palette: dict) -> Text:
    return Text(title, _st(palette, "muted", "italic"))


def _forward_preview(trace: Trace, step: TraceStep, palette: dict) -> list[Text]:
    node = trace.node(step.node)
    (out,) = node.outputs
    if node.op == "x":
        a, b = node.inputs
        parts = [
            f"∂{out}/∂{a} = {b} = {fmt(step.inputs[b])}",
            f"∂{out}/∂{b} = {a} = {fmt(step.inputs[a])}",
        ]
        return [Text(part, _st(palette, "grad")) for part in parts]
    if node.op == "+":
        return [Text(f"∂{out}/∂{e} = 1", _st(palette, "grad")) for e in node.inputs]
    return [Text(BACKWARD_PREVIEW.get(node.op, ""), _st(palette, "grad"))]


def nothing_yet(trace: Trace, palette: dict) -> RenderableType:
    """Step 0: the graph before anything runs."""
    given = [n for n, e in trace.edges.items() if e.kind in GIVEN_KINDS]
    first = trace.steps[0].node
    return Group(
        Text("Step 0: nothing computed yet", _st(palette, "current", "bold")),
        Text(f"given: {', '.join(given)}", _st(palette, "value")),
        Text(f"every other edge is {UNKNOWN}, and so is every gradient", _st(palette, "muted")),
        Text(f"→ runs the forward pass, node by node, from {first}", _st(palette, "muted")),
    )


def node_detail(
    trace: Trace, k: int, palette: dict, short_code: bool = False, wrong: Any = None
) -> RenderableType:
    """Operation and rule with the live numbers first, the layer's code that computes them,
    then the values (forward) or the gradients (backward) of the node's edges.

    short_code: only the code's marked lines (a small screen). wrong: the first wrong node of
    a learner's backward pass (nn.trace.WrongNode): its backward step says what it should be."""
    if k < 0:
        return nothing_yet(trace, palette)
    step = trace.steps[k]
    node = trace.node(step.node)
    lines: list[RenderableType] = [
        Text.assemble(
            (node.name, _st(palette, "current", "bold")),
            ("   ", Style()),
            (OP_NAMES.get(node.op, node.op), _st(palette, "muted")),
        )
    ]
    code = code_for(trace, step)
    if step.phase == "forward":
        lines += [Text(rule, _st(palette, "value", "bold")) for rule in step.rule.splitlines()]
        if code is not None:
            lines.append(code_pane(code, palette, short=short_code))
        lines.append(_section("inputs", palette))
        lines += _value_lines(node.inputs, step.inputs, palette, "value")
        lines.append(_section("output", palette))
        lines += _value_lines(node.outputs, step.outputs, palette, "value")
        lines.append(_section("on the way back", palette))
        lines += _forward_preview(trace, step, palette)
        return Group(*lines)
    rule = "the book's rule" if step.code is not None else "rule"  # their code may differ
    lines.append(_section(f"{rule}: the gradient from above (dout) × the local slope", palette))
    lines += [Text(rule, _st(palette, "grad", "bold")) for rule in step.rule.splitlines()]
    if code is not None:
        lines.append(code_pane(code, palette, short=short_code))
    if wrong is not None and wrong.node == node.name:
        lines.append(Text(f"✖ {wrong}", _st(palette, "bad")))
    lines.append(_section("gradient from above (dout)", palette))
    lines += _value_lines(list(step.grad_in), step.grad_in, palette, "grad")
    if any(np.ndim(g) > 0 for g in step.grads_out.values()):
        lines.append(_section("gradients passed back", palette))
        lines += _value_lines(list(step.grads_out), step.grads_out, palette, "grad")
    return Group(*lines)


def edges_table(trace: Trace, k: int, palette: dict) -> RenderableType:
    """Graphs 1 and 2: every edge with its value and gradient so far ("?" when not yet known)."""
    state = trace.state_at(k)
    step = trace.steps[k] if k >= 0 else None
    if step is None:
        touched, dout = set(), {}
    else:
        touched = set(step.outputs) if step.phase == "forward" else set(step.grads_out)
        dout = step.grad_in
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
    table.add_column("edge", style=_st(palette, "bold"))
    table.add_column("value", justify="right")
    table.add_column("gradient", justify="right")
    table.add_column("", style=_st(palette, "muted"))
    for name, edge in trace.edges.items():
        value = edge.value if edge.kind in GIVEN_KINDS else state[name][0]
        grad = state[name][1]
        mark = "◀ this step" if name in touched else "◀ dout" if name in dout else ""
        given = "input" if edge.kind in GIVEN_KINDS else ""
        table.add_row(
            Text(name, _st(palette, "current") if name in touched else Style()),
            Text(UNKNOWN, _st(palette, "unknown"))
            if value is None
            else Text(fmt(value), _st(palette, "value")),
            Text(UNKNOWN, _st(palette, "unknown"))
            if grad is None
            else Text(fmt(grad), _st(palette, "grad")),
            mark or given,
        )
    (out,) = [n for n, e in trace.edges.items() if e.kind == "output"]
    note = Text(
        f"a gradient: how much {out} moves per +1 on that edge",
        _st(palette, "muted", "italic"),
    )
    return Group(table, note)


def network_summary(
    trace: Trace, k: int, report: Any, palette: dict, batch: str = ""
) -> RenderableType:
    """Graph 3: each parameter's backprop gradient beside the gradient check of the same batch
    (mean |Δ| and rel err, the book's figures in book mode, and the verdict by the one rule of
    bp_tui.nn.gradcheck), and the norm of the gradient each layer passes back. Backprop numbers
    stay "?" until the backward pass reaches them; the check's columns until it arrives."""
    state = trace.state_at(k)
    book = report is not None and not report.exact
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, expand=False)
    figure = report.figure_name if report is not None else "rel err"
    for name in ("", "‖backprop‖", "mean|Δ|", figure, "verdict"):
        # The verdict keeps its line: the headers wrap first in a narrow pane.
        table.add_column(
            name, justify="right", header_style=_st(palette, "muted"), no_wrap=name == "verdict"
        )
    kinked, sampled = [], []
    figures = _st(palette, "muted") if book else Style()
    for name, edge in trace.edges.items():
        if edge.kind != "param":
            continue
        g = state[name][1]
        backprop = (
            Text(UNKNOWN, _st(palette, "unknown"))
            if g is None
            else Text(f"{np.linalg.norm(g):.4g}", _st(palette, "grad"))
        )
        check = report.params.get(name) if report is not None else None
        if check is None:
            wait = Text("…", _st(palette, "unknown"))
            table.add_row(Text(name, _st(palette, "bold")), backprop, wait, wait, "")
            continue
        if check.kinked:
            kinked.append(f"{name} {check.kinked:,}")
        if check.checked:
            sampled.append(f"{name} {check.checked:,} of {check.size:,}")
        table.add_row(
            Text(name, _st(palette, "bold")),
            backprop,
            Text(check.shown(check.mean_abs_diff), figures),
            Text(check.shown_rel_error(), figures),
            Text(check.verdict(report.exact), _st(palette, "ok" if check.passed else "bad")),
        )
    head = Text("backprop vs. numerical gradients", _st(palette, "muted"))
    if report is None:
        head.append(" · checking…", _st(palette, "muted"))
    else:
        head.append(f" · {report.mode} mode", _st(palette, "muted"))
    parts: list[RenderableType] = [head]
    if batch:
        parts.append(Text(f"of the same batch: {batch}", _st(palette, "muted")))
    parts.append(table)
    notes = []
    if report is not None:
        notes += [f"✖ {c.shape_problem(k)}" for k, c in report.params.items() if c.shape]
        notes += report.rule_lines()
    if sampled:
        notes.append(f"sampled: {', '.join(sampled)} elements")
    if kinked:
        notes.append(f"at ReLU's kink (not in rel err): {', '.join(kinked)}")
    parts += [Text(note, _st(palette, "muted", "italic")) for note in notes]
    parts += [Text(""), Text("‖d‖ passed back by each layer", _st(palette, "muted"))]
    parts.append(_layer_norms(trace, k, palette))
    return Group(*parts)


def _layer_norms(trace: Trace, k: int, palette: dict) -> RenderableType:
    norms = trace.grad_norms(upto=k)
    layers = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
    layers.add_column(style=_st(palette, "bold"))
    layers.add_column()
    for node in reversed(trace.nodes):
        cells = Text()
        for e in (e for e in node.inputs if trace.edges[e].differentiable):
            v = norms.get(node.name, {}).get(e)
            cells.append(f"{e} ", _st(palette, "muted"))
            cells.append(
                UNKNOWN if v is None else f"{v:.2g}",
                _st(palette, "unknown" if v is None else "grad"),
            )
            cells.append(" ")
        layers.add_row(node.name, cells)
    return layers
