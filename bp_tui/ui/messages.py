"""The dashboard's messages: engine events arrive as one message type; children post theirs up.

The engine's event classes (bp_tui.engine.events) are the one vocabulary: EngineEvent carries
them to the app, which hands each to the method its table names for that event's type.
"""

from __future__ import annotations

from textual.message import Message


class EngineEvent(Message):
    """The engine's events that arrived since the app took the previous EngineEvent, in order
    (runs of Progress merged into one), posted from the thread that reads the engine's link."""

    def __init__(self, events: list) -> None:
        super().__init__()
        self.events = events


class InspectionWanted(Message):
    """The inspector wants the live network's parameters and a batch (graph 3)."""
