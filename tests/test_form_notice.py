"""Values applied from the edit form make one notice, not two."""

from __future__ import annotations

from textual.widgets import Input

from tests.helpers import until
from tests.test_dashboard import make_app, open_edit_form, text_of


def times_shown(app, text: str) -> int:
    """How many times `text` is on the screen (a toast is drawn over the panels)."""
    return text_of(app.screen).count(text)


async def test_lr_and_hidden_from_the_form_make_one_notice():
    """The notice of the request and its confirmation by the engine were both drawn: the
    first, shown while the form was still the current screen, came back with the main screen
    just as it was being replaced."""
    app, links = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        form = await open_edit_form(app, pilot)
        form.query_one("#in-lr", Input).value = "0.05"
        form.query_one("#in-hidden", Input).value = "60"
        await pilot.press("enter")
        await until(pilot, lambda: links[0].engine.trainer.hp.lr == 0.05)
        await until(pilot, lambda: times_shown(app, "from iteration 1") == 1)
        await pilot.pause()
        await until(pilot, lambda: times_shown(app, "learning rate 0.1 → 0.05") == 1)
