"""`bp-tui --layers PATH --watch`: each save of the learner's file is checked at once (bp-tui
check's child process: their code never runs in the UI's) and told in a notice; the next reset
reloads their layers into the run (the engine reads the file again at every reset) and the
gradient-check panel checks them again."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.message import Message

from bp_tui.errors import BpTuiError
from bp_tui.learner import check_path
from bp_tui.learner.source import saves


class LayersSaved(Message):
    """The learner's file was saved: what `bp-tui check` says of it now."""

    def __init__(self, path: Path, verdict: str) -> None:
        super().__init__()
        self.path, self.verdict = path, verdict


def watch_layers(app, path: Path) -> threading.Event:
    """Post LayersSaved to app after each save of path's files, from a daemon thread (it never
    holds up quitting); set the event returned to stop watching."""
    stop = threading.Event()

    def watch() -> None:
        for _ in saves(path, stop):
            try:
                verdict = check_path(path).summary()
            except BpTuiError as error:  # unreadable now (half saved, a syntax error...)
                verdict = str(error)
            if not stop.is_set():
                app.post_message(LayersSaved(path, verdict))

    threading.Thread(target=watch, name="bp-tui-watch", daemon=True).start()
    return stop
