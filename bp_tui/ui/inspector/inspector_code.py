"""The inspector's code pane: the book's layer method that computes the current step, read from
the layer's own class (inspect.getsource: the code that ran, never a copy), coloured with the
inspector's palette, the lines that compute what the step shows marked.
"""

from __future__ import annotations

import inspect
import textwrap
from functools import cache
from pathlib import Path

import numpy as np
from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, String
from rich.style import Style
from rich.text import Text

from bp_tui.nn.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.trace import CodeView, Source, Trace, TraceStep

# What each method's lines compute, found by a piece of the line's text (a test checks that
# every piece is in its method exactly once). Forward: None marks the node's output, a string
# names another value; backward: the indices in node.inputs of the gradients the line computes.
Computes = tuple[tuple[str, tuple[int, ...] | str | None], ...]
COMPUTES: dict[tuple[type, str], Computes] = {
    (MulLayer, "forward"): (("return x * y", None),),
    (MulLayer, "backward"): (("return dout * self.y, dout * self.x", (0, 1)),),
    (AddLayer, "forward"): (("return x + y", None),),
    (AddLayer, "backward"): (("return dout * 1, dout * 1", (0, 1)),),
    (Affine, "forward"): (("np.dot(self.x, self.W) + self.b", None),),
    (Affine, "backward"): (
        ("self.dW = np.dot(self.x.T, dout)", (1,)),
        ("self.db = dout.sum(axis=0)", (2,)),
        ("return np.dot(dout, self.W.T)", (0,)),
    ),
    (Relu, "forward"): (("return np.maximum(x, 0)", None),),
    (Relu, "backward"): (("return np.where(self.mask, 0, dout)", (0,)),),
    (Sigmoid, "forward"): (("self.out = sigmoid(x)", None),),
    (Sigmoid, "backward"): (("return dout * (1.0 - self.out) * self.out", (0,)),),
    (SoftmaxWithLoss, "forward"): (
        ("self.y = softmax(x)", "y"),
        ("self.loss = cross_entropy_error(", None),
    ),
}
# SoftmaxWithLoss.backward has a branch for labels and one for rows of targets (one-hot).
SOFTMAX_BACKWARD: dict[str, Computes] = {
    "labels": (
        ("dx = y.copy()", (0,)),
        ("dx[np.arange(batch_size)", (0,)),
        ("dx *= dout / batch_size", (0,)),
    ),
    "rows": (("return (y - t.reshape(y.shape))", (0,)),),
}
LONG_LABEL = 12  # a label longer than this goes under its line rather than cut it short
CODE_STYLES = {  # pygments token -> the inspector's palette name
    Keyword: "code-keyword",
    Name.Function: "code-function",
    Number: "code-number",
    String: "code-string",
    Comment: "code-comment",
}


@cache
def method_source(cls: type, method: str) -> Source:
    """The source of cls.method, read from the class itself."""
    function = getattr(cls, method)
    lines, first = inspect.getsourcelines(function)
    text = textwrap.dedent("".join(lines))
    path = Path(inspect.getsourcefile(function) or "?")
    # bp_tui/nn/layers.py rather than the machine's absolute path.
    shown = "/".join(path.parts[-3:]) if len(path.parts) >= 3 else str(path)
    return Source(f"{cls.__name__}.{method}", tuple(text.splitlines()), shown, first)


def code_for(trace: Trace, step: TraceStep) -> CodeView | None:
    """The layer method behind a step and its marked lines; None for a layer of no known class.
    A step of a learner's layer brings its own (read where their code ran)."""
    if step.code is not None:
        return step.code
    node = trace.node(step.node)
    cls = type(node.layer)
    computes = COMPUTES.get((cls, step.phase))
    if cls is SoftmaxWithLoss and step.phase == "backward":
        # The layer's own test: as many targets as scores means rows of targets.
        scores, targets = (trace.edges[e].value for e in node.inputs)
        computes = SOFTMAX_BACKWARD["rows" if np.size(targets) == np.size(scores) else "labels"]
    if computes is None:
        return None
    source = method_source(cls, step.phase)
    marks: dict[int, str] = {}
    for piece, what in computes:
        where = [i for i, line in enumerate(source.lines) if piece in line]
        if len(where) != 1:
            continue  # the layer's code changed: show it unmarked rather than mark a wrong line
        if what is None:
            label = node.outputs[0]
        elif isinstance(what, str):
            label = what
        else:
            label = ", ".join(f"d {node.inputs[i]}" for i in what)
        marks[where[0]] = label
    return CodeView(source, marks, step.phase)


def _coloured(line: str, palette: dict[str, Style]) -> Text:
    """One line of Python in the palette's colours (pygments finds the tokens)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for token, value in PythonLexer().get_tokens(line):
        value = value.rstrip("\n")
        name = next((n for t, n in CODE_STYLES.items() if token in t), None)
        text.append(value, palette.get(name, Style()) if name else Style())
    return text


class CodePane:
    """The method with its marked lines: "▶", a tinted background, and what each computes at
    the right edge; a line too long for the width is cut short (…) before its label, never the
    label. short: only the def line and the marked lines (a small screen)."""

    def __init__(self, view: CodeView, palette: dict[str, Style], short: bool = False) -> None:
        self.view, self.palette, self.short = view, palette, short

    def _style(self, name: str) -> Style:
        return self.palette.get(name, Style())

    def lines(self, width: int) -> list[Text]:
        view, src = self.view, self.view.source
        arrow, kind = ("→", "value") if view.phase == "forward" else ("←", "grad")
        labels = {i: f" {arrow} {label}" for i, label in view.marks.items()}
        label_w = max(map(len, labels.values()), default=0)
        # Labels line up just after the longest marked line. A long label ("d apple_price,
        # d orange_price") that would cut its line short goes under it instead.
        room = width - 2 - label_w
        below = label_w > LONG_LABEL and any(len(src.lines[i]) > room for i in labels)
        longest = max((len(src.lines[i]) for i in labels), default=0)
        code_w = max(8, width - 2 if below else min(longest, room))
        tint = self.palette.get("code-line")
        tint = Style(bgcolor=tint.bgcolor) if tint is not None else Style()
        out = [
            Text.assemble(
                ("the code: ", self._style("muted")),
                (src.qualname, self._style("name")),
                (f"  {src.path}:{src.first_line}", self._style("muted")),
            )
        ]
        gap = False
        for i, source_line in enumerate(src.lines):
            if self.short and i > 0 and i not in labels:
                gap = True
                continue
            if gap:
                out.append(Text("  …", self._style("muted")))
                gap = False
            code = _coloured(source_line, self.palette)
            if i not in labels:
                code.truncate(max(8, width - 2), overflow="ellipsis")
                out.append(Text("  ") + code)
                continue
            code.truncate(code_w, overflow="ellipsis")
            code.pad_right(code_w - code.cell_len)
            label = Text(labels[i], self._style(kind) + Style(bold=True))
            marked = [Text("▶ ", self._style("current")) + code]
            if below:
                label.truncate(width - 4, overflow="ellipsis")
                marked.append(Text(" " * max(2, width - label.cell_len)) + label)
            else:
                marked[0].append_text(label)
            for line in marked:
                line.stylize(tint)
            out += marked
        if gap:
            out.append(Text("  …", self._style("muted")))
        return out

    def __rich_console__(self, console, options):
        for line in self.lines(options.max_width):
            line.no_wrap, line.end = True, "\n"
            yield line


def code_pane(view: CodeView, palette: dict[str, Style], short: bool = False) -> CodePane:
    """The code pane of a step (see CodePane)."""
    return CodePane(view, palette, short)
