"""Start-up of the dashboard, measured in one run (never a timed test): seconds from starting
`bp-tui --dataset sample` in a real terminal (a pty of the given size) to its first frame (the
header on screen) and to "running" in it (the engine started, the gradient check done, the
first steps taken), beside the floor `python -c "import textual.app"` in the same rounds.
On a loaded machine wall clocks swing; the CPU seconds the dashboard's own process spent
until its first frame (not its engine's) do not, and tell what an idle machine would see.

    python benchmarks/bench_startup.py [--rounds 5] [--sizes 120x40,200x60] [--json]

The script imports nothing of bp_tui: run it with PYTHONPATH=/path/to/another/checkout to
measure that checkout's start-up beside this one's in the same minutes.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

FIRST_FRAME = b"bp-tui"  # the header's first word: Textual writes whole frames
RUNNING = b"running"


def floor_seconds() -> float:
    """Seconds for a fresh Python to import Textual's App (what any Textual app pays)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (all its threads, not its children)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor_cpu_seconds() -> float:
    """CPU seconds (user + system) of `python -c "import textual.app"`."""
    before = os.times()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    after = os.times()
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def launch(size: tuple[int, int], timeout: float = 30.0) -> tuple[float, float, float]:
    """Seconds from exec to the first frame and to "running" of `bp-tui` in a pty of `size`,
    and the CPU seconds its process had spent at its first frame."""
    width, height = size
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the dashboard on a fresh terminal of this size
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        os.execvp(
            sys.executable,
            [sys.executable, "-m", "bp_tui", "--dataset", "sample", "--iters", "10000000"],
        )
    seen, first, running, cpu = b"", float("nan"), float("nan"), float("nan")
    while time.perf_counter() - start < timeout:
        ready, _, _ = select.select([fd], [], [], 0.005)
        if not ready:
            continue
        try:
            seen += os.read(fd, 65536)
        except OSError:
            break
        now = time.perf_counter() - start
        if first != first and FIRST_FRAME in seen:
            first, cpu = now, cpu_seconds(pid)
        if RUNNING in seen:
            running = now
            break
        seen = seen[-256:]  # the words sought are short; a frame can be split between reads
    os.write(fd, b"q")
    end = time.perf_counter() + 5
    while time.perf_counter() < end:  # drain until it has gone, so it never blocks writing
        ready, _, _ = select.select([fd], [], [], 0.05)
        try:
            if ready and not os.read(fd, 65536):
                break
        except OSError:
            break
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            break
    else:
        os.kill(pid, 9)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    os.close(fd)
    return first, running, cpu


def load_average() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", default="120x40,200x60")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    # The dashboard records every run: keep the benchmark's out of the user's run list.
    os.environ.setdefault("BP_TUI_HOME", tempfile.mkdtemp(prefix="bp-tui-bench-"))
    loads = [load_average()]
    floors: list[float] = []
    floor_cpus: list[float] = []
    cpus: dict[str, list[float]] = {f"{w}x{h}": [] for w, h in sizes}
    frames: dict[str, list[float]] = {f"{w}x{h}": [] for w, h in sizes}
    runnings: dict[str, list[float]] = {f"{w}x{h}": [] for w, h in sizes}
    launch(sizes[0])  # once unmeasured: the data set's cache and Python's bytecode written
    for _ in range(args.rounds):  # alternated, so a burst of load elsewhere hits all alike
        floors.append(floor_seconds())
        floor_cpus.append(floor_cpu_seconds())
        for width, height in sizes:
            first, running, cpu = launch((width, height))
            cpus[f"{width}x{height}"].append(cpu)
            frames[f"{width}x{height}"].append(first)
            runnings[f"{width}x{height}"].append(running)
        loads.append(load_average())
    result = {
        "floor_import_textual_app_seconds": statistics.median(floors),
        "floor_cpu_seconds": statistics.median(floor_cpus),
        "first_frame_seconds": {k: statistics.median(v) for k, v in frames.items()},
        "first_frame_cpu_seconds": {k: statistics.median(v) for k, v in cpus.items()},
        "running_seconds": {k: statistics.median(v) for k, v in runnings.items()},
        "first_frame_all": frames,
        "running_all": runnings,
        "load_average": [round(x, 2) for x in loads],
        "cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"medians of {args.rounds} rounds, load average {min(loads):.2f}-{max(loads):.2f}:")
    print(
        f"  floor: python -c 'import textual.app'  {result['floor_import_textual_app_seconds']:.2f} s"
        f" (CPU {result['floor_cpu_seconds']:.2f} s)"
    )
    for size in frames:
        print(
            f"  {size}: first frame {result['first_frame_seconds'][size]:.2f} s "
            f"({', '.join(f'{x:.2f}' for x in frames[size])}), running "
            f"{result['running_seconds'][size]:.2f} s "
            f"({', '.join(f'{x:.2f}' for x in runnings[size])}); CPU to first frame "
            f"{result['first_frame_cpu_seconds'][size]:.2f} s"
        )


if __name__ == "__main__":
    main()
