"""Engine event streams recorded once and stored in tests/recordings/, for the snapshot tests.

A picture must be the same on every CPU, and a live engine's numbers are not: OpenBLAS and numpy
pick other kernels on other CPUs, the last digits of a float change, and 300 training steps (or a
gradient check at 1e-13) make them visible. So the snapshot tests play back streams recorded
here, and only numeric tests (with tolerances) run the engine live.

Regenerate after a change to the events or to a recording's commands (then look at every
snapshot that changes): python -m tests.recordings [NAME ...]
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import io
import json
import queue
import sys
import threading
from pathlib import Path

import numpy as np

from bp_tui.data import load_dataset
from bp_tui.engine import HyperParams, Trainer
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.loop import Engine
from bp_tui.nn import analysis

FOLDER = Path(__file__).parent / "recordings"
FIXED_SPEED = 3000.0  # it/s shown in pictures, so that no clock reaches one


@dataclasses.dataclass(frozen=True)
class Recording:
    """A real engine run on the shipped sample: each command is sent once the one before it has
    shown its effect; `drop` names event types the pictures never use (they only cost space)."""

    hp: HyperParams
    commands: tuple
    drop: tuple[str, ...] = ()


NO_TABS = ("ImageSet", "Insight")  # what only the Digits and Learned tabs draw
RECORDINGS = {
    "short_run": Recording(HyperParams(iters=1000), (cmd.CheckGradient(), cmd.Step(300))),
    "exact_check": Recording(
        HyperParams(iters=1000), (cmd.Step(200), cmd.CheckGradient(exact=True)), NO_TABS
    ),
    "diverged": Recording(
        HyperParams(iters=1000, lr=1e6), (cmd.CheckGradient(), cmd.Step(500)), NO_TABS
    ),
    "lr_0.05": Recording(HyperParams(iters=600, lr=0.05), (cmd.Step(600),), NO_TABS),
    "lr_0.3": Recording(HyperParams(iters=600, lr=0.3), (cmd.Step(600),), NO_TABS),
    "sigmoid_cut_off": Recording(
        HyperParams(iters=600, activation="sigmoid"), (cmd.Step(250),), NO_TABS
    ),
    "inspection": Recording(HyperParams(), (cmd.Inspect(seed=0),), NO_TABS),
    # After 300 steps some images get small probabilities: book mode's figures show the offset
    # (rel err over 1e-5, the old false ✖) while backprop is right.
    "trained_inspection": Recording(
        HyperParams(), (cmd.Step(300), cmd.Inspect(seed=4)), (*NO_TABS, "Progress")
    ),
    # lr 20 on the sample: the net guesses at chance (loss ~2.3, accuracy ~0.1), not diverging.
    "chance": Recording(
        HyperParams(iters=1000, lr=20.0), (cmd.CheckGradient(), cmd.Step(300)), NO_TABS
    ),
}


def load(name: str) -> list:
    """The events of recording `name`, as the engine sent them (clocks fixed)."""
    path = FOLDER / f"{name}.npz"
    if not path.exists():
        raise AssertionError(f"{path} is missing: run python -m tests.recordings {name}")
    with np.load(path, allow_pickle=False) as stored:
        document = json.loads(str(stored["events.json"]))
        arrays = {k: stored[k] for k in stored.files if k != "events.json"}
    if document["recording"] != repr(RECORDINGS[name]):
        raise AssertionError(
            f"{path} was recorded for other commands: run python -m tests.recordings {name}"
        )
    return [_decode(e, arrays) for e in document["events"]]


def record(name: str) -> Path:
    spec = RECORDINGS[name]
    events = [_frozen(e) for e in _run(spec) if type(e).__name__ not in spec.drop]
    arrays: dict[str, np.ndarray] = {}
    document = {"recording": repr(spec), "events": [_encode(e, arrays) for e in events]}
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / f"{name}.npz"
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{"events.json": np.array(json.dumps(document))}, **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def _run(spec: Recording) -> list:
    data = load_dataset("sample")
    events: queue.Queue = queue.Queue()
    commands: queue.Queue = queue.Queue()
    engine = Engine(
        Trainer(spec.hp, data),
        events.put,
        commands,
        dataset=data.name,
        progress_interval=10.0,
        blas_threads=1,
    )
    thread = threading.Thread(target=engine.run, kwargs={"start": False})
    thread.start()
    seen: list = []

    def wait_for(done) -> None:
        while not seen or not done(seen[-1]):
            seen.append(events.get(timeout=120))

    for command in spec.commands:
        target = engine.trainer.iteration + getattr(command, "count", 0)
        commands.put(command)
        if isinstance(command, cmd.Step):
            wait_for(
                lambda e, t=target: (
                    isinstance(e, ev.Diverged) or (isinstance(e, ev.Progress) and e.iteration >= t)
                )
            )
        elif isinstance(command, cmd.CheckGradient):
            wait_for(lambda e: isinstance(e, ev.GradChecked))
        elif isinstance(command, cmd.Inspect):
            wait_for(lambda e: isinstance(e, ev.Inspection) and e.report is not None)
    commands.put(cmd.Stop())
    thread.join(timeout=120)
    while not events.empty():
        seen.append(events.get())
    return seen


def _frozen(event):
    """The event with its clock readings replaced by fixed ones."""
    if isinstance(event, ev.Progress):
        seconds = event.iteration / FIXED_SPEED
        return dataclasses.replace(
            event, iters_per_second=FIXED_SPEED, train_seconds=seconds, elapsed=seconds
        )
    if isinstance(event, ev.GradChecked | ev.Inspection) and event.report is not None:
        event.report.seconds = 0.1
    return event


# ---- a small codec: dataclasses, enums, tuples and arrays as JSON beside the arrays --------------


def _encode(value, arrays: dict):
    if isinstance(value, np.ndarray) and _is_sample_images(value):
        return {"@sample_test_images": True}  # 1.5 MB the shipped sample already holds
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"@array": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, enum.Enum):
        return {"@enum": _name(type(value)), "value": value.value}
    if dataclasses.is_dataclass(value):
        fields = {
            f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value)
        }
        return {"@class": _name(type(value)), "fields": fields}
    if isinstance(value, tuple):
        return {"@tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"@dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot record a {type(value).__name__}")


def _decode(value, arrays: dict):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "@array" in value:
        return arrays[value["@array"]]
    if "@sample_test_images" in value:
        return _sample_images()
    if "@enum" in value:
        return _type(value["@enum"])(value["value"])
    if "@class" in value:
        fields = {k: _decode(v, arrays) for k, v in value["fields"].items()}
        return _type(value["@class"])(**fields)
    if "@tuple" in value:
        return tuple(_decode(v, arrays) for v in value["@tuple"])
    return {_decode(k, arrays): _decode(v, arrays) for k, v in value["@dict"]}


@functools.cache
def _sample_images() -> np.ndarray:
    return analysis.as_bytes(load_dataset("sample").x_test)


def _is_sample_images(array: np.ndarray) -> bool:
    images = _sample_images()
    return (
        array.shape == images.shape
        and array.dtype == images.dtype
        and np.array_equal(array, images)
    )


def _name(kind: type) -> str:
    return f"{kind.__module__}:{kind.__qualname__}"


def _type(name: str) -> type:
    module, qualname = name.split(":")
    return getattr(importlib.import_module(module), qualname)


if __name__ == "__main__":
    for name in sys.argv[1:] or RECORDINGS:
        path = record(name)
        print(f"{path.relative_to(Path.cwd())}: {path.stat().st_size:,} bytes")
