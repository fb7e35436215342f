"""Speed of bp_tui's engine against a faithful copy of the book's chapter-5 code, in one process.

    python benchmarks/bench_speed.py [--dataset sample] [--iters 1000] [--rounds 3] [--quick] [--json]

1. Training: the book's train_neuralnet.py loop (float64 TwoLayerNet, one-hot labels, gradient then
   loss again, numpy's default BLAS threads) and bp_tui's Trainer.step() under the engine's BLAS
   setting, alternated for --rounds rounds of --iters iterations each on the same data. Medians of
   iterations per second and their ratio, over all runs and over quiet runs (other processes used
   under 0.1 core: load slows the book's two BLAS threads far more than the engine's one). The
   book at one BLAS thread is timed as context. Both loops leave out the per-epoch accuracy.
2. The gradient check on the first 3 training images of a 784-50-10 net: the book's per-element
   numerical_gradient loop (gradient_check.py: numerical, backprop, mean differences) against
   bp_tui.nn.gradient_check on the same float64 parameters.

A benchmark, never a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

from bp_tui.data import load_dataset
from bp_tui.engine import HyperParams, Trainer, blas
from bp_tui.nn import gradient_check

# The book's code lives in book.py (numpy only, also runnable as the book's script).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from book import TwoLayerNet, numerical_gradient, one_hot  # noqa: E402


def book_train(x_train, t_train, iters_num, batch_size=100, learning_rate=0.1):
    """train_neuralnet.py's loop; returns (seconds for iters_num iterations, last loss)."""
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    train_size = x_train.shape[0]
    train_loss_list = []
    start = time.perf_counter()
    for _ in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grad = network.gradient(x_batch, t_batch)

        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]

        loss = network.loss(x_batch, t_batch)
        train_loss_list.append(loss)
    return time.perf_counter() - start, train_loss_list[-1]


# ---- measurements -----------------------------------------------------------------------------


def engine_train(data, iters: int, threads: int) -> tuple[float, float]:
    """Trainer.step() iters times with `threads` BLAS threads; (seconds, last loss)."""
    trainer = Trainer(HyperParams(), data)
    with blas.limited(threads):
        start = time.perf_counter()
        for _ in range(iters):
            loss = trainer.step()
        return time.perf_counter() - start, loss


QUIET_CORES = 0.1  # a run is quiet when other processes used less than this


def cpu_busy_seconds() -> float | None:
    """CPU seconds every process on the machine has used so far (Linux), else None."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq = map(int, f.readline().split()[1:8])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def timed(run) -> tuple[float, float, float | None]:
    """run() -> (seconds, loss); returns (seconds, loss, cores other processes kept busy)."""
    busy, own = cpu_busy_seconds(), time.process_time()
    seconds, loss = run()
    if busy is None:
        return seconds, loss, None
    others = (cpu_busy_seconds() - busy) - (time.process_time() - own)
    return seconds, loss, max(others, 0.0) / seconds


def bench_training(data, iters: int, rounds: int, warmup: int, log) -> dict:
    x_book = data.x_train.astype(np.float32)  # load_mnist(normalize=True): float32 in [0, 1]
    t_book = one_hot(data.t_train)
    threads = blas.choose_threads(Trainer(HyperParams(), data))  # what Engine.run does
    log(f"engine BLAS threads: {threads} (chosen by bp_tui.engine.blas.choose_threads)")

    def book_1_thread():
        with blas.limited(1):
            return book_train(x_book, t_book, iters)

    contenders = {
        "book": lambda: book_train(x_book, t_book, iters),
        "engine": lambda: engine_train(data, iters, threads),
        # Context only: the book given the engine's single thread (and the dashboard's setting).
        "book_1_thread": book_1_thread,
    }
    if threads != 1:
        contenders["engine_1_thread"] = lambda: engine_train(data, iters, 1)
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    others: dict[str, list[float]] = {name: [] for name in contenders}  # cores, during each run
    np.random.seed(0)
    book_train(x_book, t_book, warmup)  # first calls: allocator, BLAS thread start-up
    engine_train(data, warmup, threads)
    for r in range(rounds):
        text = []
        for name, run in contenders.items():
            seconds, loss, busy = timed(run)
            runs[name].append(iters / seconds)
            others[name].append(busy or 0.0)
            text.append(f"{name} {iters / seconds:,.0f} (loss {loss:.3f}, others {busy or 0:.2f})")
        log(f"round {r + 1}/{rounds}, it/s: {', '.join(text)}")
    busiest = max(max(v) for v in others.values())
    if busiest >= QUIET_CORES:
        log(
            f"note: other processes used up to {busiest:.1f} cores during a run. Load slows the "
            "book's two BLAS threads far more than one thread: see the quiet runs."
        )

    def summary(quiet_only: bool) -> dict | None:
        med = {}
        for name, rates in runs.items():
            pairs = zip(rates, others[name], strict=True)
            kept = [rate for rate, busy in pairs if busy < QUIET_CORES or not quiet_only]
            if not kept:
                return None
            med[name] = statistics.median(kept)
        return {
            "book_iters_per_second": med["book"],
            "engine_iters_per_second": med["engine"],
            "ratio": med["engine"] / med["book"],
            "book_1_thread_iters_per_second": med["book_1_thread"],
            "engine_1_thread_iters_per_second": med.get("engine_1_thread", med["engine"]),
        }

    return {
        "iters_per_round": iters,
        "rounds": rounds,
        "engine_blas_threads": threads,
        **summary(quiet_only=False),
        "quiet": summary(quiet_only=True),
        "runs": runs,
        "other_processes_cores": others,
    }


def book_gradient_check(network, x, t, quick: int | None):
    """gradient_check.py: numerical and backprop gradients, then the mean differences.

    quick: time the loop on the first `quick` elements of W1 only (the book's own function on a
    view) and extrapolate per element; every element costs the same two forward passes.
    """
    loss_W = lambda W: network.loss(x, t)  # noqa: E731 - the book's spelling
    total = sum(p.size for p in network.params.values())
    start = time.perf_counter()
    if quick:
        rows = max(1, quick // network.params["W1"].shape[1])
        part = network.params["W1"][:rows]  # a view: the loop perturbs the net's own weights
        numerical_gradient(loss_W, part)
        seconds = (time.perf_counter() - start) / part.size * total
        return seconds, None
    grad_numerical = network.numerical_gradient(x, t)
    grad_backprop = network.gradient(x, t)
    for key in grad_numerical:
        np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
    return time.perf_counter() - start, grad_numerical


def bench_gradcheck(data, threads: int, quick: int | None, repeats: int, log) -> dict:
    np.random.seed(0)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    x, labels = data.x_train[:3].astype(np.float32), data.t_train[:3]
    params = {k: v.copy() for k, v in network.params.items()}
    book_seconds, book_grads = book_gradient_check(network, x, one_hot(labels), quick)
    note = f" (extrapolated from {quick:,} elements of W1)" if quick else ""
    log(f"gradient check, book loop: {book_seconds:.2f} s{note}")
    ours = []
    with blas.limited(threads):
        for _ in range(repeats):
            start = time.perf_counter()
            report = gradient_check(params, x, labels)
            ours.append(time.perf_counter() - start)
    seconds = statistics.median(ours)
    log(f"gradient check, bp_tui: {seconds:.3f} s (median of {repeats}), passed={report.passed}")
    result = {
        "book_seconds": book_seconds,
        "book_extrapolated_from_elements": quick,
        "bp_tui_seconds": seconds,
        "ratio": book_seconds / seconds,
        "bp_tui_passed": report.passed,
    }
    if book_grads is not None:  # the two numerical gradients should be the same numbers
        result["max_abs_difference_of_numerical_gradients"] = max(
            float(np.max(np.abs(book_grads[k] - report.numerical[k]))) for k in book_grads
        )
    return result


def machine() -> dict:
    blas_libs = [
        {k: info.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    env = {
        k: os.environ[k]
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")
        if k in os.environ
    }
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cores": blas.available_cores(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_libs,
        "thread_env": env,
        "load_average": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset", default="sample", help="sample (default), mnist, fashion-mnist"
    )
    parser.add_argument("--iters", type=int, default=1000, help="iterations per run (1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed iterations first (100)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="time the book's gradient loop on 2,000 of its 39,760 elements and extrapolate",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--gradcheck-only", action="store_true", help="only the gradient check, not the training"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="bp_tui's gradient checks, median taken (3)"
    )
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr if args.json else sys.stdout, flush=True)

    info = machine()
    log(
        f"{info['date']}  {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"numpy {info['numpy']}, BLAS {info['blas']}"
    )
    if info["load_average"] > 0.5:
        log(
            f"warning: load average {info['load_average']:.2f}: other work shares the cores, and "
            "the book's two BLAS threads slow down far more than one thread does"
        )
    if info["thread_env"]:
        log(f"warning: thread variables set, they change both sides: {info['thread_env']}")
    data = load_dataset(args.dataset)
    log(f"data: {data.size_label}; {args.rounds} rounds of {args.iters:,} iterations, alternated")
    if args.gradcheck_only:
        threads = blas.choose_threads(Trainer(HyperParams(), data))  # as bench_training's
        training = {"engine_blas_threads": threads, "quiet": None, "skipped": True}
    else:
        training = bench_training(data, args.iters, args.rounds, args.warmup, log)
    gradcheck = bench_gradcheck(
        data, training["engine_blas_threads"], 2000 if args.quick else None, args.repeats, log
    )
    result = {
        "machine": info,
        "dataset": args.dataset,
        "training": training,
        "gradcheck": gradcheck,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        t, g = training, gradcheck
        print()
        for label, summary in (("all runs", t), ("quiet runs only", t["quiet"])):
            if t.get("skipped"):
                break
            if summary is None:
                print(f"{label}: none for some contender (other processes were busy)")
                continue
            print(
                f"{label}: book {summary['book_iters_per_second']:,.0f} it/s, engine "
                f"{summary['engine_iters_per_second']:,.0f} it/s ({t['engine_blas_threads']} BLAS "
                f"thread(s)): x{summary['ratio']:.2f}; book at 1 BLAS thread "
                f"{summary['book_1_thread_iters_per_second']:,.0f} it/s"
            )
        extrapolated = " (extrapolated)" if g["book_extrapolated_from_elements"] else ""
        print(
            f"gradient check: book {g['book_seconds']:.2f} s{extrapolated}, bp_tui "
            f"{g['bp_tui_seconds']:.3f} s: x{g['ratio']:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
