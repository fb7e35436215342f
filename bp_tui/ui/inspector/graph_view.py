"""The computational graph drawn as the book draws it: boxes left to right, arrows between them,
each arrow with its forward value above and its gradient below ("?" until known).

Drawing only: a character canvas, one hand-made layout per graph (apple, apple and orange, the
network), and a ``Look`` that says what each label reads and how it is styled at step k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.style import Style
from rich.text import Text

from bp_tui.nn.trace import Trace, fmt

# Edges whose values are given, not computed: their values show from the start.
GIVEN_KINDS = ("input", "param", "label")
UNKNOWN = "?"

# Arrowheads and corners: (direction in, direction out) -> character.
HEADS = {(1, 0): "▶", (-1, 0): "◀", (0, 1): "▼", (0, -1): "▲"}
CORNERS = {
    ((1, 0), (0, 1)): "┐",
    ((1, 0), (0, -1)): "┘",
    ((0, 1), (1, 0)): "└",
    ((0, -1), (1, 0)): "┌",
    ((0, 1), (-1, 0)): "┘",
    ((0, -1), (-1, 0)): "┐",
    ((-1, 0), (0, 1)): "┌",
    ((-1, 0), (0, -1)): "└",
}
LIGHT = "┌┐└┘─│"
HEAVY = "┏┓┗┛━┃"
DRAWING = set(LIGHT + HEAVY + "".join(HEADS.values()) + "".join(CORNERS.values()) + "┼")

Seg = tuple[str, Style | None]


class Canvas:
    """A sparse grid of styled characters that grows as things are drawn on it."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], Seg] = {}
        self.focus: tuple[int, int] | None = None  # columns of the highlighted box
        self.boxes: list[tuple[int, int]] = []  # the columns of every box, left to right

    def put(self, x: int, y: int, text: str, style: Style | None = None) -> None:
        for i, ch in enumerate(text):
            if x + i >= 0 and y >= 0:
                self.cells[(x + i, y)] = (ch, style)

    def center(self, x0: int, x1: int, y: int, text: str, style: Style | None = None) -> None:
        """text centred on columns x0..x1 (spilling evenly on both sides when it is longer)."""
        self.put(x0 + (x1 - x0 + 1 - len(text)) // 2, y, text, style)

    def right(self, x_end: int, y: int, text: str, style: Style | None = None) -> None:
        self.put(x_end - len(text) + 1, y, text, style)

    def path(self, points: list[tuple[int, int]], style: Style | None, head: bool = True) -> None:
        """Axis-aligned segments through points, with corners, ending in an arrowhead."""
        dirs = []
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            d = (int(np.sign(x1 - x0)), int(np.sign(y1 - y0)))
            dirs.append(d)
            ch = "─" if d[1] == 0 else "│"
            x, y = x0, y0
            while (x, y) != (x1, y1):
                self.put(x, y, ch, style)
                x, y = x + d[0], y + d[1]
        for (x, y), d_in, d_out in zip(points[1:-1], dirs, dirs[1:], strict=False):
            self.put(x, y, CORNERS.get((d_in, d_out), "┼"), style)
        x, y = points[-1]
        self.put(x, y, HEADS[dirs[-1]] if head else ("─" if dirs[-1][1] == 0 else "│"), style)

    def box(self, x: int, y: int, w: int, h: int, label: str, style, label_style, heavy=False):
        tl, tr, bl, br, hz, vt = HEAVY if heavy else LIGHT
        if heavy:
            self.focus = (x, x + w - 1)
        self.boxes.append((x, x + w - 1))
        self.put(x, y, tl + hz * (w - 2) + tr, style)
        for row in range(y + 1, y + h - 1):
            self.put(x, row, vt + " " * (w - 2) + vt, style)
        self.put(x, y + h - 1, bl + hz * (w - 2) + br, style)
        self.center(x + 1, x + w - 2, y + h // 2, label, label_style)

    def text(self) -> Text:
        if not self.cells:
            return Text()
        width = max(x for x, _ in self.cells) + 1
        height = max(y for _, y in self.cells) + 1
        out = Text(no_wrap=True, overflow="crop", end="")
        for y in range(height):
            row = [self.cells.get((x, y), (" ", None)) for x in range(width)]
            while row and row[-1] == (" ", None):
                row.pop()
            for ch, style in row:
                out.append(ch, style)
            if y < height - 1:
                out.append("\n")
        return out


# --- what the labels say at step k ------------------------------------------------------------


@dataclass
class Look:
    """The labels and styles of a trace at step k (k = -1: before the first step)."""

    trace: Trace
    k: int
    palette: dict[str, Style]
    wrong: str | None = None  # the first wrong node of a learner's backward pass, drawn in red

    def __post_init__(self) -> None:
        self.state = self.trace.state_at(self.k)
        before = self.trace.state_at(self.k - 1) if self.k >= 0 else self.state
        self.fresh_values = {
            e for e, (v, _) in self.state.items() if v is not None and before[e][0] is None
        } - {e for e, edge in self.trace.edges.items() if edge.kind in GIVEN_KINDS}
        self.fresh_grads = {
            e for e, (_, g) in self.state.items() if g is not None and before[e][1] is None
        }
        self.current = self.trace.steps[self.k].node if self.k >= 0 else None

    def style(self, *names: str) -> Style:
        return Style.combine(self.palette.get(n, Style()) for n in names)

    def value(self, edge: str) -> Any:
        e = self.trace.edges[edge]
        return e.value if e.kind in GIVEN_KINDS else self.state[edge][0]

    def grad(self, edge: str) -> Any:
        return self.state[edge][1]

    def value_seg(self, edge: str, text: str | None = None) -> Seg:
        v = self.value(edge)
        if v is None:
            return UNKNOWN, self.style("unknown")
        fresh = ("fresh",) if edge in self.fresh_values else ()
        return (fmt(v) if text is None else text), self.style("value", *fresh)

    def grad_seg(self, edge: str, text: str | None = None) -> Seg:
        if not self.trace.edges[edge].differentiable:
            return "", None
        g = self.grad(edge)
        if g is None:
            return UNKNOWN, self.style("unknown")
        fresh = ("fresh",) if edge in self.fresh_grads else ()
        return (fmt(g) if text is None else text), self.style("grad", *fresh)

    def line(self, edge: str) -> Style:
        if edge in self.fresh_grads:
            return self.style("grad")
        if edge in self.fresh_values:
            return self.style("value")
        return self.style("line")

    def box_styles(self, node: str) -> tuple[Style, Style, bool]:
        """Frame and label styles of a node's box, and whether it is the current one; both
        styles carry the node's name, so that a click on the box says which node it was."""
        which = Style(meta={"node": node})
        if node == self.wrong:
            return self.style("bad") + which, self.style("bad") + which, node == self.current
        if node == self.current:
            return self.style("current") + which, self.style("current", "op") + which, True
        return self.style("box") + which, self.style("op") + which, False


# --- the book's apple graphs ------------------------------------------------------------------

BOX_W = 7  # "│  ×  │"
BOX_H = 7  # inputs enter on rows 1 and 5, the output leaves on row 3
OPS = {"x": "×", "+": "+"}


def _scalar_gap(look: Look) -> int:
    """Arrow length: room for the longest label that can appear, and never shorter than 8."""
    texts = [fmt(e.value) for e in look.trace.edges.values() if e.value is not None]
    texts += [fmt(e.grad) for e in look.trace.edges.values() if e.grad is not None]
    return max(8, max(map(len, texts)) + 3)


def _labels(c: Canvas, look: Look, edge: str, x0: int, x1: int, y: int) -> None:
    c.center(x0, x1, y - 1, *look.value_seg(edge))
    c.center(x0, x1, y + 1, *look.grad_seg(edge))


def _input(c: Canvas, look: Look, edge: str, y: int, name_w: int, path: list) -> None:
    """An input: its name at the left, its arrow from column name_w, labels on the first stretch."""
    c.put(0, y, edge, look.style("name"))
    c.path([(name_w, y), *path], look.line(edge))
    _labels(c, look, edge, name_w, min(path[0][0], name_w + _scalar_gap(look)) - 1, y)


def _scalar_box(c: Canvas, look: Look, node: str, x: int, y: int) -> None:
    style, label_style, heavy = look.box_styles(node)
    c.box(x, y, BOX_W, BOX_H, OPS[look.trace.node(node).op], style, label_style, heavy)


def _output(c: Canvas, look: Look, edge: str, x: int, y: int, gap: int) -> None:
    c.path([(x, y), (x + gap - 1, y)], look.line(edge))
    _labels(c, look, edge, x, x + gap - 1, y)
    c.put(x + gap + 1, y, edge, look.style("name"))


def draw_apple(look: Look) -> Canvas:
    """apple, apple_num -> (×) -> apple_price; apple_price, tax -> (×) -> price."""
    c, g = Canvas(), _scalar_gap(look)
    n = max(len(e) for e in ("apple", "apple_num", "tax")) + 1
    x1 = n + g
    x2 = x1 + BOX_W + g
    _input(c, look, "apple", 1, n, [(x1 - 1, 1)])
    _input(c, look, "apple_num", 5, n, [(x1 - 1, 5)])
    _scalar_box(c, look, "mul_apple", x1, 0)
    c.path([(x1 + BOX_W, 3), (x2 - 1, 3)], look.line("apple_price"))
    _labels(c, look, "apple_price", x1 + BOX_W, x2 - 1, 3)
    _input(c, look, "tax", 9, n, [(x2 - 3, 9), (x2 - 3, 7), (x2 - 1, 7)])
    _scalar_box(c, look, "mul_tax", x2, 2)
    _output(c, look, "price", x2 + BOX_W, 5, g)
    return c


def draw_apple_orange(look: Look) -> Canvas:
    """Two × rows (apple, orange) merging into +, then × tax: the book's figure 5-17."""
    c, g = Canvas(), _scalar_gap(look)
    n = max(len(e) for e in ("apple", "apple_num", "orange", "orange_num", "tax")) + 1
    x1 = n + g
    bend = x1 + BOX_W + g  # where the two prices turn towards the + box
    x2 = bend + 3
    x3 = x2 + BOX_W + g
    for top, (item, count, node) in zip(
        (0, 7),
        (("apple", "apple_num", "mul_apple"), ("orange", "orange_num", "mul_orange")),
        strict=True,
    ):
        _input(c, look, item, top + 1, n, [(x1 - 1, top + 1)])
        _input(c, look, count, top + 5, n, [(x1 - 1, top + 5)])
        _scalar_box(c, look, node, x1, top)
    # apple_price leaves mul_apple on row 3 and enters + on row 5; orange_price 10 -> 9.
    for edge, y_out, y_in in (("apple_price", 3, 5), ("orange_price", 10, 9)):
        c.path([(x1 + BOX_W, y_out), (bend, y_out), (bend, y_in), (x2 - 1, y_in)], look.line(edge))
        _labels(c, look, edge, x1 + BOX_W, bend - 1, y_out)
    _scalar_box(c, look, "add_apple_orange", x2, 4)
    c.path([(x2 + BOX_W, 7), (x3 - 1, 7)], look.line("all_price"))
    _labels(c, look, "all_price", x2 + BOX_W, x3 - 1, 7)
    _input(c, look, "tax", 16, n, [(x3 - 3, 16), (x3 - 3, 11), (x3 - 1, 11)])
    _scalar_box(c, look, "mul_tax", x3, 6)
    _output(c, look, "price", x3 + BOX_W, 9, g)
    return c


# --- the network --------------------------------------------------------------------------------

NET_ROW = 4  # the row of the main chain x -> Affine1 -> ... -> loss


def shape_text(v: Any) -> str:
    return str(tuple(np.shape(v)))


def mean_text(v: Any) -> str:
    return f"μ {float(np.mean(v)):.2g}"


def norm_text(g: Any) -> str:
    return f"‖d‖ {float(np.linalg.norm(g)):.2g}"


def _tensor_labels(look: Look, edge: str) -> tuple[list[Seg], list[Seg]]:
    """Above: the shape and the mean of the value; below: the norm of the gradient."""
    e = look.trace.edges[edge]
    if np.ndim(e.value) == 0:  # the loss
        return [look.value_seg(edge)], [look.grad_seg(edge)]
    v, g = look.value(edge), look.grad(edge)
    shape = (shape_text(e.value), look.style("value" if v is not None else "unknown"))
    mean = look.value_seg(edge, mean_text(v) if v is not None else None)
    grad = look.grad_seg(edge, norm_text(g) if g is not None else None)
    return [shape, mean], [grad]


def _net_h_edge(c: Canvas, look: Look, edge: str, x0: int, x1: int) -> None:
    above, below = _tensor_labels(look, edge)
    c.path([(x0, NET_ROW), (x1, NET_ROW)], look.line(edge))
    for i, (text, style) in enumerate(reversed(above)):
        c.center(x0, x1, NET_ROW - 1 - i, text, style)
    for i, (text, style) in enumerate(below):
        c.center(x0, x1, NET_ROW + 1 + i, text, style)


def _net_v_edge(c: Canvas, look: Look, edge: str, x: int, from_above: bool) -> None:
    """A parameter (or t) feeding a box from above or below; value left, gradient right."""
    e = look.trace.edges[edge]
    if from_above:
        name_y, stat_y, points = 0, 1, [(x, 1), (x, NET_ROW - 2)]
    else:
        name_y, stat_y, points = NET_ROW + 4, NET_ROW + 3, [(x, NET_ROW + 3), (x, NET_ROW + 2)]
    c.path(points, look.line(edge))
    c.center(x, x, name_y, f"{edge} {shape_text(e.value)}", look.style("name"))
    if e.kind == "label":
        labels = " ".join(str(int(v)) for v in np.ravel(e.value)[:4]) + " …"
        c.right(x - 2, stat_y, labels, look.style("value"))
        return
    g = look.grad(edge)
    c.right(x - 2, stat_y, mean_text(e.value), look.style("value"))
    c.put(x + 2, stat_y, *look.grad_seg(edge, norm_text(g) if g is not None else None))


def _net_gap(look: Look, edge: str) -> int:
    e = look.trace.edges[edge]
    if np.ndim(e.value) == 0:
        return max(7, len(fmt(e.value)) + 3)
    texts = [shape_text(e.value), mean_text(e.value)]
    if e.grad is not None:
        texts.append(norm_text(e.grad))
    return max(map(len, texts)) + 2


def draw_network(look: Look) -> Canvas:
    """x -> Affine1 -> Relu1|Sigmoid1 -> Affine2 -> SoftmaxWithLoss -> loss, params above/below."""
    c = Canvas()
    tr = look.trace
    c.put(0, NET_ROW, "x", look.style("name"))
    x = 2
    for node in tr.nodes:
        main_in = node.inputs[0]
        gap = _net_gap(look, main_in)
        _net_h_edge(c, look, main_in, x, x + gap - 1)
        x += gap
        label = node.name  # the book's layer names: Affine1, Relu1, SoftmaxWithLoss
        w = len(label) + 4
        style, label_style, heavy = look.box_styles(node.name)
        c.box(x, NET_ROW - 1, w, 3, label, style, label_style, heavy)
        mid = x + w // 2
        for edge in node.inputs[1:]:
            kind = tr.edges[edge].kind
            _net_v_edge(c, look, edge, mid, from_above=kind == "param" and edge.startswith("W"))
        x += w
    (out,) = tr.nodes[-1].outputs
    gap = _net_gap(look, out)
    _net_h_edge(c, look, out, x, x + gap - 1)
    c.put(x + gap + 1, NET_ROW, out, look.style("name"))
    return c


def _compact_value(look: Look, edge: str) -> Seg:
    e = look.trace.edges[edge]
    v = look.value(edge)
    if v is None:
        return UNKNOWN, look.style("unknown")
    if np.ndim(e.value) == 0:
        return look.value_seg(edge)
    if e.kind == "label":
        return look.value_seg(edge, f"{shape_text(v)} labels")
    return look.value_seg(edge, f"{shape_text(v)} {mean_text(v)}")


def _compact_grad(look: Look, edge: str) -> Seg:
    if not look.trace.edges[edge].differentiable:
        return "", None
    g = look.grad(edge)
    if g is None or np.ndim(g) == 0:
        return look.grad_seg(edge)
    return look.grad_seg(edge, norm_text(g))


def draw_network_compact(look: Look, width: int) -> Canvas:
    """For a narrow screen: the chain with short arrows named by their edge, parameters named
    over their box, and every edge's value and gradient in a table below the picture."""
    c = Canvas()
    tr = look.trace
    row = 2
    c.put(0, row, "x", look.style("name"))
    x = 1
    for node in tr.nodes:
        main_in = node.inputs[0]
        arrow = "─▶" if main_in == "x" else f"─{main_in}─▶"
        c.put(x, row, arrow, look.line(main_in))
        x += len(arrow)
        w = len(node.name) + 2
        style, label_style, heavy = look.box_styles(node.name)
        c.box(x, row - 1, w, 3, node.name, style, label_style, heavy)
        side = [e for e in node.inputs[1:]]
        above = " ".join(e for e in side if tr.edges[e].kind == "param")
        below = " ".join(e for e in side if tr.edges[e].kind == "label")
        if above:
            c.center(x, x + w - 1, row - 2, f"{above} ▼", look.style("name"))
        if below:
            c.center(x, x + w - 1, row + 2, f"▲ {below}", look.style("name"))
        x += w
    (out,) = tr.nodes[-1].outputs
    c.put(x, row, "─▶ ", look.line(out))
    c.put(x + 3, row, out, look.style("name"))
    # The table: name, value, gradient; as many columns of edges as fit.
    cells = []
    for name in tr.edges:
        value, grad = _compact_value(look, name), _compact_grad(look, name)
        cells.append((name, value, grad))
    name_w = max(len(n) for n, _, _ in cells)
    value_w = max(len(v[0]) for _, v, _ in cells)
    grad_w = max(len(g[0]) for _, _, g in cells)
    cell_w = name_w + value_w + grad_w + 4
    per_row = max(1, min(3, (width + 2) // cell_w))
    rows = -(-len(cells) // per_row)
    top = row + 3
    for i, (name, (vt, vs), (gt, gs)) in enumerate(cells):
        col, r = divmod(i, rows)
        cx, cy = col * cell_w, top + r
        c.put(cx, cy, name, look.style("name"))
        c.right(cx + name_w + value_w, cy, vt, vs)
        c.put(cx + name_w + value_w + 2, cy, gt, gs)
    return c


def window(canvas: Canvas, width: int, look: Look) -> Canvas:
    """The columns of the book's layout that fit `width`, scrolled to keep the current node's
    box in the middle (the start before the first step), with a line below naming how many
    layers lie out of view on either side. The window's edges fall between two things drawn,
    never through a box or a label: a parameter in view shows its mean and its gradient."""
    total = _width(canvas)
    if canvas.focus is None:
        start = 0
    else:
        centre = (canvas.focus[0] + canvas.focus[1]) // 2
        start = min(max(centre - width // 2, 0), total - width)
    start, end = _whole_span(canvas, start, width)
    out = Canvas()
    for (x, y), seg in canvas.cells.items():
        if start <= x < end:
            out.cells[(x - start, y)] = seg
    # The chain goes on to the edge where the next layer is left out.
    line = canvas.cells.get((end, NET_ROW))
    if end < start + width and line is not None and line[0] == "─":
        out.put(end - start, NET_ROW, "─" * (start + width - end), line[1])
    _drop_cut_words(canvas, out, start, width)
    if canvas.focus is not None:
        out.focus = (canvas.focus[0] - start, canvas.focus[1] - start)
    out.boxes = [(a - start, b - start) for a, b in canvas.boxes]
    before = sum(a < start for a, _ in canvas.boxes)
    after = sum(b >= end for _, b in canvas.boxes)
    y = max(y for _, y in canvas.cells) + 1
    muted = look.style("unknown")
    if before:
        out.put(0, y, f"◀ {before} more before", muted)
    if after:
        out.right(width - 1, y, f"{after} more after ▶", muted)
    return out


def _whole_span(canvas: Canvas, start: int, width: int) -> tuple[int, int]:
    """The columns [start, end) to show: a span of whole things that holds the current node's
    box, as wide as may be with the box near its middle; `start, start + width` when the
    current node does not fit whole (the labels cut are then dropped)."""
    cuts = _cuts(canvas)
    focus = canvas.focus or (0, 0)
    best: tuple[float, int] | None = None
    for a in cuts:
        if a > focus[0]:
            break
        b = max(c for c in cuts if c <= a + width) if a + width >= cuts[0] else a
        if b <= focus[1]:
            continue
        # Showing more counts, and so does the current box's nearness to the middle.
        score = abs(a + b - focus[0] - focus[1]) / 2 - (b - a)
        if best is None or score < best[0]:
            best = (score, a)
    if best is None:
        return start, start + width
    a = best[1]
    return a, max(c for c in cuts if c <= a + width)


def _cuts(canvas: Canvas) -> list[int]:
    """The columns a window may start or end at: those no label, box or arrowhead group
    crosses above or below the chain's row (a label's single inner spaces join it)."""
    total = _width(canvas)
    rows = {y for _, y in canvas.cells} - {NET_ROW}

    def ink(x: int, y: int) -> bool:
        return canvas.cells.get((x, y), (" ", None))[0] != " "

    def text(x: int, y: int) -> bool:
        return ink(x, y) and canvas.cells[(x, y)][0] not in DRAWING

    def joined(x: int, y: int) -> bool:
        """Whether columns x - 1 and x belong to one thing on row y."""
        if ink(x - 1, y) and ink(x, y):
            return True
        return (text(x - 1, y) and text(x + 1, y)) or (text(x, y) and text(x - 2, y))

    return [x for x in range(total + 1) if not any(joined(x, y) for y in rows)]


def _drop_cut_words(canvas: Canvas, out: Canvas, start: int, width: int) -> None:
    """Blank what the window's edges leave of a label they cut through ("100)" of
    "(100, 100)"): a label is a run of text with single spaces inside; the lines and arrows
    crossing the edges stay."""

    def text(x: int, y: int) -> bool:
        ch = canvas.cells.get((x, y), (" ", None))[0]
        return ch != " " and ch not in DRAWING

    def label_at(x: int, y: int, step: int) -> bool:
        """Whether x is text, or a lone space inside a label, going `step` from it."""
        return text(x, y) or (text(x - step, y) and text(x + step, y))

    for y in {y for _, y in canvas.cells}:
        for edge, inward in ((start, 1), (start + width - 1, -1)):
            if not (label_at(edge, y, inward) and label_at(edge - inward, y, inward)):
                continue
            x = edge
            while start <= x < start + width and label_at(x, y, inward):
                out.cells.pop((x - start, y), None)
                x += inward


def draw(
    trace: Trace,
    k: int,
    palette: dict[str, Style],
    width: int | None = None,
    wrong: str | None = None,
) -> tuple[Text, tuple[int, int] | None]:
    """The picture of trace after step k, and the columns of the current node's box.

    width: the columns there are; the network is then drawn compact when the book's layout
    would not fit, and when that would not fit either (a deep net) the book's layout scrolls
    to keep the current node in view (the apple graphs always fit 72 columns).
    wrong: a node to draw as the first wrong one (a learner's layers).
    """
    look = Look(trace, k, palette, wrong)
    names = [n.name for n in trace.nodes]
    if names == ["mul_apple", "mul_tax"]:
        canvas = draw_apple(look)
    elif "add_apple_orange" in names:
        canvas = draw_apple_orange(look)
    else:
        canvas = draw_network(look)
        if width is not None and _width(canvas) > width:
            compact = draw_network_compact(look, width)
            canvas = compact if _width(compact) <= width else window(canvas, width, look)
    return canvas.text(), canvas.focus


def _width(canvas: Canvas) -> int:
    return max((x for x, _ in canvas.cells), default=-1) + 1
