"""How long graph 3 (the network) takes to open in the Inspector, measured in one run (never a
timed test): the dashboard with its real engine process on the shipped sample, headless at
120x40; from the key `3` to the graph drawn on the engine's batch (waiting), and to the check
of that batch filled in. The first opening and the later ones, while training is paused.

    python benchmarks/bench_inspector.py [--opens 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing.resource_tracker
import os
import statistics
import tempfile
import time

from bp_tui.engine import HyperParams, RunState
from bp_tui.engine.remote import ProcessLink
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.inspector.inspector import Inspector


async def until(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("the app did not get there in 60 s")
        await pilot.pause(0.002)


def open_times(opens: int) -> list[tuple[float, float]]:
    """(seconds to the graph, seconds to its check) for each press of 3, from the key's action
    to the inspector taking the engine's answers."""
    hp = HyperParams()
    app = BpTuiApp(lambda: ProcessLink(hp, "sample", start=False), hp, start=False)
    app.animation_level = "none"
    marks: list[list[float]] = []
    action_graph, show_inspection = Inspector.action_graph, Inspector.show_inspection

    def timed_action_graph(inspector: Inspector, graph: int) -> None:
        if graph == 3:
            marks.append([time.perf_counter()])
        action_graph(inspector, graph)

    def timed_show_inspection(inspector: Inspector, inspection) -> None:
        show_inspection(inspector, inspection)
        marks[-1].append(time.perf_counter())

    Inspector.action_graph = timed_action_graph
    Inspector.show_inspection = timed_show_inspection

    async def drive(pilot) -> None:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await pilot.press("t")  # the Inspector (graph 1)
        for _ in range(opens):
            await pilot.press("1", "3")
            await until(pilot, lambda: len(marks[-1]) == 3)  # the graph, then its check
        await pilot.press("q")

    app.run(headless=True, size=(120, 40), auto_pilot=drive)
    return [(graph - key, check - key) for key, graph, check in marks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # Started before Textual owns the terminal (it cannot be spawned from inside the app).
    multiprocessing.resource_tracker.ensure_running()
    os.environ.setdefault("BP_TUI_HOME", tempfile.mkdtemp(prefix="bp-tui-bench-"))
    times = open_times(args.opens)
    later = times[1:] or times
    result = {
        "first_graph_seconds": times[0][0],
        "first_check_seconds": times[0][1],
        "later_graph_seconds_median": statistics.median(t[0] for t in later),
        "later_check_seconds_median": statistics.median(t[1] for t in later),
        "later_graph_seconds_max": max(t[0] for t in later),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"graph 3, first opening: drawn in {times[0][0]:.3f} s, its check in {times[0][1]:.3f} s")
    print(
        f"later openings ({len(later)}): drawn in {result['later_graph_seconds_median']:.3f} s "
        f"(median; max {result['later_graph_seconds_max']:.3f} s), "
        f"checked in {result['later_check_seconds_median']:.3f} s"
    )


if __name__ == "__main__":
    main()
