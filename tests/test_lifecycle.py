"""The dashboard process's life and death, for real: a pseudo-terminal, keys, signals, a killed
or stopped engine, a terminal that goes away, Ctrl-Z, no terminal at all, a latin-1 locale.

Every case waits for conditions (the process gone, its engine gone, a line drawn); how fast the
exits are is measured by scripts/quit_times.py, not asserted here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bp_tui.engine.runs import RunStore, read_metrics
from tests import test_faults_process as faults
from tests.helpers import wait_until
from tests.test_faults_process import alive, children, cmdline, only_run, trained

ROOT = Path(__file__).resolve().parent.parent
TRAINING = ("--dataset", "sample", "--iters", "10000000")

pytestmark = pytest.mark.hostile


class Terminal(faults.Terminal):
    """bp-tui in a pseudo-terminal of 120x40 (its controlling terminal unless told otherwise),
    what it draws kept as it comes; keys pressed, the terminal hung up."""

    def __init__(self, *argv: str, controlling: bool = True, env: dict | None = None) -> None:
        super().__init__(*argv, controlling=controlling, env=env)

    def _read(self) -> None:
        try:
            super()._read()
        except TypeError:  # hung up: no terminal to read any more
            pass

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def hang_up(self) -> None:
        """The terminal goes away (its window closed, tmux kill-server)."""
        master, self.master = self.master, None
        os.close(master)

    def engines(self) -> list[int]:
        return [p for p in children(self.process.pid) if "spawn_main" in cmdline(p)]

    def gone(self) -> bool:
        return self.process.poll() is not None

    def close(self) -> None:
        for pid in ours():  # a failed test leaves nothing behind, not even an orphan
            os.kill(pid, signal.SIGKILL)
        self.process.kill()
        self.process.wait()
        if self.master is not None:
            self.hang_up()
        self.reader.join(timeout=10)


@pytest.fixture
def terminals():
    started: list[Terminal] = []

    def start(*argv: str, **options) -> Terminal:
        started.append(Terminal(*argv, **options))
        return started[-1]

    yield start
    for terminal in started:
        terminal.close()


def ours() -> list[int]:
    """Every process this test started, however far it got (they inherit its BP_TUI_HOME, and
    an orphan is no one's child any more)."""
    mark = f"BP_TUI_HOME={os.environ['BP_TUI_HOME']}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0") and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def engine_of(ui: Terminal) -> int:
    wait_until(lambda: len(ui.engines()) == 1)
    return ui.engines()[0]


# Ctrl-C while Python itself starts (its site module, before any line of bp-tui runs) is Python's
# own fatal error and traceback: nothing of bp-tui's to catch, and nothing left running.
PYTHON_STARTING = "Fatal Python error: init_import_site"


def ends_cleanly(ui: Terminal, engine: int | None, before_python: bool = False) -> None:
    """The dashboard and its engine are gone, and nothing it printed is a traceback (but
    Python's own, if before_python allows a Ctrl-C that came while Python started)."""
    wait_until(ui.gone)
    if engine is not None:
        wait_until(lambda: not alive(engine))
    wait_until(lambda: not ours())
    ui.reader.join(timeout=60)
    text = ui.text()
    if before_python and PYTHON_STARTING in text:
        return
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text[-2000:]


def recorded_as_stopped() -> None:
    run = only_run()
    assert run.status == "stopped" and run.iterations > 0


# ---- ways to quit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "way",
    ["ctrl-c key", "SIGINT", "input ends (no SIGHUP)", "terminal gone (SIGHUP)"],
)
def test_every_way_to_quit_ends_the_dashboard_and_its_engine(terminals, way):
    ui = terminals(*TRAINING, controlling=way != "input ends (no SIGHUP)")
    wait_until(trained())
    engine = engine_of(ui)
    if way == "ctrl-c key":
        ui.press(b"\x03")  # the app's terminal is raw: Ctrl-C is a key, and quits
    elif way == "SIGINT":
        ui.process.send_signal(signal.SIGINT)
    else:
        ui.hang_up()
    ends_cleanly(ui, engine)
    recorded_as_stopped()


@pytest.mark.parametrize("moment", ["at once", "first frame"])
def test_a_terminal_gone_during_start_up_ends_the_dashboard(terminals, moment):
    """tmux kill-server in the first second of `bp-tui --paused` left it waiting for ever in
    Textual's shutdown; a terminal that sends no SIGHUP only ends the input stream."""
    for controlling in (True, False):
        ui = terminals("--dataset", "sample", "--paused", controlling=controlling)
        if moment == "first frame":
            wait_until(lambda ui=ui: b"\x1b[?1049h" in ui.output)
        ui.hang_up()
        wait_until(ui.gone)
        wait_until(lambda: not ours())


@pytest.mark.parametrize("delays", [(0.1,), (1.2,), (0.1, 1.2), (1.2, 1.3, 1.4)])
def test_ctrl_c_during_start_up_ends_everything(terminals, delays):
    """Ctrl-C pressed 0.1 s and 1.2 s after Enter (Python still starting, the app mounting)."""
    ui = terminals(*TRAINING)
    started = time.monotonic()
    for delay in delays:  # the moments are the input here, not something asserted
        time.sleep(max(0.0, started + delay - time.monotonic()))
        if ui.gone():
            break
        ui.press(b"\x03")
    ends_cleanly(ui, None, before_python=True)


def test_ctrl_c_while_quitting_changes_nothing(terminals):
    ui = terminals(*TRAINING)
    wait_until(trained())
    engine = engine_of(ui)
    ui.press(b"q")
    for _ in range(6):
        time.sleep(0.1)
        if ui.gone():
            break
        ui.press(b"\x03")
    ends_cleanly(ui, engine)
    assert ui.process.returncode == 0
    recorded_as_stopped()


def test_q_while_the_engine_is_stopped_ends_both(terminals):
    """A SIGSTOPped engine was waited for for ever (multiprocessing's exit joins it); Ctrl-C
    then printed KeyboardInterrupt from multiprocessing's poll."""
    ui = terminals(*TRAINING)
    wait_until(trained())
    engine = engine_of(ui)
    os.kill(engine, signal.SIGSTOP)
    wait_until(lambda: Path(f"/proc/{engine}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T")
    ui.press(b"q")
    ends_cleanly(ui, engine)
    assert ui.process.returncode == 0
    recorded_as_stopped()  # woken to hear the Stop, it recorded its run


WATCHED = textwrap.dedent(
    """
    import subprocess, sys, threading
    from bp_tui.ui.lifecycle import Watchdog

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(child.pid, flush=True)
    Watchdog().arm(7)
    threading.Event().wait()  # a shutdown that never ends
    """
)


def test_the_watchdog_ends_a_process_whose_quit_hangs_and_its_children():
    process = subprocess.Popen(
        [sys.executable, "-c", WATCHED],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = int(process.stdout.readline())
    try:
        _, err = process.communicate(timeout=60)
        wait_until(lambda: not alive(child))
    finally:
        process.kill()
        if alive(child):
            os.kill(child, signal.SIGKILL)
    assert process.returncode == 7
    assert err == "bp-tui: the dashboard did not close in time: ended it and its engine\n"


def test_a_browser_pages_dashboard_ends_when_its_input_pipe_closes():
    """Under bp-tui serve each page's dashboard reads its keys from a pipe (Textual's web
    driver): a server gone (the pipe closed) used to leave it running for ever."""
    dashboard = subprocess.Popen(
        [sys.executable, "-m", "bp_tui", *TRAINING],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"},
    )
    drawn = bytearray()
    reader = threading.Thread(target=lambda: drawn.extend(dashboard.stdout.read()), daemon=True)
    reader.start()
    try:
        wait_until(trained())
        wait_until(lambda: len(children(dashboard.pid)) >= 1)
        dashboard.stdin.close()
        wait_until(lambda: dashboard.poll() is not None)
        wait_until(lambda: not ours())
    finally:
        for pid in ours():
            os.kill(pid, signal.SIGKILL)
        dashboard.kill()
        dashboard.wait()
    assert b"Traceback" not in dashboard.stderr.read()
    recorded_as_stopped()


# ---- the engine killed ----------------------------------------------------------------------


async def test_a_killed_engine_is_said_the_run_kept_and_r_starts_a_new_one():
    import multiprocessing.resource_tracker

    from bp_tui.engine import HyperParams
    from bp_tui.engine.events import RunState
    from bp_tui.engine.remote import ProcessLink
    from bp_tui.ui.app import BpTuiApp
    from tests.helpers import until
    from tests.test_dashboard import text_of

    multiprocessing.resource_tracker.ensure_running()  # as bp-tui does before App.run
    links = []

    def factory():
        links.append(ProcessLink(HyperParams(iters=10_000_000), "sample", start=False))
        return links[-1]

    app = BpTuiApp(factory, HyperParams(iters=10_000_000), start=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.run_state == RunState.RUNNING and app.iteration > 0)
            await until(pilot, trained())
            os.kill(links[0].pid, signal.SIGKILL)
            await until(pilot, lambda: app.run_state == RunState.FAILED)
            await until(
                pilot, lambda: any("The engine stopped" in n.message for n in app._notifications)
            )
            await until(pilot, lambda: "running" not in text_of(app.query_one("#status")))
            assert "killed by SIGKILL" in app.alert.plain  # in the Progress panel too
            kept = only_run()  # what it trained is on disk: its losses, as far as they went
            assert kept.status == "unfinished"
            assert read_metrics(kept.folder / "metrics.jsonl")
            await pilot.press("r")
            await until(pilot, lambda: len(links) == 2 and app.run_state == RunState.READY)
            await pilot.press("space")
            await until(pilot, lambda: app.run_state == RunState.RUNNING and app.iteration > 0)
            await until(pilot, lambda: len(RunStore().list()) == 2)
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running)
    finally:
        for link in links:
            if link.process.is_alive():
                link.process.kill()
    wait_until(lambda: not links[1].process.is_alive())


# ---- Ctrl-Z ---------------------------------------------------------------------------------


def state_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def iterations_recorded() -> int:
    runs = RunStore().list()
    metrics = read_metrics(runs[0].folder / "metrics.jsonl") if runs else []
    return max((m["iteration"] for m in metrics), default=0)


def test_ctrl_z_suspends_the_dashboard_and_fg_brings_its_screen_back(terminals):
    ui = terminals(*TRAINING)
    wait_until(trained())
    engine = engine_of(ui)
    ui.press(b"\x1a")
    wait_until(lambda: state_of(ui.process.pid) == "T")  # stopped, as a shell's job is
    # the shell's screen back meanwhile (written before it stopped, read by our thread after)
    wait_until(lambda: b"\x1b[?1049l" in ui.output)
    shown = len(ui.output)
    os.kill(ui.process.pid, signal.SIGCONT)  # what the shell's fg sends
    wait_until(lambda: b"\x1b[?1049h" in ui.output[shown:])
    wait_until(lambda: b"Loss" in ui.output[shown:] and b"Accuracy" in ui.output[shown:])
    ui.press(b"q")
    ends_cleanly(ui, engine)


def test_a_suspended_dashboards_engine_does_not_pile_up_news(terminals):
    """While the UI reads nothing, the engine merges its news instead of queueing it: its
    memory stays flat over thousands of iterations (it grew 107 -> 208 MB in 40 s; before each
    kind of news merged, 17 MB every 5,000 iterations here)."""
    ui = terminals(*TRAINING, "--eval-every", "50")
    wait_until(trained())
    engine = engine_of(ui)
    ui.press(b"\x1a")
    wait_until(lambda: state_of(ui.process.pid) == "T")
    suspended = iterations_recorded()  # the start's own peak (the gradient check) passes first
    wait_until(lambda: iterations_recorded() >= suspended + 1_000, timeout=240)
    start, before = iterations_recorded(), rss_kb(engine)
    wait_until(lambda: iterations_recorded() >= start + 6_000, timeout=240)
    grown = rss_kb(engine) - before
    os.kill(ui.process.pid, signal.SIGCONT)
    ui.press(b"q")
    ends_cleanly(ui, engine)
    # Unmerged, the queue grows about 20 MB in these 6,000 iterations; merged, well under 1 MB.
    assert grown < 6_000, f"the engine grew {grown} kB while the dashboard was suspended"


# ---- where it cannot draw -------------------------------------------------------------------

NEEDS_TERMINAL = (
    "bp-tui: error: the dashboard needs a terminal (its input or output is not one): "
    "'bp-tui train' trains without one, '--exit-when-done' runs the dashboard headless\n"
)


@pytest.mark.parametrize("redirect", ["<&-", "</dev/null >{out}"])
def test_without_a_terminal_the_dashboard_says_so(tmp_path, redirect):
    out = tmp_path / "out.txt"
    command = f"exec {sys.executable} -m bp_tui --dataset sample {redirect.format(out=out)}"
    done = subprocess.run(
        ["sh", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stderr) == (2, NEEDS_TERMINAL)
    assert not out.exists() or out.read_text() == ""


def test_exit_when_done_runs_headless_without_a_terminal(tmp_path):
    import json

    command = (
        f"exec {sys.executable} -m bp_tui --dataset sample --iters 200 --exit-when-done --json"
        " </dev/null"
    )
    done = subprocess.run(
        ["sh", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["iterations"] == 200
    assert "\x1b[" not in done.stdout + done.stderr


def test_a_latin1_locale_is_refused_with_the_locale_it_needs(terminals):
    # The locale may not be installed here: Python is told the encoding as a latin-1 one would.
    ui = terminals(
        "--dataset",
        "sample",
        env={"LANG": "en_US.ISO-8859-1", "LC_ALL": "", "PYTHONIOENCODING": "iso-8859-1"},
    )
    wait_until(ui.gone)
    ui.reader.join(timeout=60)
    assert ui.process.returncode == 2
    assert ui.text().replace("\r\n", "\n") == (
        "bp-tui: error: the dashboard draws in UTF-8, but this terminal's locale is iso8859-1 "
        "(LANG=en_US.ISO-8859-1): start it under a UTF-8 locale (LANG=C.UTF-8 bp-tui), or "
        "train without it (bp-tui train)\n"
    )


def test_lang_c_draws_the_dashboard(terminals):
    """Python takes the C locale as UTF-8: the dashboard draws its boxes, not escape text."""
    ui = terminals("--dataset", "sample", "--paused", env={"LANG": "C", "LC_ALL": ""})
    wait_until(lambda: "╭" in ui.text() and "Accuracy" in ui.text())
    assert "\\u25" not in ui.text()
    ui.press(b"q")
    ends_cleanly(ui, None)
