"""`bp-tui check` on the corpus in tests/learners: every fault named wrong for its real reason,
every correct class passed, as .py and as a notebook made of the same code (one class a cell).

Each case runs the real thing: a child process loads the file and checks it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from bp_tui.learner import DOES_NOT_RUN, PASSED, WRONG, check_path
from bp_tui.learner.names import BOOK_CLASSES, book_name_of
from tests.helpers import run_cli, wait_until

LEARNERS = Path(__file__).parent / "learners"

# fault file -> {class: (status, words of the likely cause)}; every other class must pass.
# A TwoLayerNet built on a faulty layer is named with it, for that reason.
NET_USES = {
    "Affine": (WRONG, "uses your Affine"),
    "Relu": (WRONG, "uses your Relu"),
    "SoftmaxWithLoss": (WRONG, "uses your SoftmaxWithLoss"),
}
FAULTS = {
    "softmax_no_batch_size": {
        "SoftmaxWithLoss": (WRONG, "batch size"),
        "TwoLayerNet": NET_USES["SoftmaxWithLoss"],
    },
    "softmax_over_the_batch": {
        "SoftmaxWithLoss": (WRONG, "whole batch"),
        "TwoLayerNet": NET_USES["SoftmaxWithLoss"],
    },
    "softmax_backward_returns_none": {
        "SoftmaxWithLoss": (WRONG, "backward returns None"),
        "TwoLayerNet": (DOES_NOT_RUN, "uses your SoftmaxWithLoss"),
    },
    "softmax_epsilon_outside_the_log": {"SoftmaxWithLoss": (WRONG, "1e-7 outside the log")},
    "affine_db_is_dout": {"Affine": (WRONG, "db = dout"), "TwoLayerNet": NET_USES["Affine"]},
    "affine_grads_never_stored": {
        "Affine": (WRONG, "computed but never stored"),
        "TwoLayerNet": NET_USES["Affine"],
    },
    "affine_forward_returns_none": {
        "Affine": (WRONG, "forward returns None"),
        "TwoLayerNet": (DOES_NOT_RUN, "uses your Affine"),
    },
    "affine_dot_dout_x": {
        "Affine": (WRONG, "np.dot(self.x.T, dout)"),
        "TwoLayerNet": NET_USES["Affine"],
    },
    "affine_dw_transposed": {"Affine": (WRONG, "dW transposed"), "TwoLayerNet": NET_USES["Affine"]},
    "affine_dw_adds_up": {
        "Affine": (WRONG, "a += where = belongs"),
        "TwoLayerNet": (WRONG, "called a second time"),
    },
    "net_extra_relu_on_scores": {"TwoLayerNet": (WRONG, "extra ReLU on the scores")},
    "net_misspelled_lastlayer": {"TwoLayerNet": (DOES_NOT_RUN, "lastlayer is set")},
    "typo_foward": {"Sigmoid": (DOES_NOT_RUN, "foward is defined")},
    "typo_backword": {
        "Relu": (DOES_NOT_RUN, "backword is defined"),
        "TwoLayerNet": (DOES_NOT_RUN, "backword"),
    },
    "typo_slef": {
        "Affine": (DOES_NOT_RUN, "typo of self"),
        "TwoLayerNet": (DOES_NOT_RUN, "typo of self"),
    },
    "typo_sef": {"MulLayer": (DOES_NOT_RUN, "first parameter is sef")},
    "typo_int": {
        "Affine": (DOES_NOT_RUN, "__int__ is a typo of __init__"),
        "TwoLayerNet": (DOES_NOT_RUN, "uses your Affine"),
    },
    "undefined_name": {"Sigmoid": (DOES_NOT_RUN, "grad_of is never defined")},
    "mul_x_y_swapped": {"MulLayer": (WRONG, "x and y swapped")},
    "relu_mask_wrong_side": {
        "Relu": (WRONG, "mask is on the wrong side"),
        "TwoLayerNet": NET_USES["Relu"],
    },
    "sigmoid_derivative_from_x": {"Sigmoid": (WRONG, "from x instead of out")},
    # forward wrong, backward the book's: the fault is forward's line, for dx too
    "relu_forward_mask_wrong_side": {
        "Relu": (WRONG, "mask is on the wrong side"),
        "TwoLayerNet": NET_USES["Relu"],
    },
    "sigmoid_forward_sign": {"Sigmoid": (WRONG, "fix forward")},
    "affine_forward_minus_b": {"Affine": (WRONG, "fix forward"), "TwoLayerNet": NET_USES["Affine"]},
}


def as_notebook(source: Path, folder: Path) -> Path:
    """The same code as a notebook: imports in the first cell, each top-level def its own."""
    cells, current = [], []
    for line in source.read_text().splitlines():
        if re.match(r"(class |def |# %%)", line) and current:
            cells.append("\n".join(current))
            current = []
        if not line.startswith("# %%"):
            current.append(line)
    cells.append("\n".join(current))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# {source.stem}")] + [
        nbformat.v4.new_code_cell(text) for text in cells
    ]
    path = folder / f"{source.stem}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(params=["py", "ipynb"])
def form(request, tmp_path):
    """A function giving the learner's file in the form under test."""

    def make(name: str) -> Path:
        source = LEARNERS / f"{name}.py"
        return source if request.param == "py" else as_notebook(source, tmp_path)

    make.notebook = request.param == "ipynb"
    return make


def verdicts(report) -> dict[str, str]:
    return {c.book_name: c.status for c in report.classes}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_is_named_for_its_reason(fault, form):
    report = check_path(form(f"fault_{fault}"))
    expected = FAULTS[fault]
    assert set(verdicts(report)) == set(BOOK_CLASSES)
    for result in report.classes:
        status, cause = expected.get(result.book_name, (PASSED, None))
        assert result.status == status, (result.book_name, result.findings)
        if cause:
            words = " ".join(f"{f.what} {f.cause}" for f in result.findings)
            assert cause in words, (result.book_name, words)
    # Every finding names the line that made the wrong value, the one marked "# fault" (not
    # where it is returned, read or raises), a net's on a wrong layer included.
    for result in report.classes:
        for finding in result.findings:
            assert "# fault" in finding.place.text, (result.book_name, finding)
            assert (finding.place.cell is not None) == form.notebook
    assert report.exit_code == 1


@pytest.mark.parametrize("name", ["book_style", "style_korean", "style_japanese"])
def test_correct_classes_in_other_styles_pass(name, form):
    report = check_path(form(name))
    assert verdicts(report) == dict.fromkeys(BOOK_CLASSES, PASSED), [
        (c.name, c.findings) for c in report.classes if c.status != PASSED
    ]
    assert report.exit_code == 0


def test_the_seed_notebook():
    report = check_path(LEARNERS / "seed_notebook.ipynb")
    assert verdicts(report) == {
        "MulLayer": PASSED,
        "AddLayer": PASSED,
        "Relu": PASSED,
        "Sigmoid": PASSED,
        "Affine": DOES_NOT_RUN,
        "SoftmaxWithLoss": PASSED,
        "TwoLayerNet": DOES_NOT_RUN,
    }
    by_name = {c.book_name: c for c in report.classes}
    affine = by_name["Affine"].findings[0]
    assert "slef" in affine.what and affine.cause == "a typo of self?"
    assert (affine.place.cell, affine.place.text) == (6, "out = np.dot(x, slef.W) + self.b")
    net = by_name["TwoLayerNet"].findings[0]
    assert (net.place.cell, net.place.text) == (8, "slef.lastLayer = SoftmaxWithLoss()")
    assert any("in place" in note for note in by_name["Relu"].notes)
    # the apple example, the gradient check and the training loop are never run
    assert report.skipped_statements > 20
    assert any("would replace your Affine" in note for note in report.notes)


def test_the_seed_affine_once_slef_is_fixed_shows_its_dout():
    (affine,) = check_path(LEARNERS / "seed_affine_dout.py").classes
    assert affine.status == DOES_NOT_RUN
    assert "name 'dout' is not defined" in affine.findings[0].what
    assert affine.findings[0].cause == "a typo of dOut?"


def test_a_folder_resolves_imports_between_its_files():
    report = check_path(LEARNERS / "folder")
    assert verdicts(report) == dict.fromkeys(
        ["Relu", "Affine", "SoftmaxWithLoss", "TwoLayerNet"], PASSED
    )
    assert {Path(c.place.file).name for c in report.classes} == {"layers.py", "two_layer_net.py"}
    assert report.not_found == ["MulLayer", "AddLayer", "Sigmoid"]


def test_a_name_the_book_api_lacks_is_reported_not_a_crash(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        "from common.layers import Convolution, Relu\n"
        "from common.functions import softmax\n"
        "from common.util import smooth_curve\n"
        "from common.multi_layer_net import MultiLayerNet\n"
        "class Sigmoid:\n"
        "    def forward(self, x):\n"
        "        self.out = 1 / (1 + np.exp(-x))\n"
        "        return self.out\n"
        "    def backward(self, dout):\n"
        "        return dout * (1.0 - self.out) * self.out\n"
    )
    report = check_path(path)
    assert any("no common.layers.Convolution" in note for note in report.notes)
    # bp-tui has these: bound, not reported
    assert not any("smooth_curve" in note or "MultiLayerNet" in note for note in report.notes)
    (sigmoid,) = report.classes
    # numpy was never imported: named, with the line
    assert sigmoid.status == DOES_NOT_RUN
    assert "name 'np' is not defined" in sigmoid.findings[0].what
    assert sigmoid.findings[0].place.line == 7


@pytest.mark.parametrize(
    "name, book",
    [
        ("SoftmaxWithLossLayer", "SoftmaxWithLoss"),
        ("Affine_Layer", "Affine"),
        ("ReLU", "Relu"),
        ("Sigmod", "Sigmoid"),
        ("MultiplyLayer", "MulLayer"),
        ("Two_Layer_Net", "TwoLayerNet"),
        ("TwoLayerNetwork", "TwoLayerNet"),
        ("Afine", "Affine"),
        ("Dropout", None),
        ("Net", None),
    ],
)
def test_book_classes_are_found_by_name_and_close_variants(name, book):
    assert book_name_of(name) == book


def test_exit_status_and_json(capsys):
    code, out, _ = run_cli(capsys, "check", str(LEARNERS / "book_style.py"))
    assert code == 0 and out.rstrip().endswith("7 passed")
    code, out, _ = run_cli(capsys, "check", str(LEARNERS / "fault_typo_slef.py"))
    assert code == 1 and out.rstrip().endswith("5 passed, 2 do not run")  # was "2 does not run"
    code, out, _ = run_cli(capsys, "check", "--json", str(LEARNERS / "fault_affine_db_is_dout.py"))
    data = json.loads(out)
    assert code == 1 and data["passed"] is False
    affine = next(c for c in data["classes"] if c["book_name"] == "Affine")
    assert affine["status"] == WRONG
    assert affine["findings"][0]["place"]["text"] == "self.db = dout  # fault"


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("missing.py", None, "no such file"),
        ("broken.py", "class Relu:\n    def forward(self, x)\n", "line 2: SyntaxError"),
        ("notes.txt", "hello", "not a .py file"),
        ("broken.ipynb", "{not json", "not a Jupyter notebook"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line_and_status_2(capsys, tmp_path, name, text, words):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    code, out, err = run_cli(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err


def test_a_notebook_cell_that_does_not_parse_is_skipped_with_a_note(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("def broken(:\n    pass"),
        nbformat.v4.new_code_cell((LEARNERS / "style_korean.py").read_text()),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    report = check_path(path)
    assert report.passed
    assert any("cell 2 line 1: SyntaxError" in note for note in report.notes)


def test_hyperparameter_options_are_refused(capsys):
    code, _, err = run_cli(capsys, "--lr", "0.1", "check", str(LEARNERS / "book_style.py"))
    assert code == 2 and "--lr does nothing for check" in err


def test_watch_checks_again_when_the_file_is_saved(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text((LEARNERS / "book_style.py").read_text())
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "bp_tui", "check", "--watch", str(path)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "watching" in out.read_text())
        faulty = (LEARNERS / "fault_mul_x_y_swapped.py").read_text()

        def saved_and_checked() -> bool:
            # saved again until seen: the watcher may start watching after its first line
            if "6 passed, 1 wrong" in out.read_text():
                return True
            path.write_text(faulty)
            time.sleep(0.5)
            return False

        wait_until(saved_and_checked)
        assert "x and y swapped" in out.read_text()
    finally:
        watcher.send_signal(signal.SIGTERM)
        code = watcher.wait(timeout=60)
    assert code == 128 + signal.SIGTERM
    assert out.read_text().splitlines()[-1] == "bp-tui: stopped by SIGTERM"


@pytest.mark.parametrize(
    "fault, node",
    [
        ("relu_mask_wrong_side", "Relu1 (Relu): its dx"),
        ("softmax_no_batch_size", "lastLayer (SoftmaxWithLoss): its dx"),
        ("affine_dw_transposed", "Affine2 (Affine): its dW"),
    ],
)
def test_a_wrong_net_names_the_first_wrong_node_of_its_backward_pass(fault, node):
    report = check_path(LEARNERS / f"fault_{fault}.py")
    net = next(c for c in report.classes if c.book_name == "TwoLayerNet")
    assert any(f"the first wrong node of the backward pass is {node}" in n for n in net.notes)


def test_a_learner_numpy_py_beside_their_file_does_not_stand_in_for_numpy(tmp_path):
    (tmp_path / "numpy.py").write_text("raise SystemExit('not numpy')\n")
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("raise SystemExit('not the book')\n")
    path = tmp_path / "mine.py"
    path.write_text((LEARNERS / "book_style.py").read_text())
    assert check_path(path).passed


def test_timeout_must_be_a_positive_number_of_seconds(capsys):
    code, _, err = run_cli(capsys, "check", "--timeout", "0", str(LEARNERS / "book_style.py"))
    assert code == 2 and "--timeout expects seconds" in err


def test_the_parent_never_imports_what_runs_a_learner_s_code():
    from tests.test_architecture import graph

    runs_their_code = {
        f"bp_tui.learner.{m}" for m in ("load", "checks", "probe", "net_check", "graph", "child")
    }
    edges = graph()
    parent_side = [
        m
        for m in edges
        if m.startswith(("bp_tui.cli", "bp_tui.ui", "bp_tui.engine"))
        or m in {"bp_tui.learner", "bp_tui.learner.sandbox", "bp_tui.learner.report"}
    ]
    # The one door: --layers trains their layers in a process started for that path (the
    # engine's, train's), and only the Trainer opens it, when given a path.
    door = "bp_tui.learner.training"
    assert {m for m, targets in edges.items() if door in targets} == {"bp_tui.engine.trainer"}
    seen, todo = set(), list(parent_side)
    while todo:  # everything the parent side imports, directly or not
        module = todo.pop()
        for target in edges.get(module, ()):
            if target in edges and target not in seen and target != door:
                seen.add(target)
                todo.append(target)
    assert seen & runs_their_code == set()


def test_the_command_s_default_time_limit_is_the_sandbox_s():
    from bp_tui.cli import check
    from bp_tui.learner import DEFAULT_LIMIT

    assert check.DEFAULT_LIMIT == DEFAULT_LIMIT


def test_a_net_s_wrong_gradient_is_named_as_the_gradient_not_the_weight(capsys):
    """'W1 has shape (4, 6)' blamed the weight, which is right; grads['W1'] is what is wrong."""
    code, out, _ = run_cli(capsys, "check", str(LEARNERS / "fault_affine_dw_transposed.py"))
    assert code == 1 and "grads['W1'] has shape (4, 6); it should be (6, 4)" in out
    assert "the first wrong node of the backward pass is Affine2" in out
