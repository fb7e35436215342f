"""bp-tui serve: the dashboard in a real headless browser (Debian's chromium), driven by keys.

Skipped, saying why, where no browser or no Playwright is installed; .ci/run installs both."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from bp_tui.cli import build_parser
from tests.helpers import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_serve_listens_on_this_machine_only_unless_told():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert build_parser().parse_args(["serve", "--host", "0.0.0.0"]).host == "0.0.0.0"


BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
def test_the_page_shows_the_dashboard_and_a_key_changes_the_learning_rate(served):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="no playwright (pip install playwright)"
    )
    server = served("--paused")
    frames: list[bytes] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        # Without the token printed in the URL: a page that says so, and no dashboard.
        refused = page.goto(server.base() + "/")
        assert refused.status == 403
        assert "needs its token" in page.inner_text("body")
        assert server.children() == []
        # What the dashboard draws reaches the page as terminal output over a websocket.
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived",
                lambda data: frames.append(data if isinstance(data, bytes) else data.encode()),
            ),
        )
        page.goto(server.url)

        def text() -> str:
            page.wait_for_timeout(50)
            return b"".join(frames).decode("utf-8", "replace")

        def shown(wanted: str):
            return lambda: wanted in text()

        wait_until(shown("ready"))  # the header, once the engine has reported
        for title in ("bp-tui", "Loss", "Accuracy", "Hyperparameters", "lr 0.1"):
            wait_until(shown(title))  # frames come as they come: each text is waited for
        page.click(".textual-terminal")
        page.keyboard.type("+")
        wait_until(shown("lr 0.2"))
        assert len(server.children()) >= 2  # a dashboard and its engine
        # The charts' mouse in the browser: twenty steps, a readout where the pointer rests
        # over the loss chart (a value beside "smoothed", where the legend has 0.95), the
        # wheel zooms to a range of iterations that the title gives.
        page.keyboard.type("n" * 20)
        wait_until(shown("20 / 10,000"))
        box = page.locator(".textual-terminal").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
        wait_until(lambda: re.search(r"smoothed \d\.\d{3}", text()))
        page.mouse.wheel(0, -200)
        wait_until(shown("· iterations "))
        # Reloaded without the token: the cookie the first page set lets it in.
        frames.clear()
        page.goto(server.base() + "/")
        wait_until(shown("ready"))
        browser.close()


@pytest.mark.hostile
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
def test_a_one_shot_screenshot_of_the_page_leaves_no_dashboard(served, tmp_path):
    server = served()  # training: the early close left a dashboard at 70% of a core
    shot = tmp_path / "shot.png"
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", *BROWSER_FLAGS, f"--screenshot={shot}", server.url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = []  # the page did start a dashboard, and the browser went while it ran
    wait_until(lambda: seen.extend(server.dashboards()) or seen or browser.poll() is not None)
    browser.wait(120)
    assert shot.exists() and seen
    wait_until(lambda: not server.children())


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
def test_the_mouse_draws_a_digit_in_the_browser_and_the_net_reads_it(served):
    """The Draw tab in the page: a stroke dragged with the browser's mouse lands on the pad and
    the engine's answer comes back ("It reads ...")."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="no playwright (pip install playwright)"
    )
    server = served("--paused")
    frames: list[bytes] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived",
                lambda data: frames.append(data if isinstance(data, bytes) else data.encode()),
            ),
        )
        page.goto(server.url)

        def shown(text: str):
            return lambda: (
                page.wait_for_timeout(50) or text in b"".join(frames).decode("utf-8", "replace")
            )

        wait_until(shown("ready"))
        page.click(".textual-terminal")
        for tab_text in ("Apple and orange", "Confusion", "Nothing drawn"):
            page.keyboard.type("t")  # Train -> Inspector -> Digits -> Draw, one at a time
            wait_until(shown(tab_text))
        # The pad is the first pane under the tabs, 28 cells wide and 14 tall: with any cell
        # of 7 to 30 pixels wide and 14 to 25 tall, these points lie on it.
        page.mouse.move(60, 110)
        page.mouse.down()
        page.mouse.move(190, 120, steps=8)
        page.mouse.move(90, 235, steps=8)
        page.mouse.up()
        wait_until(shown("It reads"))
        browser.close()
