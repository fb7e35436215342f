"""The checking child process: loads the learner's code and checks each class found.

Started only by bp_tui.learner.sandbox, never imported by the parent. It speaks one JSON object
a line on the file descriptor it is given: a "phase" line before each piece of the learner's code
runs (so that the parent knows what hung), then "loaded", each "result", and "done". Their
prints are counted and dropped; input() refuses; memory is capped; a piece that runs past the
time limit has its stack written (faulthandler) before the process ends.

    python -m bp_tui.learner.child PATH FD LIMIT_SECONDS DUMP_FILE KNOWN_JSON

KNOWN_JSON: {"verdicts": {book class: status already found}, "hung": [[file, cell, line,
what, place], ...] definitions not to run again, "faults": {class name: place of its first
finding}}.
"""

from __future__ import annotations

import builtins
import faulthandler
import json
import os
import resource
import sys
import warnings
from pathlib import Path

MEMORY_LIMIT = 2 * 1024**3  # bytes of address space: a huge allocation fails at once
PR_SET_PDEATHSIG = 1


class _CountingSink:
    """sys.stdout and sys.stderr for their code: counts lines, keeps nothing."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _refuse_input(prompt: object = "") -> str:
    from bp_tui.learner.probe import InputCalled

    raise InputCalled("input() was called; nobody answers while checking")


def _die_with_parent() -> None:
    """The kernel ends this process when bp-tui ends (a closed terminal, a kill): their code
    must not run on alone. Linux's PR_SET_PDEATHSIG; elsewhere the parent's own ending does."""
    import ctypes
    import signal

    from bp_tui.learner.sandbox import PARENT_VARIABLE

    parent = int(os.environ.get(PARENT_VARIABLE, "0"))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if parent and os.getppid() != parent:  # the parent went before prctl took effect
        os._exit(1)


def main(argv: list[str]) -> int:
    _die_with_parent()
    path, fd, limit, dump_path, known_json = argv
    channel = os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
    known_data = json.loads(known_json)
    known: dict[str, str] = known_data["verdicts"]
    limit_seconds = float(limit)

    def emit(event: str, **data) -> None:
        channel.write(json.dumps({"event": event, **data}) + "\n")
        channel.flush()

    # Everything bp-tui needs is imported before their code runs, and before the limits.
    from bp_tui.learner.checks import check_class
    from bp_tui.learner.load import load
    from bp_tui.learner.names import BOOK_CLASSES
    from bp_tui.learner.source import LearnerFileError, Place

    sink = _CountingSink()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what C code or a subprocess of theirs writes
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = sink
    builtins.input = _refuse_input
    warnings.simplefilter("ignore")  # numpy's overflow warnings: the report says what went wrong
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    dump = open(dump_path, "w")  # noqa: SIM115 - faulthandler writes into it until the end

    def running(phase: str, **data) -> None:
        emit("phase", phase=phase, **data)
        faulthandler.dump_traceback_later(limit_seconds, exit=True, file=dump)

    running("load")
    try:
        hung = {
            (file, cell, line): (what, Place(**where))
            for file, cell, line, what, where in known_data["hung"]
        }
        loaded = load(Path(path), hung)
    except LearnerFileError as error:
        faulthandler.cancel_dump_traceback_later()
        emit("unreadable", message=str(error))
        return 0
    faulthandler.cancel_dump_traceback_later()
    chosen = loaded.by_book_name()
    emit(
        "loaded",
        skipped=loaded.skipped,
        notes=loaded.notes,
        found=[[book, c.name, c.place.to_dict()] for book, c in chosen.items()],
    )
    loaded.verdicts = {chosen[b].name: s for b, s in known.items() if b in chosen}
    loaded.faults = {name: Place(**p) for name, p in known_data.get("faults", {}).items()}
    for book in BOOK_CLASSES:
        if book not in chosen or book in known:
            continue
        running("class", book=book)
        result = check_class(book, chosen[book], loaded)
        faulthandler.cancel_dump_traceback_later()
        loaded.verdicts[result.name] = result.status
        if result.findings and result.findings[0].place is not None:
            loaded.faults[result.name] = result.findings[0].place
        emit("result", result=result.to_dict())
    emit("done", printed=sink.lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
