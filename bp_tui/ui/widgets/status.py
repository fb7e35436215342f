"""The header line (the run's state, network shape, optimiser and data set) and the footer."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static, TabbedContent

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


class KeyFooter(Widget, can_focus=False):
    """The footer: the keys every tab needs first (next tab, help, quit), then the shown tab's
    own keys, then the app's; as many as fit. One line of text drawn from the tab shown, so it
    changes in the same frame as the tab (Textual's Footer rebuilds its key widgets after the
    focus has moved, a frame or more later). A click on a key presses it."""

    FIRST = ("next_tab", "help", "quit")
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground;
    }
    """

    def __init__(self, app_bindings: list[Binding], tab_bindings: dict[str, list[Binding]]) -> None:
        """tab_bindings: a tab's id -> its view's own bindings."""
        super().__init__()
        self.app_bindings = app_bindings
        self.tab_bindings = tab_bindings
        self.spans: list[tuple[int, int, str]] = []  # (start, end, key) of each key drawn

    def on_mount(self) -> None:
        tabs = self.screen.query_one(TabbedContent)
        self.watch(tabs, "active", lambda _: self.refresh(), init=False)

    def keys(self) -> list[Binding]:
        """The bindings shown, in order; one per key (a tab's own wins over the app's)."""
        active = self.screen.query_one(TabbedContent).active
        own = self.tab_bindings.get(active, [])
        first = [b for a in self.FIRST for b in self.app_bindings if b.action == a]
        shown, taken = [], set()
        for binding in (*first, *own, *self.app_bindings):
            keys = set(binding.key.split(","))
            if binding.show and not keys & taken:
                shown.append(binding)
                taken |= keys
        return shown

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        line, self.spans = Text(no_wrap=True, overflow="crop"), []
        for binding in self.keys():
            part = Text.assemble(
                (f" {self.app.get_key_display(binding)} ", key_style),
                (f"{binding.description} ", description_style),
            )
            if self.size.width and line.cell_len + part.cell_len > self.size.width:
                break
            self.spans.append((line.cell_len, line.cell_len + part.cell_len, binding.key))
            line.append_text(part)
        return line

    def on_click(self, event: Click) -> None:
        for start, end, key in self.spans:
            if start <= event.x < end:
                self.app.simulate_key(key.split(",")[0])
