"""The chapter-6 races: every configuration on the same mini-batches, the book's ordering."""

import json

import numpy as np
import pytest

from bp_tui.engine import Trainer
from bp_tui.engine.race import BOOK_RACE, RACES, configurations
from tests.helpers import run_cli, tiny_data


@pytest.mark.parametrize("kind", sorted(RACES))
def test_every_configuration_trains_on_the_same_mini_batches(kind):
    data = tiny_data()
    trainers = [Trainer(hp.replace(iters=5), data) for _, hp in configurations(kind)]
    states = {json.dumps(t.rng.bit_generator.state) for t in trainers}
    assert len(states) == 1  # the same stream, at the same place, after the initial weights
    draws = {tuple(t.rng.integers(0, 600, 100)) for t in trainers}
    assert len(draws) == 1


@pytest.mark.book
def test_the_optimizers_race_puts_adam_ahead_of_sgd_as_the_book_does(capsys):
    code, out, err = run_cli(
        capsys, "race", "optimizers", "--dataset", "sample", "--iters", "300", "--json"
    )
    assert code == 0 and err == ""
    result = json.loads(out)
    assert result["race"] == "optimizers" and result["iterations"] == 300
    by_name = {c["name"]: c for c in result["configurations"]}
    assert list(by_name) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    # The book's optimizer race: He-initialised nets (its MultiLayerNet's default)
    assert by_name["Adam"]["settings"] == {
        "iters": 300,
        "optimizer": "adam",
        "lr": 0.001,
        "init": "he",
    }
    assert result["hidden"] == [100, 100, 100, 100]
    for c in by_name.values():
        assert len(c["losses_every_100"]) == 3 and c["final_loss"] == c["losses_every_100"][-1]
        assert 0 <= c["test_acc"] <= 1 and not c["diverged"]
    # Figure 6-9: plain SGD at lr 0.01 is the slowest to learn.
    assert by_name["SGD"]["final_loss"] > max(
        by_name[n]["final_loss"] for n in ("Momentum", "AdaGrad", "Adam")
    )


@pytest.mark.book
def test_the_init_race_shows_std_001_learning_slowest(capsys):
    code, out, _ = run_cli(
        capsys, "race", "init", "--dataset", "sample", "--iters", "300", "--json"
    )
    assert code == 0
    losses = {c["name"]: c["final_loss"] for c in json.loads(out)["configurations"]}
    assert list(losses) == ["std 0.01", "Xavier", "He"]
    assert losses["std 0.01"] > losses["Xavier"] and losses["std 0.01"] > losses["He"]  # fig. 6-15
    assert np.isclose(BOOK_RACE.lr, 0.01) and BOOK_RACE.batch_size == 128


def test_a_race_takes_a_depth_or_widths_but_not_both(capsys):
    code, out, err = run_cli(capsys, "race", "init", "--depth", "3", "--hidden", "20")
    assert code == 2 and out == "" and err.count("\n") == 1 and "--depth" in err
    code, out, err = run_cli(capsys, "race", "init", "--depth", "1")
    assert code == 2 and "--depth" in err and err.count("\n") == 1
    code, out, _ = run_cli(
        capsys, "race", "init", "--dataset", "sample", "--iters", "20", "--depth", "3", "--json"
    )
    assert code == 0 and json.loads(out)["hidden"] == [100, 100]


@pytest.mark.parametrize("option", ["--lr", "--optimizer", "--init"])
def test_what_the_race_sets_is_refused(capsys, option):
    value = {"--lr": "0.5", "--optimizer": "adam", "--init": "he"}[option]
    code, out, err = run_cli(capsys, "race", "init", option, value)
    assert code == 2 and out == "" and err.count("\n") == 1 and option in err
