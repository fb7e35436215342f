"""Recording runs from engine events, beside whatever else listens (the UI or `bp-tui train`).

The engine knows nothing of it: `recording(emit, recorder)` wraps the engine's emit callback. It
runs in the engine's own thread or process, between iterations, so a checkpoint it saves is the
trainer's state at that event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bp_tui.engine import checkpoint
from bp_tui.engine import events as ev
from bp_tui.engine.resume import Resume
from bp_tui.engine.runs import RunStore, RunWriter
from bp_tui.engine.trainer import Trainer
from bp_tui.errors import BpTuiError

CHECKPOINT_SECONDS = 5.0  # a killed run resumes from at most this far back (and at pauses)


class Recorder:
    """One run folder per run: created at the run's first iteration; a reset or a load ends it.

    resume: when the engine reports loading that run's checkpoint, the run goes on in its own
    folder instead of a new one.
    """

    def __init__(
        self,
        trainer: Trainer,
        dataset: str,
        store: RunStore | None = None,
        *,
        resume: Resume | None = None,
    ) -> None:
        self.trainer, self.dataset = trainer, dataset
        self.store = store or RunStore()
        self.hp = trainer.hp
        self.writer: RunWriter | None = None
        self.resume = resume
        self.loaded_from: str | None = None
        self.loaded_at: int | None = None  # the iteration a loaded checkpoint was saved at
        self.failed = False
        self.state: ev.RunState | None = None
        self._last_checkpoint = time.monotonic()

    def resume_now(self, run_id: str, changes: dict | None = None) -> None:
        """Go on with run_id from the trainer's current iteration (its checkpoint was restored);
        changes: live values already applied to the trainer, recorded as a change."""
        t = self.trainer
        self.writer = self.store.reopen(run_id, t.iteration)
        self._last_checkpoint = time.monotonic()
        if changes:
            self.writer.on_event(ev.ParamsChanged(t.iteration, t.hp, {}, dict(changes)))

    def on_event(self, event: object) -> ev.Notice | None:
        """Record the event; a disk problem stops recording and comes back as one Notice."""
        if self.failed:
            return None
        try:
            self._record(event)
        except (OSError, BpTuiError) as error:
            self.failed = True
            self._drop_writer()
            return ev.Notice(f"this run is not being recorded: {error}")
        return None

    def _record(self, event: object) -> None:
        if isinstance(event, (ev.EngineReady, ev.StateChanged, ev.ParamsChanged)):
            self.hp = event.hp
        if isinstance(event, ev.StateChanged):
            self.state = event.state
        if isinstance(event, ev.RunReset):
            # The trainer is already reset: the ended run keeps its last checkpoint.
            self._end(save=False)
            self.hp, self.loaded_from, self.loaded_at = event.hp, None, None
            return
        if isinstance(event, ev.Loaded):
            if self.resume and Path(event.path) == Path(self.resume.checkpoint):
                run_id, self.resume = self.resume.run_id, None
                self.resume_now(run_id)
            else:
                self.loaded_from, self.loaded_at = event.path, event.iteration
            return
        if self.writer is None:
            if not _starts_run(event, after=self.loaded_at):
                return
            self.writer = self.store.create(self.hp, self.dataset, resumed_from=self.loaded_from)
        self.writer.on_event(event)
        if isinstance(event, ev.StateChanged) and event.state in (
            ev.RunState.PAUSED,
            ev.RunState.FINISHED,
        ):
            self.save_checkpoint()
        elif isinstance(event, ev.Progress) and self.state is ev.RunState.PAUSED:
            self.save_checkpoint()  # the end of steps (n): a pause without a state change
        elif isinstance(event, (ev.Progress, ev.Evaluation)):
            if time.monotonic() - self._last_checkpoint >= CHECKPOINT_SECONDS:
                self.save_checkpoint()

    def save_checkpoint(self) -> None:
        if self.writer is not None and not self.trainer.diverged:
            checkpoint.save(self.trainer, self.dataset, self.writer.checkpoint_path)
            self._last_checkpoint = time.monotonic()

    def _end(self, save: bool) -> None:
        writer = self.writer
        if writer is None:
            return
        if writer.summary is None:
            if save:
                self.save_checkpoint()
            writer.close("stopped")
        writer.release()
        self.writer = None

    def _drop_writer(self) -> None:
        try:
            if self.writer is not None:
                self.writer.release()
        except OSError:
            pass
        self.writer = None

    def close(self) -> ev.Notice | None:
        """The engine has stopped: save the final checkpoint and the summary of an open run."""
        if self.failed:
            return None
        try:
            self._end(save=True)
        except (OSError, BpTuiError) as error:
            self.failed = True
            self._drop_writer()
            return ev.Notice(f"this run was not fully recorded: {error}")
        return None


def _starts_run(event: object, after: int | None = None) -> bool:
    """A run folder is made at the first sign of training, not for a dashboard opened and shut,
    nor for the loaded run's own losses and evaluations that a load shows again (`after`: the
    loaded iteration; only an iteration past it is new training)."""
    if isinstance(event, ev.Progress):
        new = len(event.losses) > 0
    elif isinstance(event, ev.Evaluation):
        new = True
    else:
        return False
    return new and (after is None or event.iteration > after)


def recording(emit: Callable[[object], None], recorder: Recorder) -> Callable[[object], None]:
    """emit, with each event recorded first (so what was shown was also written)."""

    def emit_and_record(event: object) -> None:
        writer = recorder.writer
        notice = recorder.on_event(event)
        emit(event)
        if notice is not None:
            emit(notice)
        if recorder.writer is not None and recorder.writer is not writer:
            emit(ev.Recording(recorder.writer.id))

    return emit_and_record
