"""One training step of the book's net: bp_tui's engine against a jit-compiled JAX step.

    python benchmarks/bench_step.py [--dataset mnist] [--steps 2000] [--rounds 7] [--book] [--json]
        [--hidden 100,100,100,100 --batch-size 128 --lr 0.01] [--before DIR]

The step: 784-50-10 ReLU (or the widths of --hidden: 100,100,100,100 is the book's ch06 net),
batch 100 (--batch-size) drawn (with replacement) inside the step, softmax cross-entropy, SGD
lr 0.1 (--lr), float32. Contenders, each in a process of its own that waits for the next round
on a pipe, so the rounds alternate and a burst of load elsewhere hits every one:

- engine: `Trainer(HyperParams()).step()` with one BLAS thread (what `bp-tui train` uses on two
  cores); it returns the loss as a Python float every step.
- engine before (`--before DIR`): the same step of another checkout of bp-tui (DIR holds its
  bp_tui package, e.g. `git worktree add /tmp/before REV`), two-layer nets only: the same step
  of the code before a change, in the same run.
- floor: every matrix product of the engine's step alone (each layer's forward x.W, backward
  x.T.dout and, but for the first layer, dout.W.T), in the engine's process on the engine's
  one BLAS thread: what a step of this net costs at least with this BLAS, were all the rest
  (the batch, the biases, ReLU, softmax, the update, Python) free; and the step's batch (drawn
  and gathered) and SGD update alone, on a scratch trainer.
- jax: `jax.jit` of the whole step (gather, forward, `jax.grad`, update), parameters donated,
  at XLA's default threading; `jax (1 thread)`: XLA_FLAGS asks for one thread. Each is timed
  two ways: the loss read back every step (as the engine does) and the losses left on the device
  until the round's end (JAX's best case: dispatch overlaps compute). The best JAX figure is the
  one the engine is compared with. Each contender's cores kept busy (CPU time of all its threads
  over the wall time) are measured too: JAX's dispatch runs beside its computation.
- book (`--book`): the book's `train_neuralnet.py` step (float64, numpy's default BLAS threads),
  as context; its two spinning BLAS threads slow the others, so it is left out by default.

JAX is optional (`pip install -e .[bench]`); without it the line says so and the rest runs.
A benchmark, never a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JAX_ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


# ---- workers (each in its own process) ---------------------------------------------------------


def load(dataset: str):
    from bp_tui.data import load_dataset

    return load_dataset(dataset)


def engine_worker(data, shape: dict, before: str | None = None):
    if before:  # the other checkout's bp_tui, imported in place of this one
        sys.path.insert(0, os.path.abspath(before))
        for name in [m for m in sys.modules if m == "bp_tui" or m.startswith("bp_tui.")]:
            del sys.modules[name]
    from bp_tui.engine import HyperParams, Trainer, blas

    hidden = shape["hidden"] if not before else shape["hidden"][0]
    hp = HyperParams(
        iters=100_000_000, hidden=hidden, batch_size=shape["batch_size"], lr=shape["lr"]
    )
    trainer = Trainer(hp, data)
    limit = blas.limited(1)
    limit.__enter__()  # for the process's life

    def run(steps: int) -> tuple[float, float]:
        start = time.perf_counter()
        for _ in range(steps):
            loss = trainer.step()
        return time.perf_counter() - start, loss

    if before:
        return {"engine before": run}
    # The floor: the step's products alone, into buffers made once.
    import numpy as np

    x = trainer.x_train[: shape["batch_size"]].copy()
    weights = [p for p in trainer.net.params.values() if p.ndim == 2]
    outs = [np.empty((len(x), W.shape[1]), np.float32) for W in weights]
    grads = [np.empty_like(W) for W in weights]
    douts = [np.empty((len(x), W.shape[0]), np.float32) for W in weights]

    def floor(steps: int) -> tuple[float, float]:
        start = time.perf_counter()
        for _ in range(steps):
            inputs = [x, *outs[:-1]]
            for inp, W, out in zip(inputs, weights, outs, strict=True):
                np.dot(inp, W, out=out)
            for i in range(len(weights) - 1, -1, -1):
                np.dot(inputs[i].T, outs[i], out=grads[i])
                if i:
                    np.dot(outs[i], weights[i].T, out=douts[i])
        return time.perf_counter() - start, 0.0

    # Two parts of the step besides the products, each alone: drawing and gathering the batch
    # (random rows of the images, as floats), and the SGD update of every parameter.
    scratch = Trainer(hp, data)
    _, fresh = scratch.net.loss_and_gradient(x, trainer.t_train[: len(x)], reuse=True)

    def batch_and_update(steps: int) -> tuple[float, float]:
        start = time.perf_counter()
        for _ in range(steps):
            scratch._gather(scratch.rng.integers(0, len(scratch.t_train), size=len(x)))
            scratch._update(fresh)
        return time.perf_counter() - start, 0.0

    return {
        "engine": run,
        "floor: the step's products alone": floor,
        "the step's batch and update alone": batch_and_update,
    }


def book_worker(data):
    import numpy as np

    sys.path.insert(0, HERE)
    from book import TwoLayerNet, one_hot

    x_train, t_train = data.x_train.astype(np.float32), one_hot(data.t_train)
    np.random.seed(0)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    train_size = x_train.shape[0]

    def run(steps: int) -> tuple[float, float]:
        start = time.perf_counter()
        for _ in range(steps):
            batch_mask = np.random.choice(train_size, 100)
            x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
            grad = network.gradient(x_batch, t_batch)
            for key in ("W1", "b1", "W2", "b2"):
                network.params[key] -= 0.1 * grad[key]
            loss = network.loss(x_batch, t_batch)
        return time.perf_counter() - start, float(loss)

    return {"book": run}


def jax_worker(data, name: str, shape: dict):
    import jax
    import jax.numpy as jnp
    import numpy as np

    x_train = jax.device_put(np.ascontiguousarray(data.x_train, dtype=np.float32))
    t_train = jax.device_put(np.asarray(data.t_train, dtype=np.int32))
    n = x_train.shape[0]
    rng = np.random.default_rng(0)
    sizes = (784, *shape["hidden"], 10)
    batch, lr = shape["batch_size"], shape["lr"]
    params = [
        (
            jnp.asarray(0.01 * rng.standard_normal((a, b)), dtype=jnp.float32),
            jnp.zeros(b, jnp.float32),
        )
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]

    def loss_fn(p, x, t):
        for W, b in p[:-1]:
            x = jnp.maximum(x @ W + b, 0.0)
        W, b = p[-1]
        y = jax.nn.softmax(x @ W + b)
        return -jnp.mean(jnp.log(y[jnp.arange(x.shape[0]), t] + 1e-7))

    def step(p, key, x_all, t_all):
        key, sub = jax.random.split(key)
        idx = jax.random.randint(sub, (batch,), 0, n)
        loss, grads = jax.value_and_grad(loss_fn)(p, x_all[idx], t_all[idx])
        return jax.tree.map(lambda a, g: a - lr * g, p, grads), key, loss

    step = jax.jit(step, donate_argnums=(0, 1))
    state = {"p": params, "key": jax.random.PRNGKey(0)}

    def run_sync(steps: int) -> tuple[float, float]:
        p, key = state["p"], state["key"]
        start = time.perf_counter()
        for _ in range(steps):
            p, key, loss = step(p, key, x_train, t_train)
            loss = float(loss)  # read back each step, as the engine returns it
        state["p"], state["key"] = p, key
        return time.perf_counter() - start, loss

    def run_async(steps: int) -> tuple[float, float]:
        p, key = state["p"], state["key"]
        losses = []
        start = time.perf_counter()
        for _ in range(steps):
            p, key, loss = step(p, key, x_train, t_train)
            losses.append(loss)
        last = float(jax.block_until_ready(losses[-1]))
        state["p"], state["key"] = p, key
        return time.perf_counter() - start, last

    return {f"{name} (loss each step)": run_sync, f"{name} (losses at the end)": run_async}


def worker(kind: str, dataset: str, shape: dict, before: str | None) -> int:
    """Answers each line `steps` on stdin with one JSON line {contender: [seconds, loss, cores]}:
    cores is the process's CPU time (all its threads) over the wall time of that run."""
    data = load(dataset)
    if kind == "engine":
        runs = engine_worker(data, shape)
    elif kind == "before":
        runs = engine_worker(data, shape, before)
    elif kind == "book":
        runs = book_worker(data)
    else:
        runs = jax_worker(data, kind, shape)
    for run in runs.values():  # warm-up: compilation, first calls, allocator
        run(200)
    print(json.dumps({"ready": list(runs)}), flush=True)
    for line in sys.stdin:
        steps = int(line)
        print(json.dumps({name: timed(run, steps) for name, run in runs.items()}), flush=True)
    return 0


def timed(run, steps: int) -> tuple[float, float, float]:
    cpu = time.process_time()
    seconds, loss = run(steps)
    return seconds, loss, (time.process_time() - cpu) / seconds


# ---- the driver --------------------------------------------------------------------------------


def start(kind: str, args, env: dict | None = None) -> subprocess.Popen:
    options = ["--hidden", args.hidden, "--batch-size", str(args.batch_size), "--lr", str(args.lr)]
    if args.before:
        options += ["--before", args.before]
    return subprocess.Popen(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            kind,
            "--dataset",
            args.dataset,
            *options,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def blas_kernel() -> str:
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="sample", help="sample (default), mnist")
    parser.add_argument("--steps", type=int, default=2000, help="steps per round (2000)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (7)")
    parser.add_argument(
        "--book",
        action="store_true",
        help="the book's step too (its two BLAS threads load the machine: bench_speed.py has it)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--hidden", default="50", help="hidden widths, a comma list (50)")
    parser.add_argument("--batch-size", type=int, default=100, help="batch size (100)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD's learning rate (0.1)")
    parser.add_argument("--before", help="another checkout of bp-tui: its engine step too")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shape = {
        "hidden": tuple(int(w) for w in args.hidden.split(",")),
        "batch_size": args.batch_size,
        "lr": args.lr,
    }
    if args.worker:
        return worker(args.worker, args.dataset, shape, args.before)
    if args.before and len(shape["hidden"]) != 1:
        parser.error("--before compares two-layer nets only (the code before knew no depth)")

    def log(text: str) -> None:
        print(text, file=sys.stderr if args.json else sys.stdout, flush=True)

    import numpy as np

    log(f"numpy {np.__version__}, BLAS: {blas_kernel()}; load average {os.getloadavg()[0]:.2f}")
    result_load = [os.getloadavg()[0]]
    log(f"net 784-{args.hidden.replace(',', '-')}-10, batch {args.batch_size}, SGD lr {args.lr:g}")
    workers = {"engine": start("engine", args)}
    if args.before:
        workers["before"] = start("before", args)
    if importlib.util.find_spec("jax") is None:
        log("jax: not installed, skipped (pip install -e '.[bench]' or pip install jax)")
    else:
        workers["jax"] = start("jax", args)
        workers["jax 1 thread"] = start("jax 1 thread", args, {"XLA_FLAGS": JAX_ONE_THREAD_FLAGS})
    if args.book:
        workers["book"] = start("book", args)
    for kind, proc in workers.items():
        line = proc.stdout.readline()
        if not line:
            log(f"{kind}: the worker failed to start")
            for other in workers.values():
                other.kill()
            return 1
    rates: dict[str, list[float]] = {}
    busy: dict[str, list[float]] = {}  # cores each kept busy
    for r in range(args.rounds):
        text = []
        for proc in workers.values():  # one at a time: the others wait on their pipes
            proc.stdin.write(f"{args.steps}\n")
            proc.stdin.flush()
            for name, (seconds, _loss, cores) in json.loads(proc.stdout.readline()).items():
                rates.setdefault(name, []).append(args.steps / seconds)
                busy.setdefault(name, []).append(cores)
                text.append(f"{name} {args.steps / seconds:,.0f}")
        result_load.append(os.getloadavg()[0])
        log(f"round {r + 1}/{args.rounds}, it/s: {', '.join(text)}; load {result_load[-1]:.2f}")
    for proc in workers.values():
        proc.stdin.close()
        proc.wait()
    med = {name: statistics.median(v) for name, v in rates.items()}
    best_jax = (
        max((v, k) for k, v in med.items() if k.startswith("jax")) if "jax" in workers else None
    )
    result = {
        "blas": blas_kernel(),
        "steps": args.steps,
        "rounds": args.rounds,
        "load_average": [min(result_load), max(result_load)],
        "median_it_s": med,
        "median_cores_busy": {name: statistics.median(v) for name, v in busy.items()},
    }
    if best_jax:
        result["best_jax"] = best_jax[1]
        result["engine_over_best_jax"] = med["engine"] / best_jax[0]
        # Steps per second of CPU: JAX's dispatch runs beside its computation on a second core.
        per_core = {k: v / result["median_cores_busy"][k] for k, v in med.items()}
        best_per_core = max(v for k, v in per_core.items() if k.startswith("jax"))
        result["engine_over_best_jax_per_core"] = per_core["engine"] / best_per_core
    if "book" in med:
        result["engine_over_book"] = med["engine"] / med["book"]
    if "engine before" in med:
        result["engine_over_before"] = med["engine"] / med["engine before"]
    result["net"] = f"784-{args.hidden.replace(',', '-')}-10"
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print()
    for name, value in med.items():
        cores = result["median_cores_busy"][name]
        print(f"{name:34} {value:7,.0f} it/s  {1e6 / value:6.0f} us/step  {cores:4.2f} cores busy")
    if best_jax:
        print(f"engine / best JAX ({best_jax[1]}): x{result['engine_over_best_jax']:.2f}")
        print(
            "engine / best JAX in steps per CPU-second (all threads): "
            f"x{result['engine_over_best_jax_per_core']:.2f}"
        )
    if "book" in med:
        print(f"engine / book: x{result['engine_over_book']:.2f}")
    if "engine before" in med:
        print(f"engine / engine before: x{result['engine_over_before']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
