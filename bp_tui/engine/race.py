"""The races of chapter 6: several configurations trained side by side on the same mini-batches.

`optimizers` is the book's figure 6-9 (optimizer_compare_mnist.py: SGD, Momentum, AdaGrad and
Adam at the book's own learning rates, 0.01 and Adam's 0.001, on He-initialised nets, the
default of its MultiLayerNet) and `init` its figure 6-15 (weight_init_compare.py: std 0.01,
Xavier and He, SGD lr 0.01); both 2,000 iterations of batch 128 on the book's five-layer ReLU
net, 784-100-100-100-100-10 (a depth or widths of the user's own instead).

Every configuration is an ordinary Trainer with the same seed: the initial weights draw the same
amount from the same stream, so every configuration trains on the very same mini-batches. They
run in worker processes, one BLAS thread each, as many at once as there are free cores.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bp_tui.engine.config import HyperParams

# The book's race settings; the configurations change only what their name says.
BOOK_WIDTH = 100  # the book's hidden layers, four of them
BOOK_RACE = HyperParams(iters=2000, batch_size=128, hidden=(BOOK_WIDTH,) * 4, lr=0.01, eval_every=0)
RACES: dict[str, tuple[tuple[str, dict], ...]] = {
    "optimizers": (
        ("SGD", {"optimizer": "sgd", "lr": 0.01, "init": "he"}),
        ("Momentum", {"optimizer": "momentum", "lr": 0.01, "init": "he"}),
        ("AdaGrad", {"optimizer": "adagrad", "lr": 0.01, "init": "he"}),
        ("Adam", {"optimizer": "adam", "lr": 0.001, "init": "he"}),
    ),
    "init": (
        ("std 0.01", {"init": "std"}),
        ("Xavier", {"init": "xavier"}),
        ("He", {"init": "he"}),
    ),
}
LOSS_EVERY = 100  # the book prints each configuration's loss every 100 iterations


@dataclass
class Entry:
    """One configuration's result: its loss every LOSS_EVERY iterations and its accuracy."""

    name: str
    hp: HyperParams
    losses: list[float] = field(default_factory=list)  # mean loss of each LOSS_EVERY iterations
    final_loss: float | None = None  # the mean loss of the last LOSS_EVERY iterations
    train_acc: float | None = None
    test_acc: float | None = None
    diverged: bool = False

    def to_dict(self) -> dict:
        book = BOOK_RACE.to_dict()
        changed = {k: v for k, v in self.hp.to_dict().items() if v != book[k]}
        return {
            "name": self.name,
            "settings": changed,
            "final_loss": self.final_loss,
            "train_acc": self.train_acc,
            "test_acc": self.test_acc,
            "diverged": self.diverged,
            "losses_every_100": self.losses,
        }


def hidden_of_depth(depth: int) -> tuple[int, ...]:
    """The book's widths for a net of `depth` weight layers: depth - 1 hidden layers of 100."""
    return (BOOK_WIDTH,) * (depth - 1)


def configurations(kind: str, base: HyperParams = BOOK_RACE) -> list[tuple[str, HyperParams]]:
    """The race's configurations on `base` (its iterations and seed are the user's)."""
    return [(name, base.replace(**changes)) for name, changes in RACES[kind]]


def train_entry(name: str, hp: HyperParams, dataset: str, data_dir: str | None) -> Entry:
    """Train one configuration to the end; its losses and final accuracy."""
    from threadpoolctl import threadpool_limits

    from bp_tui.data import load_dataset
    from bp_tui.engine.trainer import DivergedError, Trainer

    with threadpool_limits(1, user_api="blas"):
        trainer = Trainer(hp, load_dataset(dataset, data_dir))
        entry = Entry(name, hp)
        window: list[float] = []
        try:
            while not trainer.done:
                window.append(trainer.step())
                if len(window) == LOSS_EVERY or trainer.done:
                    entry.losses.append(float(np.mean(window)))
                    window = []
        except DivergedError:
            entry.diverged = True
            return entry
        entry.final_loss = entry.losses[-1] if entry.losses else None
        result = trainer.evaluate()
        entry.train_acc, entry.test_acc = result.train_acc, result.test_acc
    return entry


def free_cores(wanted: int) -> int:
    """How many processes to start: the cores that the last minute's load left free, at least 1."""
    cores = len(os.sched_getaffinity(0))
    busy = int(os.getloadavg()[0])
    return max(1, min(wanted, cores - busy))


def run_race(
    kind: str,
    dataset: str,
    data_dir: str | None = None,
    base: HyperParams = BOOK_RACE,
    workers: int | None = None,
    done: Callable[[Entry], None] | None = None,
) -> list[Entry]:
    """Every configuration of race `kind`, in worker processes; results in the race's order."""
    from concurrent.futures import ProcessPoolExecutor  # here: `bp-tui --help` needs RACES only

    entries = configurations(kind, base)
    workers = workers or free_cores(len(entries))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(train_entry, name, hp, dataset, data_dir) for name, hp in entries]
        results = []
        for future in futures:
            results.append(future.result())
            if done is not None:
                done(results[-1])
    return results
