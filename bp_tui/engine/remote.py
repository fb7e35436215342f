"""The engine running beside a UI: in its own process (the dashboard) or a thread (tests).

Why a process: the UI's Python work and the trainer share one GIL in a thread, which slowed
training 1.9x with charts redrawn at 10 Hz (measured here on two cores); a process with one BLAS thread leaves the
second core to the UI and lost almost nothing. Both links take commands and give events through
queues, so the UI cannot tell them apart.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.queues
import os
import queue
import signal
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.config import HyperParams
from bp_tui.errors import BpTuiError

if TYPE_CHECKING:
    from bp_tui.engine.resume import Resume


class EngineLink(Protocol):
    def start(self) -> None: ...
    def send(self, command: object) -> None: ...
    def next_event(self, timeout: float) -> object | None: ...
    def stop(self, timeout: float = 1.0) -> None: ...


class EngineExited:
    """Sent after the engine loop returns, so the UI's event reader can stop."""


@dataclass
class EngineLost(EngineExited):
    """The engine's process ended without saying so (kill -9, a crash): what the link says in
    place of the events that will never come. exitcode: -N for signal N, as multiprocessing."""

    exitcode: int | None

    def describe(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            try:
                return f"killed by {signal.Signals(-self.exitcode).name}"
            except ValueError:
                return f"killed by signal {-self.exitcode}"
        return f"ended with status {self.exitcode}"


QUEUED_EVENTS = 64  # events waiting for the UI, at most, before training news is merged


class Outbox:
    """The engine's end of the event queue, bounded: while the UI reads nothing (suspended with
    Ctrl-Z, stopped, busy) training news merges here as the UI merges it (one Progress with all
    the losses, the latest Insight), instead of piling up in the queue without limit (107 ->
    208 MB in 40 s seen). Anything else goes at once, after what was held, in order."""

    def __init__(self, events, limit: int = QUEUED_EVENTS) -> None:
        self.events, self.limit = events, limit
        self.held: list = []

    def _backlog(self) -> int:
        try:
            return self.events.qsize()
        except NotImplementedError:  # macOS: no count; the queue is then unbounded as before
            return 0

    def put(self, event: object) -> None:
        if isinstance(event, ev.STREAMING) and self._backlog() >= self.limit:
            ev.merged(self.held, event)
            return
        held, self.held = self.held, []
        for waiting in held:
            self.events.put(waiting)
        self.events.put(event)


def serve(
    hp: HyperParams,
    dataset: str,
    data_dir,
    commands,
    events,
    start: bool,
    resume: Resume | None = None,
    lifeline=None,
    layers=None,
) -> None:
    """Load the data, then run the engine loop until Stop; every outcome is an event.

    Every run is recorded in the run store; `resume` goes on with a recorded run when the engine
    loads its checkpoint (ProcessLink queues the Load first).

    lifeline: the reading end of a pipe whose writing end only the UI process holds. It reads
    end-of-file when the UI is gone however it went (kill -9, a crash), and the engine then
    stops as if told to: the run is recorded, never orphaned. SIGTERM, SIGHUP and SIGINT (a
    closed terminal signals the whole process group) stop it the same way.
    """
    parent = _Parent(commands, events)
    outbox = Outbox(events)
    if lifeline is not None:
        threading.Thread(
            target=parent.watch, args=(lifeline,), name="bp-tui-lifeline", daemon=True
        ).start()
    in_main = threading.current_thread() is threading.main_thread()  # tests serve in a thread
    previous = (
        {sig: signal.signal(sig, parent.on_signal) for sig in STOP_SIGNALS} if in_main else {}
    )
    if in_main:  # ProcessLink.start blocked it for the start-up; one held comes now, as a Stop
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    recorder = None
    try:
        # Here, not at the top: the UI's process, which imports this module for the link,
        # never needs the trainer, and its first frame should not wait for it.
        from bp_tui.data import load_dataset
        from bp_tui.engine.loop import Engine
        from bp_tui.engine.recorder import Recorder, recording
        from bp_tui.engine.trainer import Trainer

        data = load_dataset(dataset, data_dir)
        trainer = Trainer(hp, data, layers=layers)  # their layers: this process runs them
        recorder = Recorder(trainer, dataset, resume=resume)
        engine = Engine(
            trainer,
            recording(outbox.put, recorder),
            commands,
            dataset=dataset,
            progress_interval=0.1,
            blas_threads=1,
        )
        engine.run(start=start)
    except BpTuiError as error:
        outbox.put(ev.Failed(str(error)))
    except Exception as error:  # noqa: BLE001 - the UI must hear of it, never hang
        outbox.put(ev.Failed(f"{type(error).__name__}: {error}"))
    finally:
        notice = recorder.close() if recorder is not None else None
        if notice is not None:
            outbox.put(notice)
        outbox.put(EngineExited())
        # The run is recorded: from here a signal ends the process at once.
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        parent.flush_events()


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
FLUSH_SECONDS = 5.0  # the UI reads events until EngineExited; a gone UI reads nothing


class _Parent:
    """The engine process's view of the UI process: whether it is there, and how to stop."""

    def __init__(self, commands, events) -> None:
        self.commands, self.events = commands, events
        self.gone = threading.Event()

    def watch(self, lifeline) -> None:
        """Block until the UI's end of the lifeline closes (the UI never writes to it)."""
        try:
            while True:
                lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        self.gone.set()
        self.commands.put(cmd.Stop())

    def on_signal(self, signum, frame) -> None:
        # Runs in the main thread between bytecodes; only the lifeline thread also puts commands.
        self.commands.put(cmd.Stop())

    def flush_events(self) -> None:
        """Let the last events reach a UI that reads them, without waiting on one that does not:
        a Queue joins its feeder thread at exit, which blocks for ever on a full pipe."""
        if not isinstance(self.events, multiprocessing.queues.Queue):
            return  # a thread's queue.Queue: nothing to flush
        self.events.close()
        flusher = threading.Thread(target=self.events.join_thread, daemon=True)
        flusher.start()
        flusher.join(0.0 if self.gone.is_set() else FLUSH_SECONDS)


class _QueueLink:
    def __init__(self, commands, events) -> None:
        self.commands, self.events = commands, events

    def send(self, command: object) -> None:
        self.commands.put(command)

    def next_event(self, timeout: float) -> object | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None


class ProcessLink(_QueueLink):
    """The engine in a spawned process (spawn is the safe start method next to threads)."""

    def __init__(
        self,
        hp: HyperParams,
        dataset: str,
        data_dir=None,
        start: bool = True,
        resume: Resume | None = None,
        speed: float | None = None,
        layers=None,
    ) -> None:
        """resume: a recorded run to go on with, loaded before any other command; speed: slow
        motion from the start (iterations a second); layers: a learner's file whose layers
        train (their code then runs in the engine's process only)."""
        ctx = multiprocessing.get_context("spawn")
        super().__init__(ctx.Queue(), ctx.Queue())
        self._stopping = False  # stop() was called: the engine's end is no news
        # The engine reads end-of-file on its end when this process is gone, however it went.
        self._lifeline_end, self._lifeline = ctx.Pipe(duplex=False)
        if speed is not None:
            self.send(cmd.SetSpeed(speed))
        if resume is not None:
            self.send(cmd.Load(resume.checkpoint))
            if resume.changes:
                self.send(cmd.SetParams(resume.changes))
        self.process = ctx.Process(
            target=serve,
            args=(
                hp,
                dataset,
                data_dir,
                self.commands,
                self.events,
                start,
                resume,
                self._lifeline_end,
                layers,
            ),
            name="bp-tui-engine",
            daemon=True,
        )

    def start(self) -> None:
        """Start the engine's process (once: the dashboard starts it before its UI's imports)."""
        if self.process.pid is not None:
            return
        # A Ctrl-C while the engine's Python still starts would end it with a traceback on the
        # terminal: it is born with SIGINT blocked (held, not lost) until serve can stop cleanly.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        self._lifeline_end.close()  # the engine has its own copy; only the writing end stays here

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def next_event(self, timeout: float) -> object | None:
        event = super().next_event(timeout)
        if event is None and self._ended():
            # Nothing more can come: say so once, in place of the EngineExited never sent.
            event = EngineExited() if self._stopping else EngineLost(self._exit_status())
        return event

    def _exit_status(self) -> int | None:
        """The ended engine's exit code (-N for signal N), read without reaping it: its
        sentinel can fire before anyone has waited for it, when exitcode is still None."""
        if self.process.exitcode is not None or self.process.pid is None:
            return self.process.exitcode
        try:
            info = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except OSError:  # reaped meanwhile by the thread joining it
            return self.process.exitcode
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def _ended(self) -> bool:
        """Whether the engine's process has ended; its sentinel tells without reaping it (the
        UI's thread calls this while the main thread may be joining the process)."""
        if self.process.pid is None:
            return False
        return bool(multiprocessing.connection.wait([self.process.sentinel], timeout=0))

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the engine, its run recorded, within about `timeout` seconds, and at worst kill
        it: a stopped engine (SIGSTOP) is woken to hear the Stop, and is never waited for."""
        self._stopping = True
        if self.process.is_alive():
            self._signal(signal.SIGCONT)
            self.send(cmd.Stop())
            self.process.join(timeout * 0.6)
        if self.process.is_alive():
            self.process.terminate()  # a Stop too, until the run is recorded; then the end
            self.process.join(timeout * 0.3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout * 0.3)
        self._lifeline.close()
        for q in (self.commands, self.events):
            q.cancel_join_thread()
            q.close()

    def _signal(self, signum: int) -> None:
        try:
            os.kill(self.process.pid, signum)
        except (ProcessLookupError, TypeError):  # gone already, or never started
            pass


class ThreadLink(_QueueLink):
    """The engine in a thread of this process: for tests and for data already in memory."""

    def __init__(
        self, hp: HyperParams, data, start: bool = True, layers=None, **engine_options
    ) -> None:
        from bp_tui.engine.loop import Engine
        from bp_tui.engine.trainer import Trainer

        super().__init__(queue.Queue(), queue.Queue())
        self.engine = Engine(
            Trainer(hp, data, layers=layers),
            self.events.put,
            self.commands,
            dataset=data.name,
            **engine_options,
        )
        self.thread = threading.Thread(target=self._run, args=(start,), daemon=True)

    def _run(self, start: bool) -> None:
        try:
            self.engine.run(start=start)
        finally:
            self.events.put(EngineExited())

    def start(self) -> None:
        if self.thread.ident is None:  # once, as ProcessLink
            self.thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        if self.thread.is_alive():
            self.send(cmd.Stop())
            self.thread.join(timeout)
