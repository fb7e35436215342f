"""The header line: the run's state, network shape, optimiser and data set."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from bp_tui.engine.config import HyperParams
from bp_tui.engine.events import RunState
from bp_tui.ui.names import display_name

# The theme colour each state is shown in.
STATE_COLOURS = {
    RunState.READY: "primary",
    RunState.RUNNING: "success",
    RunState.PAUSED: "warning",
    RunState.FINISHED: "accent",
    RunState.DIVERGED: "error",
    RunState.FAILED: "error",
}
STATE_MARKS = {
    RunState.RUNNING: "▶",
    RunState.PAUSED: "‖",
    RunState.FINISHED: "✔",
    RunState.DIVERGED: "✖",
    RunState.FAILED: "✖",
}


class StatusLine(Static):
    run_state: reactive[RunState] = reactive(RunState.STARTING)
    hp: reactive[HyperParams | None] = reactive(None)
    shape: reactive[tuple[int, int, int] | None] = reactive(None)
    dataset: reactive[str] = reactive("loading data…")

    def render(self) -> Text:
        # The state comes first so that a narrow terminal never cuts it off.
        state = self.run_state
        mark = STATE_MARKS.get(state, "●")
        parts = [Text.assemble(("bp-tui ", "bold"), (f"{mark} {state.value}", self._state_style()))]
        if self.shape and self.hp:
            parts.append(
                Text(f"{'-'.join(map(str, self.shape))} {display_name(self.hp.activation)}")
            )
            parts.append(Text(f"{self.hp.optimizer.upper()} lr {self.hp.lr:g}"))
        parts.append(Text(self.dataset))
        return Text("  ·  ").join(parts)

    def _state_style(self) -> str:
        colour = STATE_COLOURS.get(self.run_state)
        if colour is None or not self.is_mounted:
            return "dim"
        return f"bold {self.app.theme_variables.get(colour, 'default')}"
