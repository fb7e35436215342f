"""The header line: data set, network shape, optimiser and the run's state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from bp_tui.engine.config import HyperParams

STATE_STYLES = {
    "starting": "dim",
    "ready": "bold $text-primary",
    "running": "bold $text-success",
    "paused": "bold $text-warning",
    "finished": "bold $text-accent",
    "diverged": "bold $text-error",
    "failed": "bold $text-error",
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
        # Rich styles cannot read Textual's $variables: resolve them from the theme.
        style = STATE_STYLES.get(self.state, "")
        variables = self.app.theme_variables if self.is_mounted else {}
        for name, value in variables.items():
            style = style.replace(f"${name}", value)
        return style if "$" not in style else "bold"
