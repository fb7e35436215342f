import signal
import sys
import tempfile
from pathlib import Path

import pytest

# pytest leaves nothing in the working tree: no bytecode beside the sources (pyproject turns off
# the cache folder) and the snapshot failure report in the temporary folder.
sys.dont_write_bytecode = True


def pytest_configure(config):
    # One BLAS thread in each test process, as the engine takes on two cores: four workers with
    # two OpenBLAS threads each made the suite's in-process math 20x slower at load 14 (the
    # ch06 reproduction: 11.5 s of CPU instead of 0.6 s).
    import numpy  # noqa: F401  (threadpoolctl limits only the BLAS libraries already loaded)
    from threadpoolctl import threadpool_limits

    config._bp_tui_blas = threadpool_limits(limits=1, user_api="blas")
    if config.getoption("--snapshot-report", None) == "snapshot_report.html":
        report = Path(tempfile.gettempdir()) / "bp-tui-snapshot-report.html"
        config.option.snapshot_report = str(report)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real cache and data folders."""
    root = tmp_path_factory.mktemp("bp-tui-home")
    monkeypatch.setenv("BP_TUI_DATA_DIR", str(root / "cache"))
    monkeypatch.setenv("BP_TUI_HOME", str(root / "home"))
    monkeypatch.setenv("BP_TUI_CONFIG", str(root / "config"))
    return root


@pytest.fixture(autouse=True)
def ctrl_c_as_python_leaves_it():
    """A command run in-process (bp_tui.cli.main) may leave SIGINT ignored on its way out, as it
    should in a process that only ends; the next test's processes would inherit that."""
    yield
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def served(tmp_path):
    """Starts `bp-tui serve --dataset sample ARGS` (served("--paused")); each is stopped at the
    end, and must have left no dashboard nor engine behind."""
    from tests.helpers import wait_until
    from tests.serving import Served

    started: list[Served] = []

    def start(*args: str) -> Served:
        started.append(Served(tmp_path, *args).wait_ready())
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.stop()
    for server in started:
        wait_until(lambda server=server: not server.children())
