"""The command line: `bp-tui train`, `bp-tui gradcheck`, `bp-tui data info`, and their errors.

Most tests call ``bp_tui.cli.main`` in-process on the shipped sample (offline, ~0.1 s a run);
two run ``python -m bp_tui`` to prove the real entry point and its exit statuses.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from tests.helpers import run_cli as run

SUMMARY_KEYS = {
    "dataset",
    "iterations",
    "epochs",
    "final_loss",
    "train_acc",
    "test_acc",
    "train_seconds",
    "iters_per_second",
    "diverged",
}
EVALUATION = re.compile(
    r"epoch +(?P<epoch>\d+\.\d\d)  iter +(?P<iter>[\d,]+)  loss (?P<loss>\d+\.\d{4})  "
    r"train_acc (?P<train>[01]\.\d{4})  test_acc (?P<test>[01]\.\d{4})"
)
IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    """Like run, for --json: stdout must be exactly one JSON object on one line."""
    code, out, err = run(capsys, *argv, "--json")
    lines = out.splitlines()
    assert len(lines) == 1, f"stdout is not one line: {out!r}"
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return code, value, err


def train_json(capsys, *argv: str) -> dict:
    code, summary, err = run_json(capsys, "train", "--dataset", "sample", *argv)
    assert code == 0, err
    return summary


def evaluations(text: str) -> list[re.Match]:
    return [m for line in text.splitlines() if (m := EVALUATION.fullmatch(line))]


# ---- train ----------------------------------------------------------------------------------


def test_train_json_summary_is_one_consistent_object(capsys):
    code, summary, err = run_json(capsys, "train", "--dataset", "sample", "--iters", "300")
    assert code == 0, err
    assert set(summary) == SUMMARY_KEYS
    assert summary["dataset"] == "sample"
    assert summary["iterations"] == 300
    assert summary["epochs"] == pytest.approx(3.0)  # 300 x 100 images over 10,000
    assert summary["diverged"] is False
    assert math.isfinite(summary["final_loss"]) and 0 < summary["final_loss"] < 1.0
    assert 0.8 < summary["train_acc"] <= 1.0
    assert 0.8 < summary["test_acc"] <= 1.0
    assert summary["train_seconds"] > 0
    assert summary["iters_per_second"] == pytest.approx(300 / summary["train_seconds"], rel=0.05)
    # The evaluation lines are for people: on stderr, so stdout stays parseable.
    assert len(evaluations(err)) == 3
    assert "Traceback" not in err


def test_train_text_prints_a_line_per_evaluation_and_a_summary(capsys):
    code, out, err = run(capsys, "train", "--dataset", "sample", "--iters", "300")
    assert code == 0, err
    lines = out.splitlines()
    found = evaluations(out)
    assert [int(m["iter"]) for m in found] == [100, 200, 300]
    assert [float(m["epoch"]) for m in found] == [1.0, 2.0, 3.0]
    assert lines[: len(found)] == [m.string for m in found]
    losses = [float(m["loss"]) for m in found]
    assert losses == sorted(losses, reverse=True)  # it learns
    assert len(lines) == 4, out  # three evaluations, then one summary line (not wrapped)
    assert lines[-1].startswith("done: 300 iterations (3.00 epochs) on sample in ")
    assert lines[-1].endswith(f"test accuracy {found[-1]['test']}")

    # The same seed in --json mode: the text and the JSON tell the same story.
    summary = train_json(capsys, "--iters", "300")
    assert f"{summary['final_loss']:.4f}" == found[-1]["loss"]
    assert f"{summary['test_acc']:.4f}" == found[-1]["test"]
    assert f"{summary['train_acc']:.4f}" == found[-1]["train"]


@pytest.mark.parametrize("iters", ["1", "2"])
def test_train_summary_counts_in_words_and_prints_four_decimals(capsys, iters):
    code, out, err = run(capsys, "train", "--dataset", "sample", "--iters", iters)
    assert code == 0, err
    last = out.splitlines()[-1]
    word = "iteration" if iters == "1" else "iterations"
    assert last.startswith(f"done: {iters} {word} ("), last
    # 0.1910, never 0.191: every accuracy the commands print has four decimals
    assert re.search(r"test accuracy [01]\.\d{4}$", last), last


@pytest.mark.parametrize(
    ("eval_every", "expected"),
    [("100", [100, 200, 300]), ("120", [120, 240, 300]), ("0", [300])],
)
def test_eval_every_sets_when_accuracy_is_measured(capsys, eval_every, expected):
    code, out, err = run(
        capsys, "train", "--dataset", "sample", "--iters", "300", "--eval-every", eval_every
    )
    assert code == 0, err
    assert [int(m["iter"]) for m in evaluations(out)] == expected


def test_the_same_seed_gives_the_same_run_and_another_seed_another(capsys):
    first = train_json(capsys, "--iters", "100", "--seed", "7")
    again = train_json(capsys, "--iters", "100", "--seed", "7")
    other = train_json(capsys, "--iters", "100", "--seed", "8")
    assert first["final_loss"] == again["final_loss"]
    assert (first["train_acc"], first["test_acc"]) == (again["train_acc"], again["test_acc"])
    assert other["final_loss"] != first["final_loss"]


def test_hyperparameters_reach_the_run(capsys):
    base = train_json(capsys, "--iters", "100")
    for option, value in [
        ("--lr", "0.5"),
        ("--batch-size", "50"),
        ("--hidden", "20"),
        ("--activation", "sigmoid"),
        ("--optimizer", "adam"),
        ("--init", "he"),
    ]:
        changed = train_json(capsys, "--iters", "100", option, value)
        assert changed["final_loss"] != base["final_loss"], option
    assert train_json(capsys, "--iters", "100", "--batch-size", "50")["epochs"] == 0.5


def test_without_dataset_the_sample_is_used_and_said_so(capsys):
    code, summary, err = run_json(capsys, "train", "--iters", "20")
    assert code == 0, err
    assert summary["dataset"] == "sample"
    assert "using the shipped sample" in err
    assert "bp-tui data download" in err


# ---- options before and after the subcommand -------------------------------------------------


def test_train_iters_after_the_subcommand(capsys):
    assert train_json(capsys, "--iters", "50")["iterations"] == 50


def test_options_before_the_subcommand_are_kept(capsys):
    code, summary, err = run_json(capsys, "--iters", "50", "train", "--dataset", "sample")
    assert code == 0, err
    assert summary["iterations"] == 50
    before = run_json(capsys, "--lr", "0.5", "--seed", "3", "train", "--iters", "60")[1]
    after = run_json(capsys, "train", "--iters", "60", "--lr", "0.5", "--seed", "3")[1]
    assert before["final_loss"] == after["final_loss"]
    # --dataset before `train` survives too: mnist is not cached, so it must fail, not use sample.
    code, out, err = run(capsys, "--dataset", "mnist", "train", "--iters", "10")
    assert code == 2
    assert "MNIST is not in the cache" in err


def test_an_option_after_the_subcommand_wins_over_the_same_before(capsys):
    code, summary, err = run_json(capsys, "--iters", "50", "train", "--iters", "70")
    assert code == 0, err
    assert summary["iterations"] == 70


def test_json_before_the_subcommand_is_kept(capsys):
    code, out, err = run(capsys, "--json", "train", "--dataset", "sample", "--iters", "20")
    assert code == 0, err
    assert json.loads(out)["iterations"] == 20


# ---- bad values -------------------------------------------------------------------------------


BAD_VALUES = [
    (["train", "--batch-size", "0"], ["--batch-size", "whole number from 1"]),
    (["train", "--lr", "-1"], ["--lr", "positive number"]),
    (["train", "--lr", "0"], ["--lr", "positive number"]),
    (["train", "--lr", "abc"], ["--lr", "number such as 0.1", "'abc'"]),
    (["train", "--iters", "-5"], ["--iters", "whole number from 1"]),
    (["train", "--iters", "1.5"], ["--iters", "whole number", "'1.5'"]),
    (["train", "--hidden", "0"], ["--hidden", "from 1 to 10,000"]),
    (["train", "--seed", "-1"], ["--seed", "whole number from 0"]),
    (["train", "--eval-every", "-1"], ["--eval-every", "whole number from 0"]),
    (["train", "--activation", "tanh"], ["--activation", "relu", "sigmoid", "'tanh'"]),
    (["train", "--optimizer", "foo"], ["--optimizer", "sgd", "adam", "'foo'"]),
    (["train", "--init", "foo"], ["--init", "std", "he", "xavier"]),
    (["train", "--dataset", "foo"], ["--dataset", "sample", "mnist", "fashion-mnist"]),
    (["gradcheck", "--hidden", "0"], ["--hidden", "from 1 to 10,000"]),
    (["train", "--hidden", "100,,50"], ["--hidden", "comma list", "'100,,50'"]),
    (["train", "--hidden", "100,abc"], ["--hidden", "comma list", "'100,abc'"]),
    (["train", "--hidden", " "], ["--hidden", "comma list", "' '"]),
    (["train", "--hidden", "100,0"], ["--hidden", "from 1 to 10,000", "'100,0'"]),
    (["train", "--hidden", ",".join(["10"] * 11)], ["--hidden", "1 to 10 widths"]),
    (["train", "--hidden", "10001"], ["--hidden", "from 1 to 10,000"]),
    (["train", "--hidden", "5000,5000"], ["--hidden", "more than the 20,000,000 allowed"]),
    (["gradcheck", "--hidden", "100,-5"], ["--hidden", "comma list"]),
    (["race", "init", "--hidden", "100,,1"], ["--hidden", "comma list"]),
    (["--lr", "-1", "train"], ["--lr", "positive number"]),
    (["train", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["train", "--iters", "１０"], ["--iters", "whole number", "'１０'"]),
    (["train", "--lr", "０.1"], ["--lr", "number such as 0.1"]),
    (["train", "--lr", "9" * 5000], ["--lr", "positive number"]),
    (["train", "--optimizer", "x" * 5000], ["--optimizer", "'" + "x" * 40 + "…'"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'", "train", "gradcheck", "data"]),
]


@pytest.mark.parametrize(
    ("argv", "expected"), BAD_VALUES, ids=[" ".join(argv) for argv, _ in BAD_VALUES]
)
def test_a_bad_value_is_one_line_and_status_2(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bp-tui"), err
    assert "error" in lines[0]
    for text in expected:
        assert text in lines[0]
    assert "Traceback" not in err and "usage:" not in err
    assert len(lines[0]) < 300  # a long value is cut, not echoed whole


def test_mnist_with_an_empty_cache_says_the_three_ways_out(capsys):
    code, out, err = run(capsys, "train", "--dataset", "mnist", "--iters", "10")
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("bp-tui: error: MNIST is not in the cache")
    for text in ("bp-tui data download", "bp-tui data import", "--dataset sample"):
        assert text in line


def test_a_corrupt_mnist_cache_is_one_line_naming_the_file(capsys, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in IDX_NAMES:
        (folder / name).write_bytes(b"this is not gzip nor IDX\n" * 4)
    for command in (["train", "--iters", "10"], ["gradcheck"]):
        code, out, err = run(capsys, *command, "--dataset", "mnist", "--data-dir", str(tmp_path))
        assert code == 2, command
        assert out == ""
        (line,) = err.splitlines()
        assert line.startswith("bp-tui: error: the cached MNIST is damaged: ")
        assert any(name in line for name in IDX_NAMES), line
        assert "--dataset sample" in line
        assert "Traceback" not in err


# ---- divergence -------------------------------------------------------------------------------


def check_diverged(code: int, summary: dict, err: str, lr_text: str) -> None:
    assert code == 2
    assert set(summary) == SUMMARY_KEYS
    assert summary["diverged"] is True
    # NaN is not JSON: null then; a loss kept finite by the log's 1e-7 stays far above ln 10
    assert summary["final_loss"] is None or summary["final_loss"] > 6
    message = [line for line in err.splitlines() if "diverged" in line]
    assert len(message) == 1, err
    assert f"iteration {summary['iterations']:,} " in message[0]
    assert f"learning rate {lr_text}" in message[0]
    assert len(err.splitlines()) == 1, err  # the message alone: no blank line, no wrap
    assert "Traceback" not in err


def test_a_diverging_run_says_where_and_exits_2(capsys):
    code, summary, err = run_json(
        capsys, "train", "--dataset", "sample", "--lr", "1e10", "--iters", "200"
    )
    check_diverged(code, summary, err, "1e+10")
    assert summary["iterations"] < 200  # it stopped when the loss became NaN

    code, out, err = run(capsys, "train", "--dataset", "sample", "--lr", "1e10", "--iters", "200")
    assert code == 2
    assert "done:" not in out  # no accuracy to report
    assert len(err.splitlines()) == 1 and "diverged" in err


def test_lr_1e6_is_reported_as_diverged(capsys):
    code, summary, err = run_json(
        capsys, "train", "--dataset", "sample", "--lr", "1e6", "--iters", "200"
    )
    check_diverged(code, summary, err, "1e+06")


def test_a_crash_mid_run_is_not_reported_as_done(capsys, monkeypatch):
    from bp_tui.engine.trainer import Trainer

    step = Trainer.step

    def failing_step(self):
        if self.iteration == 150:
            raise MemoryError("simulated")
        return step(self)

    monkeypatch.setattr(Trainer, "step", failing_step)
    code, out, err = run(capsys, "train", "--dataset", "sample", "--iters", "300")
    assert code == 1
    assert "done:" not in out
    assert [int(m["iter"]) for m in evaluations(out)] == [100]
    assert err.splitlines() == [
        "bp-tui: error: training failed at iteration 150: MemoryError: simulated"
    ]


# ---- gradcheck --------------------------------------------------------------------------------


@pytest.mark.parametrize("exact", [False, True])
def test_gradcheck_json(capsys, exact):
    argv = ["gradcheck", "--dataset", "sample"] + (["--exact"] if exact else [])
    code, report, err = run_json(capsys, *argv)
    assert code == 0, err
    assert report["passed"] is True
    assert report["exact"] is exact
    params = report["params"]
    assert list(params) == ["W1", "b1", "W2", "b2"]
    for name, check in params.items():
        assert {"mean_abs_diff", "max_abs_diff", "rel_error"} <= set(check), name
        assert 0 <= check["mean_abs_diff"] <= check["max_abs_diff"], name
        assert check["rel_error"] < report["threshold"], name
    # Seed 0 puts no ReLU corner within h of a perturbed input, so the means below are clean;
    # about 1 seed in 6 has such "kinked" elements, which inflate W1/b1's mean |diff|.
    assert all(check.get("kinked", 0) == 0 for check in params.values())
    if exact:  # the book's figures: 2.2e-13 (W1) .. 1.2e-10 (b2)
        assert params["W1"]["mean_abs_diff"] < 1e-11
        assert params["b2"]["mean_abs_diff"] < 1e-9
    else:  # the 1e-7 inside log() that backprop ignores shows in b2
        assert 1e-8 < params["b2"]["mean_abs_diff"] < 1e-6


def test_gradcheck_text_is_a_table_and_a_verdict(capsys):
    code, out, err = run(capsys, "gradcheck", "--dataset", "sample", "--exact")
    assert code == 0, err
    assert "exact mode" in out
    for name in ("W1", "b1", "W2", "b2"):
        assert re.search(rf"{name} .*\d\.\d\de-\d\d .*pass", out), name
    assert re.search(r"^passed in \d+\.\d{3} s$", out, re.MULTILINE)


def test_gradcheck_table_counts_the_elements_at_kinks_within_80_columns():
    """Kinked elements count in mean/max |diff| but not in rel err: the row says how many, so a
    max |diff| of 1e-3 beside a pass explains itself."""
    import numpy as np
    from rich.console import Console

    from bp_tui.cli.gradcheck import report_table
    from bp_tui.nn.gradcheck import GradCheckReport, compare

    backprop = np.array([0.01, -0.02, 0.03, 0.04])
    across_corner = np.array([0.01, -0.02, 0.03, 0.5])  # the last element steps over a kink
    params = {
        "W10": compare(backprop, backprop.copy(), 1e-7),
        "b10": compare(backprop, across_corner, 1e-7, kinked=np.array([0, 0, 0, 1], bool)),
        "b9": compare(backprop, across_corner, 1e-7, kinked=np.ones(4, bool)),
    }
    report = GradCheckReport(params, exact=True, threshold=1e-7, seconds=0.1, explanation="")
    console = Console(width=200, record=True)
    console.print(report_table(report))
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    header = next(line for line in lines if "param" in line)
    assert "at kinks" in header
    cells = {
        row[0]: row for line in lines if len(row := re.split(r" *[│┃] *", line.strip("│ "))) > 4
    }
    kinks = [c.strip() for c in header.strip("┃ ").split("┃")].index("at kinks")
    assert cells["W10"][kinks] == "" and cells["b10"][kinks] == "1" and cells["b9"][kinks] == "4"
    assert "pass" in cells["b10"][-1] and "not judged" in cells["b9"][-1]


# ---- data info --------------------------------------------------------------------------------


def test_data_info_shows_the_shipped_sample_and_the_default(capsys, isolated_dirs):
    code, out, err = run(capsys, "data", "info")
    assert code == 0, err
    assert str(isolated_dirs / "cache") in out and "$BP_TUI_DATA_DIR" in out
    assert re.search(r"^mnist +not cached", out, re.MULTILINE)
    assert re.search(r"^sample +shipped +1 npz", out, re.MULTILINE)
    assert re.search(r"^sample file: .*mnist-sample\.npz$", out, re.MULTILINE)
    assert re.search(r"^default data set: sample - using the shipped sample", out, re.MULTILINE)


# ---- the real entry point ---------------------------------------------------------------------


def bp_tui(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", *argv], capture_output=True, text=True, timeout=60
    )


def test_python_m_bp_tui_trains_and_exits_0():
    done = bp_tui("train", "--dataset", "sample", "--iters", "200", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == SUMMARY_KEYS
    assert summary["iterations"] == 200 and summary["epochs"] == 2.0
    assert [int(m["iter"]) for m in evaluations(done.stderr)] == [100, 200]
    assert done.stderr.count("\n") == 2, done.stderr  # the lines alone: no progress-bar residue


def test_python_m_bp_tui_rejects_a_bad_value_with_status_2():
    done = bp_tui("train", "--batch-size", "0")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "bp-tui: error: --batch-size must be a whole number from 1 to 1,000,000 (got 0)"
    ]


@pytest.mark.book
def test_the_books_recipe_on_the_sample_reaches_094(capsys):
    """The book's recipe whole (10,000 iterations) on the shipped sample reaches test acc >= 0.94:
    the one test that trains a full run, about 5 s; `pytest -m "not book"` leaves it out."""
    code, summary, _ = run_json(capsys, "train", "--dataset", "sample")
    assert code == 0
    assert summary["iterations"] == 10_000 and summary["epochs"] == 100.0
    assert summary["test_acc"] >= 0.94


@pytest.mark.parametrize("given, speed", [("5", 5.0), ("0.5", 0.5), ("full", None), ("FULL", None)])
def test_speed_is_iterations_a_second_or_full(given, speed):
    from bp_tui.cli import build_parser

    assert build_parser().parse_args(["--speed", given]).speed == speed


@pytest.mark.parametrize("given", ["0", "-1", "nan", "fast", "1e9"])
def test_a_bad_speed_is_one_line(capsys, given):
    code, out, err = run(capsys, "--speed", given)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--speed" in err


def test_a_run_stuck_at_chance_is_named(capsys):
    code, out, err = run(capsys, "train", "--dataset", "sample", "--lr", "20", "--iters", "400")
    assert code == 0
    assert err.count("guessing at chance level") == 1 and "lower --lr" in err
    code, _, err = run(capsys, "train", "--dataset", "sample", "--iters", "400")
    assert code == 0 and "chance" not in err  # the book's recipe learns


def test_a_deep_sigmoid_net_of_tiny_weights_at_chance_is_told_its_cause_and_xavier(capsys):
    """§6.2: std 0.01 through four sigmoid layers starves the gradient. A lower rate (what a
    two-layer net at chance needs) would only make it worse: the advice is the init."""
    deep = ("--hidden", "100,100,100,100", "--activation", "sigmoid", "--init", "std")
    code, _, err = run(capsys, "train", "--dataset", "sample", "--iters", "300", *deep)
    assert code == 0 and err.count("guessing at chance level") == 1
    assert "the gradient vanishes through 4 layers of std 0.01 weights" in err
    assert "try --init xavier" in err and "--lr" not in err


def test_the_command_line_knows_every_hyperparameter():
    import dataclasses

    from bp_tui.cli.options import HYPERPARAMETERS
    from bp_tui.engine import HyperParams

    assert HYPERPARAMETERS == tuple(f.name for f in dataclasses.fields(HyperParams))
