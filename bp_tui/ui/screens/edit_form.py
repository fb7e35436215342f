"""The edit form (e): type exact values; a bad one is refused beside its field and changes nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.events import Resize
from textual.widgets import Button, Input, Label, Select, Static

from bp_tui.data.idx import IMAGE_SHAPE
from bp_tui.engine import memory
from bp_tui.engine.config import (
    HyperParams,
    check_batch_size,
    check_iters_left,
    hidden_text,
    parse_value,
)
from bp_tui.errors import ConfigError
from bp_tui.nn.init import INIT_SCHEMES
from bp_tui.nn.net import ACTIVATIONS
from bp_tui.nn.optimizers import OPTIMIZERS
from bp_tui.ui.names import LABELS, display_name
from bp_tui.ui.screens.form_screen import FormScreen

INPUTS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]  # every data set's images are 28 x 28
COMPACT_BELOW = 34  # screen rows under which the fields lose their borders (80x24: all fit)
# (field, label[, choices]): the labels and display names are the dashboard's one set.
TEXT_FIELDS = tuple(
    (f, LABELS[f]) for f in ("lr", "batch_size", "hidden", "iters", "seed", "eval_every")
)
CHOICE_FIELDS = tuple(
    (f, LABELS[f], choices)
    for f, choices in (
        ("activation", tuple(ACTIVATIONS)),
        ("init", INIT_SCHEMES),
        ("optimizer", tuple(OPTIMIZERS)),
    )
)


def field_text(field: str, value) -> str:
    """A value as its field starts out: whole numbers as the dashboard shows them (10,000; the
    parser takes the commas back), the widths as --hidden takes them, the lr exactly."""
    if value is None:
        return ""
    if field == "hidden":
        return hidden_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class EditForm(FormScreen):
    """Dismisses with the changed values, or None when cancelled."""

    DEFAULT_CSS = """
    EditForm {
        align: center middle;
    }
    #edit-box {
        width: 100;
        max-width: 98%;
        height: auto;
        max-height: 98%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }

    #edit-grid {
        grid-size: 3;
        grid-columns: 16 24 1fr;
        grid-rows: auto;  /* a long error wraps onto more lines: its row grows, nothing is cut */
        height: auto;
    }

    .edit-label {
        padding: 1 0 0 0;
        color: $text-muted;
    }

    .edit-error {
        padding: 1 0 0 1;
        width: 100%;
        color: $text-error;
    }

    /* A short screen: a field a line, each below the one before without a gap. */
    EditForm.-compact #edit-grid {
        grid-gutter: 0;
    }

    EditForm.-compact .edit-label, EditForm.-compact .edit-error {
        padding: 0 0 0 0;
    }

    EditForm.-compact .edit-error {
        padding-left: 1;
    }

    EditForm.-compact #edit-hint {
        padding: 1 0;
    }

    #edit-hint {
        color: $text-muted;
        padding: 0 0 1 0;
    }

    #edit-buttons {
        height: auto;
        align-horizontal: right;
    }

    #edit-buttons Button {
        margin-left: 2;
    }
    """

    def __init__(
        self,
        hp: HyperParams,
        pending: dict,
        inputs: int = INPUTS,
        iteration: int = 0,
        train_size: int | None = None,
    ) -> None:
        """inputs: of the data set's images (the net's first width), for the memory check;
        iteration: the one the run is at (the iterations cannot go below it); train_size: the
        training images (no batch is larger), None while the engine has not said."""
        super().__init__()
        self.hp = hp.replace(**pending)
        self.inputs = inputs
        self.iteration = iteration
        self.train_size = train_size

    def compose(self) -> ComposeResult:
        # Scrolls where even the compact form does not fit (the focused field is kept in view).
        with VerticalScroll(id="edit-box"):
            with Grid(id="edit-grid"):
                for field, label in TEXT_FIELDS:
                    value = getattr(self.hp, field)
                    yield Label(label, classes="edit-label")
                    yield Input(
                        field_text(field, value),
                        id=f"in-{field}",
                        placeholder="one epoch" if field == "eval_every" else "",
                    )
                    yield Label("", id=f"err-{field}", classes="edit-error")
                for field, label, choices in CHOICE_FIELDS:
                    yield Label(label, classes="edit-label")
                    yield Select(
                        [(display_name(c), c) for c in choices],
                        value=getattr(self.hp, field),
                        allow_blank=False,
                        id=f"in-{field}",
                    )
                    yield Label("", id=f"err-{field}", classes="edit-error")
            yield Static(
                "hidden layers (their widths, a comma list: 100,100), activation, init and seed "
                "take effect at the next reset",
                id="edit-hint",
            )
            with Horizontal(id="edit-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.app.is_headless:  # a blinking cursor would make screenshots differ
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one("#edit-box").border_title = "Edit hyperparameters"
        self.query_one("#edit-box").border_subtitle = "enter/ctrl+s apply · esc cancel"
        self.query_one(f"#in-{TEXT_FIELDS[0][0]}").focus()  # `e` then a digit types it

    def on_resize(self, event: Resize) -> None:
        compact = event.size.height < COMPACT_BELOW
        self.set_class(compact, "-compact")
        for widget in self.query("Input, Select, Button"):
            widget.compact = compact

    def action_apply(self) -> None:
        values, errors = {}, {}
        for field, _ in TEXT_FIELDS:
            try:
                values[field] = parse_value(field, self.query_one(f"#in-{field}", Input).value)
            except ConfigError as error:
                errors[field] = error.problem
        for field, _, _ in CHOICE_FIELDS:
            values[field] = self.query_one(f"#in-{field}", Select).value
        # The record's own validation, each field alone, so that every bad field is reported at
        # once (in screen order), then all together for what only the whole can tell.
        for field, value in values.items():
            if field not in errors:
                try:
                    self.hp.replace(**{field: value})
                except ConfigError as error:
                    errors[error.field or field] = error.problem
        if "iters" not in errors:
            try:
                check_iters_left(values["iters"], self.iteration)
            except ConfigError as error:
                errors["iters"] = error.problem
        if not errors:  # the machine's limit first, as the command line has it
            try:
                wanted = self.hp.replace(**values)
                memory.check_fits(wanted.hidden, wanted.batch_size, self.inputs)
            except ConfigError as error:
                errors[error.field or "lr"] = error.problem
        if "batch_size" not in errors and self.train_size is not None:
            try:
                check_batch_size(values["batch_size"], self.train_size)
            except ConfigError as error:
                errors["batch_size"] = error.problem
        order = [field for field, *_ in TEXT_FIELDS + CHOICE_FIELDS]
        errors = dict(
            sorted(errors.items(), key=lambda e: order.index(e[0]) if e[0] in order else len(order))
        )
        for field, *_ in TEXT_FIELDS + CHOICE_FIELDS:
            self.query_one(f"#err-{field}", Label).update(errors.get(field, ""))
        if errors:
            self.query_one(f"#in-{next(iter(errors))}").focus()
            return
        changes = {k: v for k, v in values.items() if getattr(self.hp, k) != v}
        self.dismiss(changes)
