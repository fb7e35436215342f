"""Where the wall clock of `bp-tui train --dataset mnist` goes, beside the book's script.

    python benchmarks/bench_breakdown.py [--rounds 3] [--iters 10000] [--no-book] [--json]

Fresh processes, rounds alternated, Python's bytecode cached as bench_wall.py does it:

- `python -c pass` and `python -c "import numpy"`: what any Python program with numpy pays.
- `bp-tui train --iters 1 --dataset mnist`: the whole start-up bp-tui pays (imports, data load,
  one step, one evaluation, the run written), against `import numpy`.
- `bp-tui train --dataset mnist`, instrumented: bp-tui's own `main` in a process that notes
  the clock at its first line, times the phases by wrapping the functions that do them (the
  numbers they compute are untouched), and reports back:
  start (interpreter, before the first line), imports, data load, set-up (trainer, recorder),
  the steps (the sum of Trainer.step), waits for evaluations (the main thread counting or
  waiting in take_evaluations), evaluations beside training (counting in another thread:
  not wall clock, overlapped), writing the run (the recorder's events, checkpoints and close),
  the engine loop's rest (events, progress, printing), and exit (after main, until the
  process is gone).
- the book's `train_neuralnet.py` (book.py, numpy's default BLAS threads; `--book-1-thread`:
  one) as the baseline.

A benchmark, never a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_wall import blas_kernel, environment, logger, run  # noqa: E402

PHASES = (
    ("start", "Python starts (before the first line)"),
    ("imports", "imports (bp_tui.cli, the train command)"),
    ("data", "data load (MNIST's arrays)"),
    ("setup", "trainer, recorder, arguments"),
    ("steps", "the training steps (sum of Trainer.step)"),
    ("eval_wait", "evaluations, in the main thread (snapshots, counting or waiting)"),
    ("record", "writing the run (events, checkpoints, summary)"),
    ("loop", "the engine loop's rest (events, progress, printing)"),
    ("exit", "exit (after main, until the process is gone)"),
)


# ---- the instrumented child ----------------------------------------------------------------------


def child(out_path: str, argv: list[str]) -> int:
    first_line = time.time()
    clock = time.perf_counter
    began = clock()
    import rich.progress  # noqa: F401  (train imports what it needs when it runs: counted here)

    import bp_tui.cli
    import bp_tui.cli.common as common
    from bp_tui.engine import recorder, trainer
    from bp_tui.engine.loop import Engine

    spent = {"imports": clock() - began, "beside": 0.0}
    lock = threading.Lock()

    def timed(owner, name: str, phase: str, main_only: bool = False) -> None:
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = clock()
            try:
                return real(*args, **kwargs)
            finally:
                took = clock() - start
                where = phase
                if main_only and threading.current_thread() is not threading.main_thread():
                    where = "beside"
                with lock:
                    spent[where] = spent.get(where, 0.0) + took

        setattr(owner, name, wrapper)

    timed(common, "load_data", "data")
    timed(trainer.Trainer, "step", "steps")
    timed(trainer, "count_correct", "counting", main_only=True)
    timed(trainer.Trainer, "take_evaluations", "eval_wait")
    timed(trainer.Trainer, "evaluate_later", "eval_wait")  # its snapshot, and help when full
    timed(recorder.Recorder, "on_event", "events")
    timed(recorder.Recorder, "close", "close")
    timed(Engine, "run", "engine_run")
    main_start = clock()

    def report() -> None:  # bp-tui's main may end the process itself, running atexit first
        spent["main"] = clock() - main_start
        spent["first_line"] = first_line
        spent["main_end"] = time.time()
        with open(out_path, "w") as out:
            json.dump(spent, out)

    atexit.register(report)
    sys.argv = ["bp-tui", *argv]
    return bp_tui.cli.main()  # as the console script calls it


# ---- the parent ----------------------------------------------------------------------------------


def instrumented(command_prefix: list[str], iters: int, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "phases.json")
        argv = ["train", "--dataset", "mnist", "--iters", str(iters)]
        started = time.time()
        done = subprocess.run(
            [*command_prefix, __file__, "--child", out, *argv],
            env=env,
            capture_output=True,
            text=True,
        )
        ended = time.time()
        if done.returncode != 0:
            raise SystemExit(f"the instrumented run failed:\n{done.stderr[-2000:]}")
        with open(out) as f:
            spent = json.load(f)
    engine_run, events, close = (spent.get(k, 0.0) for k in ("engine_run", "events", "close"))
    phases = {
        "start": spent["first_line"] - started,
        "imports": spent["imports"],
        "data": spent.get("data", 0.0),
        "setup": max(spent["main"] - spent.get("data", 0.0) - engine_run - close, 0.0),
        "steps": spent.get("steps", 0.0),
        "eval_wait": spent.get("eval_wait", 0.0),
        "record": events + close,  # events inside Engine.run, close after it
        "exit": ended - spent["main_end"],
    }
    phases["loop"] = max(engine_run - phases["steps"] - phases["eval_wait"] - events, 0.0)
    return {"total": ended - started, "phases": phases, "evaluations_beside": spent["beside"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--iters", type=int, default=10000, help="iterations (10000)")
    parser.add_argument("--no-book", action="store_true", help="leave the book's script out")
    parser.add_argument(
        "--book-1-thread",
        action="store_true",
        help="the book at one BLAS thread (under load its two threads collapse: minutes a run)",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE and PYTHONPYCACHEPREFIX as they are",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1:])

    log = logger(args.json)
    if (setting := environment(args.no_bytecode_cache, log)) is None:
        return 1
    env, data_dir, bp_tui_command, bytecode = setting
    python = [sys.executable]
    book = [*python, os.path.join(HERE, "book.py"), data_dir, "--iters", str(args.iters)]
    simple = {
        "python -c pass": ([*python, "-c", "pass"], env),
        'python -c "import numpy"': ([*python, "-c", "import numpy"], env),
        "bp-tui train --iters 1": (
            [*bp_tui_command, "train", "--dataset", "mnist", "--iters", "1"],
            env,
        ),
        "bp-tui train": (
            [*bp_tui_command, "train", "--dataset", "mnist", "--iters", str(args.iters)],
            env,
        ),
    }
    if not args.no_book and args.book_1_thread:
        simple["book 1 thread"] = (book, {**env, "OPENBLAS_NUM_THREADS": "1"})
    elif not args.no_book:
        simple["book"] = (book, env)
    log(f"BLAS: {blas_kernel()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    log(f"data: {data_dir}; {args.rounds} rounds, alternated; bytecode: {bytecode}")
    log("warm-up (untimed): the book's pickle, the page cache, the bytecode")
    if not args.no_book:
        run([*book[:-1], "1"], env)
    run(simple["bp-tui train --iters 1"][0], env)
    instrumented(python, 1, env)
    walls: dict[str, list[float]] = {name: [] for name in simple}
    parts: list[dict] = []
    loads = []
    for r in range(args.rounds):
        for name, (command, run_env) in simple.items():
            walls[name].append(run(command, run_env)["seconds"])
        parts.append(instrumented(python, args.iters, env))
        loads.append(os.getloadavg()[0])
        log(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{name} {walls[name][-1]:.2f} s" for name in simple)
            + f", instrumented {parts[-1]['total']:.2f} s; load {loads[-1]:.2f}"
        )
    wall = {name: statistics.median(values) for name, values in walls.items()}
    phase = {key: statistics.median(p["phases"][key] for p in parts) for key, _ in PHASES}
    total = statistics.median(p["total"] for p in parts)
    beside = statistics.median(p["evaluations_beside"] for p in parts)
    result = {
        "blas": blas_kernel(),
        "cpu": cpu_name(),
        "coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "bytecode": bytecode,
        "load_average": loads,
        "iters": args.iters,
        "rounds": args.rounds,
        "wall_medians": wall,
        "phase_medians": phase,
        "instrumented_total": total,
        "evaluations_beside": beside,
        "rounds_detail": {"walls": walls, "parts": parts},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print()
    print(f"`bp-tui train --dataset mnist`, {args.iters:,} iterations, medians of {args.rounds}:")
    print()
    print("| part | seconds | share |")
    print("| --- | ---: | ---: |")
    for key, label in PHASES:
        print(f"| {label} | {phase[key]:.3f} | {100 * phase[key] / total:.0f}% |")
    print(f"| **whole run** (instrumented) | **{total:.2f}** | 100% |")
    print(f"| evaluations counted beside training (another core, overlapped) | ({beside:.2f}) | |")
    print()
    print("| process | seconds |")
    print("| --- | ---: |")
    for name, seconds in wall.items():
        print(f"| `{name}` | {seconds:.3f} |")
    numpy_start = wall['python -c "import numpy"']
    start_up = wall["bp-tui train --iters 1"]
    print()
    print(
        f"start-up: `bp-tui train --iters 1` {start_up:.2f} s against `import numpy` "
        f"{numpy_start:.2f} s (x{start_up / numpy_start:.1f})"
    )
    for name in ("book", "book 1 thread"):
        if name in wall:
            print(
                f"wall clock: bp-tui {wall['bp-tui train']:.2f} s, {name} {wall[name]:.2f} s: "
                f"x{wall[name] / wall['bp-tui train']:.2f}"
            )
    return 0


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
