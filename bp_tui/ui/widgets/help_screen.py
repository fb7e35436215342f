"""The help screen (?): every key and what it does."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from bp_tui.ui.bindings import APP_BINDINGS

TAB_KEYS = (
    "Tabs (t): Inspector: →/n and ←/p step through the graph, Home/End, 1-3 choose the graph, "
    "e edits an input. Digits: arrows browse, m shows the mistakes only. Learned: ←/→ choose a "
    "hidden unit, d the next dead one."
)
NOTES = (
    "Changes to the learning rate, batch size and optimizer take effect at the next iteration and "
    "are marked on the loss chart. Hidden size, activation and initialisation wait for the next "
    "reset (r) and show as pending. Book mode checks gradients the way the book's current code "
    "does (1e-7 inside the log); exact mode leaves it out and gets the printed figures back."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 2), show_header=False)
        table.add_column(style="bold", justify="right")
        table.add_column()
        for binding in APP_BINDINGS:
            table.add_row(binding.key_display or binding.key, binding.description)
        with VerticalScroll(id="help-box"):
            yield Static(table)
            yield Static(NOTES, id="help-notes")
            yield Static(TAB_KEYS, id="help-tabs")
            yield Static("escape or ? to close", id="help-close")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
