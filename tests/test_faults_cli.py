"""Faults on the command line: flags that would do nothing, stdout that cannot be written, damaged data, big nets.

Each fault is one line on stderr and a non-zero status, never a traceback.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from bp_tui.data import idx
from bp_tui.data.sources import IDX_FILES
from bp_tui.errors import DataError
from tests.helpers import run_cli
from tests.idx_fixtures import idx_bytes, synthetic_arrays, write_idx_files

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.hostile


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--resume", "X", "gradcheck"], "--resume"),
        (["--paused", "train"], "--paused"),
        (["--exit-when-done", "gradcheck"], "--exit-when-done"),
        (["gradcheck", "--iters", "5", "--lr", "3"], "--iters"),
        (["--lr", "3", "gradcheck"], "--lr"),
        (["--hidden", "20", "runs"], "--hidden"),
        (["--dataset", "mnist", "runs"], "--dataset"),
        (["--iters", "5", "data", "info"], "--iters"),
        (["--json", "data", "info"], "--json"),
    ],
)
def test_a_flag_the_command_ignores_is_refused(capsys, argv, named):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"bp-tui: error: {named} ") and err.count("\n") == 1


def test_flags_the_commands_use_are_still_accepted(capsys):
    code, out, _ = run_cli(capsys, "--dataset", "sample", "--hidden", "20", "gradcheck", "--json")
    assert code == 0 and json.loads(out)["passed"]
    assert run_cli(capsys, "--json", "runs")[0] == 0


def sh(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


BP = f"'{sys.executable}' -m bp_tui"


@pytest.mark.parametrize(
    ("command", "why"),
    [
        (f"{BP} runs > /dev/full", "No space left on device"),
        (f"{BP} --help > /dev/full", "No space left on device"),
        (f"{BP} --help >&-", "standard output is closed"),
        (f"{BP} gradcheck --dataset sample >&-", "standard output is closed"),
    ],
)
def test_an_unwritable_stdout_is_one_line(command, why):
    done = sh(command)
    assert done.returncode == 2
    assert done.stderr.startswith("bp-tui: error: ") and why in done.stderr
    assert done.stderr.count("\n") == 1  # no traceback, no "Exception ignored"


def test_train_into_a_closed_pipe_stops_the_run_resumably():
    done = sh(
        f"{BP} train --dataset sample --iters 100000 --eval-every 50 | head -1; "
        "exit ${PIPESTATUS[0]}"
    )
    assert done.returncode == 2 and done.stdout.startswith("epoch")
    assert done.stderr.count("\n") == 1 and "its reader has gone" in done.stderr
    assert "resume with 'bp-tui train --resume " in done.stderr


def test_train_json_into_head_is_whole():
    done = sh(f"{BP} train --json --dataset sample --iters 200 | head -1; exit ${{PIPESTATUS[0]}}")
    assert done.returncode == 0 and json.loads(done.stdout)["iterations"] == 200
    assert "Traceback" not in done.stderr


# ---- data ---------------------------------------------------------------------------------------


class CountingGzip(gzip.GzipFile):
    decompressed = 0

    def read(self, size=-1):
        data = super().read(size)
        CountingGzip.decompressed += len(data)
        return data


def test_a_gzip_bomb_is_not_decompressed_past_its_header(tmp_path, monkeypatch):
    """MNIST's header (60,000 images) over 200 MB of zeros: a few hundred KB compressed."""
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (60_000, 28, 28))
    declared = 60_000 * 28 * 28
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with path.open("wb") as out:
        out.write(packer.compress(header))
        zeros = bytes(1 << 20)
        for _ in range(200):
            out.write(packer.compress(zeros))
        out.write(packer.flush())
    assert path.stat().st_size < 1_000_000
    monkeypatch.setattr(idx.gzip, "GzipFile", CountingGzip)
    with pytest.raises(DataError, match="wrong size .*not decompressed further"):
        idx.read_idx(path)
    assert CountingGzip.decompressed == len(header) + declared + 1


def test_a_header_declaring_too_much_is_refused_unread(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (10**6, 28, 28)))
    with pytest.raises(DataError, match="more than the 268,435,456 bp-tui reads"):
        idx.read_idx(path)


def test_a_damaged_cached_file_names_the_ways_out(capsys, tmp_path):
    folder = tmp_path / "cache" / "mnist"
    write_idx_files(folder, synthetic_arrays())
    (folder / f"{IDX_FILES['t_test']}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(3))[:-1]))
    code, out, err = run_cli(capsys, "--data-dir", str(tmp_path / "cache"), "train")
    assert code == 2 and err.count("\n") == 2  # the "using MNIST" note, then the error
    line = err.splitlines()[-1]
    assert "the cached MNIST is damaged" in line and "truncated" in line
    for way in ("bp-tui data download", "bp-tui data import DIR", "--dataset sample"):
        assert way in line


def test_a_data_dir_that_is_a_file_is_refused(capsys, tmp_path):
    file = tmp_path / "not-a-folder"
    file.write_text("x")
    for argv in (["train"], ["gradcheck"], ["data", "info"]):
        code, out, err = run_cli(capsys, "--data-dir", str(file), *argv)
        assert (
            code == 2
            and err
            == f"bp-tui: error: --data-dir {file} is not a folder: "
            "name a folder for the data cache\n"
        )


# ---- big nets -----------------------------------------------------------------------------------


def test_gradcheck_of_a_big_net_checks_a_sample_and_says_so(capsys):
    code, out, err = run_cli(capsys, "gradcheck", "--dataset", "sample", "--hidden", "2000")
    assert code == 0
    assert "checked 2,000 of 1,568,000 elements of W1" in out
    assert "checked 2,000 of 20,000 elements of W2" in out
    assert "of b2" not in out  # 10 elements: all of them


def test_gradcheck_of_the_books_net_checks_every_element(capsys):
    code, out, _ = run_cli(capsys, "gradcheck", "--dataset", "sample", "--json")
    report = json.loads(out)
    assert code == 0 and not any("checked" in p for p in report["params"].values())
    code, out, _ = run_cli(capsys, "gradcheck", "--dataset", "sample", "--sample", "100", "--json")
    assert json.loads(out)["params"]["W1"]["checked"] == 100
