"""Checking a learner's file in a child process with a time limit: the only way bp-tui runs it.

The parent never imports their code. It starts bp_tui.learner.child, reads its JSON lines, and
gives each piece of their code (loading, then each class) `limit` seconds: a piece that runs
longer is named with the line it was on, the child is ended with its whole process group, and a
new child goes on with the classes not yet checked. A child that dies some other way is one
line too.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bp_tui.errors import BpTuiError
from bp_tui.learner.report import DOES_NOT_RUN, CheckReport, ClassResult, Finding
from bp_tui.learner.source import (
    LearnerFile,
    LearnerFileError,
    Place,
    learner_files,
    place_of,
    read_learner_file,
)

DEFAULT_LIMIT = 10.0  # seconds for each piece of the learner's code
PARENT_VARIABLE = "BP_TUI_CHECK_PARENT"  # tells the child the pid it must not outlive
_GRACE = 3.0  # beyond the limit, for faulthandler to write the stack before the child is killed
_ROOT = str(Path(__file__).resolve().parent.parent.parent)
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def check_path(path: Path | str, limit: float = DEFAULT_LIMIT) -> CheckReport:
    """The report on PATH's classes; LearnerFileError when it cannot be read."""
    path = Path(path)
    # reading, not running: the parent names the lines the child's stack dump points at
    files = {str(p): read_learner_file(p) for p in learner_files(path.resolve())}
    report = CheckReport(str(path))
    known: dict[str, str] = {}
    hung: list[list] = []  # definitions whose loading ran past the limit: not run again
    faults: dict[str, dict] = {}  # class name -> its first finding's line, for a net built on it
    started = False
    while True:
        outcome = _run_child(path, limit, {"verdicts": known, "hung": hung, "faults": faults})
        if outcome.unreadable:
            raise LearnerFileError(outcome.unreadable)
        if not started and outcome.loaded is None:  # loading did not finish
            definition = _definition_at(outcome.where(files), files)
            if definition is None or definition in [h[:3] for h in hung]:
                report.notes.append(_loading_failed(outcome, files, limit))
                return report
            where = outcome.where(files)
            hung.append(
                [*definition, f"its definition is {outcome.describe(limit)}", where.to_dict()]
            )
            continue
        if not started:
            started = True
            report.skipped_statements = outcome.loaded["skipped"]
            report.notes.extend(outcome.loaded["notes"])
            found = outcome.loaded["found"]
        for result in outcome.results:
            report.classes.append(result)
            known[result.book_name] = result.status
            _note_fault(faults, result)
        report.printed_lines += outcome.printed
        if outcome.finished:
            break
        stuck = outcome.phase.get("book") if outcome.phase else None
        if stuck is None or stuck in known:
            report.notes.append(f"the check stopped early: {outcome.describe(limit)}")
            break
        name = next((n for b, n, _ in found if b == stuck), stuck)
        place = next((Place(**p) for b, _, p in found if b == stuck), None)
        report.classes.append(
            ClassResult(
                stuck,
                name,
                DOES_NOT_RUN,
                place,
                [
                    Finding(
                        "run",
                        outcome.describe(limit),
                        outcome.cause(),
                        outcome.where(files) or place,
                    )
                ],
            )
        )
        known[stuck] = DOES_NOT_RUN
        _note_fault(faults, report.classes[-1])
    order = {b: i for i, (b, _, _) in enumerate(found)}
    report.classes.sort(key=lambda c: order.get(c.book_name, len(order)))
    return report


def _note_fault(faults: dict[str, dict], result: ClassResult) -> None:
    if result.findings and result.findings[0].place is not None:
        faults[result.name] = result.findings[0].place.to_dict()


class _Outcome:
    def __init__(self) -> None:
        self.loaded: dict | None = None
        self.results: list[ClassResult] = []
        self.phase: dict | None = None
        self.finished = False
        self.unreadable: str | None = None
        self.printed = 0
        self.timed_out = False
        self.returncode: int | None = None
        self.dump = ""

    def describe(self, limit: float) -> str:
        if self.timed_out or "Timeout" in self.dump:
            return f"still running after {limit:g} s"
        if self.returncode is not None and self.returncode < 0:
            name = signal.Signals(-self.returncode).name
            return f"the checking process was ended by {name}"
        return f"the checking process ended (status {self.returncode}) in the middle of it"

    def cause(self) -> str | None:
        if self.timed_out or "Timeout" in self.dump:
            return "an endless loop, or far too much work"
        if self.returncode == -signal.SIGKILL:
            return "killed: too much memory?"
        return "os._exit() or a crash in their code?"

    def where(self, files: dict[str, LearnerFile]) -> Place | None:
        """The innermost line of the learner's code in faulthandler's stack (most recent first)."""
        for match in _FRAME.finditer(self.dump):
            place = place_of(match["file"], int(match["line"]), files)
            if place is not None:
                return place
        return None


def _run_child(path: Path, limit: float, known: dict) -> _Outcome:
    outcome = _Outcome()
    read_fd, write_fd = os.pipe()
    # A folder of its own: with -m the child's folder comes first on sys.path, and a learner's
    # numpy.py or common/ there must not stand in for the real ones.
    with tempfile.TemporaryDirectory(prefix="bp-tui-check-", ignore_cleanup_errors=True) as folder:
        dump = Path(folder) / "stack.txt"
        dump.touch()
        try:
            child = _start(path, write_fd, limit, dump, known, folder)
        except OSError as error:
            os.close(read_fd)
            os.close(write_fd)
            raise BpTuiError(
                f"cannot start the checking process: {error.strerror or error}"
            ) from None
        os.close(write_fd)
        interrupted = True  # Ctrl-C, SIGTERM or SIGHUP raised in _follow: end it at once
        try:
            _follow(child, read_fd, limit, outcome)
            interrupted = False
        finally:
            os.close(read_fd)
            _end(child, at_once=outcome.timed_out or interrupted)
            outcome.returncode = child.returncode
            outcome.dump = dump.read_text(errors="replace")
    return outcome


def _start(
    path: Path, write_fd: int, limit: float, dump: Path, known: dict, folder: str
) -> subprocess.Popen:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    env.pop("PYTHONSTARTUP", None)
    env[PARENT_VARIABLE] = str(os.getpid())  # the child goes when this process goes
    # bp_tui importable in the child whatever its folder (a source checkout included)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        "-m",
        "bp_tui.learner.child",
        str(path.resolve()),
        str(write_fd),
        str(limit),
        str(dump),
        json.dumps(known),
    ]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_fd,),
        start_new_session=True,  # its own process group: ended as a whole
        env=env,
        cwd=folder,
    )


def _follow(child: subprocess.Popen, read_fd: int, limit: float, outcome: _Outcome) -> None:
    selector = selectors.DefaultSelector()
    selector.register(read_fd, selectors.EVENT_READ)
    buffer = b""
    deadline = None  # start-up (Python, numpy) is bp-tui's own time, not the learner's
    start_up_deadline = time.monotonic() + 120.0
    try:
        while True:
            now = time.monotonic()
            if now > (deadline or start_up_deadline):
                outcome.timed_out = True
                return
            if not selector.select(timeout=min((deadline or start_up_deadline) - now, 0.5)):
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:
                return  # the child is gone
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                try:
                    event = json.loads(line)
                    kind = event.pop("event")
                except (ValueError, AttributeError, KeyError):
                    continue  # not the child's (their code wrote to its descriptor): dropped
                if kind == "phase":
                    outcome.phase = event
                    deadline = time.monotonic() + limit + _GRACE
                elif kind == "loaded":
                    outcome.loaded = event
                    deadline = None
                elif kind == "result":
                    outcome.results.append(ClassResult.from_dict(event["result"]))
                    deadline = None
                elif kind == "unreadable":
                    outcome.unreadable = event["message"]
                elif kind == "done":
                    outcome.printed = event["printed"]
                    outcome.finished = True
    finally:
        selector.close()


def _end(child: subprocess.Popen, at_once: bool) -> None:
    """The child and anything it started are ended and reaped."""
    if not at_once:
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def _definition_at(place: Place | None, files: dict[str, LearnerFile]) -> list | None:
    """[file, cell, line] of the top-level definition that holds the learner's `place`."""
    if place is None or place.file not in files:
        return None
    for piece in files[place.file].pieces:
        if piece.cell != place.cell:
            continue
        for node in piece.kept:
            if node.lineno <= place.line <= (node.end_lineno or node.lineno):
                return [piece.file, piece.cell, node.lineno]
    return None


def _loading_failed(outcome: _Outcome, files: dict[str, LearnerFile], limit: float) -> str:
    where = outcome.where(files)
    at = f" at {where}: {where.text}" if where else ""
    return f"loading your code did not finish: {outcome.describe(limit)}{at}"
