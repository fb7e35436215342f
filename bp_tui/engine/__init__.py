"""The training engine: hyperparameters, the step-by-step trainer, the command loop, checkpoints.

Imports no UI: the dashboard and the command line both drive it through events and commands.
"""

from bp_tui.engine.config import HyperParams
from bp_tui.engine.events import RunState

__all__ = ["DivergedError", "Engine", "HyperParams", "RunState", "Trainer"]


def __getattr__(name: str):
    """The loop and the trainer when first asked for: the dashboard's UI process, which reads
    this package's config and events, never needs them (and its first frame waits for none)."""
    if name == "Engine":
        from bp_tui.engine.loop import Engine

        return Engine
    if name in ("DivergedError", "Trainer"):
        from bp_tui.engine import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
