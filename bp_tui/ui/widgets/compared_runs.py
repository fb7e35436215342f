"""Under the charts: the runs drawn dimmed beneath the current one, named whole.

The charts' borders have room for their own lines only; here each compared run gets its colour,
what it did differently and its last test accuracy, wrapping onto more lines when narrow.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from bp_tui.ui.comparison import Comparison, compare_color, compare_pattern
from bp_tui.ui.drawing.braille import GLYPHS


class ComparedRuns(Static):
    DEFAULT_CSS = """
    ComparedRuns {
        height: auto;
        padding: 0 1;
        color: $text-muted;
        display: none;
    }
    """

    comparisons: reactive[list[Comparison]] = reactive(list)

    def watch_comparisons(self, runs: list[Comparison]) -> None:
        self.display = bool(runs)
        text = Text("compared: ")
        no_color = getattr(self.app, "no_color", False)  # the charts draw each its own pattern
        for index, run in enumerate(runs):
            accuracy = run.final["test_acc"]
            glyph = GLYPHS[compare_pattern(index)] if no_color else "━"
            entry = Text.assemble(
                (f"{glyph} ", Style(color=Color.from_rgb(*compare_color(index)))),
                run.label,
                f" (test {accuracy:.4f})" if accuracy is not None else "",
            )
            text.append_text(entry)
            text.append("   ")
        self.update(text)
