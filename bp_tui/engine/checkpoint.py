"""Checkpoints: parameters, hyperparameters, optimiser state and history in one .npz (no pickle)."""

from __future__ import annotations

import json
import math
import time
import zipfile
from pathlib import Path

import numpy as np

from bp_tui.engine.config import HyperParams, hidden_text
from bp_tui.engine.events import Evaluation
from bp_tui.engine.history import LOSS_TAIL, LossHistory
from bp_tui.engine.trainer import OUTPUT_SIZE, Trainer
from bp_tui.errors import BpTuiError, ConfigError
from bp_tui.files import atomic_write as write_atomically
from bp_tui.nn.model import spec_of_params
from bp_tui.nn.optimizers import OPTIMIZERS
from bp_tui.paths import checkpoints_dir

FORMAT = "bp-tui-checkpoint-1"


class CheckpointError(BpTuiError):
    pass


def default_path() -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = checkpoints_dir() / f"checkpoint-{stamp}.npz"
    n = 1
    while path.exists():
        n += 1
        path = checkpoints_dir() / f"checkpoint-{stamp}-{n}.npz"
    return path


def latest_path() -> Path:
    found = []
    for path in checkpoints_dir().glob("checkpoint-*.npz"):
        try:
            if path.is_file():
                found.append((path.stat().st_mtime, path))
        except OSError:  # gone meanwhile, or unreadable: not a candidate
            continue
    found = [path for _, path in sorted(found)]
    if not found:
        raise CheckpointError(
            f"no checkpoint in {checkpoints_dir()}: save one first", action="save"
        )
    return found[-1]


def save(trainer: Trainer, dataset: str, path: str | Path | None = None) -> Path:
    target = Path(path) if path else default_path()
    meta = {
        "format": FORMAT,
        "dataset": dataset,
        "hp": trainer.hp.to_dict(),
        "iteration": trainer.iteration,
        "samples_seen": trainer.samples_seen,
        "train_seconds": trainer.train_seconds,
        "marks": trainer.marks,
        "rng": trainer.rng.bit_generator.state,
        "optimizer": trainer.hp.optimizer,
    }
    arrays = {f"param/{k}": v for k, v in trainer.net.params.items()}
    arrays.update({f"opt/{k}": v for k, v in trainer.optimizer.state().items()})
    # The last LOSS_TAIL losses only (those of iterations iteration - len + 1 .. iteration): a
    # checkpoint stays small however long the run; the run's metrics.jsonl has them all.
    arrays["losses"] = trainer.losses.recent(LOSS_TAIL)
    arrays["evaluations"] = np.array(
        [[e.iteration, e.epoch, e.train_acc, e.test_acc] for e in trainer.evaluations],
        dtype=np.float64,
    ).reshape(-1, 4)
    arrays["meta"] = np.array(json.dumps(meta))
    write_atomically(target, lambda handle: np.savez(handle, **arrays))
    return target


def load(path: str | Path) -> dict:
    """Read and check every part of a checkpoint; CheckpointError, one line, on any problem.

    What it returns can be restored without a further check (restore also puts the trainer back
    as it was should anything still go wrong).
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file, so not a bp-tui checkpoint")
    try:
        _check_members(path)
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except _Damaged as error:
        raise CheckpointError(f"{path} is a damaged bp-tui checkpoint: {error}") from None
    except Exception as error:  # noqa: BLE001 - numpy and zipfile fail in many ways on a bad file
        if path.stat().st_size == 0:
            reason = "the file is empty"
        elif not zipfile.is_zipfile(path):
            reason = "not an .npz file"
        else:
            reason = (str(error) or type(error).__name__).splitlines()[0][:120]
        raise CheckpointError(f"{path} is not a readable bp-tui checkpoint ({reason})") from None
    try:
        return _checked(arrays, path)
    except _Damaged as error:
        raise CheckpointError(f"{path} is a damaged bp-tui checkpoint: {error}") from None


class _Damaged(Exception):
    """What is wrong in a checkpoint that numpy could read."""


def _require(condition: bool, why: str) -> None:
    if not condition:
        raise _Damaged(why)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# bp-tui stores a checkpoint's arrays uncompressed (np.savez) and weights barely compress: arrays
# declaring many times the file's size are a zip bomb (3 MB of zeros that would be 3 GB).
MAX_EXPANSION = 8
EXPANSION_ALLOWANCE = 1 << 20


def _check_members(path: Path) -> None:
    """Every member an .npy array whose header declares the size its zip entry holds, and all
    of them together no more than MAX_EXPANSION times the file: read from the headers alone,
    before any array is (as the IDX reader checks its header before reading)."""
    declared_total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = repr(info.filename[:40])
            _require(info.filename.endswith(".npy"), f"its member {name} is not an array")
            with archive.open(info) as member:
                try:
                    major, _ = np.lib.format.read_magic(member)
                    read_header = {
                        1: np.lib.format.read_array_header_1_0,
                        2: np.lib.format.read_array_header_2_0,
                    }[major]
                    shape, _, dtype = read_header(member)
                except (ValueError, KeyError, OSError, EOFError):
                    raise _Damaged(f"its member {name} is not an array") from None
                header = member.tell()
            _require(not dtype.hasobject, f"its member {name} holds Python objects")
            declared = math.prod(shape) * dtype.itemsize
            _require(
                header + declared == info.file_size,
                f"its member {name} holds {info.file_size - header:,} bytes where its header "
                f"declares {declared:,}",
            )
            declared_total += declared
    size = path.stat().st_size
    _require(
        declared_total <= MAX_EXPANSION * size + EXPANSION_ALLOWANCE,
        f"its arrays declare {declared_total:,} bytes from a file of {size:,} (a zip bomb; "
        "bp-tui stores its checkpoints uncompressed), not read",
    )


def _checked(arrays: dict[str, np.ndarray], path: Path) -> dict:
    for key, value in arrays.items():
        _require(isinstance(value, np.ndarray), f"its member {key[:40]!r} is not an array")
    _require("meta" in arrays, "it has no meta record")
    meta_array = arrays.pop("meta")
    _require(meta_array.shape == () and meta_array.dtype.kind == "U", "its meta record is not text")
    try:
        meta = json.loads(str(meta_array))
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        raise _Damaged("its meta record is not JSON") from None
    _require(isinstance(meta, dict), "its meta record is not a JSON object")
    _require(meta.get("format") == FORMAT, f"unknown format {str(meta.get('format'))[:40]!r}")
    for key in ("dataset", "hp", "iteration", "samples_seen", "train_seconds", "marks", "rng"):
        _require(key in meta, f"its meta record has no {key!r}")
    _require(isinstance(meta["dataset"], str), "its data set name is not text")
    _require(isinstance(meta["hp"], dict), "its hyperparameters are not a JSON object")
    try:
        hp = HyperParams.from_dict(meta["hp"])
    except ConfigError as error:
        raise _Damaged(f"its hyperparameters are refused ({error})") from None
    except (TypeError, ValueError) as error:
        raise _Damaged(f"its hyperparameters are refused ({error})") from None
    iteration = meta["iteration"]
    _require(_whole(iteration), "its iteration is not a whole number")
    _require(_whole(meta["samples_seen"]), "its sample count is not a whole number")
    seconds = meta["train_seconds"]
    _require(
        isinstance(seconds, (int, float))
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
        and seconds >= 0,
        "its training time is not a number of seconds",
    )
    marks = meta["marks"]
    _require(
        isinstance(marks, list)
        and all(
            isinstance(m, list) and len(m) == 2 and _whole(m[0]) and isinstance(m[1], str)
            for m in marks
        ),
        "its change marks are not (iteration, text) pairs",
    )
    _check_rng(meta["rng"])

    params = {k[6:]: arrays.pop(k) for k in list(arrays) if k.startswith("param/")}
    for key, value in params.items():
        _require(value.dtype.kind in "fiu", f"its {key[:20]} is not numbers ({value.dtype})")
    try:
        spec = spec_of_params(params, hp.activation)
    except ValueError as error:
        raise _Damaged(f"its weights make no net ({error})") from None
    _require(spec.output_size == OUTPUT_SIZE, f"its net has {spec.output_size} outputs, not 10")
    _require(
        spec.hidden == hp.hidden,
        f"its weights make a {spec} net but its hyperparameters say hidden "
        f"{hidden_text(hp.hidden)}",
    )
    optimizer = {k[4:]: arrays.pop(k) for k in list(arrays) if k.startswith("opt/")}
    try:
        OPTIMIZERS[hp.optimizer].check_state(optimizer, {k: v.shape for k, v in params.items()})
    except ValueError as error:
        raise _Damaged(str(error)) from None

    _require("losses" in arrays, "it has no loss history")
    losses = arrays.pop("losses")
    _require(
        losses.ndim == 1 and losses.dtype.kind in "fiu", "its loss history is not a list of numbers"
    )
    _require(len(losses) <= iteration, f"it has {len(losses)} losses for {iteration} iterations")
    _require("evaluations" in arrays, "it has no evaluation history")
    evaluations = arrays.pop("evaluations")
    _require(
        evaluations.ndim == 2 and evaluations.shape[1] == 4 and evaluations.dtype.kind in "fiu",
        "its evaluation history is not rows of (iteration, epoch, train_acc, test_acc)",
    )
    _require(bool(np.isfinite(evaluations).all()), "its evaluation history has non-numbers")
    return {
        "meta": meta,
        "hp": hp,
        "params": params,
        "spec": spec,
        "optimizer": optimizer,
        "losses": losses.astype(np.float64),
        "evaluations": evaluations,
        "path": path,
    }


def _check_rng(state: object) -> None:
    inner = state.get("state") if isinstance(state, dict) else None
    _require(
        isinstance(state, dict)
        and state.get("bit_generator") == "PCG64"
        and isinstance(inner, dict)
        and all(_whole(inner.get(k)) for k in ("state", "inc")),
        "its random state is not a PCG64 state",
    )
    try:
        np.random.PCG64().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise _Damaged(f"its random state is refused ({error})") from None


def restore(trainer: Trainer, checkpoint: dict) -> None:
    """Put a loaded checkpoint into trainer, so that training goes on where it stopped.

    All or nothing: should anything fail, the trainer keeps the run it had."""
    meta = checkpoint["meta"]
    if checkpoint["spec"].input_size != trainer.spec.input_size:
        raise CheckpointError("the checkpoint's input size does not match this data set")
    before = dict(vars(trainer))  # reset() rebinds every attribute it changes: a shallow copy holds
    try:
        trainer.reset(checkpoint["hp"])
        for key, value in trainer.net.params.items():
            value[...] = checkpoint["params"][key]
        trainer.optimizer.load_state(checkpoint["optimizer"])
        trainer.rng.bit_generator.state = meta["rng"]
        trainer.iteration = int(meta["iteration"])
        trainer.samples_seen = int(meta["samples_seen"])
        trainer.train_seconds = float(meta["train_seconds"])
        trainer.marks = [(int(i), str(text)) for i, text in meta["marks"]]
        losses = checkpoint["losses"]
        trainer.losses = LossHistory(losses.tolist(), start=trainer.iteration - len(losses))
        trainer.evaluations = [
            Evaluation(int(i), float(e), float(a), float(b))
            for i, e, a, b in checkpoint["evaluations"]
        ]
    except Exception as error:
        vars(trainer).clear()
        vars(trainer).update(before)
        if isinstance(error, BpTuiError):
            raise
        raise CheckpointError(f"could not restore {checkpoint.get('path')}: {error}") from None
