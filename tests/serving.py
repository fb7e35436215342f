"""A real `bp-tui serve` process for tests, and what a test looks at: its log, its children."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import WAIT_SECONDS, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def processes_of(home: str) -> list[int]:
    """The processes whose BP_TUI_HOME is `home`: a server, its dashboards and their engines."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if f"BP_TUI_HOME={home}".encode() in variables:
            found.append(int(entry))
    return found


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


PYTHON = os.path.realpath(sys.executable)


def is_python(pid: int) -> bool:
    """Not a browser the test started (it has the test's environment too)."""
    try:
        return os.readlink(f"/proc/{pid}/exe") == PYTHON
    except OSError:
        return False


class Served:
    """`bp-tui serve --dataset sample ARGS` on a free port, its stderr in a file."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.port = free_port()
        self.home = os.environ["BP_TUI_HOME"]
        self.log_path = folder / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "bp_tui", "serve", "--port", str(self.port)]
        command += ["--dataset", "sample", *args]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=dict(os.environ),
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> Served:
        def up() -> bool:
            return "serving the dashboard at" in self.log() and accepts(self.port)

        wait_until(lambda: up() or self.process.poll() is not None)
        assert self.process.poll() is None, self.log()
        return self

    @property
    def url(self) -> str:
        """The one address the server printed (with its token)."""
        return re.search(r"serving the dashboard at (\S+)", self.log()).group(1)

    @property
    def token(self) -> str | None:
        found = re.search(r"token=([^\s&]+)", self.url)
        return found.group(1) if found else None

    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def children(self) -> list[int]:
        """The live processes it started: dashboards, engines and their helpers."""
        pids = processes_of(self.home)
        return [
            pid for pid in pids if pid != self.process.pid and is_python(pid) and not is_zombie(pid)
        ]

    def dashboards(self) -> list[int]:
        found = []
        for pid in self.children():
            try:
                words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"bp_tui" in words and b"serve" not in words:
                found.append(pid)
        return found

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(WAIT_SECONDS)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def eventually(condition, timeout: float = WAIT_SECONDS) -> None:
    """wait_until inside a test's event loop: the loop goes on (a websocket is read) meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting"
        await asyncio.sleep(0.02)


async def until_true(check, timeout: float = WAIT_SECONDS) -> None:
    """eventually() for a check that must await (a request)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting"
        await asyncio.sleep(0.05)


class Page:
    """A websocket client that reads like the browser's page: every frame kept."""

    def __init__(self, websocket) -> None:
        self.websocket = websocket
        self.frames: list[bytes] = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.websocket:
            data = message.data
            self.frames.append(data if isinstance(data, bytes) else str(data).encode())

    def text(self) -> str:
        return b"".join(self.frames).decode("utf-8", "replace")

    def reported(self) -> bool:
        """The dashboard's header shows its engine's first word (paused runs start ready)."""
        text = self.text()
        return any(state in text for state in ("ready", "running", "finished"))

    async def send(self, text: str) -> None:
        await self.websocket.send_str(text)

    async def close(self) -> None:
        await self.websocket.close()
        await self.reader


async def drop_after(port: int, path: str, until) -> None:
    """A page that goes as a killed browser's does: the websocket opened, then the connection
    cut (no close frame) once `until(bytes so far)` holds."""
    import base64

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 101"), answer
    seen = b""
    deadline = time.monotonic() + WAIT_SECONDS
    while not until(seen):
        assert time.monotonic() < deadline, "timed out waiting for the page's output"
        try:
            seen += await asyncio.wait_for(reader.read(65536), 0.1)
        except asyncio.TimeoutError:
            pass
    writer.transport.abort()
