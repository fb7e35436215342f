"""The training engine: hyperparameters, the step-by-step trainer, the command loop, checkpoints.

Imports no UI: the dashboard and the command line both drive it through events and commands.
"""

from bp_tui.engine.config import HyperParams
from bp_tui.engine.events import RunState
from bp_tui.engine.loop import Engine
from bp_tui.engine.trainer import DivergedError, Trainer

__all__ = ["DivergedError", "Engine", "HyperParams", "RunState", "Trainer"]
