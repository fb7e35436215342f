"""bp-tui serve: the dashboard in a real headless browser (Debian's chromium), driven by keys.

Skipped, saying why, where no browser or no Playwright is installed; .ci/run installs both."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from bp_tui.cli import build_parser
from tests.helpers import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_serve_listens_on_this_machine_only_unless_told():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert build_parser().parse_args(["serve", "--host", "0.0.0.0"]).host == "0.0.0.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def processes_of(home: str) -> list[int]:
    """The processes whose BP_TUI_HOME is `home`: the served dashboards and their engines."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if f"BP_TUI_HOME={home}".encode() in variables:
            found.append(int(entry))
    return found


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
def test_the_page_shows_the_dashboard_and_a_key_changes_the_learning_rate():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="no playwright (pip install playwright)"
    )
    port, home = free_port(), os.environ["BP_TUI_HOME"]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bp_tui",
            "serve",
            "--port",
            str(port),
            "--dataset",
            "sample",
            "--paused",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
        start_new_session=True,
    )
    frames: list[bytes] = []
    try:
        wait_until(lambda: accepts(port))
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # What the dashboard draws reaches the page as terminal output over a websocket.
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framereceived",
                    lambda data: frames.append(data if isinstance(data, bytes) else data.encode()),
                ),
            )
            page.goto(f"http://127.0.0.1:{port}")

            def shown(text: str):
                return lambda: (
                    page.wait_for_timeout(50) or text in b"".join(frames).decode("utf-8", "replace")
                )

            wait_until(shown("ready"))  # the header, once the engine has reported
            for title in ("bp-tui", "Loss", "Accuracy", "Hyperparameters", "lr 0.1"):
                wait_until(shown(title))  # frames come as they come: each text is waited for
            page.click(".textual-terminal")
            page.keyboard.type("+")
            wait_until(shown("lr 0.2"))
            assert len(processes_of(home)) >= 3  # the server, a dashboard and its engine
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    wait_until(lambda: not processes_of(home))  # no dashboard nor engine left behind
