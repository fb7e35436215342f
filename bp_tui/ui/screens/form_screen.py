"""What every modal form shares: Enter or Apply applies, Escape or Cancel leaves things as they were."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Input


class FormScreen(ModalScreen[dict | None]):
    """Dismisses with the changed values (from `action_apply`), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "apply", "Apply")]

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_apply() if event.button.id == "apply" else self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_apply(self) -> None:
        raise NotImplementedError
