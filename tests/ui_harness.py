"""Drive the dashboard in tests: a fake engine link fed with recorded, deterministic events."""

from __future__ import annotations

import dataclasses
import queue
import threading

from bp_tui.data import load_dataset
from bp_tui.engine import HyperParams, Trainer
from bp_tui.engine import events as ev
from bp_tui.engine.loop import Engine
from bp_tui.engine.remote import EngineExited
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.widgets.gradcheck_panel import GradCheckPanel

FIXED_SPEED = 3000.0  # it/s shown in snapshots, so that no clock reaches a picture


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


def frozen(event):
    """The event with its clock readings replaced by fixed ones."""
    if isinstance(event, ev.Progress):
        seconds = event.iteration / FIXED_SPEED
        return dataclasses.replace(event, iters_per_second=FIXED_SPEED, train_seconds=seconds,
                                   elapsed=seconds)  # fmt: skip
    if isinstance(event, ev.GradChecked):
        event.report.seconds = 0.1
    return event


def recorded_run(hp: HyperParams, commands, data=None) -> list:
    """Every event of a real engine run on the shipped sample, frozen for pictures.

    Each command is sent once the previous one has shown its effect.
    """
    data = data or load_dataset("sample")
    events: queue.Queue = queue.Queue()
    commands_q: queue.Queue = queue.Queue()
    engine = Engine(Trainer(hp, data), events.put, commands_q, dataset=data.name,
                    progress_interval=10.0, blas_threads=1)  # fmt: skip
    thread = threading.Thread(target=engine.run, kwargs={"start": False})
    thread.start()
    seen: list = []

    def wait_for(done) -> None:
        while True:
            event = events.get(timeout=30)
            seen.append(event)
            if done(event):
                return

    for command in commands:
        iteration = engine.trainer.iteration
        commands_q.put(command)
        if isinstance(command, ev.Step):
            target = iteration + command.count
            wait_for(lambda e, t=target: isinstance(e, ev.Diverged)
                     or (isinstance(e, ev.Progress) and e.iteration >= t))  # fmt: skip
        elif isinstance(command, ev.CheckGradient):
            wait_for(lambda e: isinstance(e, ev.GradChecked))
    commands_q.put(ev.Stop())
    thread.join(timeout=30)
    while not events.empty():
        seen.append(events.get())
    return [frozen(e) for e in seen]


def app_with(events, hp: HyperParams | None = None, **options) -> tuple[BpTuiApp, FakeLink]:
    link = FakeLink(events)
    app = BpTuiApp(lambda: link, hp or HyperParams(), start=False, **options)
    app.animation_level = "none"  # the progress bar would otherwise be caught mid-animation
    return app, link


def settled(app, iteration: int):
    """run_before: wait until the app has shown `iteration` and a gradient check, charts drawn."""

    async def wait(pilot) -> None:
        for _ in range(200):
            await pilot.pause(0.02)
            panel = app.query_one(GradCheckPanel)
            if app.iteration >= iteration and panel.border_subtitle.startswith("iteration"):
                break
        await pilot.pause(0.25)  # at least two chart redraws

    return wait
