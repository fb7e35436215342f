"""What one `bp-tui serve` session costs while it trains: memory and CPU of its dashboard and
engine (and their helper), measured on a real server with websocket clients like the page's.

    python benchmarks/bench_serve.py --sessions 2 --seconds 10 --dataset mnist

Memory is each process's PSS (shared pages split among their users), CPU the utime+stime
that each session's processes used over the window, in cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stat_of(pid: int) -> tuple[int, float] | None:
    """(process group, CPU seconds so far), or None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / TICKS


def pss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    return int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1)) / 1024


def groups_under(server: int) -> dict[int, list[int]]:
    """The sessions' process groups (one a dashboard) and their live processes."""
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = stat_of(int(entry.name))
        if stat is None:
            continue
        group, _ = stat
        if group != server and Path(f"/proc/{group}").exists():
            try:
                parent = int(Path(f"/proc/{group}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            if parent == server:
                found.setdefault(group, []).append(int(entry.name))
    return found


async def measure(args: argparse.Namespace) -> None:
    port, token = free_port(), "bench"
    log = tempfile.NamedTemporaryFile(prefix="bench-serve-", suffix=".log", delete=False)
    command = [sys.executable, "-m", "bp_tui", "serve", "--port", str(port), "--token", token]
    command += ["--dataset", args.dataset, "--iters", "100000000"]
    command += ["--max-sessions", str(args.sessions)]
    server = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    try:
        while "serving the dashboard" not in Path(log.name).read_text():
            assert server.poll() is None, Path(log.name).read_text()
            await asyncio.sleep(0.1)
        async with aiohttp.ClientSession() as client:
            url = f"ws://127.0.0.1:{port}/ws?width=120&height=40&token={token}"
            pages = [await client.ws_connect(url) for _ in range(args.sessions)]
            shown = [b""] * len(pages)

            async def read(number: int) -> None:
                async for message in pages[number]:
                    if isinstance(message.data, bytes):
                        shown[number] = (shown[number] + message.data)[-200_000:]

            readers = [asyncio.ensure_future(read(n)) for n in range(len(pages))]
            for page in pages:
                await page.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
            while not all(b"running" in text for text in shown):
                await asyncio.sleep(0.1)
            await asyncio.sleep(args.warmup)
            groups = groups_under(server.pid)
            before = {pid: stat_of(pid) for pids in groups.values() for pid in pids}
            start = time.monotonic()
            await asyncio.sleep(args.seconds)
            elapsed = time.monotonic() - start
            print(
                f"{len(groups)} sessions training ({args.dataset}), {elapsed:.1f} s window, "
                f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores"
            )
            for number, (group, pids) in enumerate(sorted(groups.items()), 1):
                parts = []
                total_mb = total_cpu = 0.0
                for pid in pids:
                    now, then = stat_of(pid), before.get(pid)
                    cpu = (now[1] - then[1]) / elapsed if now and then else 0.0
                    mb = pss_mb(pid)
                    words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    role = (
                        "dashboard"
                        if pid == group
                        else "engine"
                        if any(b"spawn_main" in w for w in words)
                        and b"resource_tracker" not in b" ".join(words)
                        else "helper"
                    )
                    parts.append(f"{role} {mb:.0f} MB {cpu:.2f} cores")
                    total_mb += mb
                    total_cpu += cpu
                print(
                    f"session {number}: {total_mb:.0f} MB, {total_cpu:.2f} cores  "
                    f"({'; '.join(parts)})"
                )
            for page in pages:
                await page.close()
            for reader in readers:
                await reader
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        os.unlink(log.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="the measuring window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of training first")
    parser.add_argument("--dataset", default="sample")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
