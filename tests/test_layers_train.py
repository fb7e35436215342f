"""`bp-tui train --layers PATH`: the learner's own layers trained through the book's API, in real
processes. A correct file learns; a wrong layer still trains (its loss goes wrong); a layer that
raises is one line naming it and its line, status 2; serve refuses --layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LEARNERS = Path(__file__).parent / "learners"


TRAIN = ["train", "--dataset", "sample", "--iters", "300", "--seed", "3", "--json"]


def bp_tui(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", *argv], capture_output=True, text=True, timeout=600
    )


def train(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return bp_tui(*TRAIN, "--layers", str(path), *extra)


def test_their_correct_layers_learn_as_ours_do():
    theirs = train(LEARNERS / "book_style.py")
    assert theirs.returncode == 0, theirs.stderr
    assert json.loads(theirs.stdout)["your_classes"] == ["TwoLayerNet"]
    said = bp_tui(
        *[a for a in TRAIN if a != "--json"],
        "--iters",
        "20",
        "--layers",
        str(LEARNERS / "book_style.py"),
    )
    assert said.stdout.startswith(
        "your layers from book_style.py: your TwoLayerNet trains this run"
    )
    ours = bp_tui(*TRAIN)
    mine, book = json.loads(theirs.stdout), json.loads(ours.stdout)
    # the same seed's weights and batches: a right backprop lands where ours does
    assert mine["test_acc"] > 0.8
    assert abs(mine["test_acc"] - book["test_acc"]) < 0.03


def test_a_wrong_layer_still_trains_and_its_loss_goes_wrong():
    wrong = train(LEARNERS / "fault_softmax_no_batch_size.py")
    assert wrong.returncode == 0, wrong.stderr
    summary = json.loads(wrong.stdout)
    assert summary["iterations"] == 300
    assert summary["test_acc"] < 0.5


def test_their_layers_in_bp_tuis_deeper_net():
    deep = train(LEARNERS / "book_style.py", "--hidden", "40,30", "--init", "he")
    assert deep.returncode == 0, deep.stderr
    assert json.loads(deep.stdout)["test_acc"] > 0.5


@pytest.mark.hostile
def test_a_layer_that_raises_is_one_line_naming_it_and_its_line():
    result = train(LEARNERS / "fault_typo_slef.py")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "your Affine.forward raised NameError" in lines[0]
    assert "fault_typo_slef.py line" in lines[0] and "slef.W" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.hostile
def test_a_gradient_of_the_wrong_shape_is_one_line():
    result = train(LEARNERS / "fault_affine_db_is_dout.py")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "gradient of b" in result.stderr and "has shape (100," in result.stderr


@pytest.mark.hostile
def test_their_layers_diverging_point_to_bp_tui_check_not_the_learning_rate():
    path = LEARNERS / "fault_softmax_over_the_batch.py"
    result = train(path)
    assert result.returncode == 2
    assert f"your layers are the likely cause: bp-tui check {path} says" in result.stderr
    assert "learning rate and reset" not in result.stderr


@pytest.mark.hostile
@pytest.mark.parametrize(
    "argv, said",
    [
        (["serve", "--layers", "x.py"], "not serve (the browser never runs code)"),
        (["--layers", "x.py", "serve"], "not serve (the browser never runs code)"),
        (["train", "--layers", "/nonexistent/x.py"], "no such file or folder"),
        (["train", "--layers", "notes.txt"], "not a .py file"),
        # the dashboard reads the file before it opens, as train does
        (["--layers", "binary.py"], "binary.py: not UTF-8 text"),
        (["--layers", "broken.ipynb", "--paused"], "broken.ipynb: not a Jupyter notebook"),
        (["train", "--layers", "broken.ipynb"], "broken.ipynb: not a Jupyter notebook"),
    ],
)
def test_refused_layers(argv, said, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "binary.py").write_bytes(bytes(range(256)))
    (tmp_path / "broken.ipynb").write_text("not json {")
    result = subprocess.run(
        [sys.executable, "-m", "bp_tui", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert said in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr


def hanging(tmp_path: Path, statement: str) -> Path:
    """book_style.py with `statement` at the start of Relu.forward (line 27)."""
    text = (LEARNERS / "book_style.py").read_text()
    path = tmp_path / "layers.py"
    path.write_text(
        text.replace(
            "        self.mask = (x <= 0)", f"        {statement}\n        self.mask = (x <= 0)"
        )
    )
    return path


@pytest.mark.parametrize(
    "statement, said",
    [
        # an endless loop runs Python: it is stopped where it is, and the run ends as for a raise
        (
            "while True: pass",
            "your Relu.forward at layers.py line 27: while True: pass did not return within 1 s",
        ),
        # a hang in C cannot be stopped: after the grace period the process ends, saying so
        ("import time; time.sleep(3600)", "did not return within 1 s, and could not be stopped"),
    ],
)
def test_a_call_into_their_code_past_the_time_limit_is_one_line_and_status_2(
    tmp_path, statement, said
):
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bp_tui",
            *TRAIN,
            "--layers",
            str(hanging(tmp_path, statement)),
            "--timeout",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()  # only if the test failed with it still running
    assert child.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], err
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # its whole session is gone: nothing left running
        os.killpg(child.pid, 0)
