"""One training run, step by step: mini-batch training of a net of any depth, no UI.

Its history is engine/history.py's, its evaluations beside training engine/jobs.py's.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np

from bp_tui.engine.config import HyperParams, lr_text
from bp_tui.engine.events import Evaluation
from bp_tui.engine.history import EVALUATION_TAIL, LossHistory
from bp_tui.engine.jobs import EVAL_PART, BackgroundJobs, Job
from bp_tui.nn.evaluate import count_correct
from bp_tui.nn.model import LayerNet, NetSpec
from bp_tui.nn.optimizers import SGD, make_optimizer

INIT_STD = 0.01  # the book's weight_init_std
OUTPUT_SIZE = 10


# A run whose loss stays above three times a uniform guess's (ln 10) has blown up even when the
# 1e-7 inside the log keeps the loss finite: weights reach 1e20 long before anything is NaN.
DIVERGENCE_WINDOW = 20
DIVERGENCE_LOSS = 3 * math.log(10)


def diverged_advice(layers: Path | None) -> str:
    """What to do about a run that diverged: with a learner's layers, their code is the likely
    cause (a wrong backprop blows up at any rate), and `bp-tui check` says where."""
    if layers is not None:
        return f"your layers are the likely cause: bp-tui check {layers} says which and where"
    return "lower the learning rate and reset"


class DivergedError(ArithmeticError):
    def __init__(self, iteration: int, lr: float, why: str, layers: Path | None = None) -> None:
        self.iteration, self.lr = iteration, lr
        super().__init__(
            f"training diverged: {why} at iteration {iteration:,} with learning rate {lr_text(lr)}; "
            + diverged_advice(layers)
        )


class Trainer:
    """Holds the net, the optimiser, the random stream and the history of one run."""

    def __init__(
        self, hp: HyperParams, data, layers: Path | None = None, layers_limit: float | None = None
    ) -> None:
        """layers: a learner's file whose layers the net is made of (runs their code), each
        call into it stopped after layers_limit seconds (None: the learner's default)."""
        self.data = data
        self.layers = layers
        self.layers_limit = layers_limit
        self.t_train = np.asarray(data.t_train, dtype=np.intp)
        self.t_test = np.asarray(data.t_test, dtype=np.intp)
        # The images as the bytes they are made from (x == byte / 255 in float32, as
        # data.to_float makes it): a batch gathered from 784-byte rows and scaled into a kept
        # buffer costs a third of one gathered from 3,136-byte float rows, with the very same
        # values, and the evaluations read them too. A data set loaded from its files gives
        # them (Dataset.image_bytes), so its float32 copies (188 MB for MNIST's training images,
        # 0.3 s to make) are only made if something asks for x_train or x_test; other images
        # are made float32 here and their bytes found when every value allows it (as_bytes).
        image_bytes = getattr(data, "image_bytes", None)
        self._x_train_bytes = image_bytes("train") if image_bytes else None
        self._x_test_bytes = image_bytes("test") if image_bytes else None
        self._x_train: np.ndarray | None = None
        self._x_test: np.ndarray | None = None
        if self._x_train_bytes is None:
            self._x_train_bytes = as_bytes(self.x_train)
        self._shape = (
            self._x_train_bytes if self._x_train_bytes is not None else self.x_train
        ).shape
        self._batch_x: np.ndarray | None = None
        self._evaluator = BackgroundJobs("bp-tui-evaluate")
        self.reset(hp)

    @property
    def x_train(self) -> np.ndarray:
        """The training images, float32 (N, 784) in [0, 1]; made on first use when the data set
        holds them as bytes."""
        if self._x_train is None:
            self._x_train = np.ascontiguousarray(self.data.x_train, dtype=np.float32)
        return self._x_train

    @x_train.setter
    def x_train(self, value: np.ndarray) -> None:
        self._x_train = np.ascontiguousarray(value, dtype=np.float32)
        self._x_train_bytes = as_bytes(self._x_train)
        self._shape = self._x_train.shape

    @property
    def x_test(self) -> np.ndarray:
        """The test images, as x_train."""
        if self._x_test is None:
            self._x_test = np.ascontiguousarray(self.data.x_test, dtype=np.float32)
        return self._x_test

    @x_test.setter
    def x_test(self, value: np.ndarray) -> None:
        self._x_test = np.ascontiguousarray(value, dtype=np.float32)
        self._x_test_bytes = None

    @property
    def train_size(self) -> int:
        return self._shape[0]

    @property
    def input_size(self) -> int:
        """Inputs of an image (784 for MNIST's 28 x 28)."""
        return self._shape[1]

    @property
    def spec(self) -> NetSpec:
        """The net these hyperparameters make for this data: input, hidden widths, output."""
        init = INIT_STD if self.hp.init == "std" else self.hp.init
        return NetSpec(self._shape[1], self.hp.hidden, OUTPUT_SIZE, self.hp.activation, init)

    def reset(self, hp: HyperParams | None = None) -> None:
        """A fresh net and history; the same seed gives the same run, bit for bit."""
        self.hp = hp or self.hp
        self.rng = np.random.default_rng(self.hp.seed)
        self.last_batch: np.ndarray | None = None
        if self.layers is not None:
            from bp_tui.learner.training import LearnerNet  # their code: only when asked

            spec = self.spec
            self.net = LearnerNet(
                self.layers,
                spec.sizes,
                self.hp.activation,
                lambda: spec.init_params(lambda *shape: self.rng.standard_normal(shape)),
                **({} if self.layers_limit is None else {"time_limit": self.layers_limit}),
            )
        else:
            self.net = LayerNet(self.spec, rng=self.rng, dtype=np.float32, input_grad=False)
        self.optimizer = make_optimizer(self.hp.optimizer, self.hp.lr)
        self.iteration = 0
        self.diverged = False
        self.samples_seen = 0
        self.train_seconds = 0.0
        self.losses = LossHistory()
        self.forget_evaluations()  # a previous run's evaluations under way are dropped
        self.evaluations: list[Evaluation] = []
        self.marks: list[tuple[int, str]] = []  # (iteration, what changed) during the run

    # ---- clock ----------------------------------------------------------------------------------

    @property
    def epoch_length(self) -> float:
        """The book's iter_per_epoch: max(train_size / batch_size, 1)."""
        return max(self.train_size / self.hp.batch_size, 1.0)

    @property
    def epoch(self) -> float:
        return self.samples_seen / self.train_size

    @property
    def total_epochs(self) -> float:
        done = self.epoch
        return done + max(self.hp.iters - self.iteration, 0) / self.epoch_length

    @property
    def done(self) -> bool:
        return self.iteration >= self.hp.iters

    # ---- work -----------------------------------------------------------------------------------

    def step(self) -> float:
        """One mini-batch iteration (sampled with replacement, as the book does); returns its loss."""
        start = time.perf_counter()
        batch = self.hp.batch_size
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            mask = self.rng.integers(0, self._shape[0], size=batch)
            self.last_batch = mask  # which images this step took (the inspector can follow it)
            x = self._gather(mask)
            loss, grads = self.net.loss_and_gradient(x, self.t_train[mask], reuse=True)
            self._update(grads)
        self.train_seconds += time.perf_counter() - start
        loss = float(loss)
        self.iteration += 1
        self.samples_seen += min(batch, self._shape[0])
        self.losses.append(loss)
        self._check_divergence(loss)
        return loss

    def _gather(self, mask: np.ndarray) -> np.ndarray:
        """The batch's rows of x_train, in a buffer the next step reuses."""
        images = self._x_train_bytes
        if images is None:
            return self.x_train[mask]
        out = self._batch_x
        if out is None or out.shape[0] != len(mask):
            out = self._batch_x = np.empty((len(mask), images.shape[1]), np.float32)
        # data.to_float's arithmetic: float32(byte) / float32(255)
        return np.divide(images[mask], 255.0, out=out, dtype=np.float32)

    def _update(self, grads: dict[str, np.ndarray]) -> None:
        """The optimiser's update; an elementwise stateless one (SGD) over every parameter at
        once when they and the gradients are each one array (the fused step's)."""
        optimizer, net = self.optimizer, self.net
        if type(optimizer) is SGD:
            flat, flat_grad = net.flat_params(), net.flat_gradient(grads)
            if flat is not None and flat_grad is not None:
                optimizer.update({"all": flat}, {"all": flat_grad})
                return
        optimizer.update(net.params, grads)

    def _check_divergence(self, loss: float) -> None:
        why = None
        if not math.isfinite(loss):
            why = f"the loss became {loss}"
        elif self.iteration % DIVERGENCE_WINDOW == 0 and self.iteration >= DIVERGENCE_WINDOW:
            recent = sum(self.losses[-DIVERGENCE_WINDOW:]) / DIVERGENCE_WINDOW
            if recent > DIVERGENCE_LOSS:
                why = (
                    f"the loss averaged {recent:.1f} over {DIVERGENCE_WINDOW} iterations "
                    f"(a uniform guess scores {math.log(10):.2f})"
                )
        if why:
            self.diverged = True
            raise DivergedError(self.iteration, self.optimizer.lr, why, self.layers)

    def evaluation_due(self) -> bool:
        """After this iteration: an epoch's end (or every eval_every iterations), and the run's end."""
        if self.done:
            return True
        every = self.hp.eval_every
        if every is None:
            before = self.samples_seen - min(self.hp.batch_size, self.train_size)
            return self.samples_seen // self.train_size > before // self.train_size
        return every > 0 and self.iteration % every == 0

    def evaluate(self) -> Evaluation:
        """Accuracy on the whole train and test sets."""
        result = self._evaluation_job().run()
        self._keep_evaluation(result)
        return result

    def evaluate_later(self) -> None:
        """Start the evaluation of the weights as they are now in a thread of its own (numpy's
        products release the GIL, so it runs on another core while training goes on); its
        Evaluation, the same numbers evaluate() would give now, comes from take_evaluations()."""
        self._evaluator.submit(self._evaluation_job())

    def forget_evaluations(self) -> None:
        """Drop the evaluations under way and their copies of the weights (after a failure)."""
        self._evaluator.forget()

    @property
    def evaluations_pending(self) -> int:
        """Evaluations started by evaluate_later() and not yet taken."""
        return self._evaluator.pending

    def take_evaluations(self, wait: bool = False) -> list[Evaluation]:
        """The finished evaluations in the order they were started (with wait, all of them),
        kept in self.evaluations as evaluate() keeps its own; a failed one raises here."""
        results = self._evaluator.take(wait)
        for result in results:
            self._keep_evaluation(result)
        return results

    def _keep_evaluation(self, result: Evaluation) -> None:
        self.evaluations.append(result)
        if len(self.evaluations) >= 2 * EVALUATION_TAIL:
            del self.evaluations[:-EVALUATION_TAIL]

    def _evaluation_job(self) -> Job:
        """The Evaluation of the net as it is at this call (a snapshot), as parts to compute."""
        params = {key: value.copy() for key, value in self.net.params.items()}
        theirs = copy.deepcopy(self.net) if self.layers is not None else None
        iteration, epoch, activation = self.iteration, self.epoch, self.hp.activation
        # The bytes when there are any: count_correct() scales them as data.to_float does.
        x_train = self._x_train_bytes if self._x_train_bytes is not None else self.x_train
        x_test = self._x_test_bytes if self._x_test_bytes is not None else self.x_test
        splits = ((x_train, self.t_train), (x_test, self.t_test))

        def part(x: np.ndarray, t: np.ndarray):
            def count() -> int:
                with np.errstate(over="ignore", invalid="ignore"):
                    if theirs is not None:  # their forward decides, right or wrong
                        return theirs.count_correct(x, t)
                    return count_correct(params, activation, x, t)

            return count

        parts, owners = [], []
        for which, (x, t) in enumerate(splits):
            for start in range(0, len(x), EVAL_PART):
                parts.append(part(x[start : start + EVAL_PART], t[start : start + EVAL_PART]))
                owners.append(which)

        def finish(counts: list[int]) -> Evaluation:
            correct = [0, 0]
            for which, count in zip(owners, counts, strict=True):
                correct[which] += count
            train_acc, test_acc = (
                correct[which] / float(len(x)) if len(x) else float("nan")
                for which, (x, _) in enumerate(splits)
            )
            return Evaluation(iteration, epoch, train_acc, test_acc)

        return Job(parts, finish)

    def apply_live(self, changes: dict) -> None:
        """Change values that take effect at the next iteration (see config.LIVE_FIELDS)."""
        self.hp = self.hp.replace(**changes)
        if "optimizer" in changes:
            self.optimizer = make_optimizer(self.hp.optimizer, self.hp.lr)
        self.optimizer.lr = self.hp.lr
        if self.iteration > 0:
            text = ", ".join(f"{k} {v}" for k, v in changes.items())
            self.marks.append((self.iteration, text))

    def summary(self, dataset: str) -> dict:
        """The run's result, as `bp-tui train --json` prints it."""
        last = self.evaluations[-1] if self.evaluations else None
        final_loss = self.losses[-1] if self.losses else None
        diverged = self.diverged
        return {
            "dataset": dataset,
            "iterations": self.iteration,
            "epochs": round(self.epoch, 4),
            "final_loss": final_loss
            if final_loss is not None and math.isfinite(final_loss)
            else None,
            "train_acc": last.train_acc if last else None,
            "test_acc": last.test_acc if last else None,
            "train_seconds": round(self.train_seconds, 4),
            "iters_per_second": round(self.iteration / self.train_seconds, 1)
            if self.train_seconds
            else 0.0,
            "diverged": diverged,
        }


# ---- evaluation ---------------------------------------------------------------------------------


def accuracy(params: dict[str, np.ndarray], activation: str, x: np.ndarray, t: np.ndarray) -> float:
    """The net's accuracy with these parameters (count_correct's share of the rows)."""
    return count_correct(params, activation, x, t) / float(len(x)) if len(x) else float("nan")


def as_bytes(x: np.ndarray) -> np.ndarray | None:
    """x (float32 rows) as uint8 when every value is byte / 255 exactly as data.to_float made it,
    checked value by value; None otherwise. About 50 ms for MNIST's training images."""
    if x.dtype != np.float32 or x.ndim != 2 or x.size == 0:
        return None
    out = np.empty(x.shape, np.uint8)
    chunk = 2048
    scaled = np.empty((min(chunk, len(x)), x.shape[1]), np.float32)
    for start in range(0, len(x), chunk):
        rows, s = x[start : start + chunk], scaled[: len(x[start : start + chunk])]
        with np.errstate(invalid="ignore"):
            np.multiply(rows, 255, out=s)
            np.rint(s, out=s)
            if not (s.min() >= 0 and s.max() <= 255):  # NaN fails too
                return None
        part = out[start : start + len(rows)]
        part[...] = s
        np.divide(part, 255.0, out=s, dtype=np.float32)
        if not np.array_equal(s, rows):
            return None
    return out
