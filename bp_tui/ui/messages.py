"""Textual messages: the engine's events as the UI receives them (engine -> messages -> widgets)."""

from __future__ import annotations

from textual.message import Message

from bp_tui.engine import events as ev


class EngineMessage(Message):
    """Base: carries one engine event; subclasses name what happened."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


class EngineReady(EngineMessage):
    pass


class TrainingProgress(EngineMessage):
    pass


class EvaluationDone(EngineMessage):
    pass


class RunStateChanged(EngineMessage):
    pass


class ParamsChanged(EngineMessage):
    pass


class RunReset(EngineMessage):
    pass


class RunFinished(EngineMessage):
    pass


class RunDiverged(EngineMessage):
    pass


class RunFailed(EngineMessage):
    pass


class GradientChecked(EngineMessage):
    pass


class CheckpointSaved(EngineMessage):
    pass


class CheckpointLoaded(EngineMessage):
    pass


class EngineNotice(EngineMessage):
    pass


class InspectionReady(EngineMessage):
    pass


class ImagesReady(EngineMessage):
    pass


class InsightReady(EngineMessage):
    pass


_BY_EVENT = {
    ev.EngineReady: EngineReady,
    ev.Progress: TrainingProgress,
    ev.Evaluated: EvaluationDone,
    ev.StateChanged: RunStateChanged,
    ev.ParamsChanged: ParamsChanged,
    ev.RunReset: RunReset,
    ev.Finished: RunFinished,
    ev.Diverged: RunDiverged,
    ev.Failed: RunFailed,
    ev.GradChecked: GradientChecked,
    ev.Saved: CheckpointSaved,
    ev.Loaded: CheckpointLoaded,
    ev.Notice: EngineNotice,
    ev.Inspection: InspectionReady,
    ev.ImageSet: ImagesReady,
    ev.Insight: InsightReady,
}


def message_for(event: object) -> EngineMessage | None:
    kind = _BY_EVENT.get(type(event))
    return kind(event) if kind else None
