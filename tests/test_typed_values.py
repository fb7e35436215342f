"""Numbers as people type them, read by one parser for the edit form and the command line: a
comma is a thousands separator of a whole number (10,000) and nothing else."""

from __future__ import annotations

import pytest

from bp_tui.engine.config import parse_value
from bp_tui.errors import ConfigError
from tests.helpers import run_cli as run


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("batch_size", "10,000", 10_000),
        ("iters", "1,000,000", 1_000_000),
        ("seed", "1_000", 1_000),
        ("lr", "0.5", 0.5),
        ("lr", " 1e-3 ", 0.001),
        ("eval_every", "", None),
    ],
)
def test_thousands_separators_and_plain_numbers_are_read(field, text, value):
    assert parse_value(field, text) == value


@pytest.mark.parametrize(
    ("field", "text", "said"),
    [
        ("lr", "0,5", "use a point: 0.5"),  # was read as 5
        ("lr", "100,,50", "positive number"),  # was read as 10050
        ("lr", "1,000", "positive number"),
        ("batch_size", "100,50", "groups of three digits"),  # was read as 10050
        ("iters", "1,0000", "groups of three digits"),
        ("iters", ",100", "groups of three digits"),
        ("seed", "1,,000", "groups of three digits"),
    ],
)
def test_any_other_comma_is_refused_with_the_fields_own_error(field, text, said):
    with pytest.raises(ConfigError) as refused:
        parse_value(field, text)
    assert refused.value.field == field
    assert said in refused.value.problem and repr(text) in refused.value.problem


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["--lr", "0,5"],
            "--lr must be a positive number such as 0.1; use a point: 0.5 (got '0,5')",
        ),
        (["--batch-size", "100,50"], "--batch-size must be a whole number from 1 to 1,000,000"),
    ],
)
def test_the_command_line_reads_commas_as_the_form_does(capsys, argv, said):
    code, _, err = run(capsys, "train", "--dataset", "sample", "--iters", "1", *argv)
    assert code == 2 and err.startswith(f"bp-tui: error: {said}"), err


def test_the_command_line_takes_thousands_separators(capsys):
    code, out, err = run(capsys, "train", "--dataset", "sample", "--iters", "1,000", "--json")
    assert code == 0, err
    assert '"iterations": 1000' in out


@pytest.mark.parametrize("flag", ["--hidden", "--batch-size", "--iters", "--seed", "--lr"])
def test_a_bad_value_is_one_message_whatever_is_wrong_with_it(capsys, flag):
    """`--hidden x` (refused by argparse) and `--hidden 0` (refused by the range check) said
    the same thing two ways: "argument --hidden: expects..." and "--hidden must be..."."""
    said = []
    for text in ("x", "0" if flag != "--seed" else "-1"):
        code, _, err = run(capsys, "train", flag, text)
        assert code == 2
        said.append(err.strip().rsplit(" (got ", 1)[0])
    assert said[0] == said[1] and said[0].startswith(f"bp-tui: error: {flag} must be "), said


@pytest.mark.parametrize(
    "argv",
    [
        ("--hidden", "0"),
        ("--batch-size", "100000", "--dataset", "sample"),  # checked after the parser's work
    ],
)
def test_without_a_terminal_a_bad_value_is_named_not_the_terminal(capsys, argv):
    """`bp-tui --hidden 0 </dev/null` said "the dashboard needs a terminal" (tests have none)."""
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith(f"bp-tui: error: {argv[0]} must be"), err


@pytest.mark.parametrize("command", [(), ("train",)])
def test_a_batch_larger_than_the_training_set_is_refused_naming_both(capsys, command):
    """--batch-size 100000 on the 10,000-image sample made each iteration ten epochs."""
    code, out, err = run(capsys, *command, "--dataset", "sample", "--batch-size", "100,000")
    assert code == 2 and out == ""
    assert err == (
        "bp-tui: error: --batch-size must be at most 10,000, the training images of the data "
        "set (got 100,000)\n"
    )
