"""The help screen (?): every key and what it does."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from bp_tui.ui.bindings import APP_BINDINGS, key_of, keys_for
from bp_tui.ui.widgets.digits import DigitsView
from bp_tui.ui.widgets.draw_view import DrawView
from bp_tui.ui.widgets.inspector import Inspector
from bp_tui.ui.widgets.learned import LearnedView

TABS = (
    ("Inspector", Inspector),
    ("Digits", DigitsView),
    ("Draw", DrawView),
    ("Learned", LearnedView),
)


def tab_keys() -> str:
    """Each tab's own keys, read from its bindings."""
    parts = [
        f"{name}: "
        + ", ".join(f"{key_of(b)} {b.description.lower()}" for b in view.BINDINGS if b.show)
        for name, view in TABS
    ]
    return f"Tabs ({keys_for('next_tab')}): " + ". ".join(parts) + "."


def notes() -> str:
    return (
        "Changes to the learning rate, batch size and optimizer take effect at the next iteration "
        "and are marked on the loss chart. Hidden size, activation and initialisation wait for the "
        f"next reset ({keys_for('reset')}) and show as pending. Book mode checks gradients the way "
        "the book's current code does (1e-7 inside the log); exact mode leaves it out and gets the "
        "printed figures back."
    )


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }

    #help-box {
        width: 76;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 2;
    }

    #help-notes, #help-tabs {
        margin-top: 1;
        color: $text-muted;
    }

    #help-close {
        margin-top: 1;
        color: $text-muted;
        text-align: right;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 2), show_header=False)
        table.add_column(style="bold", justify="right")
        table.add_column()
        for binding in APP_BINDINGS:
            table.add_row(key_of(binding), binding.description)
        with VerticalScroll(id="help-box"):
            yield Static(table)
            yield Static(notes(), id="help-notes")
            yield Static(tab_keys(), id="help-tabs")
            yield Static(f"escape or {keys_for('help')} to close", id="help-close")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
