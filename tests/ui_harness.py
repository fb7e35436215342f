"""Drive the dashboard in tests: a fake engine link that plays back recorded events
(tests/recordings.py) and keeps the commands the app sends."""

from __future__ import annotations

import queue

from bp_tui.engine import HyperParams
from bp_tui.engine.remote import EngineExited
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.widgets.charts import AccuracyChart, LossChart
from bp_tui.ui.widgets.gradcheck_panel import GradCheckPanel
from tests.helpers import until


class FakeLink:
    """Plays back events and records the commands the app sends."""

    def __init__(self, events=()) -> None:
        self.events: queue.Queue = queue.Queue()
        for event in events:
            self.events.put(event)
        self.commands: list = []
        self.stopped = False

    def start(self) -> None:
        pass

    def send(self, command) -> None:
        self.commands.append(command)

    def next_event(self, timeout: float):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self, timeout: float = 1.0) -> None:
        self.stopped = True
        self.events.put(EngineExited())


def app_with(events, hp: HyperParams | None = None, **options) -> tuple[BpTuiApp, FakeLink]:
    link = FakeLink(events)
    app = BpTuiApp(lambda: link, hp or HyperParams(), start=False, **options)
    app.animation_level = "none"  # the progress bar would otherwise be caught mid-animation
    return app, link


def settled(app, iteration: int):
    """run_before: wait until the app has shown `iteration` and a gradient check, and the charts
    have drawn all they were given."""

    async def wait(pilot) -> None:
        panel = app.query_one(GradCheckPanel)
        await until(
            pilot,
            lambda: (
                app.iteration >= iteration
                and panel.report is not None
                and not panel.checking
                and not any(
                    chart.dirty for chart in (*app.query(LossChart), *app.query(AccuracyChart))
                )
            ),
        )

    return wait
