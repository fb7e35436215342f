"""The header line (the run's state, network shape, optimiser and data set) and the footer."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from bp_tui.engine.config import HyperParams
from bp_tui.engine.events import RunState
from bp_tui.ui.colours import theme_color
from bp_tui.ui.names import display_name, format_value

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
    sizes: reactive[str] = reactive("")  # "(10,000 train / 2,000 test)"
    speed: reactive[float | None] = reactive(None)  # slow motion's iterations a second
    layers: reactive[str] = reactive("")  # the learner's file whose layers train, or ""

    def render(self) -> Text:
        # The state comes first so that a narrow terminal never cuts it off, then the learning
        # rate (the value changed most); the data set's sizes, then its name, give way first.
        state = self.run_state
        mark = STATE_MARKS.get(state, "●")
        parts = [Text.assemble(("bp-tui ", "bold"), (f"{mark} {state.value}", self._state_style()))]
        if self.speed is not None:
            parts[0].append(f" at {self.speed:g} it/s", style="bold italic")
        if self.layers:
            parts.append(Text("your layers", style="bold italic"))
        if self.shape and self.hp:
            parts.append(
                Text(f"{display_name(self.hp.optimizer)} lr {format_value('lr', self.hp.lr)}")
            )
            parts.append(
                Text(f"{'-'.join(map(str, self.shape))} {display_name(self.hp.activation)}")
            )
        width = self.content_size.width or 10_000
        for dataset in (f"{self.dataset} {self.sizes}".strip(), self.dataset):
            line = Text("  ·  ").join([*parts, Text(dataset)])
            if line.cell_len <= width:
                return line
        return Text("  ·  ").join(parts)

    def _state_style(self) -> str:
        colour = STATE_COLOURS.get(self.run_state)
        if colour is None or not self.is_mounted:
            return "dim"
        return f"bold {theme_color(self, colour).hex}"


class KeyFooter(Footer):
    """The footer, with the keys every tab needs first (next tab, help, quit): a tab's own keys
    come after them, so however many it has, these stay on screen."""

    FIRST = ("next_tab", "help", "quit")

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        shown: dict[str, tuple] = {}  # action -> its first binding (Footer shows one a action)
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = (binding, enabled, tooltip)
        first = [a for a in self.FIRST if a in shown]
        order = first + [a for a in shown if a not in first]
        self.styles.grid_size_columns = len(order)
        for action in order:
            binding, enabled, tooltip = shown[action]
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
