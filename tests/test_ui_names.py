"""The dashboard names no parameter: W1, b1, ... come from the network (bp_tui.nn)."""

import re
from pathlib import Path

UI = Path(__file__).resolve().parent.parent / "bp_tui" / "ui"
TWO_LAYER_NAMES = re.compile(r"\b(d ?)?(W[12]|b[12])\b")


def test_no_ui_module_spells_a_parameter_name():
    spelled = [
        f"{path.relative_to(UI)}:{number}: {line.strip()}"
        for path in sorted(UI.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if TWO_LAYER_NAMES.search(line)
    ]
    assert not spelled, "\n".join(spelled)


def test_the_rule_would_see_one():
    assert TWO_LAYER_NAMES.search('shapes = {"W1": (784, 50)}')
    assert TWO_LAYER_NAMES.search("the picture of d W1") and TWO_LAYER_NAMES.search("dW2")
    assert not TWO_LAYER_NAMES.search("insight.w1, Affine1, Relu1, a1, z1")
