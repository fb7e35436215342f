"""How long the dashboard takes to be gone, its engine too, after each way of asking it to quit:
a key, a signal, its terminal gone, a stopped engine. Real processes in a pseudo-terminal, as in
tests/test_lifecycle.py (which asserts that each ends, not how fast).

    python scripts/quit_times.py            # five rounds of every way
    python scripts/quit_times.py --rounds 2 -k stopped
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRAINING = ("--dataset", "sample", "--iters", "10000000")


def ways():
    from tests.test_faults_process import trained

    def key(keys: bytes):
        return lambda ui, engine: ui.press(keys)

    def send(sig: int):
        return lambda ui, engine: ui.process.send_signal(sig)

    def stopped_then_q(ui, engine):
        os.kill(engine, signal.SIGSTOP)
        ui.press(b"q")

    training = (TRAINING, True, trained())
    first_frame = (("--dataset", "sample", "--paused"), True, None)
    return {
        "q": (*training, key(b"q")),
        "ctrl-c key": (*training, key(b"\x03")),
        "SIGTERM": (*training, send(signal.SIGTERM)),
        "SIGINT": (*training, send(signal.SIGINT)),
        "terminal gone (SIGHUP)": (*training, lambda ui, engine: ui.hang_up()),
        "input ends (no SIGHUP)": (TRAINING, False, trained(), lambda ui, engine: ui.hang_up()),
        "q, engine SIGSTOPped": (*training, stopped_then_q),
        "terminal gone at first frame": (*first_frame, lambda ui, engine: ui.hang_up()),
        "input ends at first frame": (first_frame[0], False, None, lambda ui, engine: ui.hang_up()),
    }


def one(way, home: Path) -> float:
    from tests.helpers import wait_until
    from tests.test_lifecycle import Terminal, ours

    argv, controlling, ready, act = way
    os.environ["BP_TUI_HOME"] = str(home)
    ui = Terminal(*argv, controlling=controlling)
    try:
        if ready is not None:
            wait_until(ready)
            wait_until(lambda: len(ui.engines()) == 1)
        else:
            wait_until(lambda: b"\x1b[?1049h" in ui.output)
        engines = ui.engines()
        asked = time.monotonic()
        act(ui, engines[0] if engines else None)
        wait_until(lambda: not ours())  # the dashboard and its engine, as a zombie or not at all
        return time.monotonic() - asked
    finally:
        ui.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-k", default="", help="only the ways whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["BP_TUI_DATA_DIR"] = str(Path(folder) / "cache")
        os.environ["BP_TUI_CONFIG"] = str(Path(folder) / "config")
        for name, way in ways().items():
            if args.k not in name:
                continue
            times = [one(way, Path(folder) / f"{name}-{n}") for n in range(args.rounds)]
            print(
                f"{name:30} median {statistics.median(times):.2f} s, "
                f"max {max(times):.2f} s ({args.rounds} rounds)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
