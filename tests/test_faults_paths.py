"""Folders no file system can have ($BP_TUI_HOME, $BP_TUI_DATA_DIR, --data-dir with a name past
the file-name limit): every command that touches them says so in one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bp_tui.paths import FolderError, checked_folder
from tests.idx_fixtures import synthetic_arrays, write_idx_files

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "{source}"  # a folder of IDX files, made by each test

HOME_COMMANDS = [
    ["runs"],
    ["runs", "show", "latest"],
    ["runs", "rm", "latest"],
    ["train", "--dataset", "sample", "--iters", "5"],
    ["train", "--resume", "latest"],
    ["--dataset", "sample", "--exit-when-done", "--iters", "5"],  # the dashboard
]
DATA_COMMANDS = [
    ["data", "info"],
    ["data", "import", SOURCE],
    ["train", "--dataset", "mnist", "--iters", "5"],
    ["gradcheck", "--dataset", "mnist"],
    ["--dataset", "mnist", "--exit-when-done"],
]


def bp_tui(argv: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    source = tmp_path / "idx"
    write_idx_files(source, synthetic_arrays())
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", *(a.format(source=source) for a in argv)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
        timeout=120,
    )


def too_long(tmp_path: Path) -> str:
    return str(tmp_path / ("x" * 300) / "inside")


def assert_one_line(done: subprocess.CompletedProcess, origin: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"bp-tui: error: {origin} has a folder name of 300 bytes (")
    assert done.stderr.endswith("more than the 255 a file name may have: name a shorter folder\n")


@pytest.mark.hostile
@pytest.mark.parametrize("argv", HOME_COMMANDS, ids=" ".join)
def test_a_home_folder_name_past_the_limit_is_one_line(tmp_path, argv):
    assert_one_line(bp_tui(argv, tmp_path, BP_TUI_HOME=too_long(tmp_path)), "$BP_TUI_HOME")


@pytest.mark.hostile
@pytest.mark.parametrize("argv", DATA_COMMANDS, ids=" ".join)
def test_a_data_folder_name_past_the_limit_is_one_line(tmp_path, argv):
    assert_one_line(bp_tui(argv, tmp_path, BP_TUI_DATA_DIR=too_long(tmp_path)), "$BP_TUI_DATA_DIR")


@pytest.mark.hostile
def test_a_data_dir_option_past_the_limit_is_one_line(tmp_path):
    done = bp_tui(["data", "import", SOURCE, "--data-dir", too_long(tmp_path)], tmp_path)
    assert_one_line(done, "--data-dir")


def test_a_path_past_the_path_limit_is_refused_and_ordinary_ones_pass(tmp_path):
    deep = tmp_path.joinpath(*["d" * 200] * 25)  # 5,000 bytes in names of 200
    with pytest.raises(FolderError, match=r"^\$BP_TUI_HOME is a path of [\d,]+ bytes, more than"):
        checked_folder(deep, "$BP_TUI_HOME")
    assert checked_folder(tmp_path / "runs" / ("y" * 255), "x") == tmp_path / "runs" / ("y" * 255)
    assert isinstance(FolderError("x"), OSError)  # code that goes on without a folder still does
