"""`bp-tui check` of a file with all seven classes, beside `python -c "import numpy"`.

    python benchmarks/bench_check.py [--rounds 7]

Fresh processes in alternating rounds: the wall clock of `bp-tui check tests/learners/
book_style.py` (start, the child process, loading, the seven checks, the report) against the
time Python takes to start and import numpy, the floor any numpy program pays. The goal is the
check under 2 s. A benchmark, never a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "tests" / "learners" / "book_style.py"


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stdout[-300:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    check = [sys.executable, "-m", "bp_tui", "check", str(FILE)]
    numpy = [sys.executable, "-c", "import numpy"]
    times: dict[str, list[float]] = {"check": [], "numpy": []}
    wall(check)  # the first run warms the disk cache and writes .pyc files
    for _ in range(args.rounds):
        times["numpy"].append(wall(numpy))
        times["check"].append(wall(check))
    load = os.getloadavg()[0]
    for name, values in times.items():
        print(
            f"{name:6} median {statistics.median(values):.3f} s "
            f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} rounds)"
        )
    ratio = statistics.median(times["check"]) / statistics.median(times["numpy"])
    verdict = "under" if statistics.median(times["check"]) < 2 else "OVER"
    print(f"check / import numpy: {ratio:.1f}x; the check {verdict} 2 s; load average {load:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
