"""--data-dir names the data cache: a missing folder, or a folder of IDX files, is one line."""

from __future__ import annotations

import pytest

from bp_tui.data.sources import IDX_FILES
from tests.helpers import run_cli as run


@pytest.mark.parametrize("command", [("train", "--iters", "1"), ("gradcheck",)])
def test_a_folder_of_idx_files_is_named_with_the_import_that_takes_them(capsys, tmp_path, command):
    """It silently trained on the sample ("MNIST is not cached")."""
    for file in IDX_FILES.values():
        (tmp_path / f"{file}.gz").write_bytes(b"")
    code, out, err = run(capsys, *command, "--data-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err == (
        f"bp-tui: error: --data-dir {tmp_path} holds the four IDX files, not a cache: "
        f"'bp-tui data import {tmp_path}' copies them into the cache\n"
    )


@pytest.mark.parametrize("command", [("train", "--iters", "1"), ("gradcheck",), ()])
def test_a_data_dir_that_does_not_exist_is_refused(capsys, tmp_path, command):
    missing = tmp_path / "nonexistent"
    code, out, err = run(capsys, *command, "--data-dir", str(missing))
    assert code == 2 and out == ""
    assert err.startswith(f"bp-tui: error: --data-dir {missing} does not exist"), err
    assert not missing.exists()
