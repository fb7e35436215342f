"""How the dashboard names hyperparameters and their values: one label and one format each."""

from __future__ import annotations

from bp_tui.engine.config import hidden_text, lr_text
from bp_tui.engine.events import Notice
from bp_tui.ui.bindings import keys_for

LABELS = {
    "lr": "learning rate",
    "batch_size": "batch size",
    "hidden": "hidden layers",  # their widths, a comma list: 100,100
    "activation": "activation",
    "init": "init",
    "optimizer": "optimizer",
    "iters": "iterations",
    "seed": "seed",
    "eval_every": "evaluate every",
}
DISPLAY_NAMES = {
    "relu": "ReLU",
    "sigmoid": "Sigmoid",
    "std": "std 0.01",
    "he": "He",
    "xavier": "Xavier",
    "sgd": "SGD",
    "momentum": "Momentum",
    "adagrad": "AdaGrad",
    "adam": "Adam",
}


def display_name(choice: str) -> str:
    """A choice as people write it: "relu" -> "ReLU"."""
    return DISPLAY_NAMES.get(choice, str(choice))


def format_value(field: str, value) -> str:
    """A hyperparameter's value as the dashboard shows it."""
    if value is None:
        return "each epoch" if field == "eval_every" else "-"
    if field == "lr":
        return lr_text(value)
    if field == "hidden":  # as --hidden takes it, 100,100; four equal layers as 4 × 100
        text = hidden_text(value)
        widths = value if isinstance(value, tuple) else (value,)
        return f"{len(widths)} × {widths[0]}" if len(text) > 11 and len(set(widths)) == 1 else text
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return display_name(value)


def notice_text(notice: Notice) -> str:
    """An engine Notice as the dashboard says it: the field by its label, the fix with its key."""
    text = (
        f"{LABELS.get(notice.field, notice.field)} {notice.message}"
        if notice.field
        else notice.message
    )
    if notice.action:
        what = f": {notice.action_text}" if notice.action_text else ""
        text += f" ({keys_for(notice.action)}{what})"
    return text
