"""The Draw tab's cost, measured in one run (never a timed test), in the dashboard as it runs
(120x40, headless, its engine in its own process on the shipped sample):

1. the UI thread's CPU time per update of the pad (a mouse move posted as the terminal's driver
   posts it, the stroke extended, the engine's Prediction shown, the screen redrawn), frame by
   frame at 60 a second, less the same frames with nothing drawn: the pad's cost per update,
   against its 30 ms budget;
2. training speed while the pad is drawn on (a mouse move every 1/60 s, the engine asked for a
   Prediction one at a time) against the dashboard's own Train tab over the same time, and the
   UI process's CPU seconds a second in both (what it takes from the engine's core on a busy
   machine).

    python benchmarks/bench_pad.py [--updates 200] [--seconds 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing.resource_tracker
import os
import time

from textual import events
from textual.widgets import TabbedContent

from bp_tui.engine import HyperParams, RunState
from bp_tui.engine.remote import ProcessLink
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.widgets.draw_view import DrawView

BUDGET_MS = 30.0


def zigzag(step: int) -> tuple[int, int]:
    """A stroke's next point (column, cell row) inside the pad's border: a zig-zag over it."""
    column = 1 + step % 28
    row = 1 + (step // 28) % 14
    return (column if (step // 28) % 2 == 0 else 29 - column), row


async def until(pilot, condition, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the dashboard did not answer")
        await pilot.pause(0.005)


def answers_of(view: DrawView) -> list[float]:
    """The times (monotonic) of the engine's answers the view is given, from now on."""
    times: list[float] = []
    show = view.show_prediction

    def noted(prediction) -> None:
        times.append(time.monotonic())
        show(prediction)

    view.show_prediction = noted
    return times


def mouse(app, kind, widget, offset: tuple[int, int], button: int = 1):
    """A mouse event posted to the app as the terminal's driver posts it."""
    x, y = widget.region.x + offset[0], widget.region.y + offset[1]
    app.post_message(kind(None, x, y, 0, 0, button, False, False, False, screen_x=x, screen_y=y))


async def ui_cost(updates: int) -> dict:
    hp = HyperParams(iters=1_000_000)
    app = BpTuiApp(lambda: ProcessLink(hp, "sample", start=False), hp, start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        app.query_one(TabbedContent).active = "draw"
        view = app.query_one(DrawView)
        await until(pilot, lambda: app.focused is view)
        pad = view.pad
        shown = answers_of(view)

        async def moves(drawing: bool) -> tuple[float, int]:
            """UI thread CPU seconds over `updates` frames (1/60 s), a mouse move in each
            while drawing; and the answers shown meanwhile."""
            answers = len(shown)
            view.action_clear()  # each stroke draws afresh: every move changes the pad
            await pilot.pause()
            version = pad.canvas.version
            if drawing:
                mouse(app, events.MouseDown, pad, zigzag(0))
            started = time.thread_time()
            for step in range(1, updates + 1):
                if drawing:
                    mouse(app, events.MouseMove, pad, zigzag(step))
                await asyncio.sleep(1 / 60)
            if drawing:
                mouse(app, events.MouseUp, pad, zigzag(updates), button=0)
                await until(pilot, lambda: view.asked is None and not view.stale)
            cpu = time.thread_time() - started
            assert not drawing or pad.canvas.version >= version + updates // 2, "nothing drawn"
            return cpu, len(shown) - answers

        await moves(True)  # warm-up: caches, the first Prediction
        idle, _ = await moves(False)
        busy, answered = await moves(True)
    per_update = (busy - idle) / updates * 1000
    return {
        "updates": updates,
        "answers_shown": answered,
        "ui_ms_per_frame_idle": idle / updates * 1000,
        "ui_ms_per_frame_drawing": busy / updates * 1000,
        "pad_ms_per_update": per_update,
        "budget_ratio": per_update / BUDGET_MS,
    }


async def training_speed(seconds: float) -> dict:
    hp = HyperParams(iters=10_000_000, eval_every=0)
    app = BpTuiApp(lambda: ProcessLink(hp, "sample", start=False), hp, start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        app.action_toggle_run()
        await until(pilot, lambda: app.iteration > 0)

        async def speed(drawing: bool) -> tuple[float, float]:
            """Iterations a second, and the UI process's CPU seconds a second (all threads)."""
            first, started = app.iteration, time.monotonic()
            cpu = sum(os.times()[:2])
            step = 0
            while time.monotonic() - started < seconds:
                if drawing:
                    step += 1
                    mouse(app, events.MouseMove, view.pad, zigzag(step))
                await asyncio.sleep(1 / 60)
            wall = time.monotonic() - started
            return (app.iteration - first) / wall, (sum(os.times()[:2]) - cpu) / wall

        await speed(False)  # warm-up
        train_tab, train_cpu = await speed(False)
        app.query_one(TabbedContent).active = "draw"
        view = app.query_one(DrawView)
        await until(pilot, lambda: app.focused is view)
        answered = answers_of(view)
        view.action_clear()
        mouse(app, events.MouseDown, view.pad, zigzag(0))
        drawing, drawing_cpu = await speed(True)
        mouse(app, events.MouseUp, view.pad, zigzag(0), button=0)
    return {
        "iters_per_second_train_tab": train_tab,
        "iters_per_second_drawing": drawing,
        "drawing_vs_train_tab": drawing / train_tab,
        "ui_cpu_share_train_tab": train_cpu,
        "ui_cpu_share_drawing": drawing_cpu,
        "answers_while_drawing": len(answered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    multiprocessing.resource_tracker.ensure_running()
    from threadpoolctl import threadpool_info

    kernels = sorted({i.get("architecture", "?") for i in threadpool_info()})
    result = {
        "cpu": kernels,
        "load_before": os.getloadavg()[0],
        **asyncio.run(ui_cost(args.updates)),
        **asyncio.run(training_speed(args.seconds)),
        "load_after": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"CPU kernel {', '.join(result['cpu'])}, load {result['load_before']:.1f}")
    print(
        f"UI CPU per frame: {result['ui_ms_per_frame_drawing']:.2f} ms drawing, "
        f"{result['ui_ms_per_frame_idle']:.2f} ms not: an update of the pad costs "
        f"{result['pad_ms_per_update']:.2f} ms ({result['budget_ratio']:.2f} of the "
        f"{BUDGET_MS:g} ms budget; {result['answers_shown']} answers shown)"
    )
    print(
        f"training: {result['iters_per_second_train_tab']:,.0f} it/s on the Train tab, "
        f"{result['iters_per_second_drawing']:,.0f} it/s while drawing "
        f"(x{result['drawing_vs_train_tab']:.2f}, {result['answers_while_drawing']} answers in {args.seconds:g} s)"
    )
    print(
        f"UI process CPU: {result['ui_cpu_share_train_tab']:.2f} s/s on the Train tab, "
        f"{result['ui_cpu_share_drawing']:.2f} s/s drawing at 60 moves a second"
    )
    print(f"load after: {result['load_after']:.1f}")


if __name__ == "__main__":
    main()
