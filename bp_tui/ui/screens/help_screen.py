"""The help screen (?): every key, grouped by what it works on, the shown tab's keys first.

Three columns where the screen is wide enough (120x40 shows every key at once), one that
scrolls where it is not.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static

from bp_tui.ui.bindings import APP_BINDINGS, key_of, keys_for

# The app's keys by what they work on; those of no group work everywhere.
TRAINING = (
    "toggle_run",
    "step",
    "reset",
    "lr_up",
    "lr_down",
    "batch_up",
    "batch_down",
    "hidden_up",
    "hidden_down",
    "toggle_activation",
    "cycle_optimizer",
    "cycle_init",
    "edit",
    "gradcheck",
    "toggle_exact",
    "save",
    "load",
    "compare_runs",
    "slow_down",
    "speed_up",
)
CHARTS = ("toggle_log_loss", "toggle_pin_accuracy", "cycle_smoothing", "toggle_epochs")
COLUMNS_FROM = 100  # screen columns from which the help shows in three columns


def of_actions(actions) -> list[Binding]:
    return [b for a in actions for b in APP_BINDINGS if b.action == a]


def key_table(bindings: list[Binding], extra: tuple[tuple[str, str], ...] = ()) -> Table:
    """A key per row: the key, what it does."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", justify="right", no_wrap=True)
    table.add_column()
    for binding in bindings:
        table.add_row(key_of(binding), binding.description)
    for key, description in extra:
        table.add_row(key, description)
    return table


def everywhere() -> tuple[tuple[str, str], ...]:
    """What no binding says: the palette, the mouse."""
    return (
        ("ctrl+p", "command palette: every action by name, themes, races"),
        (
            "mouse",
            "click a tab, a key in the footer, a form's fields and buttons; "
            "the wheel scrolls lists",
        ),
    )


def notes() -> str:
    return (
        "The learning rate, batch size and optimizer change at the next iteration, marked on "
        "the loss chart. Hidden layers, activation and init wait for the next reset "
        f"({keys_for('reset')}) and show as pending. Book mode checks gradients the way the "
        "book's current code does (1e-7 inside the log); exact mode leaves it out and gets the "
        f"printed figures back. Screenshots ({keys_for('screenshot')}) are SVG files in the "
        "current folder, or in $BP_TUI_SCREENSHOTS."
    )


def tab_sections(active: str, tabs: dict[str, tuple[str, type | None]]) -> list:
    """(title, keys) of each tab with keys of its own, the shown one first with all of them
    (the others' main ones); the Train tab's are its charts'. tabs: id -> (title, view)."""
    sections = []
    for tab in sorted(tabs, key=lambda t: t != active):
        title, view = tabs[tab]
        keys = of_actions(CHARTS) if view is None else list(view.BINDINGS)
        keys = [b for b in keys if b.show or tab == active or view is None]
        if keys or tab == active:
            sections.append((title, keys))
    return sections


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }

    #help-box {
        width: 118;
        max-width: 98%;
        height: auto;
        max-height: 96%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }

    #help-columns {
        grid-size: 3;
        grid-columns: 1fr 1fr 1fr;
        grid-gutter: 0 2;
        height: auto;
    }

    #help-columns.-narrow {
        grid-size: 1;
        grid-columns: 1fr;
    }

    #help-columns Vertical {
        height: auto;
    }

    .help-title {
        color: $text-primary;
        text-style: bold;
    }

    .help-section {
        margin-bottom: 1;
    }

    #help-notes {
        color: $text-muted;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, tabs: list[tuple[str, list[Binding]]] | None = None) -> None:
        """tabs: each tab's title and its own keys, the shown tab first (the Train tab's are
        its charts')."""
        super().__init__()
        self.tabs = tabs if tabs is not None else [("Train", of_actions(CHARTS))]

    def compose(self) -> ComposeResult:
        (shown, shown_keys), others = self.tabs[0], self.tabs[1:]
        with VerticalScroll(id="help-box"), Grid(id="help-columns"):
            with Vertical():
                yield from self.section(f"This tab: {shown}", key_table(shown_keys))
                for title, keys in others:
                    yield from self.section(f"{title} tab", key_table(keys))
            with Vertical():
                yield from self.section("Training (every tab)", key_table(of_actions(TRAINING)))
            with Vertical():
                grouped = set(TRAINING) | set(CHARTS)
                rest = [b for b in APP_BINDINGS if b.action not in grouped]
                yield from self.section("Everywhere", key_table(rest, everywhere()))
                yield Static(notes(), id="help-notes")

    @staticmethod
    def section(title: str, table: Table) -> ComposeResult:
        yield Static(Text(title), classes="help-title")
        yield Static(table, classes="help-section")

    def on_mount(self) -> None:
        box = self.query_one("#help-box")
        box.border_title = "Keys"
        box.border_subtitle = f"escape or {keys_for('help')} to close"

    def on_resize(self, event: Resize) -> None:
        self.query_one("#help-columns").set_class(event.size.width < COLUMNS_FROM, "-narrow")
