"""The header line: data set, network shape, optimiser and the run's state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from bp_tui.engine.config import HyperParams

# The theme colour each state is shown in.
STATE_COLOURS = {
    "ready": "primary",
    "running": "success",
    "paused": "warning",
    "finished": "accent",
    "diverged": "error",
    "failed": "error",
}
STATE_MARKS = {"running": "▶", "paused": "‖", "finished": "✔", "diverged": "✖", "failed": "✖"}


class StatusLine(Static):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dataset = "loading data…"
        self.shape: tuple[int, int, int] | None = None
        self.hp: HyperParams | None = None
        self.state = "starting"

    def show(self, *, dataset=None, shape=None, hp=None, state=None) -> None:
        if dataset is not None:
            self.dataset = dataset
        if shape is not None:
            self.shape = shape
        if hp is not None:
            self.hp = hp
        if state is not None:
            self.state = state
        self.update(self.line_text())

    def line_text(self) -> Text:
        # The state comes first so that a narrow terminal never cuts it off.
        mark = STATE_MARKS.get(self.state, "●")
        parts = [Text.assemble(("bp-tui ", "bold"), (f"{mark} {self.state}", self._state_style()))]
        if self.shape and self.hp:
            parts.append(Text(f"{'-'.join(map(str, self.shape))} {self._activation()}"))
            parts.append(Text(f"{self.hp.optimizer.upper()} lr {self.hp.lr:g}"))
        parts.append(Text(self.dataset))
        return Text("  ·  ").join(parts)

    def _activation(self) -> str:
        return "ReLU" if self.hp.activation == "relu" else "Sigmoid"

    def _state_style(self) -> str:
        colour = STATE_COLOURS.get(self.state)
        if colour is None or not self.is_mounted:
            return "dim"
        return f"bold {self.app.theme_variables.get(colour, 'default')}"
