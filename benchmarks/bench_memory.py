"""Memory of `bp-tui train` over time, for several --eval-every: flat when the evaluations are
bounded (issue 18: --eval-every 1 grew 150-200 MB a second until it died).

    python benchmarks/bench_memory.py                          # MNIST, 60 s each, 1 / 10 / epoch
    python benchmarks/bench_memory.py --seconds 20 --dataset sample --every 1

Each run is a fresh process, sampled every --step seconds (resident memory, from /proc), then
stopped with SIGTERM as Ctrl-C would (a checkpoint and a summary); runs are recorded in a
temporary BP_TUI_HOME, so the user's run store is left alone.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def resident_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(every: str, seconds: float, step: float, dataset: str, home: str) -> list[float]:
    argv = [sys.executable, "-m", "bp_tui", "train", "--dataset", dataset, "--iters", "100000000"]
    if every != "epoch":
        argv += ["--eval-every", every]
    env = {**os.environ, "BP_TUI_HOME": home}
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    samples: list[float] = []
    start = time.monotonic()
    try:
        for n in range(1, int(seconds / step) + 1):
            time.sleep(max(start + n * step - time.monotonic(), 0))
            rss = resident_mb(process.pid)
            if rss is None or process.poll() is not None:
                break
            samples.append(rss)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    if process.returncode not in (0, 128 + signal.SIGTERM):
        print(f"  --eval-every {every}: exit {process.returncode}: {err.decode()[-300:]}")
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--step", type=float, default=5.0)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--every", nargs="*", default=["1", "10", "epoch"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        print(f"resident MB every {args.step:g} s over {args.seconds:g} s, {args.dataset}")
        for every in args.every:
            samples = measure(every, args.seconds, args.step, args.dataset, home)
            if not samples:
                print(f"--eval-every {every:>5}: no sample")
                continue
            row = " ".join(f"{s:6.0f}" for s in samples)
            print(
                f"--eval-every {every:>5}: {row}  (min {min(samples):.0f}, max "
                f"{max(samples):.0f}, last - first {samples[-1] - samples[0]:+.0f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
