"""t cycles the tabs, however fast it is pressed."""

from __future__ import annotations

from textual.events import Key
from textual.widgets import TabbedContent, TabPane

from bp_tui.ui.inspector.inspector import Inspector
from tests.helpers import until
from tests.test_dashboard import make_app


async def test_t_pressed_fast_reaches_every_tab_in_turn():
    """`t t t t` within 0.1 s from Train landed on the Inspector: the queued activation of
    the Inspector's tab focused it after the later presses, and the focus took its tab back."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        tabs = app.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane)]
        assert tabs.active == panes[0] and "inspector" in panes[1:-1]
        shown: list[str] = []
        tabs.watch(tabs, "active", lambda tab: shown.append(tab), init=False)
        for _ in range(len(panes) - 1):  # without waiting between the presses
            app.post_message(Key("t", "t"))
        inspector = app.query_one(Inspector)
        await until(pilot, lambda: shown == panes[1:] and not inspector.shown)
        await pilot.pause()
        await pilot.pause()
        await until(pilot, lambda: shown == panes[1:] and not inspector.has_focus)
        app.post_message(Key("t", "t"))  # and round again to the first
        await until(pilot, lambda: shown == [*panes[1:], panes[0]])
