"""The inspector's picture of a gradient: one hidden unit's 784 first-layer weight gradients (a
column of the first layer's dW) as a 28 x 28 image, coloured by where this batch's step pushes each weight.

MNIST's corner pixels are 0, so the numbers of that dW say little; its picture shows the digits
this batch pushes the unit towards (blue: the step raises the weight) and away from (red).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.color import Color

from bp_tui.nn.trace import Trace, largest_column
from bp_tui.ui.drawing.halfblock import diverging, side_by_side


@dataclass(frozen=True)
class Colours:
    """The picture's colours, from the theme: SGD lowers the weight, 0, SGD raises it."""

    lowered: Color
    zero: Color
    raised: Color


def first_weights(trace: Trace) -> str | None:
    """The first layer's weight edge (the net names it) when its rows make a square image, else None."""
    first = trace.nodes[0]
    if first.op != "Affine":
        return None
    name = first.inputs[1]
    rows = np.shape(trace.edges[name].value)[0]
    side = int(round(np.sqrt(rows)))
    return name if side * side == rows else None


def misshapen(trace: Trace, name: str) -> str:
    """ "your d {name} has shape (50, 784), {name} is (784, 50)" when a learner's gradient of an edge
    is not of its shape (it has no columns to draw then); else ""."""
    edge = trace.edges[name]
    shape, expected = np.shape(edge.grad), np.shape(edge.value)
    if edge.grad is None or shape == expected:
        return ""
    return f"your d {name} has shape {shape}, {name} is {expected}"


def shown_unit(trace: Trace, unit: int | None) -> int | None:
    """The unit drawn: `unit` (wrapped into range), or the one this batch moves most."""
    name = first_weights(trace)
    grad = trace.edges[name].grad if name else None
    if grad is None or misshapen(trace, name):
        return None
    if unit is None:
        return largest_column(grad)
    return unit % grad.shape[1]


def unit_picture(
    trace: Trace, k: int, unit: int | None, colours: Colours, palette: dict[str, Style], keys: str
) -> Text | None:
    """Once the backward pass has computed the first layer's dW (step k): unit's column as a picture with its
    legend beside it (a line instead when that dW is not of W's shape); None before that, or
    for inputs that are not square images."""
    name = first_weights(trace)
    if name is None or trace.state_at(k)[name][1] is None:
        return None
    if misshapen(trace, name):
        return Text(
            f"✖ {misshapen(trace, name)}: no unit's column to draw", palette.get("bad", Style())
        )
    grad = np.asarray(trace.edges[name].grad, dtype=np.float64)
    shown = shown_unit(trace, unit)
    column = grad[:, shown]
    side = int(round(np.sqrt(len(column))))
    # Drawn as the step moves the weights, -d: the picture adds up, step by step, into what the
    # Learned tab draws of the same unit (blue positive, red negative there too).
    picture = diverging(-column.reshape(side, side), colours.lowered, colours.zero, colours.raised)
    muted = palette.get("muted", Style())
    scale = float(np.abs(column).max())
    # Short lines: beside the 28 columns of the picture in a pane of 48.
    legend = Text(no_wrap=True, overflow="ellipsis", end="")
    legend.append(f"unit {shown}", palette.get("name", Style()))
    legend.append(f" of 0-{grad.shape[1] - 1}\n", muted)
    legend.append("the one this batch\nmoves most\n" if unit is None else "\n\n", muted)
    legend.append(f"{keys}: other units\n\n", muted)
    legend.append("the step:\n", muted)
    legend.append("██", Style(color=colours.raised.hex6))
    legend.append(" raises (d < 0)\n", muted)
    legend.append("██", Style(color=colours.lowered.hex6))
    legend.append(" lowers (d > 0)\n\n", muted)
    if scale == 0:
        legend.append("d = 0: the unit was\noff for every image", muted)
    else:
        legend.append(f"full colour at\n|d| = {scale:.2g}\n", muted)
        legend.append(f"‖d‖ {np.linalg.norm(column):.2g}", palette.get("grad", Style()))
    head = Text.assemble(
        (f"d {name}[:, {shown}]", palette.get("grad", Style()) + Style(bold=True)),
        (f"  unit {shown}'s {len(column)} weights as {side} × {side}", muted),
    )
    out = Text("\n", no_wrap=True, overflow="ellipsis", end="")
    return out.join([head, side_by_side([picture, legend], gap=2)])
