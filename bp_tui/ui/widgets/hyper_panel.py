"""Every hyperparameter with the key that changes it; values waiting for a reset show as pending."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from bp_tui.engine.config import HyperParams

ROWS = (
    # (field, label, keys)
    ("lr", "learning rate", "+ -"),
    ("batch_size", "batch size", "b B"),
    ("hidden", "hidden units", "h H"),
    ("activation", "activation", "a"),
    ("init", "init", "i"),
    ("optimizer", "optimizer", "o"),
    ("iters", "iterations", "e"),
    ("seed", "seed", "e"),
)


def show_value(field: str, value) -> str:
    if field == "lr":
        return f"{value:g}"
    if field in ("iters", "batch_size", "hidden", "seed"):
        return f"{value:,}"
    if field == "init":
        return {"std": "std 0.01", "he": "He", "xavier": "Xavier"}.get(value, value)
    if field == "activation":
        return {"relu": "ReLU", "sigmoid": "Sigmoid"}.get(value, value)
    return {"sgd": "SGD", "adagrad": "AdaGrad", "adam": "Adam", "momentum": "Momentum"}.get(
        value, str(value)
    )


class HyperPanel(Static):
    def on_mount(self) -> None:
        self.border_title = "Hyperparameters"
        self.border_subtitle = "e: edit"

    def show(self, hp: HyperParams, pending: dict) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", width=3, no_wrap=True)
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        for field, label, keys in ROWS:
            value = Text(show_value(field, getattr(hp, field)))
            if field in pending:
                value.append(f" → {show_value(field, pending[field])}", style="bold italic")
                value.append(" (r)", style="dim italic")
            table.add_row(keys, label, value)
        self.update(table)
