"""The run store: one folder per training run, written as it goes, readable even when cut off.

    runs/<id>/hyperparams.json   the run's data set, start time and hyperparameters (atomic)
    runs/<id>/metrics.jsonl      one JSON object a line: loss (mean of LOSS_EVERY iterations),
                                 evaluations and live changes, appended as training goes
    runs/<id>/checkpoint.npz     the latest checkpoint (checkpoint.save), replaced atomically
    runs/<id>/summary.json       the run's end: written last, so it exists only for a closed run
    runs/<id>/lock               flock'ed by the process writing the run (its pid inside)

Ids start with the start time (20261127-231500-ab12), so sorting them sorts the runs by time.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from bp_tui import paths

try:
    import fcntl
except ImportError:  # Windows: no flock, and no run lock
    fcntl = None  # type: ignore[assignment]
from bp_tui.engine import events as ev
from bp_tui.engine.checkpoint import write_atomically
from bp_tui.engine.config import HyperParams, hidden_text, lr_text
from bp_tui.engine.events import Evaluation
from bp_tui.errors import BpTuiError, ConfigError

FORMAT = "bp-tui-run-1"
HYPERPARAMS, METRICS, SUMMARY, CHECKPOINT, LOCK, ERROR_LOG = (
    "hyperparams.json",
    "metrics.jsonl",
    "summary.json",
    "checkpoint.npz",
    "lock",
    "error.log",  # the traceback of an engine fault, which the user saw as one line
)
LOSS_EVERY = 10  # one loss line per this many iterations: the mean of their mini-batch losses
SYNC_SECONDS = 2.0  # metrics reach the disk at least this often, so a kill loses only seconds
ID_PATTERN = re.compile(r"\d{8}-\d{6}-[0-9a-z]+")


class RunError(BpTuiError):
    pass


class DamagedRunError(RunError):
    def __init__(self, run_id: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"run {printable(run_id)} is damaged ({reason})")


class RunBusyError(RunError):
    """The run is being written by another process (it holds the run's lock)."""


def default_root() -> Path:
    return paths.home() / "runs"


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def brief(hp: HyperParams) -> str:
    """The recipe in a table cell: 50 relu std, sgd 0.1, b100, seed 0 (100,100 for two layers)."""
    return (
        f"{hidden_text(hp.hidden)} {hp.activation} {hp.init}, {hp.optimizer} {lr_text(hp.lr)}, b{hp.batch_size}, "
        f"seed {hp.seed}"
    )


def value_text(field: str, value) -> str:
    """One hyperparameter's value as `brief` writes it."""
    if field == "lr":
        return lr_text(value)
    return hidden_text(value) if field == "hidden" else str(value)


def change_steps(changes: list[dict]) -> dict[str, list[tuple[int, object]]]:
    """The change lines of a run, name by name: each change's iteration and new value."""
    made: dict[str, list[tuple[int, object]]] = {}
    for line in changes:
        for name, value in line.get("changes", {}).items():
            made.setdefault(name, []).append((line["iteration"], value))
    return made


def when_changed(steps: list[tuple[int, object]]) -> str:
    """When one value was changed: `at 3,000`, or `in 2 changes from 3,000`."""
    at = f"{steps[0][0]:,}"
    return f"at {at}" if len(steps) == 1 else f"in {len(steps)} changes from {at}"


def changes_brief(changes: list[dict], start: HyperParams) -> str:
    """The changes made as a run went, name by name: `lr 0.1→0.05 at 3,000`, or with several
    `lr 0.1→0.025 in 2 changes from 3,000`."""
    parts = []
    for name, steps in change_steps(changes).items():
        first = getattr(start, name, None)
        moved = f"{name.replace('_size', '')} {value_text(name, first)}→{value_text(name, steps[-1][1])}"
        parts.append(f"{moved} {when_changed(steps)}")
    return ", ".join(parts)


def _dump_json(path: Path, value: dict) -> None:
    data = (json.dumps(value, indent=2) + "\n").encode()
    write_atomically(path, lambda handle: handle.write(data))


# ---- reading ------------------------------------------------------------------------------------


@dataclass
class RunInfo:
    """One line of `bp-tui runs`: what a run was and how it ended."""

    id: str
    folder: Path
    started: datetime
    dataset: str
    hp: HyperParams
    status: str  # finished, diverged, failed, stopped, or unfinished (still running, or killed)
    iterations: int
    test_acc: float | None
    duration: float | None  # seconds of training (pauses and evaluations left out)
    resumed_from: str | None = None

    @property
    def checkpoint(self) -> Path | None:
        path = self.folder / CHECKPOINT
        return path if path.exists() else None


@dataclass
class RunRecord(RunInfo):
    """A whole run: its info plus every metric line."""

    loss_iterations: list[int] = field(default_factory=list)
    losses: list[float | None] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    summary: dict | None = None

    @property
    def final_hp(self) -> HyperParams:
        """The values the run ended with: its start values and the changes made as it went
        (from its summary, or from its change lines while it has none)."""
        try:
            if self.summary is not None and isinstance(self.summary.get("hp"), dict):
                return HyperParams.from_dict(self.summary["hp"])
            hp = self.hp
            for line in self.changes:
                hp = hp.replace(**line["changes"])
            return hp
        except (ConfigError, TypeError, ValueError):
            return self.hp  # a damaged line: the start values are still known


@dataclass
class DamagedRun:
    """A run folder that cannot be read, listed so that it can be seen and removed."""

    id: str
    folder: Path
    reason: str


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """Text from a run record, safe for a terminal: control characters (an escape sequence, a
    bell, a carriage return) are shown as \\x.. instead of acting."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _read_text(path: Path) -> str | None:
    """A regular file's text; None when it is missing. Never follows a symbolic link and never
    waits on a FIFO or a device: those are ValueError, like text that is not UTF-8."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        if path.is_symlink():
            raise ValueError(f"{path.name} is a symbolic link") from None
        raise ValueError(f"{path.name} cannot be read ({error.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder: fdopen itself would refuse it
            raise ValueError(f"{path.name} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read()
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text") from None


def read_metrics(path: Path) -> list[dict]:
    """Every readable line; a line cut off by a crash or a kill is skipped, not an error (so is a
    line with a wrongly typed field)."""
    try:
        text = _read_text(path)
    except ValueError:
        return []
    lines = []
    for line in (text or "").splitlines():
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
            continue
        if isinstance(value, dict) and _well_formed(value):
            lines.append(value)
    return lines


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _well_formed(line: dict) -> bool:
    def number(key: str, optional: bool = False) -> bool:
        return _number(line.get(key)) or (optional and line.get(key) is None)

    kind = line.get("type")
    return (
        _count(line.get("iteration"))
        and number("epoch", optional=True)
        and number("seconds", optional=True)
        and (
            (kind == "loss" and number("loss", optional=True))
            or (kind == "eval" and number("train_acc") and number("test_acc"))
            or (kind == "change" and isinstance(line.get("changes"), dict))
        )
    )


def _read_json(path: Path) -> dict | None:
    """A JSON object; None when the file is missing, ValueError when it is anything else."""
    text = _read_text(path)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        raise ValueError(f"{path.name} is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return value


STATUSES = ("finished", "diverged", "failed", "stopped")
# What a summary may hold, and what each must be (a field left out is fine).
SUMMARY_FIELDS = {
    "status": lambda v: v in STATUSES,
    "dataset": lambda v: isinstance(v, str),
    "iterations": _count,
    "epochs": _number,
    "final_loss": lambda v: v is None or _number(v),
    "train_acc": lambda v: v is None or _number(v),
    "test_acc": lambda v: v is None or _number(v),
    "train_seconds": lambda v: v is None or (_number(v) and v >= 0),
    "message": lambda v: isinstance(v, str),
    "ended": lambda v: isinstance(v, str),
    "diverged": lambda v: isinstance(v, bool),
}


def _check_summary(summary: dict) -> None:
    for key, valid in SUMMARY_FIELDS.items():
        if key in summary and not valid(summary[key]):
            raise ValueError(f"{SUMMARY} has {key} {printable(repr(summary[key]))[:40]}")


def read_run(folder: Path, details: bool = True) -> RunRecord:
    """The run in folder; RunError, one line, when any of its records is damaged.

    details=False skips the metrics of an ended run (its summary has what a listing shows).
    """
    try:
        if folder.is_symlink():
            raise ValueError("its folder is a symbolic link")
        head = _read_json(folder / HYPERPARAMS)
        if head is None or head.get("format") != FORMAT:
            raise ValueError(f"no readable {HYPERPARAMS}")
        if not isinstance(head.get("hp"), dict):
            raise ValueError(f"{HYPERPARAMS} has no hyperparameters")
        hp = HyperParams.from_dict(head["hp"])
        if not isinstance(head.get("started"), str):
            raise ValueError(f"{HYPERPARAMS} has no start time")
        started = datetime.fromisoformat(head["started"])
        if started.tzinfo is None:
            raise ValueError(f"its start time {printable(head['started'])[:40]} has no time zone")
        dataset = head.get("dataset")
        if not isinstance(dataset, str):
            raise ValueError(f"{HYPERPARAMS} has no data set name")
        resumed_from = head.get("resumed_from")
        if resumed_from is not None and not isinstance(resumed_from, str):
            raise ValueError(f"{HYPERPARAMS} has a resumed_from that is not a path")
        summary = _read_json(folder / SUMMARY)
        if summary is not None:
            _check_summary(summary)
    except (ValueError, TypeError, ConfigError) as error:
        raise DamagedRunError(folder.name, printable(error)) from None
    lines = read_metrics(folder / METRICS) if details or summary is None else []
    losses = [m for m in lines if m.get("type") == "loss"]
    evaluations = [
        Evaluation(m["iteration"], m.get("epoch", 0.0), m["train_acc"], m["test_acc"])
        for m in lines
        if m.get("type") == "eval"
    ]
    last_eval = next((m for m in reversed(lines) if m.get("type") == "eval"), None)
    if summary is not None:
        status = summary.get("status", "finished")
        iterations, test_acc = summary.get("iterations", 0), summary.get("test_acc")
        duration = summary.get("train_seconds")
    else:
        status = "unfinished"
        iterations = max((m["iteration"] for m in lines), default=0)
        test_acc = last_eval["test_acc"] if last_eval else None
        duration = last_eval.get("seconds") if last_eval else None
    return RunRecord(
        id=folder.name,
        folder=folder,
        started=started,
        dataset=dataset,
        hp=hp,
        status=status,
        iterations=int(iterations),
        test_acc=test_acc,
        duration=duration,
        resumed_from=resumed_from,
        loss_iterations=[m["iteration"] for m in losses],
        losses=[m.get("loss") for m in losses],
        evaluations=evaluations,
        changes=[m for m in lines if m.get("type") == "change"],
        summary=summary,
    )


def csv_text(record: RunRecord) -> str:
    """One row per iteration that has a loss or an evaluation (the other cells left empty)."""
    rows: dict[int, dict] = {}
    for iteration, loss in zip(record.loss_iterations, record.losses, strict=True):
        rows.setdefault(iteration, {})["loss"] = loss
    for e in record.evaluations:
        rows.setdefault(e.iteration, {}).update(
            epoch=e.epoch, train_acc=e.train_acc, test_acc=e.test_acc
        )
    out = io.StringIO()
    columns = ("iteration", "epoch", "loss", "train_acc", "test_acc")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for iteration in sorted(rows):
        row = rows[iteration]
        writer.writerow([iteration] + ["" if row.get(c) is None else row[c] for c in columns[1:]])
    return out.getvalue()


# ---- the lock -----------------------------------------------------------------------------------


class RunLock:
    """An exclusive flock on runs/<id>/lock, held by the one process that writes the run.

    The kernel drops it when that process ends, however it ends, so a killed run's lock is free
    again at once; the file itself stays and names the last holder's pid.
    """

    def __init__(self, folder: Path, fd: int) -> None:
        self.folder, self._fd = folder, fd

    @classmethod
    def acquire(cls, folder: Path, run_id: str | None = None) -> RunLock:
        """RunBusyError when another process holds it (RunError when it cannot be made)."""
        run_id = run_id or folder.name
        try:
            fd = os.open(
                folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
            )
        except OSError as error:
            raise RunError(
                f"cannot lock run {printable(run_id)}: {error.strerror or error}"
            ) from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f"process {holder}" if holder.isdigit() else "another process"
            raise RunBusyError(
                f"run {printable(run_id)} is in use: {who} is training it; stop that first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(folder, fd)

    def release(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)  # closing drops the flock


# ---- writing ------------------------------------------------------------------------------------


class RunWriter:
    """Appends one run's metrics from engine events; `close` writes its summary.

    Lines reach the OS at each progress report (10 a second) and the disk (fsync) at most every
    SYNC_SECONDS and at the end, so a kill or a crash loses at most the last seconds; a torn last
    line is skipped on reading.
    """

    def __init__(
        self,
        folder: Path,
        dataset: str,
        hp: HyperParams,
        *,
        loss_upto: int = 0,
        last_eval: int = 0,
        lock: RunLock | None = None,
    ) -> None:
        self.folder, self.id, self.dataset, self.hp = folder, folder.name, dataset, hp
        self.lock = lock or RunLock.acquire(folder)
        try:
            self._file = open(folder / METRICS, "a", encoding="utf-8")  # noqa: SIM115 - lives with the run
        except BaseException:
            self.lock.release()
            raise
        self._buffer: list[float] = []
        self._loss_upto = loss_upto  # the last iteration whose loss is written or buffered
        self._last_eval = last_eval  # the last evaluation written (a checkpoint load replays them)
        self._last_sync = time.monotonic()
        self.iteration, self.epoch, self.train_seconds = 0, 0.0, 0.0
        self.last_loss: float | None = None
        self.last_evaluation: ev.Evaluation | None = None
        self.summary: dict | None = None  # set once the run has ended and said so

    @property
    def checkpoint_path(self) -> Path:
        return self.folder / CHECKPOINT

    def _write(self, line: dict, goes_on: bool = True) -> None:
        if goes_on and self.summary is not None:
            # The run goes on after its end (more iterations): it is no longer finished.
            self.summary = None
            (self.folder / SUMMARY).unlink(missing_ok=True)
        self._file.write(json.dumps(line) + "\n")

    def sync(self, force: bool = True) -> None:
        """Flush to the OS (enough to survive a kill); fsync if forced or SYNC_SECONDS have passed
        (to survive a crash), so that frequent evaluations cost no disk round trip each."""
        self._file.flush()
        if force or time.monotonic() - self._last_sync >= SYNC_SECONDS:
            os.fsync(self._file.fileno())
            self._last_sync = time.monotonic()

    def on_event(self, event: object) -> None:
        """Record what the event says about the run; other events are ignored."""
        if isinstance(event, ev.Progress):
            self._add_losses(event)
            self.sync(force=False)
        elif isinstance(event, ev.Evaluation):
            self.last_evaluation = event
            if event.iteration > self._last_eval:
                self._last_eval = event.iteration
                self._write(
                    {
                        "type": "eval",
                        "iteration": event.iteration,
                        "epoch": round(event.epoch, 6),
                        "train_acc": event.train_acc,
                        "test_acc": event.test_acc,
                        "seconds": round(self.train_seconds, 4),
                    }
                )
                self.sync(force=False)
        elif isinstance(event, ev.ParamsChanged):
            self.hp = event.hp
            if event.changes:
                # A change alone does not reopen an ended run; only more training does.
                self._write(
                    {"type": "change", "iteration": event.iteration, "changes": event.changes},
                    goes_on=False,
                )
        elif isinstance(event, ev.Finished):
            self.close("diverged" if event.summary.get("diverged") else "finished", event.summary)
        elif isinstance(event, ev.Diverged):
            self.close("diverged", {"message": event.message})
        elif isinstance(event, ev.Failed):
            extra = {"message": event.message}
            if event.details:
                (self.folder / ERROR_LOG).write_text(event.details)
                extra["log"] = ERROR_LOG
            self.close("failed", extra)

    def _add_losses(self, event: ev.Progress) -> None:
        self.iteration, self.epoch, self.train_seconds = (
            event.iteration,
            event.epoch,
            event.train_seconds,
        )
        losses = np.asarray(event.losses, dtype=np.float64)
        first = event.iteration - len(losses) + 1  # the iteration of losses[0]
        if first > self._loss_upto + 1:
            # Losses start later than the last one written (a load replays only the last ones a
            # checkpoint keeps): the lines go on from there.
            self._flush_losses()
            self._loss_upto = first - 1
        losses = losses[max(0, self._loss_upto + 1 - first) :]  # a load replays earlier ones
        finite = losses[np.isfinite(losses)]
        if len(finite):
            self.last_loss = float(finite[-1])
        done = 0
        while done < len(losses):
            # Lines fall on multiples of LOSS_EVERY, also after a short block (a run's end).
            block = losses[done : done + LOSS_EVERY - self._loss_upto % LOSS_EVERY].tolist()
            self._buffer.extend(block)
            self._loss_upto += len(block)
            done += len(block)
            if self._loss_upto % LOSS_EVERY == 0:
                self._flush_losses()

    def _flush_losses(self) -> None:
        if self._buffer:
            line = {
                "type": "loss",
                "iteration": self._loss_upto,
                "loss": _finite(sum(self._buffer) / len(self._buffer)),
            }
            if len(self._buffer) != LOSS_EVERY:
                line["count"] = len(self._buffer)
            self._buffer = []
            self._write(line)

    def close(self, status: str = "stopped", extra: dict | None = None) -> None:
        """Write the summary (status: finished, diverged, failed or stopped) and sync."""
        self._flush_losses()
        last = self.last_evaluation
        summary = {
            "status": status,
            "dataset": self.dataset,
            "iterations": self.iteration,
            "epochs": round(self.epoch, 4),
            "final_loss": self.last_loss,
            "train_acc": last.train_acc if last else None,
            "test_acc": last.test_acc if last else None,
            "train_seconds": round(self.train_seconds, 4),
            "ended": datetime.now().astimezone().isoformat(timespec="seconds"),
            "hp": self.hp.to_dict(),
            **(extra or {}),
        }
        summary["status"] = status
        self.sync()
        _dump_json(self.folder / SUMMARY, summary)
        self.summary = summary

    def release(self) -> None:
        """Close the metrics file (after close(), or to leave the run unfinished) and let go of
        the run's lock."""
        try:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
        finally:
            self.lock.release()


# ---- the store ----------------------------------------------------------------------------------


class RunStore:
    """The runs folder: create, list, load, export and remove runs."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def new_id(self, now: datetime) -> str:
        while True:
            run_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
            if not (self.root / run_id).exists():
                return run_id

    def create(
        self,
        hp: HyperParams,
        dataset: str,
        *,
        run_id: str | None = None,
        started: datetime | None = None,
        resumed_from: str | None = None,
    ) -> RunWriter:
        """A new run folder with its hyperparameters; returns the writer of its metrics."""
        started = started or datetime.now().astimezone()
        run_id = run_id or self.new_id(started)
        # Milliseconds: runs started within one second still sort in order.
        head = {
            "format": FORMAT,
            "id": run_id,
            "started": started.isoformat(timespec="milliseconds"),
            "dataset": dataset,
            "hp": hp.to_dict(),
        }
        if resumed_from:
            head["resumed_from"] = resumed_from
        # Built under a hidden name, then renamed: a run folder always has its hyperparameters.
        building = self.root / f".{run_id}.new"
        building.mkdir(parents=True)
        lock = RunLock.acquire(building, run_id)  # held from the start: no one else can reopen it
        try:
            _dump_json(building / HYPERPARAMS, head)
            folder = self.root / run_id
            os.rename(building, folder)
            return RunWriter(folder, dataset, hp, lock=lock)
        except BaseException:
            lock.release()
            raise

    def reopen(self, run_id: str, iteration: int) -> RunWriter:
        """Go on writing a run from its checkpoint at `iteration`: later lines are dropped
        (training repeats those iterations) and the run is unfinished again."""
        record = self.load(run_id)
        lock = RunLock.acquire(record.folder, record.id)  # refused while another writes it
        kept = [m for m in read_metrics(record.folder / METRICS) if m["iteration"] <= iteration]
        text = "".join(json.dumps(m) + "\n" for m in kept).encode()
        losses = [m["iteration"] for m in kept if m.get("type") == "loss"]
        evals = [m["iteration"] for m in kept if m.get("type") == "eval"]
        try:
            write_atomically(record.folder / METRICS, lambda handle: handle.write(text))
            (record.folder / SUMMARY).unlink(missing_ok=True)
            return RunWriter(
                record.folder,
                record.dataset,
                record.hp,
                lock=lock,
                loss_upto=max(losses, default=0),
                last_eval=max(evals, default=0),
            )
        except OSError as error:
            lock.release()
            raise RunError(f"could not reopen run {record.id}: {error}") from None
        except BaseException:
            lock.release()
            raise

    def ids(self) -> list[str]:
        """Every run folder's name, readable or not (a symbolic link is listed, as damaged)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if (p.is_dir() or p.is_symlink()) and not p.name.startswith(".")
        )

    def resolve(self, ref: str) -> str:
        """A run id from an id, a unique start of one, or `latest`; RunError otherwise."""
        ids = self.ids()
        if ref in ids:
            return ref
        if ref == "latest" and ids:
            runs = self.list()
            return runs[-1].id if runs else ids[-1]
        found = [i for i in ids if ref and i.startswith(ref)]
        if len(found) == 1:
            return found[0]
        if found:
            raise RunError(
                f"{ref!r} names {len(found)} runs ({printable(found[0])}, {printable(found[1])}...): "
                "give more of the id"
            )
        raise RunError(f"no run {ref!r} in {self.root}: `bp-tui runs` lists them")

    def list(self) -> list[RunInfo]:
        """Every readable run, oldest first (see scan for the damaged ones too)."""
        return self.scan()[0]

    def scan(self) -> tuple[list[RunInfo], list[DamagedRun]]:
        """The readable runs, oldest first, and the damaged ones, by id."""
        runs, damaged = [], []
        for run_id in self.ids():
            try:
                runs.append(read_run(self.root / run_id, details=False))
            except DamagedRunError as error:
                damaged.append(DamagedRun(run_id, self.root / run_id, error.reason))
        return sorted(runs, key=lambda r: (r.started, r.id)), damaged

    def load(self, ref: str) -> RunRecord:
        return read_run(self.root / self.resolve(ref))

    def changes(self, run: RunRecord) -> list[dict]:
        """The change lines of a listed run: a listing reads no metric lines of an ended run,
        so those of a run that ended with other values than it started with are read now."""
        if not run.changes and run.final_hp != run.hp:
            return self.load(run.id).changes
        return run.changes

    def export_csv(self, ref: str, path: str | Path) -> Path:
        """The run's metrics as CSV, written atomically to a new path or over a regular file
        (never through a symbolic link, nor over a device, a FIFO or a folder)."""
        target = Path(path)
        if target.is_symlink():
            raise RunError(f"{printable(target)} is a symbolic link: give the path of a file")
        if target.exists() and not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise RunError(f"{printable(target)} is {kind}: give a file name such as run.csv")
        if target.resolve().is_relative_to(self.root.resolve()):
            raise RunError(f"{printable(target)} is inside the run records: export elsewhere")
        if not target.parent.is_dir():  # a typo would otherwise make folders anywhere
            raise RunError(
                f"the folder {printable(target.parent)} does not exist: export into one that does"
            )
        data = csv_text(self.load(ref)).encode()
        try:
            write_atomically(target, lambda handle: handle.write(data))
        except OSError as error:
            raise RunError(
                f"could not write {printable(target)}: {error.strerror or error}"
            ) from None
        return target

    def check_free(self, run_id: str) -> None:
        """RunBusyError when a process is writing the run now."""
        folder = self.root / run_id
        if folder.is_dir() and not folder.is_symlink():
            RunLock.acquire(folder, run_id).release()

    def remove(self, ref: str) -> str:
        """Delete a run (a damaged one too); RunBusyError while a process is writing it."""
        run_id = self.resolve(ref)
        folder = self.root / run_id
        try:
            if folder.is_symlink():
                folder.unlink()  # the link only, never what it points at
                return run_id
            lock = RunLock.acquire(folder, run_id)  # held while deleting: no writer can start
            try:
                # Renamed first, so that a half-deleted folder is never listed as a run.
                doomed = self.root / f".{run_id}.removing"
                os.rename(folder, doomed)
                shutil.rmtree(doomed)
            finally:
                lock.release()
        except OSError as error:
            raise RunError(
                f"could not remove run {printable(run_id)}: {error.strerror or error}"
            ) from None
        return run_id
