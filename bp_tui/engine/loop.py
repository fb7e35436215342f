"""The engine loop: drives a Trainer under commands and reports events.

Commands arrive on a queue (queue.Queue from a thread, multiprocessing.Queue from another
process) and are read between iterations, so every change takes effect at an iteration boundary.
Commands take effect in the order they were sent: a Step(n) takes all its n steps before a
command sent after it, unless a Pause or Stop sent after it cuts it short. Engine._handlers
names the method each command runs; the dashboard sends them from its actions (ui/app.py).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import queue
import time
import traceback
from collections import deque
from collections.abc import Callable

import numpy as np

from bp_tui.engine import blas, checkpoint, drawing, memory
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.config import check_iters_left, split_changes
from bp_tui.engine.events import RunState
from bp_tui.engine.jobs import BackgroundJobs, Job
from bp_tui.engine.pace import RateMeter, next_step_at
from bp_tui.engine.trainer import DivergedError, Trainer, diverged_advice
from bp_tui.errors import BpTuiError, ConfigError
from bp_tui.nn import analysis, stats
from bp_tui.nn.gradcheck import GradCheckReport, default_sample, gradient_check

GRADCHECK_SAMPLES = 3  # the book's check uses the first 3 training images
# The inspector's check of its 100 images: every element of the first weights would take ~4 s;
# a random sample of this many of each parameter's takes ~0.2 s.
INSPECT_CHECK_SAMPLE = 1_000
# A learner's net runs its layers one call at a time (two forwards of the whole net an element):
# a small sample keeps the check of their 100 images to a few seconds on a loaded machine.
INSPECT_LEARNER_SAMPLE = 40
COMMAND_POLL_SECONDS = 0.005  # keeps a key press well under 100 ms from taking effect
GRAD_NORMS_EVERY = 10  # iterations between two samples of the layers' ‖dW‖ (every one when slow)
FIXED_FILE = "reset with your fixed file"  # what the reset does after their layer raised
ACTIVATION_BATCH = 1_000  # test images whose activations are histogrammed (the book's 1000)


class _Superseded(Exception):
    """A newer gradient check (or Stop) replaced this one."""


def check_job(net, x: np.ndarray, t: np.ndarray, **options) -> Job:
    """The gradient check of net (a snapshot of the weights) as a job of one part for
    BackgroundJobs, so that it never holds up training (numpy's products release the GIL, and
    the dashboard's engine has a core of its own); forgotten, it ends at its next element."""

    def superseded(done: int, total: int) -> None:
        if job.cancelled:
            raise _Superseded

    def check() -> GradCheckReport:
        report = gradient_check(net, x, t, progress=superseded, **options)
        if not report.passed and hasattr(net, "first_wrong_node"):
            report.first_wrong = net.first_wrong_node(x, t)  # a learner's net
        return report

    job = Job([check], lambda reports: reports[0])
    return job


class Engine:
    def __init__(
        self,
        trainer: Trainer,
        emit: Callable[[object], None],
        commands: queue.Queue | None = None,
        *,
        dataset: str = "",
        progress_interval: float = 0.1,
        exit_when_done: bool = False,
        blas_threads: int | None = None,
        insights: bool = True,
        overlap_evaluation: bool = False,
    ) -> None:
        """blas_threads: BLAS threads while running; None lets blas.choose_threads decide at
        start (1 on two cores). The dashboard passes 1: its engine shares the cores with the UI.
        insights: send ImageSet and Insight (a test pass per evaluation, for the Digits and
        Learned tabs); a run without a dashboard can save that time.
        overlap_evaluation: evaluate a snapshot of the weights in a thread beside training (a
        second core's work): the same Evaluations at the same iterations, sent when done, so
        a little later than their iteration's Progress; every one before Finished. For a run
        without a dashboard (whose UI has the other core).
        """
        self.trainer = trainer
        self.emit = emit
        self.commands = commands if commands is not None else queue.Queue()
        self.dataset = dataset
        self.progress_interval = progress_interval
        self.exit_when_done = exit_when_done
        self.blas_threads = blas_threads
        self.insights = insights
        self.overlap_evaluation = overlap_evaluation
        self.error: Exception | None = None  # what ended the run, if anything did
        self.state = RunState.READY
        self.pending: dict = {}
        self.steps_left = 0
        self._backlog: deque = deque()  # commands read while a Step was under way
        self._check = BackgroundJobs("bp-tui-gradcheck")
        self.speed: float | None = None  # slow motion: iterations a second at most
        self.clock = time.perf_counter  # slow motion's and the speed's clock
        self._next_step_at: float | None = None  # slow motion's next step (None: at once)
        self._rate = RateMeter()  # the speed shown: real iterations a second
        self._unsent_from = 0  # index of the first loss not yet reported
        self._grad_norms: list[tuple[int, dict[str, float]]] = []  # not yet reported
        # Slow motion's last step: (iteration it started at, its batch, the weights before it).
        self._last_step: tuple[int, np.ndarray, dict] | None = None
        self._last_progress = 0.0
        self._running_seconds = 0.0  # wall time spent running (pauses do not count)
        self._running_since: float | None = None
        self._handlers = {  # command type -> what it does
            cmd.Run: self._run_command,
            cmd.Pause: self._pause,
            cmd.Step: self._step,
            cmd.Reset: self._reset,
            cmd.SetParams: self._set_params,
            cmd.CheckGradient: self._check_gradient,
            cmd.SetSpeed: self._set_speed,
            cmd.Inspect: self._inspect,
            cmd.Save: self._save,
            cmd.Load: self._load,
            cmd.Predict: lambda c: self.emit(drawing.prediction(self.trainer, c)),
        }

    # ---- the loop -------------------------------------------------------------------------------

    def run(self, start: bool = True) -> dict:
        """Run until Stop (or the run's end with exit_when_done); returns the summary."""
        # This net's products are small: a second BLAS thread can cost more than it gives.
        if self.blas_threads is None:
            self.blas_threads = blas.choose_threads(self.trainer)
        with blas.limited(self.blas_threads):
            return self._run(start)

    def _run(self, start: bool) -> dict:
        t = self.trainer
        layers = "" if t.layers is None else str(t.layers)
        self.emit(
            ev.EngineReady(self.dataset, t.train_size, len(t.x_test), t.net.shape, t.hp, layers)
        )
        if self.insights:
            # Once: the UI draws the very images the engine tests on, wherever they came from.
            self.emit(ev.ImageSet(self.dataset, analysis.as_bytes(t.x_test), t.t_test.copy()))
        self._report_insight()
        self._report_progress()  # the run's length in epochs, before its first step
        self._set_state(RunState.RUNNING if start else RunState.READY)
        try:
            while self._handle_commands():
                if self.state is RunState.RUNNING or self.steps_left:
                    with self._their_code():
                        self._burst()
                if self.exit_when_done and self.state in (RunState.FINISHED, RunState.DIVERGED):
                    self.wait_for_check()
                    break
        except Exception as error:  # noqa: BLE001 - the UI must hear of any failure, never hang
            self.state = RunState.FAILED
            details = traceback.format_exc()
            with contextlib.suppress(Exception):  # the losses so far, if the fault allows
                self._report_progress()
            with contextlib.suppress(Exception):  # and the evaluations done before the fault
                self._report_evaluations(wait=True)
            self.error = error
            # bp-tui's own errors (a learner's layer that raised) are one line already
            said = (
                str(error) if isinstance(error, BpTuiError) else f"{type(error).__name__}: {error}"
            )
            self.emit(ev.Failed(said, details))
        return self.trainer.summary(self.dataset)

    def _handle_commands(self) -> bool:
        """Apply queued commands; wait for one when there is nothing to train. False on Stop."""
        while True:
            self._report_check()
            if self.steps_left and not self._step_interrupted():
                return True  # the steps come before the commands sent after them
            idle = self.state is not RunState.RUNNING and not self.steps_left
            due = self._next_step_at
            slow = 0.0 if idle or self.speed is None or due is None else due - self.clock()
            command = self._next_command(wait=idle, at_most=slow if slow > 0 else None)
            if command is None:
                return True
            if isinstance(command, cmd.Stop):
                self._check.forget()
                self._report_progress()
                self._report_evaluations(wait=True)
                return False
            self._apply(command)

    def _next_command(self, wait: bool, at_most: float | None = None):
        """The oldest unapplied command; None when there is none and `wait` is False (or none
        came within `at_most` seconds: slow motion's wait for its next step)."""
        if self._backlog:
            return self._backlog.popleft()
        if at_most is not None:
            try:
                return self.commands.get(timeout=at_most)
            except queue.Empty:
                return None
        while True:
            try:
                if not wait:
                    return self.commands.get_nowait()
                # A check under way is reported soon after it ends, even with no command.
                return self.commands.get(timeout=0.02 if self._check.busy else 0.25)
            except queue.Empty:
                if not wait:
                    return None
                self._report_check()

    def _step_interrupted(self) -> bool:
        """Read what has arrived; a Pause or Stop among it ends the steps under way."""
        while True:
            try:
                self._backlog.append(self.commands.get_nowait())
            except queue.Empty:
                break
        if any(isinstance(c, (cmd.Pause, cmd.Stop)) for c in self._backlog):
            self.steps_left = 0
            return True
        return False

    def _burst(self) -> None:
        """Train until the next command poll, a single step's end, the run's end or divergence."""
        trainer = self.trainer
        deadline = time.perf_counter() + COMMAND_POLL_SECONDS
        if trainer.evaluations_pending:
            self._report_evaluations()
        while True:
            if self.speed is not None:
                now = self.clock()
                if self._next_step_at is not None and now < self._next_step_at:
                    return  # slow motion: the loop waits for commands until the next step
                self._next_step_at = next_step_at(self._next_step_at, now, self.speed)
                deadline = now  # one step, then it is reported and the commands are read
            try:
                if self.speed is not None:  # slow motion: the inspector may follow each step
                    before = {k: v.copy() for k, v in trainer.net.params.items()}
                    trainer.step()
                    self._last_step = (trainer.iteration - 1, trainer.last_batch.copy(), before)
                else:
                    trainer.step()
            except DivergedError as error:
                self.steps_left = 0
                self._report_progress()
                self._report_evaluations(wait=True)
                self._set_state(RunState.DIVERGED, str(error))
                self.emit(ev.Diverged(error.iteration, error.lr, str(error)))
                return
            if self.insights and (
                trainer.iteration % GRAD_NORMS_EVERY == 0
                or self.speed is not None
                or self.steps_left
            ):
                self._grad_norms.append((trainer.iteration, stats.layer_grad_norms(trainer.net)))
            if trainer.evaluation_due():
                if self.overlap_evaluation:
                    trainer.evaluate_later()
                else:
                    self._report_progress()
                    e = trainer.evaluate()
                    self.emit(ev.Evaluation(e.iteration, e.epoch, e.train_acc, e.test_acc))
                    self._report_insight()
            if trainer.done:
                self._finish()
                return
            if self.steps_left:
                self.steps_left -= 1
                if not self.steps_left:
                    self._report_progress()
                    return
            now = time.perf_counter()
            if now - self._last_progress >= self.progress_interval:
                self._report_progress()
            if now >= deadline:
                return

    def _finish(self) -> None:
        self.steps_left = 0
        self._report_progress()
        self._report_evaluations(wait=True)
        self._set_state(RunState.FINISHED)
        self.emit(ev.Finished(self.trainer.summary(self.dataset)))

    # ---- reporting ------------------------------------------------------------------------------

    def _report_progress(self) -> None:
        t = self.trainer
        now = time.perf_counter()
        self._last_progress = now
        losses = t.losses[self._unsent_from :]
        self._unsent_from = len(t.losses)
        if self._grad_norms:
            samples, self._grad_norms = self._grad_norms, []
            self.emit(ev.GradNorms.of(samples))
        self.emit(
            ev.Progress(
                iteration=t.iteration,
                total=t.hp.iters,
                epoch=t.epoch,
                total_epochs=t.total_epochs,
                losses=np.asarray(losses, dtype=np.float64),
                iters_per_second=self._speed_shown(),
                train_seconds=t.train_seconds,
                elapsed=self._elapsed(now),
            )
        )

    def _report_evaluations(self, wait: bool = False) -> None:
        """Send the evaluations finished beside training (overlap_evaluation), in order."""
        if not self.trainer.evaluations_pending:
            return
        for e in self.trainer.take_evaluations(wait):
            self.emit(ev.Evaluation(e.iteration, e.epoch, e.train_acc, e.test_acc))
        self._report_insight()

    def _report_insight(self) -> None:
        """The net's answers and weights for the Digits and Learned tabs (one test pass)."""
        if not self.insights:
            return
        t = self.trainer
        with self._their_code():
            summary = analysis.summarize(t.net, t.x_test, t.t_test)
            self.emit(ev.Insight(t.iteration, t.epoch, **summary))
            batch = t.x_test[:ACTIVATION_BATCH]
            histograms = stats.activation_histograms(t.net, batch)
            self.emit(ev.Activations(t.iteration, t.hp.activation, len(batch), histograms))

    @contextlib.contextmanager
    def _their_code(self):
        """A learner's layer that raised (bp-tui --layers) is theirs to fix, not a failure of
        the run: it pauses, keeps all it has, and a notice names the layer and the line; they
        can fix their file and reset. Anything else still ends the run, and so does this
        when the run ends by itself (exit_when_done: `bp-tui train`, one line and status 2)."""
        try:
            yield
        except BpTuiError as error:
            theirs = self.trainer.layers is not None and not self.exit_when_done
            if not theirs or isinstance(error, ConfigError):
                raise
            self.steps_left = 0
            self._report_progress()
            if self.state is RunState.RUNNING:
                self._set_state(RunState.PAUSED, str(error))
            self.emit(ev.Notice(str(error), action="reset", action_text=FIXED_FILE))

    def _speed_shown(self) -> float:
        """The run's real speed; until one is measured, slow motion's or the steps' own."""
        t = self.trainer
        if self.state is RunState.RUNNING:
            self._rate.add(self.clock(), t.iteration)
        if self._rate.rate is not None:
            return self._rate.rate
        if self.speed is not None:
            return self.speed
        return t.iteration / t.train_seconds if t.train_seconds else 0.0

    def _elapsed(self, now: float) -> float:
        since = self._running_since
        return self._running_seconds + (now - since if since is not None else 0.0)

    def _set_state(self, state: RunState, message: str = "") -> None:
        now = time.perf_counter()
        self._running_seconds = self._elapsed(now)
        self._running_since = now if state is RunState.RUNNING else None
        if state is RunState.RUNNING and self.state is not RunState.RUNNING:
            self._rate.restart()
            self._next_step_at = None
        self.state = state
        self.emit(ev.StateChanged(state, self.trainer.hp, dict(self.pending), message))

    # ---- commands -------------------------------------------------------------------------------

    def _apply(self, command) -> None:
        handler = self._handlers.get(type(command))
        if handler is None:
            self.emit(ev.Notice(f"unknown command {type(command).__name__}"))
            return
        try:
            handler(command)
        except ConfigError as error:
            self.emit(ev.Notice(error.problem, field=error.field, action=error.action))
        except BpTuiError as error:
            self.emit(ev.Notice(str(error), action=error.action))

    def _run_command(self, _: cmd.Run) -> None:
        if self.state in (RunState.DIVERGED, RunState.FINISHED) or self.trainer.done:
            # The UI showed "running" at the key press: the state that holds, then why.
            self.emit(ev.StateChanged(self.state, self.trainer.hp, dict(self.pending)))
        if self.state is RunState.DIVERGED:
            raise BpTuiError(
                f"the run diverged: {diverged_advice(self.trainer.layers)}", action="reset"
            )
        if self.trainer.done:
            raise BpTuiError("the run is finished: raise the iterations or reset", action="reset")
        if self.state is not RunState.RUNNING:
            self._set_state(RunState.RUNNING)

    def _pause(self, _: cmd.Pause) -> None:
        self.steps_left = 0
        if self.state is RunState.RUNNING:
            self._report_progress()
            self._set_state(RunState.PAUSED)

    def _step(self, command: cmd.Step) -> None:
        if self.state in (RunState.DIVERGED, RunState.FINISHED):
            return self._run_command(cmd.Run())  # explains why no step is possible
        if self.state is not RunState.PAUSED:
            self._set_state(RunState.PAUSED)
        self.steps_left = max(1, int(command.count))

    def _reset(self, _: cmd.Reset) -> None:
        hp = self.trainer.hp.replace(**self.pending)
        self._check_memory(hp)
        self.pending = {}
        self.steps_left = 0
        self.trainer.reset(hp)
        self._unsent_from = 0
        self._grad_norms = []
        self._running_seconds, self._running_since = 0.0, None
        self._rate.restart(forget=True)
        self.emit(ev.RunReset(hp, self.trainer.net.shape))
        self._report_insight()
        self._report_progress()
        self._set_state(RunState.READY)

    def _set_params(self, command: cmd.SetParams) -> None:
        changes = dict(command.changes)
        current = self.trainer.hp
        # Validate the whole record first: a bad value changes nothing.
        try:
            validated = current.replace(**{**self.pending, **changes})
            self._check_memory(validated)
            if "iters" in changes:
                check_iters_left(validated.iters, self.trainer.iteration)
        except ConfigError:
            # The UI may already show the refused value: tell it what still holds.
            self.emit(ev.ParamsChanged(self.trainer.iteration, current, dict(self.pending), {}))
            raise
        changes = {
            k: getattr(validated, k) for k in changes
        }  # as the record keeps them: 20 -> (20,)
        live, self.pending = split_changes(current, self.pending, changes)
        if live:
            self.trainer.apply_live(live)
        self.emit(
            ev.ParamsChanged(self.trainer.iteration, self.trainer.hp, dict(self.pending), live)
        )
        if live and self.state in (RunState.READY, RunState.PAUSED):
            self._report_progress()  # a new length in epochs (iters, batch size) shows now
        if self.state is RunState.FINISHED and not self.trainer.done:
            self._set_state(RunState.PAUSED)
        elif self.trainer.done and self.state in (
            RunState.READY,
            RunState.PAUSED,
            RunState.RUNNING,
        ):
            self._finish()  # the run's length lowered to the iteration it is at: it ends there

    def _check_memory(self, hp) -> None:
        """ConfigError naming the field when training with hp would not fit in memory."""
        memory.check_fits(hp.hidden, hp.batch_size, self.trainer.input_size)

    def _set_speed(self, command: cmd.SetSpeed) -> None:
        speed = command.iters_per_second
        if speed is not None and (
            isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed <= 1e6
        ):
            raise ConfigError(
                f"must be a positive number of iterations a second (got {speed!r})", "speed"
            )
        self.speed = None if speed is None else float(speed)
        self._next_step_at = None
        self._rate.restart(forget=True)
        self.emit(ev.SpeedChanged(self.speed))

    def _check_gradient(self, command: cmd.CheckGradient) -> None:
        """The book's check on the first training images, of the weights as they are now; it
        runs beside training and its GradChecked follows when it is done."""
        t = self.trainer
        params = {k: v.astype(np.float64) for k, v in t.net.params.items()}
        # a learner's net is checked as it is, their backprop against their own loss
        net = copy.deepcopy(t.net) if t.layers is not None else params
        self._check.forget()  # a newer check supersedes the one under way
        self._check.submit(
            check_job(
                net,
                t.x_train[:GRADCHECK_SAMPLES].copy(),
                t.t_train[:GRADCHECK_SAMPLES].copy(),
                activation=t.hp.activation,
                exact=command.exact,
                iteration=t.iteration,
                sample=default_sample(params),
            )
        )

    def _report_check(self, wait: bool = False) -> None:
        """The finished check's report (a check's own failure, or their code's, is raised here)."""
        with self._their_code():
            try:
                reports = self._check.take(wait)
            except BpTuiError as error:
                if self.trainer.layers is not None:  # the panel says the check could not run
                    self.emit(ev.GradChecked(None, problem=str(error)))
                raise
            for report in reports:
                self.emit(ev.GradChecked(report))

    def wait_for_check(self) -> None:
        """Report a check under way before the loop ends on its own (exit_when_done)."""
        self._report_check(wait=True)

    def _inspect(self, command: cmd.Inspect) -> None:
        """Answer at once with a batch (the graph draws), then with its check: a fresh random
        one, or in slow motion the last training step's own batch and starting weights."""
        t = self.trainer
        rng = np.random.default_rng(command.seed)
        last = self._last_step if command.last_step else None
        source = ""
        if command.drawing is not None:  # the drawing pad's digit, as a batch of one
            x, labels, source = drawing.batch_of_one(t, command)
            iteration, weights, indices, batch = t.iteration, t.net.params, None, source
        elif last is not None and last[0] == t.iteration - 1:
            iteration, indices, weights = last
            batch = f"the batch training took at iteration {iteration:,}"
        else:
            n = max(1, min(command.batch_size, len(t.x_train)))
            indices = np.sort(rng.choice(len(t.x_train), n, replace=False))
            iteration, weights = t.iteration, t.net.params
            batch = f"these {n} random training images"
        if indices is not None:
            x, labels = t.x_train[indices], t.t_train[indices]
        params = {k: v.astype(np.float64) for k, v in weights.items()}
        theirs = self._their_net(weights)
        answer = ev.Inspection(
            iteration, t.hp.activation, params, x, labels, None, indices=indices, source=source
        )
        if theirs is not None:  # their layers run here: the UI gets the record, not the code
            try:
                answer.trace = theirs.trace(x, labels)
            except BpTuiError as error:
                self.emit(dataclasses.replace(answer, problem=str(error)))
                return
        self.emit(answer)
        try:
            report = gradient_check(
                params if theirs is None else theirs,
                x,
                labels,
                activation=t.hp.activation,
                exact=command.exact,
                iteration=iteration,
                sample=INSPECT_CHECK_SAMPLE if theirs is None else INSPECT_LEARNER_SAMPLE,
                seed=int(rng.integers(2**31)),
                batch=batch,
            )
            wrong = None if theirs is None else theirs.wrong_node(answer.trace, x, labels)
        except BpTuiError as error:
            if theirs is None:
                raise
            # their backprop gave nothing to check: the graph says so, not "…" for ever
            self.emit(dataclasses.replace(answer, problem=str(error)))
            return
        self.emit(dataclasses.replace(answer, report=report, wrong=wrong))

    def _their_net(self, weights: dict):
        """A copy of a learner's net with these weights (None for bp-tui's own net)."""
        if self.trainer.layers is None:
            return None
        theirs = copy.deepcopy(self.trainer.net)
        for key, value in weights.items():
            theirs.params[key][...] = value
        return theirs

    def _save(self, command: cmd.Save) -> None:
        try:
            path = checkpoint.save(self.trainer, self.dataset, command.path)
        except OSError as error:
            raise BpTuiError(f"could not save the checkpoint: {error}") from None
        self.emit(ev.Saved(str(path)))

    def _load(self, command: cmd.Load) -> None:
        path = command.path or checkpoint.latest_path()
        loaded = checkpoint.load(path)
        if loaded["meta"].get("dataset") not in ("", self.dataset):
            raise BpTuiError(
                f"{path} was trained on {loaded['meta']['dataset']}, not {self.dataset}: "
                f"start bp-tui with --dataset {loaded['meta']['dataset']}"
            )
        checkpoint.restore(self.trainer, loaded)
        self._grad_norms = []
        self.pending = {}
        self.steps_left = 0
        self._unsent_from = 0
        self._rate.restart(forget=True)
        self.emit(ev.RunReset(self.trainer.hp, self.trainer.net.shape))
        self.emit(ev.Loaded(str(path), self.trainer.iteration))
        self._report_progress()
        for e in self.trainer.evaluations:
            self.emit(ev.Evaluation(e.iteration, e.epoch, e.train_acc, e.test_acc))
        self._report_insight()
        self._set_state(RunState.FINISHED if self.trainer.done else RunState.PAUSED)
