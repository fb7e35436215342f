"""`bp-tui train`: the engine without the dashboard, a progress bar and one line per evaluation."""

from __future__ import annotations

import argparse
import json
import queue
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bp_tui.cli.options import (
    LAYERS_HELP,
    Takes,
    add_shared_options,
    hyperparams_from,
    number,
)
from bp_tui.cli.plumbing import STOP_SIGNALS, OutputError, silence_stdout, stop_signals
from bp_tui.cli.words import accuracy_text, counted
from bp_tui.errors import BpTuiError

if TYPE_CHECKING:  # the rest when the command runs: building the command line must stay light
    from bp_tui.engine import events as ev
    from bp_tui.engine.trainer import Trainer


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    train = subparsers.add_parser("train", help="train without the dashboard")
    add_shared_options(train)
    # SUPPRESS: `bp-tui --json train` keeps the top level's --json instead of resetting it to False.
    train.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON summary on stdout",
    )
    train.add_argument(
        "--resume",
        metavar="ID",
        default=argparse.SUPPRESS,
        help="go on with a recorded run from its checkpoint (bp-tui runs)",
    )
    train.add_argument(
        "--layers", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=LAYERS_HELP
    )
    train.add_argument(
        "--timeout",
        type=number,
        default=None,
        metavar="SECONDS",
        help="with --layers: time each call into your code may take (default 10)",
    )
    # leaves_at_once: the run recorded, the process ends without Python's finalization
    train.set_defaults(func=run_train, takes=Takes(layers=True, resume=True), leaves_at_once=True)
    return train


def format_evaluation(e: ev.Evaluation, loss: float | None) -> str:
    loss_text = f"{loss:.4f}" if loss is not None else "-"
    return (
        f"epoch {e.epoch:5.2f}  iter {e.iteration:>7,}  loss {loss_text}  "
        f"train_acc {e.train_acc:.4f}  test_acc {e.test_acc:.4f}"
    )


def loss_at(trainer: Trainer, iteration: int, default: float | None) -> float | None:
    """The loss of `iteration` (from 1) when the trainer still keeps it, else `default`."""
    try:
        return trainer.losses[iteration - 1] if iteration > 0 else default
    except IndexError:
        return default


class Stopped(Exception):
    """The signal that stopped a run."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _readable(path: Path) -> None:
    from bp_tui.learner.source import readable_learner_files

    readable_learner_files(path)  # LearnerFileError (one line) for a missing or unreadable file


def run_train(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from bp_tui.cli.common import load_data
    from bp_tui.engine import blas, memory
    from bp_tui.engine import commands as cmd
    from bp_tui.engine import events as ev
    from bp_tui.engine.chance import ChanceWatch, advice
    from bp_tui.engine.config import check_batch_size
    from bp_tui.engine.loop import Engine
    from bp_tui.engine.recorder import Recorder, recording
    from bp_tui.engine.trainer import Trainer

    layers = getattr(args, "layers", None)
    limit = getattr(args, "timeout", None)
    if layers is not None:
        _readable(layers)  # before the data is loaded
    if limit is not None:
        from bp_tui.cli.check import checked_limit

        checked_limit(limit)
    resume = None
    if getattr(args, "resume", None) is not None:
        from bp_tui.cli.runs_commands import plan_resume

        resume = plan_resume(args, for_train=True)
        args.dataset = resume.dataset  # the run's own data set (plan_resume refused another)
        hp, data = resume.hp, load_data(args)
    else:
        hp, data = hyperparams_from(args), load_data(args)
    # Their code runs here, in the process started for that path: see README, "Your layers".
    trainer = Trainer(hp, data, layers=layers, layers_limit=limit)
    memory.check_fits(hp.hidden, hp.batch_size, trainer.input_size)  # before anything trains
    check_batch_size(
        hp.batch_size, len(data.t_train)
    )  # after the machine's limit, as the dashboard
    # Every run is recorded in the run store (bp-tui runs); a resumed one goes on in its folder.
    recorder = Recorder(trainer, data.name)
    if resume is not None:
        resume.restore(trainer)
        recorder.resume_now(resume.run_id, resume.changes)
    # With --json, stdout holds the JSON object alone; everything for people goes to stderr.
    # soft_wrap: a line is one line even when piped (rich would wrap it at 80 columns).
    console = Console(stderr=args.json, soft_wrap=True)
    errors = Console(stderr=True, soft_wrap=True)
    if layers is not None and not args.json:  # the lines below look like ours: say whose
        mine = trainer.net.mine
        verb = "trains" if len(mine) == 1 else "train"
        console.print(
            f"your layers from {layers.name}: your {', '.join(mine)} {verb} this run",
            highlight=False,
            markup=False,
        )
    last_loss: list[float | None] = [None]
    chance = ChanceWatch()
    failure: list[str] = []  # the engine reports a crash as an event, not an exception
    # SIGTERM, SIGHUP and Ctrl-C stop the run as the dashboard's Stop does, at an iteration's
    # end: a final checkpoint and summary, resumable. A second Ctrl-C interrupts at once.
    # SimpleQueue: its put is safe in a signal handler.
    commands: queue.SimpleQueue = queue.SimpleQueue()
    stopped: list[BaseException] = []  # why the run stopped before its end

    def stop(reason: BaseException) -> None:
        if not stopped:
            stopped.append(reason)
            commands.put(cmd.Stop())

    def on_signal(signum: int, frame: object) -> None:
        if stopped and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop(Stopped(signum))

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[speed]}"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        # Off when stderr is not a terminal: a transient bar there leaves only a blank line.
        disable=not errors.is_terminal,
    ) as bar:
        task = bar.add_task("training", total=hp.iters, speed="")

        def emit(event) -> None:
            if isinstance(event, ev.Progress):
                if len(event.losses):
                    last_loss[0] = float(event.losses[-1])
                bar.update(
                    task,
                    completed=event.iteration,
                    total=event.total,
                    speed=f"{event.iters_per_second:,.0f} it/s",
                )
            elif isinstance(event, ev.Evaluation):
                # The loss of the evaluation's own iteration: an evaluation done beside
                # training arrives after later iterations' losses.
                loss = loss_at(trainer, event.iteration, last_loss[0])
                try:
                    console.print(format_evaluation(event, loss), highlight=False)
                except OutputError as error:  # `| head -1`: stop, keeping what was trained
                    stop(error)
                if chance.see(event.test_acc, loss):
                    tip = advice(hp.activation, hp.init, len(hp.hidden))
                    to_try = tip.phrase("lower --lr", "--init {key}", "another --optimizer")
                    why = f"; {tip.cause}" if tip.cause else ""
                    errors.print(
                        f"bp-tui: the net is guessing at chance level (test accuracy "
                        f"{accuracy_text(event.test_acc)}, loss {loss:.2f}, ln 10 = 2.30){why}: {to_try}",
                        highlight=False,
                        markup=False,
                    )
            elif isinstance(event, ev.Diverged):
                errors.print(f"bp-tui: {event.message}", highlight=False, markup=False)
            elif isinstance(event, ev.Failed):
                failure.append(event.message)
            elif isinstance(event, ev.Notice):  # the run store could not write
                errors.print(f"bp-tui: {event.message}", highlight=False, markup=False)

        # No insights: nothing here draws digits or histograms, and they cost a test pass an epoch.
        # The evaluations (70,000 images each on MNIST, a third of the run done in line) go to
        # the second core, beside training, which no UI needs here.
        engine = Engine(
            trainer,
            recording(emit, recorder),
            commands,
            dataset=data.name,
            exit_when_done=True,
            progress_interval=0.1,
            insights=False,
            overlap_evaluation=blas.available_cores() > 1,
        )
        run_id = None
        try:
            with stop_signals(on_signal, (*STOP_SIGNALS, signal.SIGINT)):
                summary = engine.run()
                run_id = recorder.writer.id if recorder.writer is not None else None
        except MemoryError:
            # Only when even the engine's failure report found no memory: one line all the same.
            # (Out of memory, restoring the signal handlers raised again, a KeyError among them.)
            trainer.forget_evaluations()
            summary = trainer.summary(data.name)
            failure.append("out of memory")
        except KeyboardInterrupt:
            summary = engine.trainer.summary(data.name)
            errors.print(f"interrupted at iteration {summary['iterations']:,}", highlight=False)
            return 130
        finally:
            # Signals wait until the run is recorded: a second SIGTERM cannot cut its summary.
            with stop_signals(signal.SIG_IGN):
                notice = recorder.close()
            if notice is not None:
                errors.print(f"bp-tui: {notice.message}", highlight=False, markup=False)

    if stopped:
        how = stopped[0]
        where = f"at iteration {summary['iterations']:,}"
        resume = f": resume with 'bp-tui train --resume {run_id}'" if run_id else ""
        if isinstance(how, OutputError):
            silence_stdout(sys.stdout)
            errors.print(
                f"bp-tui: error: {how}; stopped {where}{resume}", highlight=False, markup=False
            )
            return 2
        errors.print(f"bp-tui: stopped by {how} {where}{resume}", highlight=False, markup=False)
        return 128 + how.signum

    if failure and isinstance(engine.error, BpTuiError):  # their layer raised: one line, status 2
        errors.print(
            f"bp-tui: error: at iteration {summary['iterations'] + 1:,}: {failure[0]}",
            highlight=False,
            markup=False,
        )
        return 2
    if failure:
        errors.print(
            f"bp-tui: error: training failed at iteration {summary['iterations']:,}: {failure[0]}",
            highlight=False,
            markup=False,
        )
        return 1
    if args.json:
        if layers is not None:  # whose code trained: theirs, by class
            summary = {**summary, "layers": str(layers), "your_classes": trainer.net.mine}
        print(json.dumps(summary))
    elif not summary["diverged"]:  # a diverged run has said why on stderr; no accuracy to show
        console.print(
            f"done: {counted(summary['iterations'], 'iteration')} ({summary['epochs']:.2f} epochs) on "
            f"{summary['dataset']} in {summary['train_seconds']:.2f} s of training, "
            f"{summary['iters_per_second']:,.0f} it/s; test accuracy {accuracy_text(summary['test_acc'])}",
            highlight=False,
        )
    return 2 if summary["diverged"] else 0
