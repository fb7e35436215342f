"""The inspector's edit form (e on graphs 1 and 2): type new inputs; a bad value is refused
beside its own field and changes nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from bp_tui.errors import ConfigError
from bp_tui.nn.trace import fmt, with_input
from bp_tui.ui.screens.form_screen import FormScreen


class InputEditForm(FormScreen):
    """Dismisses with the graph's new inputs (all of them), or None when cancelled."""

    DEFAULT_CSS = """
    InputEditForm {
        align: center middle;
    }
    #inputs-box {
        width: 80;
        max-width: 98%;
        height: auto;
        max-height: 98%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #inputs-grid {
        grid-size: 3;
        grid-columns: 14 14 1fr;
        grid-rows: 3;
        height: auto;
    }
    .inputs-label {
        padding: 1 0 0 0;
        color: $text-muted;
    }
    .inputs-error {
        padding: 1 0 0 1;
        color: $text-error;
    }
    #inputs-hint {
        color: $text-muted;
        padding: 0 0 1 0;
    }
    #inputs-buttons {
        height: auto;
        align-horizontal: right;
    }
    #inputs-buttons Button {
        margin-left: 2;
    }
    """

    def __init__(self, title: str, inputs: dict[str, float]) -> None:
        super().__init__()
        self.title_text = title
        self.inputs = dict(inputs)

    def compose(self) -> ComposeResult:
        with Vertical(id="inputs-box"):
            with Grid(id="inputs-grid"):
                for name, value in self.inputs.items():
                    # The edge's own name, as the graph shows it (apple, apple_num, tax).
                    yield Label(name, classes="inputs-label")
                    yield Input(fmt(value), id=f"in-{name}")
                    yield Label("", id=f"err-{name}", classes="inputs-error")
            yield Static(self._hint(), id="inputs-hint")
            with Horizontal(id="inputs-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def _hint(self) -> str:
        """What the fields are, for the graph's own fields only (graph 1 has no orange)."""
        kinds = {"price": [], "count": []}
        for name in self.inputs:
            if name != "tax":
                kinds["count" if name.endswith("_num") else "price"].append(name)
        parts = [f"{', '.join(kinds['price'])}: prices"] if kinds["price"] else []
        parts += [f"{', '.join(kinds['count'])}: how many"] if kinds["count"] else []
        parts += ["tax: 1.1 is 10 %"] if "tax" in self.inputs else []
        return " · ".join(parts) + ". The trace recomputes forward and backward with these numbers."

    def on_input_changed(self, event: Input.Changed) -> None:
        # An error belongs to the text it was about: gone as soon as that text is edited.
        name = (event.input.id or "").removeprefix("in-")
        if name in self.inputs:
            self.query_one(f"#err-{name}", Label).update("")

    def on_mount(self) -> None:
        box = self.query_one("#inputs-box")
        box.border_title = self.title_text
        box.border_subtitle = "enter/ctrl+s apply · esc cancel"

    def action_apply(self) -> None:
        values, errors = dict(self.inputs), {}
        for name in self.inputs:
            text = self.query_one(f"#in-{name}", Input).value
            try:
                values = with_input(values, name, text)
            except ConfigError as error:
                errors[name] = str(error).removeprefix(f"{name}: ")
        for name in self.inputs:
            self.query_one(f"#err-{name}", Label).update(errors.get(name, ""))
        if errors:
            self.query_one(f"#in-{next(iter(errors))}", Input).focus()
            return
        self.dismiss(values)
