"""Going on with a recorded run: the plan, checked against what the user asked for, and its
restoration into a trainer. The plan is picklable: it crosses to the dashboard's engine process."""

from __future__ import annotations

from dataclasses import dataclass, field

from bp_tui.engine import checkpoint
from bp_tui.engine.config import HyperParams, split_changes
from bp_tui.engine.runs import RunError, RunStore
from bp_tui.engine.trainer import Trainer
from bp_tui.errors import ConfigError
from bp_tui.nn.model import shape_text


@dataclass(frozen=True)
class Resume:
    """A run to go on with: its checkpoint, and the live values changed on the way."""

    run_id: str
    checkpoint: str  # path of the run's checkpoint
    dataset: str
    hp: HyperParams  # the checkpoint's, with the changes
    changes: dict = field(default_factory=dict)
    iteration: int = 0

    def restore(self, trainer: Trainer) -> None:
        """Load the checkpoint into `trainer` (all or nothing), then apply the changes."""
        checkpoint.restore(trainer, checkpoint.load(self.checkpoint))
        if self.changes:
            trainer.apply_live(self.changes)


def plan(run_ref: str, given: dict, dataset: str | None, *, needs_iterations: bool) -> Resume:
    """Check a resume of `run_ref` (an id, its start, or latest) against the hyperparameters
    `given` and the data set asked for; one-line BpTuiError on any conflict.

    needs_iterations: refuse a run with no iterations left (the command line would only stop);
    the dashboard may open one to look at it.
    """
    store = RunStore()
    run = store.load(run_ref)
    store.check_free(run.id)  # a second resume of a run in training is refused here, early
    if run.checkpoint is None:
        raise RunError(f"run {run.id} has no checkpoint to resume from ({run.status})")
    loaded = checkpoint.load(run.checkpoint)
    saved: HyperParams = loaded["hp"]
    shape = loaded["spec"]
    if shape.hidden != run.hp.hidden or saved.activation != run.hp.activation:
        raise RunError(
            f"run {run.id} is recorded as a {shape_text((shape.input_size, *run.hp.hidden, 10))} "
            f"{run.hp.activation} net but its checkpoint holds a {shape} {saved.activation} one: "
            "not resumed (the checkpoint is another run's)"
        )
    trained_on = loaded["meta"].get("dataset") or run.dataset
    if dataset and dataset != trained_on:
        raise ConfigError(
            f"cannot be {dataset}: run {run.id} was trained on {trained_on} (leave it out)",
            "dataset",
        )
    changes, waiting = split_changes(saved, {}, given)
    for name in waiting:  # a resumed run has no reset: a value that waits for one is refused
        raise ConfigError(
            f"cannot change when resuming run {run.id} (it has "
            f"{getattr(saved, name)}): start a new run instead",
            name,
        )
    hp = saved.replace(**changes)
    iteration = int(loaded["meta"]["iteration"])
    if needs_iterations and iteration >= hp.iters:
        raise ConfigError(
            f"must be above {iteration:,} to go on: run {run.id} has done its {hp.iters:,} iterations",
            "iters",
        )
    return Resume(run.id, str(run.checkpoint), trained_on, hp, changes, iteration)
