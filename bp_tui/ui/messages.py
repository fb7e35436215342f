"""The dashboard's messages: engine events arrive as one message type; children post theirs up.

The engine's event classes (bp_tui.engine.events) are the one vocabulary: EngineEvent carries one
of them to the app, which hands it to the method its table names for that event's type.
"""

from __future__ import annotations

from textual.message import Message


class EngineEvent(Message):
    """One event from the engine, posted from the thread that reads the engine's link."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


class InspectionWanted(Message):
    """The inspector wants the live network's parameters and a batch (graph 3)."""
