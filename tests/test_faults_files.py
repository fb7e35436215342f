"""Damaged files: a checkpoint member that is not an array, a checkpoint that is a zip bomb, a
theme in settings.json that is not a name. One line or a notice each, never a traceback.

Where the fault is a process's (`train --resume`, the dashboard at start), a real process.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bp_tui.engine import HyperParams, checkpoint
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.loop import Engine
from bp_tui.engine.runs import CHECKPOINT, RunStore
from bp_tui.engine.trainer import Trainer
from tests.helpers import run_cli, tiny_data
from tests.test_faults_memory import peak_rss_of
from tests.test_faults_process import Terminal, only_run

ROOT = Path(__file__).resolve().parent.parent


def recorded_run(capsys) -> Path:
    """A finished run of the sample in the run store; the path of its checkpoint."""
    code, _, err = run_cli(capsys, "train", "--iters", "30", "--dataset", "sample")
    assert code == 0, err
    (info,) = RunStore().list()
    return info.folder / CHECKPOINT


def rewrite(path: Path, replace: dict[str, bytes | None], compress=zipfile.ZIP_STORED) -> None:
    """The checkpoint with some members' raw bytes replaced (None drops one)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, data in replace.items():
        members.pop(name, None)
        if data is not None:
            members[name] = data
    with zipfile.ZipFile(path, "w", compress) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def resume(run_id: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", "train", "--resume", run_id, "--iters", "60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


# ---- a member that is not an array --------------------------------------------------------------


@pytest.mark.hostile
def test_resume_from_a_checkpoint_member_that_is_not_an_array_is_one_line(capsys):
    path = recorded_run(capsys)
    rewrite(path, {"param/W1.npy": None, "param/W1": b"just some bytes"})
    done = resume(RunStore().list()[0].id)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "damaged bp-tui checkpoint: its member 'param/W1' is not an array" in done.stderr


def test_loading_a_member_that_is_not_an_array_in_the_dashboard_is_a_notice(tmp_path):
    data = tiny_data()
    trainer = Trainer(HyperParams(iters=50, hidden=6), data)
    path = checkpoint.save(trainer, "sample", tmp_path / "c.npz")
    rewrite(path, {"extra": b"\x00\x01"})
    seen, commands = [], queue.Queue()
    trainer = Trainer(HyperParams(iters=50, hidden=6), data)
    engine = Engine(trainer, seen.append, commands, dataset="sample")
    worker = threading.Thread(target=engine.run, kwargs={"start": False}, daemon=True)
    worker.start()
    commands.put(cmd.Load(str(path)))
    commands.put(cmd.Stop())
    worker.join(timeout=60)
    notices = [e.message for e in seen if isinstance(e, ev.Notice)]
    assert notices == [f"{path} is a damaged bp-tui checkpoint: its member 'extra' is not an array"]
    assert not any(isinstance(e, (ev.Failed, ev.Loaded)) for e in seen)


# ---- a zip bomb ---------------------------------------------------------------------------------


def bomb(path: Path, megabytes: int) -> None:
    """The checkpoint's W1 replaced by a compressed member declaring `megabytes` of zeros."""
    rows = megabytes * 2**20 // (4 * 50)
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 50), np.float32))
    header["shape"] = (rows, 50)
    rewrite(path, {"param/W1.npy": None})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("param/W1.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            zeros = bytes(4 * 50 * 4096)
            for start in range(0, rows, 4096):
                member.write(zeros[: 4 * 50 * min(4096, rows - start)])


@pytest.mark.hostile
def test_a_zip_bomb_checkpoint_is_refused_from_its_headers(capsys):
    """600 MB of zeros in under 1 MB: refused unread (peak under 150 MB; 700+ MB before)."""
    path = recorded_run(capsys)
    bomb(path, 600)
    assert path.stat().st_size < 2**20
    done, peak = peak_rss_of(
        ["train", "--resume", RunStore().list()[0].id, "--iters", "60"], dict(os.environ)
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "damaged bp-tui checkpoint: its arrays declare 629," in done.stderr
    assert "(a zip bomb" in done.stderr
    assert peak < 300 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_a_member_whose_header_and_zip_entry_disagree_is_refused(tmp_path):
    trainer = Trainer(HyperParams(iters=50, hidden=6), tiny_data())
    path = checkpoint.save(trainer, "sample", tmp_path / "c.npz")
    with zipfile.ZipFile(path) as archive:
        member = archive.read("param/b1.npy")
    rewrite(path, {"param/b1.npy": member + b"\x00" * 8})
    with pytest.raises(
        checkpoint.CheckpointError, match="its member 'param/b1.npy' holds 32 bytes"
    ):
        checkpoint.load(path)


def test_a_checkpoint_bp_tui_wrote_still_loads_and_a_compressed_one_too(tmp_path):
    trainer = Trainer(HyperParams(iters=50, hidden=6, optimizer="adam", lr=0.01), tiny_data())
    for _ in range(5):
        trainer.step()
    path = checkpoint.save(trainer, "sample", tmp_path / "c.npz")
    loaded = checkpoint.load(path)
    rewrite(path, {}, compress=zipfile.ZIP_DEFLATED)
    again = checkpoint.load(path)
    for key, value in loaded["params"].items():
        np.testing.assert_array_equal(again["params"][key], value)


# ---- a theme that is not a name -----------------------------------------------------------------


@pytest.mark.hostile
@pytest.mark.parametrize("theme", [["nord"], {"name": "nord"}])
def test_a_theme_that_is_not_a_name_is_ignored_and_the_run_ends_well(theme):
    config = Path(os.environ["BP_TUI_CONFIG"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({"theme": theme}))
    ui = Terminal("--dataset", "sample", "--iters", "30", "--exit-when-done")
    try:
        assert ui.process.wait(timeout=120) == 0
        ui.reader.join(timeout=60)
    finally:
        ui.close()
    assert "Traceback" not in ui.text()
    assert only_run().status == "finished"


async def test_the_dashboard_says_the_theme_was_ignored():
    from bp_tui.ui import settings
    from tests.helpers import until
    from tests.test_dashboard import make_app

    settings.config_file().parent.mkdir(parents=True, exist_ok=True)
    settings.config_file().write_text(json.dumps({"theme": ["nord"]}))
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        await until(
            pilot,
            lambda: any("is a list, not a theme name" in n.message for n in app._notifications),
        )
        assert app.theme == settings.DEFAULT_THEME
    settings.config_file().write_text(json.dumps({"theme": "no-such-theme"}))
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot,
            lambda: any("'no-such-theme'" in n.message for n in app._notifications),
        )
