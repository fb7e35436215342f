"""Runs and checkpoints of any depth, with real processes: the widths are recorded, a deep run
resumes, a two-layer run written before depth existed still resumes, and a checkpoint of
another shape than its run's record is refused in one line (issue 18's 50 vs 60 units)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bp_tui.engine import checkpoint
from bp_tui.engine.config import HyperParams, parse_hidden, parse_value
from bp_tui.engine.runs import RunStore
from bp_tui.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
TWO_LAYER_RUN = (
    Path(__file__).parent / "data" / "two-layer-run"
)  # written by bp-tui 0.1 (ch05 only)


def bp_tui(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def trained(*argv: str) -> str:
    """The id of the run `bp-tui train --dataset sample ARGV` recorded."""
    before = {r.id for r in RunStore().list()}
    done = bp_tui("train", "--dataset", "sample", *argv)
    assert done.returncode == 0, done.stderr
    (new,) = [r.id for r in RunStore().list() if r.id not in before]
    return new


@pytest.mark.hostile
def test_a_checkpoint_of_another_shape_than_its_run_is_refused_in_one_line():
    fifty = trained("--iters", "30", "--hidden", "50")
    sixty = trained("--iters", "30", "--hidden", "60")
    store = RunStore()
    shutil.copyfile(store.load(sixty).checkpoint, store.load(fifty).checkpoint)
    done = bp_tui("train", "--resume", fifty, "--iters", "60")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "784-50-10" in done.stderr and "784-60-10" in done.stderr
    assert store.load(fifty).iterations == 30  # nothing trained, nothing rewritten


@pytest.mark.hostile
def test_a_deep_run_records_its_widths_and_resumes():
    run_id = trained("--iters", "40", "--hidden", "30,20,10", "--optimizer", "momentum")
    run = RunStore().load(run_id)
    record = json.loads((run.folder / "hyperparams.json").read_text())
    assert record["hp"]["hidden"] == [30, 20, 10]
    loaded = checkpoint.load(run.checkpoint)
    assert loaded["spec"].sizes == (784, 30, 20, 10, 10)
    assert sorted(loaded["optimizer"]) == sorted(f"v/{p}{i}" for i in range(1, 5) for p in "Wb")
    done = bp_tui("train", "--resume", run_id, "--iters", "60", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["iterations"] == 60
    assert RunStore().load(run_id).status == "finished"


@pytest.mark.hostile
def test_a_two_layer_run_of_before_depth_still_resumes():
    record = json.loads((TWO_LAYER_RUN / "hyperparams.json").read_text())
    assert record["hp"]["hidden"] == 6  # an int: what bp-tui wrote before a net had depth
    folder = RunStore().root / record["id"]
    shutil.copytree(TWO_LAYER_RUN, folder)
    before = checkpoint.load(folder / "checkpoint.npz")
    assert before["hp"].hidden == (6,) and before["hp"].optimizer == "adam"
    done = bp_tui("train", "--resume", record["id"], "--iters", "50", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["iterations"] == 50
    after = checkpoint.load(folder / "checkpoint.npz")
    assert int(after["optimizer"]["iter"]) == 50  # Adam's own step count went on
    assert not np.array_equal(after["params"]["W1"], before["params"]["W1"])


def test_hidden_widths_parse_and_round_trip():
    assert (
        parse_hidden("100,100,100,100")
        == (100,) * 4
        == HyperParams(hidden="100,100,100,100").hidden
    )
    assert HyperParams(hidden=50).hidden == (50,) == HyperParams(hidden=[50]).hidden
    hp = HyperParams(hidden=(30, 20))
    assert hp.to_dict()["hidden"] == [30, 20] and HyperParams.from_dict(hp.to_dict()) == hp
    assert hp.depth == 3


@pytest.mark.parametrize("text", ["100,,50", "0", "100,abc", " ", "1,2,3,4,5,6,7,8,9,10,11", "-5"])
def test_the_edit_forms_hidden_field_gives_its_own_error(text):
    with pytest.raises(ConfigError) as refused:
        value = parse_value("hidden", text)
        HyperParams(hidden=value)
    assert "comma list" in refused.value.problem


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
@pytest.mark.parametrize("hidden", [(8,), (12, 8, 6)])
def test_a_checkpoint_of_any_optimizer_at_any_depth_round_trips(tmp_path, optimizer, hidden):
    from bp_tui.engine.trainer import Trainer
    from tests.helpers import tiny_data

    data = tiny_data()
    hp = HyperParams(iters=40, hidden=hidden, optimizer=optimizer, lr=0.01, eval_every=0)
    straight, halted = Trainer(hp, data), Trainer(hp, data)
    for _ in range(20):
        straight.step()
        halted.step()
    path = checkpoint.save(halted, "tiny", tmp_path / "c.npz")
    resumed = Trainer(hp.replace(hidden=(5,)), data)  # another net: restore makes the right one
    checkpoint.restore(resumed, checkpoint.load(path))
    assert resumed.net.shape == (784, *hidden, 10)
    for _ in range(20):
        assert resumed.step() == straight.step()  # bit for bit, optimiser state included
    for key, value in straight.net.params.items():
        np.testing.assert_array_equal(resumed.net.params[key], value)


def test_an_optimizer_state_of_other_shapes_is_refused():
    from bp_tui.nn.optimizers import Momentum

    shapes = {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
    good = {f"v/{k}": np.zeros(s) for k, s in shapes.items()}
    Momentum.check_state(good, shapes)
    with pytest.raises(ValueError, match="v/W2"):
        Momentum.check_state({**good, "v/W2": np.zeros((4, 2))}, shapes)
    with pytest.raises(ValueError, match="misses part of v"):
        Momentum.check_state({k: v for k, v in good.items() if k != "v/b2"}, shapes)


def test_serve_hands_the_widths_on_as_the_command_line_takes_them():
    import shlex

    from bp_tui.cli import build_parser
    from bp_tui.cli.serve import dashboard_command

    args = build_parser().parse_args(["serve", "--hidden", "100,100,100,100", "--lr", "0.05"])
    words = shlex.split(dashboard_command(args))
    assert words[words.index("--hidden") + 1] == "100,100,100,100"
    assert build_parser().parse_args(words[3:]).hidden == (100, 100, 100, 100)
