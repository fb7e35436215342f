"""The dashboard's messages: one per kind of engine news, and those children post up.

Engine news, end to end (an evaluation, say):
  engine/loop.py emits ev.Evaluation -> the link (engine/remote.py) -> BpTuiApp.pump_events
  (ui/app.py, a thread) posts `news.Evaluation(event)` from this module -> the app's handler
  marked `@news_handler(news.Evaluation)` (ui/app.py, "engine news") -> AccuracyChart.add and
  the panels' reactives.
Each class here carries the engine's event of the same name (bp_tui.engine.events, plain
dataclasses that cross the process boundary) as `event`; `of(event)` wraps one. A batch of news
ends with BatchEnd: the app draws it in one frame, then lets the pump post the next batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.css.query import NoMatches
from textual.message import Message

from bp_tui.engine import events as ev
from bp_tui.engine.remote import EngineLost

NEWS: dict[type, type[EngineNews]] = {}  # the engine's event type -> the message carrying it


@dataclass
class EngineNews(Message):
    """What the engine sent, as `event`. Only its subclasses are posted and handled, one per
    kind of event (`class Progress(EngineNews, carries=ev.Progress)`)."""

    event: Any

    def __init_subclass__(cls, carries: type | None = None, **options) -> None:
        super().__init_subclass__(**options)
        if carries is not None:
            NEWS[carries] = cls


def of(event: object) -> EngineNews:
    """The message that carries `event`."""
    return NEWS[type(event)](event)


def news_handler(kind: type[EngineNews]) -> Callable:
    """`@on(kind)` for an app method that takes the engine's event itself. News that comes
    while the app closes (its widgets gone, the engine still talking) has nothing to show and
    is dropped."""

    def decorate(handler: Callable) -> Callable:
        @on(kind)
        @functools.wraps(handler)
        def handle(self, message: EngineNews) -> None:
            try:
                handler(self, message.event)
            except NoMatches:
                pass

        return handle

    return decorate


class EngineReady(EngineNews, carries=ev.EngineReady):
    """The data set and the net: the header."""


class Progress(EngineNews, carries=ev.Progress):
    """Losses since the last Progress and the run's clock: the loss chart, the progress panel."""

    def can_replace(self, message: Message) -> bool:
        """A newer Progress right behind this one takes its losses along (none is lost)."""
        return _fold_into(self, message)


class Evaluation(EngineNews, carries=ev.Evaluation):
    """Accuracy on the train and test sets: the accuracy chart, the progress panel."""


class StateChanged(EngineNews, carries=ev.StateChanged):
    """Running, paused, finished...: the header and the panels."""


class ParamsChanged(EngineNews, carries=ev.ParamsChanged):
    """Values took effect (or wait for the reset): the panels and the changes' notice."""


class RunReset(EngineNews, carries=ev.RunReset):
    """A new run: the charts start again."""


class Finished(EngineNews, carries=ev.Finished):
    """The run's summary (--exit-when-done quits with it)."""


class Diverged(EngineNews, carries=ev.Diverged):
    """The loss is no number any more: the alert."""


class Failed(EngineNews, carries=ev.Failed):
    """The engine stopped on a fault of its own."""


class GradChecked(EngineNews, carries=ev.GradChecked):
    """The gradient check's report: its panel."""


class Saved(EngineNews, carries=ev.Saved):
    """A checkpoint was written."""


class Loaded(EngineNews, carries=ev.Loaded):
    """A checkpoint was read: the loss chart starts again."""


class Notice(EngineNews, carries=ev.Notice):
    """A command changed nothing: a notice says why."""


class SpeedChanged(EngineNews, carries=ev.SpeedChanged):
    """Slow motion's limit: the header and the Inspector."""


class Inspection(EngineNews, carries=ev.Inspection):
    """The net and a batch, for the Inspector."""


class ImageSet(EngineNews, carries=ev.ImageSet):
    """The test images, for the Digits tab."""


class Insight(EngineNews, carries=ev.Insight):
    """The net's answers and weights: the Digits and Learned tabs."""


class GradNorms(EngineNews, carries=ev.GradNorms):
    """Each layer's gradient norms: the Gradients tab."""

    def can_replace(self, message: Message) -> bool:
        """A newer GradNorms of the same layers right behind this one takes its norms along."""
        return _fold_into(self, message)


class Activations(EngineNews, carries=ev.Activations):
    """Each hidden layer's activations: the Learned tab."""


class Recording(EngineNews, carries=ev.Recording):
    """The run's folder: Compare leaves the current run out of the earlier ones."""


class Prediction(EngineNews, carries=ev.Prediction):
    """The net's answer to a drawing: the Draw tab."""


class Lost(EngineNews, carries=EngineLost):
    """The engine's process ended unasked."""


class BatchEnd(Message, bubble=False):
    """The news posted since the previous BatchEnd is all there is for now: the app draws it
    in one frame and lets the pump post the next batch."""


def _fold_into(earlier: EngineNews, later: Message) -> bool:
    if type(later) is not type(earlier):
        return False
    folded = ev.folded_news(earlier.event, later.event)
    if folded is None:
        return False
    later.event = folded
    return True


class InspectionWanted(Message):
    """The inspector wants the live network's parameters and a batch (graph 3)."""
