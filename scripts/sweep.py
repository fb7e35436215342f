"""The hostile sweep: every fault case (the tests marked `hostile`, each a real process: a
pty, a signal, a server and its client) run --rounds times, then a look for any bp-tui process
left behind. Prints how many cases hold in each round.

    python scripts/sweep.py            # three rounds
    python scripts/sweep.py --rounds 1 -k serve
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bp_tui_processes() -> dict[int, str]:
    """The processes of this user running bp-tui (not this script nor its pytest)."""
    found = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(w.decode(errors="replace") for w in words if w)
        if ("bp_tui" in line or "bp-tui" in line) and "sweep.py" not in line:
            found[int(entry.name)] = line
    return found


def one_round(extra: list[str]) -> tuple[int, list[str]]:
    """Runs the hostile cases once: (how many ran, the names of those that did not hold)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-m", "hostile", "-p", "no:cacheprovider"]
        command += ["-o", "addopts=", f"--junitxml={report}", *extra]
        subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
        if not report.exists():
            return 0, ["pytest did not run (see: pytest -m hostile)"]
        cases = ET.parse(report).getroot().iter("testcase")
        total, failed = 0, []
        for case in cases:
            if case.find("skipped") is not None:
                continue
            total += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
        return total, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="how many times (default 3)")
    parser.add_argument("-k", default=None, help="only the cases whose name matches (pytest -k)")
    args = parser.parse_args(argv)
    extra = ["-k", args.k] if args.k else []
    before = bp_tui_processes()
    all_held = True
    for number in range(1, args.rounds + 1):
        total, failed = one_round(extra)
        print(f"round {number}: {total - len(failed)} of {total} cases hold", flush=True)
        for name in failed:
            print(f"  does not hold: {name}")
        all_held = all_held and not failed and total > 0
    time.sleep(2)  # a process on its way out is given its watchdog's time
    left = {pid: line for pid, line in bp_tui_processes().items() if pid not in before}
    for pid, line in sorted(left.items()):
        print(f"left running: {pid} {line[:120]}")
    print(f"processes left behind: {len(left)}")
    return 0 if all_held and not left else 1


if __name__ == "__main__":
    sys.exit(main())
