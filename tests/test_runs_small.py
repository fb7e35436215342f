"""The run comparison (c) at 80x24 (issue 21, 4): the current run is not an earlier one, and
each chosen run's key (what it did differently) is readable whole."""

from bp_tui.engine import events as ev
from bp_tui.ui.comparison import differences
from bp_tui.ui.screens.runs_screen import RunsScreen
from tests.helpers import until
from tests.test_dashboard import text_of
from tests.test_runs_snapshots import EARLIER, HP, current_run, earlier_events, store  # noqa: F401
from tests.ui_harness import app_with, settled


async def test_the_current_run_is_no_earlier_run_and_keys_are_whole_at_80x24(store, current_run):  # noqa: F811
    current = EARLIER[-1][0]  # the dashboard says which folder records its run
    app, _ = app_with([*current_run, ev.Recording(current)], HP)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, 300)(pilot)
        await until(pilot, lambda: app.run_id == current)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert current not in [r.id for r in app.screen.runs] and len(app.screen.runs) == 2
        await pilot.press("escape")
        # Runs that differ from now in four values: each row says all four, whole.
        hp = HP.replace(optimizer="momentum", batch_size=50, init="he")
        screen = RunsScreen(hp, current=current)
        await app.push_screen(screen)
        await until(pilot, lambda: app.screen is screen)
        listed = text_of(screen.query_one("#runs-list"))
        for run in screen.runs:
            assert " ".join(differences(run, hp)) in listed
