"""What a training step needs in memory, from the layer widths and the batch size, and what
this machine has free: a run that cannot fit is refused before it starts, in one line.

The estimate counts the arrays the engine keeps or makes per step, float32: per row of the
batch its gathered image (bytes, then float32) and, for every layer after the input, the
layer's output with what its backward pass keeps and makes (the ReLU mask, the gradient, a
temporary); then copies of the weights (gradients, the optimiser's slots, the snapshots the
evaluations and the gradient check take) and the evaluation's chunks, for any number of
layers. Measured here, it is a little above what runs take beyond their start: 784-50-10 with
a batch of 300,000 is estimated at 1.5 GB and took 1.38 GB; 784-300-300-300-10 with 100,000,
1.9 GB and 1.54 GB; 784-2000-10 with 20,000, 0.89 GB and 0.78 GB.
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Sequence
from pathlib import Path

from bp_tui.engine.jobs import QUEUE_LIMIT
from bp_tui.engine.trainer import OUTPUT_SIZE
from bp_tui.errors import ConfigError
from bp_tui.nn.evaluate import CHUNK as EVAL_CHUNK

FLOAT = 4  # bytes of a float32
INPUT_BYTES = 1 + FLOAT  # each input of a batch row: the gathered byte and its float32 value
ROW_BYTES = 32  # each batch row: its index, its label, its loss terms
OUTPUT_BYTES = 4 * FLOAT  # each unit of each row: output, mask, gradient, one temporary
# Copies of the weights: themselves, the gradient, SGD's step, two optimiser slots (Adam), the
# evaluations' snapshots (QUEUE_LIMIT and one in hand), the gradient check's float64 copy (2).
WEIGHT_COPIES = 5 + QUEUE_LIMIT + 1 + 2
EVALUATION_COUNTERS = 2  # the evaluation's thread and the engine waiting for it
EVALUATION_COPIES = 3  # each unit of a chunk's rows: the layer's output, its activation, a mask


def layer_widths(hidden: int | Sequence[int], inputs: int) -> list[int]:
    """inputs, every hidden layer's width, the 10 classes."""
    widths = [hidden] if isinstance(hidden, int) else list(hidden)
    return [inputs, *widths, OUTPUT_SIZE]


def weight_count(widths: Sequence[int]) -> int:
    """Weights and biases of the dense layers between consecutive widths."""
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def training_bytes(widths: Sequence[int], batch_size: int) -> int:
    """About how much memory training with these layer widths and this batch takes."""
    inputs, units = widths[0], sum(widths[1:])
    batch = batch_size * (inputs * INPUT_BYTES + ROW_BYTES + units * OUTPUT_BYTES)
    weights = weight_count(widths) * FLOAT * WEIGHT_COPIES
    evaluation = EVALUATION_COUNTERS * EVAL_CHUNK * (inputs + EVALUATION_COPIES * units) * FLOAT
    return batch + weights + evaluation


def available_bytes() -> int | None:
    """Memory this process could still take: the system's available memory (MemAvailable),
    less when an address-space limit (ulimit -v) leaves less; None when neither is known."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            pass
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit != resource.RLIM_INFINITY:
        found.append(max(limit - _address_space(), 0))
    return min(found) if found else None


def _address_space() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def size(n: float) -> str:
    """Bytes as people read them: 3.7 GB, 420 MB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{math.ceil(n / 1e3):,} KB"


def check_fits(hidden: int | Sequence[int], batch_size: int, inputs: int) -> None:
    """ConfigError, naming the batch size (or the hidden units when the weights alone do not
    fit), when training this net would need more memory than this machine has free."""
    widths = layer_widths(hidden, inputs)
    need = training_bytes(widths, batch_size)
    have = available_bytes()
    if have is None or need <= have:
        return
    shape = "-".join(map(str, widths))
    without_batch = training_bytes(widths, 0)
    if without_batch > have:
        field, value = "hidden", ",".join(map(str, widths[1:-1]))  # as --hidden takes them
    else:
        field, value = "batch_size", f"{batch_size:,}"
    raise ConfigError(
        f"{value} is too big for this machine: layers {shape} with a batch of {batch_size:,} "
        f"need about {size(need)} of memory to train, and {size(have)} is free",
        field,
    )
