"""Quitting while the tabs after Train are still being mounted ends without an error."""

from __future__ import annotations

import importlib

import pytest
from textual.app import App
from textual.containers import Container

from bp_tui.ui.app import HIDDEN_TABS


@pytest.mark.parametrize("tab", list(HIDDEN_TABS))
async def test_a_view_mounted_as_the_user_quits_ends_without_an_error(tab):
    """A terminal mounts these views after the first frame: a q pressed meanwhile (seen in CI)
    gave a view its Mount after Textual had taken its children away, and its query failed."""
    _, module, name, _ = HIDDEN_TABS[tab]
    view = getattr(importlib.import_module(module), name)

    class Host(App):
        def compose(self):
            yield Container(id="box")

    app = Host()
    async with app.run_test():
        app.query_one("#box").mount(view(id=f"{tab}-view"))
        app.exit()
    assert app.return_code == 0
