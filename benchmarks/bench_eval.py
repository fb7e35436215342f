"""What the recipe's evaluations cost, inline and beside training, in one process.

    python benchmarks/bench_eval.py [--dataset mnist] [--rounds 5] [--steps 1200]

Alternating rounds of `--steps` training steps (one BLAS thread, as `bp-tui train` on two cores):
- train: steps only;
- inline: the steps with an evaluation (train + test sets) every 600 iterations, in the loop;
- beside: the same evaluations handed to the trainer's evaluation thread (evaluate_later), all
  taken by the round's end.
The evaluations fall mid-way between two (at 300, 900, ...): a round then ends with 300 steps
for the last one to hide behind, as the recipe's 16 first evaluations have 600 (its last one,
at the run's end, is waited for).
Also one evaluation alone, and its floor: the first layer's product over every image
(2 x N x 784 x hidden FLOP) at the rate the machine's BLAS reaches on that product.
A benchmark, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info

from bp_tui.data import load_dataset
from bp_tui.engine import HyperParams, Trainer, blas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="sample")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1200)
    args = parser.parse_args(argv)
    kernel = [
        f"{i['internal_api']} {i['version']} ({i.get('architecture')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(f"BLAS: {', '.join(kernel)}; data {args.dataset}", flush=True)
    data = load_dataset(args.dataset)
    trainer = Trainer(HyperParams(iters=100_000_000), data)
    every = 600

    def train() -> None:
        for _ in range(args.steps):
            trainer.step()

    def inline() -> None:
        for i in range(1, args.steps + 1):
            trainer.step()
            if i % every == every // 2:
                trainer.evaluate()

    def beside() -> None:
        for i in range(1, args.steps + 1):
            trainer.step()
            if i % every == every // 2:
                trainer.evaluate_later()
        trainer.take_evaluations(wait=True)

    def evaluation() -> None:
        trainer.evaluate()

    x = np.ascontiguousarray(trainer.x_train[:10_000])
    W1 = trainer.net.params["W1"]
    out = np.empty((len(x), W1.shape[1]), np.float32)

    def product() -> None:
        np.dot(x, W1, out=out)

    runs = {"train": train, "inline": inline, "beside": beside}
    times: dict[str, list[float]] = {k: [] for k in [*runs, "evaluation", "product"]}
    with blas.limited(1):
        train()  # warm-up
        for r in range(args.rounds):
            for name, run in {**runs, "evaluation": evaluation, "product": product}.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
            print(
                f"round {r + 1}: "
                + ", ".join(f"{k} {v[-1] * 1e3:.0f} ms" for k, v in times.items()),
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in times.items()}
    evaluations = (args.steps + every // 2) // every
    rows = len(trainer.x_train) + len(trainer.x_test)
    flop = 2 * rows * W1.shape[0] * W1.shape[1]
    rate = 2 * x.shape[0] * W1.shape[0] * W1.shape[1] / med["product"]
    print()
    print(f"{args.steps} steps alone:          {med['train'] * 1e3:7.0f} ms")
    print(
        f"with {evaluations} evaluations inline: {med['inline'] * 1e3:7.0f} ms "
        f"(+{(med['inline'] - med['train']) / evaluations * 1e3:.0f} ms each)"
    )
    print(
        f"with {evaluations} beside training: {med['beside'] * 1e3:7.0f} ms "
        f"(+{(med['beside'] - med['train']) / evaluations * 1e3:.0f} ms each)"
    )
    print(
        f"one evaluation ({rows:,} images): {med['evaluation'] * 1e3:.0f} ms; its first layer's "
        f"{flop / 1e9:.1f} GFLOP at the {rate / 1e9:.0f} GFLOP/s this BLAS reaches on that "
        f"product: {flop / rate * 1e3:.0f} ms at least"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
