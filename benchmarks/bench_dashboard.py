"""Dashboard speed, measured in one run (never a timed test):

1. training speed inside the running dashboard (charts redrawing) against the headless engine on
   the same recipe, both with the dashboard's engine setting (its own process, one BLAS thread);
2. how long a key press takes to show on screen while training runs at full speed;
3. how long `bp-tui` takes to put its first frame on a terminal;
4. the UI process's CPU share while training runs at full speed in a 120x40 terminal, and while
   it waits (opened --paused): CPU seconds (user + system, all its threads, not the engine's
   process) per wall second over 10 s.

    python benchmarks/bench_dashboard.py [--iters 10000] [--rounds 2] [--json]
    python benchmarks/bench_dashboard.py --cpu-only    # only 4, three windows (two paused)
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import multiprocessing.resource_tracker
import os
import pty
import select
import statistics
import struct
import sys
import tempfile
import termios
import time

from bp_tui.data import load_dataset
from bp_tui.engine import HyperParams
from bp_tui.engine.remote import ProcessLink
from bp_tui.ui.app import BpTuiApp


def headless_speed(hp: HyperParams) -> float:
    """Iterations per second of training steps, engine alone, in a separate process like the
    dashboard's (so both pay the same start-up and run with one BLAS thread)."""
    link = ProcessLink(hp, "sample", start=True)
    link.start()
    summary = None
    while summary is None:
        event = link.next_event(timeout=60)
        summary = getattr(event, "summary", None)
    link.stop()
    return summary["iters_per_second"]


def dashboard_run(hp: HyperParams) -> dict:
    """A full run inside the dashboard (headless terminal, 120x40), charts redrawing at 10 Hz."""
    app = BpTuiApp(
        lambda: ProcessLink(hp, "sample", start=False), hp, start=True, exit_when_done=True
    )
    started = time.perf_counter()
    summary = app.run(headless=True, size=(120, 40))
    return {**summary, "wall_seconds": time.perf_counter() - started}


quit_seconds: list[float] = []  # from q while training to the app and its engine gone


def key_latencies(hp: HyperParams, presses: int = 20) -> tuple[list[float], list[float]]:
    """Seconds from a key press to (a) the header showing its effect and (b) the engine's
    confirmation arriving back on screen, while training runs at full speed.

    '+' doubles the learning rate: the key goes to the engine process and comes back as an
    event, the longest path a key takes.
    """
    shown: list[float] = []
    confirmed: list[float] = []
    confirmations: list[float] = []

    class TimedApp(BpTuiApp):
        def _params_changed(self, e) -> None:
            super()._params_changed(e)
            confirmations.append(time.perf_counter())

    app = TimedApp(lambda: ProcessLink(hp, "sample", start=False), hp, start=True)

    async def drive(pilot) -> None:
        while app.run_state != "running":
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)  # training at full speed
        for _ in range(presses):
            before = app.hp.lr
            header = app.query_one("#status")
            count = len(confirmations)
            start = time.perf_counter()
            app.simulate_key("plus" if before < 1 else "minus")
            while app.hp.lr == before or f"lr {app.hp.lr:g}" not in str(header.render()):
                await asyncio.sleep(0.0005)
            shown.append(time.perf_counter() - start)
            while len(confirmations) == count:
                await asyncio.sleep(0.0005)
            confirmed.append(confirmations[-1] - start)
            await asyncio.sleep(0.05)
        quit_started.append(time.perf_counter())
        await app.action_quit()

    quit_started: list[float] = []
    app.run(headless=True, size=(120, 40), auto_pilot=drive)
    quit_seconds.append(time.perf_counter() - quit_started[0])
    return shown, confirmed


def first_frame_seconds() -> float:
    """Seconds from starting `bp-tui --paused` in a 120x40 terminal to its header on screen."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(
            sys.executable, [sys.executable, "-m", "bp_tui", "--paused", "--dataset", "sample"]
        )
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    elapsed = None
    while time.perf_counter() - start < 20:
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if b"ready" in seen or b"paused" in seen:
                elapsed = time.perf_counter() - start
                break
    os.write(fd, b"q")
    time.sleep(1.0)
    os.kill(pid, 9) if os.waitpid(pid, os.WNOHANG) == (0, 0) else None
    return elapsed if elapsed is not None else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (all its threads, not its children)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ui_cpu_share(
    window: float = 10.0, size: tuple[int, int] = (120, 40), paused: bool = False
) -> float:
    """CPU seconds per wall second of `bp-tui` in a real terminal (a pty read as fast as it
    writes) while its engine trains at full speed (paused: while it waits, opened --paused),
    measured over `window` seconds."""
    width, height = size
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(
            sys.executable,
            [sys.executable, "-m", "bp_tui", "--dataset", "sample", "--iters", "10000000"]
            + (["--paused"] if paused else []),
        )
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def drain(seconds: float) -> bytes:
        seen = b""
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        return seen

    started = time.perf_counter()
    seen, shown = b"", b"ready" if paused else b"running"
    while shown not in seen and time.perf_counter() - started < 30:
        seen = (seen + drain(0.1))[-4096:]
    drain(2.0)  # past the start: first evaluation, gradient check, first frames
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    drain(window)
    share = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - wall0)
    os.write(fd, b"q")
    drain(1.0)
    if os.waitpid(pid, os.WNOHANG) == (0, 0):
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cpu-only", action="store_true", help="only the UI's CPU share")
    args = parser.parse_args()
    multiprocessing.resource_tracker.ensure_running()
    # The dashboard records every run: keep the benchmark's out of the user's run list.
    os.environ.setdefault("BP_TUI_HOME", tempfile.mkdtemp(prefix="bp-tui-bench-"))
    load_dataset("sample")
    shares = [ui_cpu_share() for _ in range(3 if args.cpu_only else 1)]
    idle = [ui_cpu_share(paused=True) for _ in range(2 if args.cpu_only else 1)]
    cpu_line = (
        f"UI process CPU while training at full speed, 120x40 terminal, 10 s windows: "
        f"{', '.join(f'{s:.1%}' for s in shares)} of one core; opened --paused: "
        f"{', '.join(f'{s:.1%}' for s in idle)} (load average {os.getloadavg()[0]:.1f})"
    )
    if args.cpu_only:
        result = {"ui_cpu_share": shares, "ui_cpu_share_paused": idle}
        print(json.dumps(result) if args.json else cpu_line)
        return
    hp = HyperParams(iters=args.iters)

    headless, inside, walls = [], [], []
    for _ in range(args.rounds):  # alternated, so a burst of load elsewhere hits both
        headless.append(headless_speed(hp))
        run = dashboard_run(hp)
        inside.append(run["iters_per_second"])
        walls.append(run["wall_seconds"])
    latencies, confirmed = key_latencies(HyperParams(iters=10_000_000))
    frames = [first_frame_seconds() for _ in range(3)]
    result = {
        "iters": args.iters,
        "headless_iters_per_second": statistics.median(headless),
        "dashboard_iters_per_second": statistics.median(inside),
        "dashboard_over_headless": statistics.median(inside) / statistics.median(headless),
        "dashboard_wall_seconds": statistics.median(walls),
        "key_latency_ms_median": 1000 * statistics.median(latencies),
        "key_latency_ms_max": 1000 * max(latencies),
        "engine_confirmation_ms_median": 1000 * statistics.median(confirmed),
        "engine_confirmation_ms_max": 1000 * max(confirmed),
        "first_frame_seconds_median": statistics.median(frames),
        "quit_while_training_seconds": quit_seconds[0],
        "ui_cpu_share": shares,
        "ui_cpu_share_paused": idle,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"training, {args.iters:,} iterations of the book's recipe on the sample "
        f"(median of {args.rounds}):"
    )
    print(f"  headless engine      {result['headless_iters_per_second']:8,.0f} it/s")
    print(
        f"  inside the dashboard {result['dashboard_iters_per_second']:8,.0f} it/s  "
        f"({result['dashboard_over_headless']:.0%} of headless)"
    )
    print(
        f"key press to screen while training: median {result['key_latency_ms_median']:.1f} ms, "
        f"max {result['key_latency_ms_max']:.1f} ms over {len(latencies)} presses"
    )
    print(
        f"  the engine's confirmation back on screen: median "
        f"{result['engine_confirmation_ms_median']:.1f} ms, "
        f"max {result['engine_confirmation_ms_max']:.1f} ms"
    )
    print(
        f"quit while training (q to app and engine process gone): "
        f"{result['quit_while_training_seconds']:.2f} s"
    )
    print(
        f"first frame of `bp-tui --paused`: {result['first_frame_seconds_median']:.2f} s "
        f"(median of {len(frames)})"
    )
    print(cpu_line)


if __name__ == "__main__":
    main()
