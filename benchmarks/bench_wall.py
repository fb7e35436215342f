"""Wall clock of the whole recipe: `bp-tui train --dataset mnist` against the book's script.

    python benchmarks/bench_wall.py [--rounds 3] [--iters 10000] [--book-1-thread] [--json]

Each contender is a fresh process, timed from its start to its exit (imports, loading the data,
10,000 iterations with 17 evaluations of the 70,000 images, the summary), on the same MNIST
files: bp-tui's imported copy in its data directory (BP_TUI_DATA_DIR, `bp-tui data import`).

- bp-tui: `bp-tui train --dataset mnist`, exactly as a user runs it (its run is recorded in
  BP_TUI_HOME as any run is).
- book: `book.py`, the book's ch05/train_neuralnet.py with its own load_mnist (the pickle made
  from the .gz files on the first, untimed run), numpy's default BLAS threads.
- `--book-1-thread`: the book again with OPENBLAS_NUM_THREADS=1, as context (load slows its two
  BLAS threads far more than one).

Python's bytecode cache: a pip-installed bp-tui has its modules compiled, and an editable one
writes `__pycache__` on its first run, unless PYTHONDONTWRITEBYTECODE is set (as in some
shells here), which makes every run compile bp-tui's ~80 modules again (~50-80 ms). So the
contenders run with PYTHONPYCACHEPREFIX in a fresh temporary folder (filled by the untimed
warm-up, kept out of the source tree) and without PYTHONDONTWRITEBYTECODE;
`--no-bytecode-cache` runs them in the environment as it is.

Rounds alternate the contenders. For each run the cores other processes kept busy meanwhile are
recorded (from /proc/stat, less the run's own CPU time), and medians are given over all runs
and over quiet ones (others < QUIET_CORES). Both final test accuracies are reported: the
recipe's result must be the book's (>= 0.965). A benchmark, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QUIET_CORES = 0.3


def cpu_busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq = map(int, f.readline().split()[1:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict) -> dict:
    busy, own = cpu_busy_seconds(), children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    cpu = children_cpu() - own
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    text = done.stdout + done.stderr
    found = re.findall(r"test.acc(?:uracy)?:? ([0-9.]+)", text)
    others = None
    if busy is not None:
        others = max((cpu_busy_seconds() - busy) - cpu, 0.0) / seconds
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "test_acc": float(found[-1]) if found else None,
        "others": others,
    }


def blas_kernel() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def logger(json_output: bool):
    """print to stdout, or to stderr when stdout holds the JSON object."""

    def log(text: str) -> None:
        print(text, file=sys.stderr if json_output else sys.stdout, flush=True)

    return log


def environment(no_bytecode_cache: bool, log) -> tuple[dict, str, list[str], str] | None:
    """(env, MNIST's folder, the bp-tui command, how bytecode is cached) for the contenders;
    None when MNIST is not in bp-tui's data directory (said through log)."""
    from bp_tui.data.cache import dataset_folder  # where `bp-tui data import` put the files

    data_dir = str(dataset_folder("mnist"))
    if not os.path.exists(os.path.join(data_dir, "train-images-idx3-ubyte.gz")):
        log(f"no MNIST files in {data_dir}: run `bp-tui data import DIR` (or download) first")
        return None
    bp_tui = shutil.which("bp-tui") or sys.executable
    bp_tui_command = [bp_tui] if bp_tui != sys.executable else [bp_tui, "-m", "bp_tui"]
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if name in env:
            log(f"warning: {name}={env[name]} is set and changes both sides")
    if no_bytecode_cache:
        bytecode = f"as the environment has it (PYTHONDONTWRITEBYTECODE={env.get('PYTHONDONTWRITEBYTECODE', '')!r})"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="bench-wall-pycache-")
        bytecode = f"cached in {env['PYTHONPYCACHEPREFIX']} (written by the warm-up)"
    return env, data_dir, bp_tui_command, bytecode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--iters", type=int, default=10000, help="iterations (10000)")
    parser.add_argument(
        "--book-1-thread", action="store_true", help="the book at 1 BLAS thread too"
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE and PYTHONPYCACHEPREFIX as they are",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)

    log = logger(args.json)
    if (setting := environment(args.no_bytecode_cache, log)) is None:
        return 1
    env, data_dir, bp_tui_command, bytecode = setting
    book = [sys.executable, os.path.join(HERE, "book.py"), data_dir, "--iters", str(args.iters)]
    contenders = {
        "bp-tui": (
            [*bp_tui_command, "train", "--dataset", "mnist", "--iters", str(args.iters)],
            env,
        ),
        "book": (book, env),
    }
    if args.book_1_thread:
        contenders["book 1 thread"] = (book, {**env, "OPENBLAS_NUM_THREADS": "1"})
    log(f"BLAS: {blas_kernel()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    log(f"data: {data_dir}; {args.rounds} rounds of {args.iters:,} iterations, alternated")
    log(f"bytecode: {bytecode}")
    log("warm-up (untimed): the book's pickle, the page cache")
    run([*book[:-1], "1"], env)
    run([*contenders["bp-tui"][0][:-1], "1"], env)
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for r in range(args.rounds):
        text = []
        for name, (command, run_env) in contenders.items():
            result = run(command, run_env)
            runs[name].append(result)
            text.append(
                f"{name} {result['seconds']:.2f} s (test_acc {result['test_acc']}, "
                f"others {result['others'] or 0:.2f} cores)"
            )
        log(f"round {r + 1}/{args.rounds}: {', '.join(text)}; load {os.getloadavg()[0]:.2f}")

    def medians(quiet: bool) -> dict | None:
        out = {}
        for name, results in runs.items():
            kept = [x["seconds"] for x in results if not quiet or (x["others"] or 0) < QUIET_CORES]
            if not kept:
                return None
            out[name] = statistics.median(kept)
        out["book / bp-tui"] = out["book"] / out["bp-tui"]
        if "book 1 thread" in out:
            out["book 1 thread / bp-tui"] = out["book 1 thread"] / out["bp-tui"]
        return out

    result = {
        "blas": blas_kernel(),
        "bytecode": bytecode,
        "load_average": os.getloadavg(),
        "iters": args.iters,
        "rounds": args.rounds,
        "median_seconds": medians(False),
        "quiet_median_seconds": medians(True),
        "runs": runs,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print()
    for label, med in (
        ("all runs", result["median_seconds"]),
        ("quiet runs", result["quiet_median_seconds"]),
    ):
        if med is None:
            print(f"{label}: none (other processes kept > {QUIET_CORES} cores busy in some)")
            continue
        parts = [f"{k} {v:.2f} s" for k, v in med.items() if "/" not in k]
        ratios = [f"{k} x{v:.2f}" for k, v in med.items() if "/" in k]
        print(f"{label}: {', '.join(parts)}; {', '.join(ratios)}")
    accs = {name: [x["test_acc"] for x in results] for name, results in runs.items()}
    print(f"final test accuracy: {accs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
