"""Checkpoints: parameters, hyperparameters, optimiser state and history in one .npz (no pickle)."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import numpy as np

from bp_tui.engine.config import HyperParams
from bp_tui.engine.trainer import Evaluation, Trainer
from bp_tui.errors import BpTuiError, ConfigError
from bp_tui.files import atomic_write as write_atomically
from bp_tui.nn.net import PARAM_NAMES
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
    found = sorted(checkpoints_dir().glob("checkpoint-*.npz"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise CheckpointError(f"no checkpoint in {checkpoints_dir()}: save one first (s)")
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
    arrays = {f"param/{k}": trainer.net.params[k] for k in PARAM_NAMES}
    arrays.update({f"opt/{k}": v for k, v in trainer.optimizer.state().items()})
    arrays["losses"] = np.asarray(trainer.losses, dtype=np.float64)
    arrays["evaluations"] = np.array(
        [[e.iteration, e.epoch, e.train_acc, e.test_acc] for e in trainer.evaluations],
        dtype=np.float64,
    ).reshape(-1, 4)
    arrays["meta"] = np.array(json.dumps(meta))
    write_atomically(target, lambda handle: np.savez(handle, **arrays))
    return target


def load(path: str | Path) -> dict:
    """Read and check a checkpoint; raises CheckpointError with one line on any problem."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != FORMAT:
            raise ValueError(f"unknown format {meta.get('format')!r}")
        hp = HyperParams.from_dict(meta["hp"])
        params = {k: arrays.pop(f"param/{k}") for k in PARAM_NAMES}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, ConfigError) as error:
        raise CheckpointError(f"{path} is not a readable bp-tui checkpoint ({error})") from None
    d, h = params["W1"].shape
    expected = {"W1": (d, h), "b1": (h,), "W2": (h, 10), "b2": (10,)}
    if h != hp.hidden or any(params[k].shape != s for k, s in expected.items()):
        raise CheckpointError(f"{path} has parameters that do not fit its own hyperparameters")
    optimizer = {k[4:]: v for k, v in arrays.items() if k.startswith("opt/")}
    return {"meta": meta, "hp": hp, "params": params, "optimizer": optimizer,
            "losses": arrays["losses"], "evaluations": arrays["evaluations"], "path": path}  # fmt: skip


def restore(trainer: Trainer, checkpoint: dict) -> None:
    """Put a loaded checkpoint into trainer, so that training goes on where it stopped."""
    meta = checkpoint["meta"]
    if checkpoint["params"]["W1"].shape[0] != trainer.x_train.shape[1]:
        raise CheckpointError("the checkpoint's input size does not match this data set")
    trainer.reset(checkpoint["hp"])
    for key in PARAM_NAMES:
        trainer.net.params[key][...] = checkpoint["params"][key]
    trainer.optimizer.load_state(checkpoint["optimizer"])
    trainer.rng.bit_generator.state = meta["rng"]
    trainer.iteration = int(meta["iteration"])
    trainer.samples_seen = int(meta["samples_seen"])
    trainer.train_seconds = float(meta["train_seconds"])
    trainer.marks = [tuple(m) for m in meta["marks"]]
    trainer.losses = checkpoint["losses"].tolist()
    trainer.evaluations = [
        Evaluation(int(i), float(e), float(a), float(b)) for i, e, a, b in checkpoint["evaluations"]
    ]
