"""Every hyperparameter with the key that changes it; values waiting for a reset show as pending.

The key and label columns never shrink: a long pending value wraps onto the next line instead.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from bp_tui.engine.config import HyperParams
from bp_tui.ui.bindings import FIELD_ACTIONS, keys_for
from bp_tui.ui.names import LABELS, format_value

SHOWN = ("lr", "batch_size", "hidden", "activation", "init", "optimizer", "iters", "seed")
NARROW = 30  # columns of content under which the keys give way to the values


class HyperPanel(Static):
    hp: reactive[HyperParams] = reactive(HyperParams)
    pending: reactive[dict] = reactive(dict)

    def on_mount(self) -> None:
        self.border_title = "Hyperparameters"
        self.border_subtitle = f"{keys_for('edit')}: edit"

    def render(self) -> Table:
        # Narrow (80x24): the values keep the room, the keys are in the help and the footer.
        keyed = not self.size.width or self.size.width >= NARROW
        table = Table.grid(padding=(0, 1))
        if keyed:
            table.add_column(style="bold", min_width=3, no_wrap=True)
        table.add_column(style="dim", min_width=max(len(LABELS[f]) for f in SHOWN), no_wrap=True)
        table.add_column(overflow="fold")
        for field in SHOWN:
            value = Text(format_value(field, getattr(self.hp, field)))
            if field in self.pending:
                value.append(f" → {format_value(field, self.pending[field])}", style="bold italic")
                value.append(f" ({keys_for('reset')})", style="dim italic")
            keys = [keys_for(*FIELD_ACTIONS[field])] if keyed else []
            table.add_row(*keys, LABELS[field], value)
        return table
