"""The help screen (?): every key, grouped by what it works on, the shown tab's keys first.

Three columns where the screen is wide enough (120x40 shows every key at once), one that
scrolls where it is not.
"""

from __future__ import annotations

from itertools import accumulate

from rich.markup import escape
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
# The charts' keys: the Train tab's (the charts are there), zooming and panning among them.
CHARTS = (
    "toggle_log_loss",
    "toggle_pin_accuracy",
    "cycle_smoothing",
    "toggle_epochs",
    "zoom",
    "zoom_reset",
    "pan",
)
COLUMNS_FROM = 100  # screen columns from which the help shows in three columns
LEFT_ROWS = 34  # the first column's lines at 120x40 (less a margin for wrapped rows): the
# tabs' sections beyond go to the third
KEY_NAMES = {
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "pgup",
    "pagedown": "pgdn",
}


def of_actions(actions) -> list[Binding]:
    """The app's bindings of these actions (by name: zoom stands for zoom(0.5) and zoom(2))."""
    return [b for a in actions for b in APP_BINDINGS if b.action.split("(")[0] == a]


def key_rows(bindings: list[Binding]) -> list[tuple[str, str, list[Binding]]]:
    """(key, description, bindings) a row: a key group once (the four arrows as ←↑→↓) and a
    Binding.Group's keys together (home/end First / last)."""
    rows: dict[str, tuple[str, str, list[Binding]]] = {}
    for binding in bindings:
        key = binding.key_display or KEY_NAMES.get(key_of(binding), key_of(binding))
        if binding.group is not None:
            name = f"group {id(binding.group)}"
            if name in rows:
                keys, description, members = rows[name]
                rows[name] = (f"{keys}/{key}", description, [*members, binding])
            else:
                rows[name] = (key, binding.group.description, [binding])
        elif key not in rows:
            rows[key] = (key, binding.description, [binding])
    return list(rows.values())


def key_table(
    bindings: list[Binding],
    extra: tuple[tuple[str, str], ...] = (),
    taken: dict[str, list[str]] | None = None,
) -> Table:
    """A key per row: the key, what it does; taken: the tabs where a key does something else
    (key -> their titles), said beside what it does elsewhere."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", justify="right", no_wrap=True)
    table.add_column()
    for key, description, members in key_rows(bindings):
        keys = [k for binding in members for k in binding.key.split(",")]
        tabs = [t for k in keys for t in (taken or {}).get(k, [])]
        elsewhere = f" [dim](not on {', '.join(dict.fromkeys(tabs))})[/]" if tabs else ""
        table.add_row(key, Text.from_markup(escape(description) + elsewhere))
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
        f"({keys_for('reset')}) and show as pending. Screenshots ({keys_for('screenshot')}) "
        "are SVG files in the "
        "current folder, or in $BP_TUI_SCREENSHOTS."
    )


def tab_sections(active: str, tabs: dict[str, tuple[str, type | None]]) -> list:
    """(title, keys) of each tab with keys of its own, the shown one first with all of them
    (the others' named ones: in the footer or with a key_display); the Train tab's are its
    charts'. tabs: id -> (title, view)."""
    sections = []
    for tab in sorted(tabs, key=lambda t: t != active):
        title, view = tabs[tab]
        keys = of_actions(CHARTS) if view is None else list(view.BINDINGS)
        keys = [b for b in keys if b.show or b.key_display or tab == active or view is None]
        if keys or tab == active:
            sections.append((title, keys))
    return sections


def taken_keys(tabs: dict[str, tuple[str, type | None]]) -> dict[str, list[str]]:
    """The app's keys that a tab's view binds to something else: key -> those tabs' titles
    (on the Draw tab c clears the pad and does not compare runs)."""
    app_keys = {key for b in APP_BINDINGS for key in b.key.split(",")}
    taken: dict[str, list[str]] = {}
    for title, view in tabs.values():
        for binding in view.BINDINGS if view is not None else ():
            for key in binding.key.split(","):
                if key in app_keys and title not in taken.get(key, []):
                    taken.setdefault(key, []).append(title)
    return taken


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

    def __init__(
        self,
        tabs: list[tuple[str, list[Binding]]] | None = None,
        taken: dict[str, list[str]] | None = None,
    ) -> None:
        """tabs: each tab's title and its own keys, the shown tab first (the Train tab's are
        its charts'); taken: the app's keys some tabs bind otherwise (taken_keys)."""
        super().__init__()
        self.tabs = tabs if tabs is not None else [("Train", of_actions(CHARTS))]
        self.taken = taken or {}

    def compose(self) -> ComposeResult:
        (shown, shown_keys), others = self.tabs[0], self.tabs[1:]
        sections = [(f"This tab: {shown}", shown_keys)]
        sections += [(f"{title} tab", keys) for title, keys in others]
        # The tabs' sections in the first column while they fit (a title, a row a key group
        # and a blank line each), the rest in the third, above the keys of every tab.
        lines = list(accumulate(len(key_rows(keys)) + 2 for _, keys in sections))
        fits = sum(1 for n in lines if n <= LEFT_ROWS) or 1
        with VerticalScroll(id="help-box"), Grid(id="help-columns"):
            with Vertical():
                for title, keys in sections[:fits]:
                    yield from self.section(title, key_table(keys))
            with Vertical():
                yield from self.section(
                    "Training (every tab)", key_table(of_actions(TRAINING), taken=self.taken)
                )
            with Vertical():
                for title, keys in sections[fits:]:
                    yield from self.section(title, key_table(keys))
                grouped = set(TRAINING) | set(CHARTS)
                rest = [b for b in APP_BINDINGS if b.action.split("(")[0] not in grouped]
                yield from self.section(
                    "Everywhere", key_table(rest, everywhere(), taken=self.taken)
                )
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
