"""The dashboard's engine process never outlives its UI, and signals stop runs cleanly.

Real processes throughout: a parent started as the dashboard starts its engine, killed with -9;
`bp-tui train` and the dashboard stopped with SIGTERM / SIGHUP.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import textwrap
from pathlib import Path

import pytest

from bp_tui.engine.runs import RunStore, read_metrics
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.hostile


def alive(pid: int) -> bool:
    """Whether pid runs (a zombie left to an init that does not reap counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def trained(min_losses: int = 3):
    """A condition: the one recorded run has written at least min_losses loss lines."""

    def check() -> bool:
        runs = RunStore().list()
        if not runs:
            return False
        metrics = runs[0].folder / "metrics.jsonl"
        return metrics.exists() and len(read_metrics(metrics)) >= min_losses

    return check


def only_run():
    runs = RunStore().list()
    assert len(runs) == 1, runs
    return runs[0]


def resumes(run_id: str, iteration: int) -> None:
    """`bp-tui train --resume ID` goes on from the checkpoint, to a finished run."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bp_tui",
            "train",
            "--resume",
            run_id,
            "--iters",
            str(iteration + 20),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert only_run().status == "finished"


PARENT = textwrap.dedent(
    """
    import sys
    from bp_tui.engine.config import HyperParams
    from bp_tui.engine import events as ev
    from bp_tui.engine import commands as cmd
    from bp_tui.engine.remote import ProcessLink

    if __name__ == "__main__":
        # As the dashboard does: the engine in a spawned process, then the gradient check, Run.
        link = ProcessLink(HyperParams(iters=10_000_000), "sample", start=False)
        link.start()
        link.send(cmd.Run())
        print(link.pid, flush=True)
        while True:
            link.next_event(1.0)
    """
)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_an_engine_whose_ui_dies_stops_and_records_its_run(tmp_path, how):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    engine = int(parent.stdout.readline())
    try:
        wait_until(trained())
        parent.send_signal(how)  # SIGTERM: the parent has no handler, it dies at once too
        parent.wait(timeout=60)
        wait_until(lambda: not alive(engine))
    finally:
        parent.kill()
        parent.wait()
        if alive(engine):  # the test failed: leave no orphan behind
            os.kill(engine, signal.SIGKILL)
    run = only_run()
    assert run.status == "stopped" and run.checkpoint is not None
    summary = json.loads((run.folder / "summary.json").read_text())
    assert summary["iterations"] == run.iterations > 0
    resumes(run.id, run.iterations)


def bp_tui(*argv: str, **options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bp_tui", *argv],
        cwd=ROOT,
        text=True,
        stdin=subprocess.DEVNULL,
        **options,
    )


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_train_like_ctrl_c_and_the_run_resumes(how):
    train = bp_tui(
        "train",
        "--dataset",
        "sample",
        "--iters",
        "10000000",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(trained())  # within the first checkpoint interval: no checkpoint yet
        train.send_signal(how)
        out, err = train.communicate(timeout=60)
    finally:
        train.kill()
    run = only_run()
    assert train.returncode == 128 + how
    assert err == (
        f"bp-tui: stopped by {how.name} at iteration {run.iterations:,}: "
        f"resume with 'bp-tui train --resume {run.id}'\n"
    )
    assert run.status == "stopped" and run.checkpoint is not None
    resumes(run.id, run.iterations)


def as_a_shell_starts_it(controlling: bool) -> None:
    """In the child, before bp-tui starts: Ctrl-C's signal as a shell leaves it to a job (the
    test process may have changed or blocked it), and the pty as its terminal if asked."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())
    if controlling:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """The dashboard in a pseudo-terminal: what it draws is read (and dropped) as it comes."""

    def __init__(self, *argv: str, controlling: bool = False, env: dict | None = None) -> None:
        """controlling: the pty is the process's controlling terminal, so that Ctrl-C is SIGINT
        and the terminal's end SIGHUP, as in a terminal window; env: variables to change."""
        import fcntl
        import pty
        import struct
        import termios
        import threading

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bp_tui", *argv],
            cwd=ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,  # then (controlling) fd 0 becomes the session's terminal
            preexec_fn=lambda: as_a_shell_starts_it(controlling),
        )
        os.close(slave)
        self.master, self.output = master, bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the terminal's last user has gone
                return
            if not chunk:
                return
            self.output += chunk

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.reader.join(timeout=10)
        os.close(self.master)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGHUP])
def test_the_dashboard_stops_its_engine_on_a_signal(how):
    ui = Terminal("--dataset", "sample", "--iters", "10000000")
    engines: list[int] = []
    try:
        wait_until(trained())
        engines = [p for p in children(ui.process.pid) if "spawn_main" in cmdline(p)]
        assert len(engines) == 1
        ui.process.send_signal(how)
        assert ui.process.wait(timeout=60) == 128 + how
        wait_until(lambda: not alive(engines[0]))
        ui.reader.join(timeout=60)
    finally:
        ui.close()
        for pid in engines:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    text = ui.text()
    assert "Traceback" not in text
    assert f"bp-tui: stopped by {how.name}" in text
    assert "\x1b[?1049l" in text  # the terminal's normal screen is back
    run = only_run()
    assert run.status == "stopped" and run.checkpoint is not None
    resumes(run.id, run.iterations)
