"""The dashboard with a learner's layers (bp-tui --layers): the header says so, and the
gradient-check panel checks their backprop on the batch, per parameter, through the engine."""

import re
from pathlib import Path

from bp_tui.engine import HyperParams
from bp_tui.engine.remote import ThreadLink
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.widgets.status import StatusLine
from tests.helpers import tiny_data, until
from tests.test_dashboard import text_of

LEARNERS = Path(__file__).parent / "learners"
HP = HyperParams(iters=40, batch_size=20, hidden=(8,))


def shown(panel) -> str:
    """The panel's text as one line (its lines wrap at its width)."""
    lines = (line.strip("│ ") for line in text_of(panel).splitlines())
    return re.sub(r"\s+", " ", " ".join(lines))


def app_on(layers: Path, hp: HyperParams = HP):
    links = []

    def factory():
        links.append(
            ThreadLink(
                hp, tiny_data(), start=False, layers=layers, progress_interval=0.02, blas_threads=1
            )
        )
        return links[-1]

    app = BpTuiApp(factory, hp, start=False)
    app.animation_level = "none"
    return app, links


async def test_their_correct_layers_pass_the_check_and_train():
    app, links = app_on(LEARNERS / "book_style.py")
    async with app.run_test(size=(120, 40)) as pilot:
        panel, header = app.query_one("#gradcheck"), app.query_one(StatusLine)
        await until(pilot, lambda: "your layers" in text_of(header))
        await until(pilot, lambda: "passed" in text_of(panel))
        await until(pilot, lambda: "your layers: your backprop" in text_of(panel))
        assert "first wrong node" not in text_of(panel)
        await pilot.press("space")
        await until(pilot, lambda: app.summary is not None)
        assert app.summary["iterations"] == 40


async def test_a_wrong_softmax_fails_the_check_in_every_parameter_and_still_trains():
    app, links = app_on(LEARNERS / "fault_softmax_no_batch_size.py")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#gradcheck")
        await until(pilot, lambda: "FAILED" in text_of(panel))
        for name in ("W1", "b1", "W2", "b2"):
            await until(
                pilot,
                lambda name=name: any(
                    re.search(rf"\b{name}\b.*✖", line) for line in text_of(panel).splitlines()
                ),
            )
        # the node where it starts, not the parameters where it shows
        await until(
            pilot,
            lambda: "first wrong node: the loss (SoftmaxWithLoss), its dx" in shown(panel),
        )
        await pilot.press("space")
        await until(pilot, lambda: app.summary is not None)
        assert app.summary["iterations"] == 40


async def test_a_wrong_relu_is_named_the_first_wrong_node():
    app, _ = app_on(LEARNERS / "fault_relu_mask_wrong_side.py")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#gradcheck")
        await until(
            pilot,
            lambda: re.search(
                r"first wrong node: Relu1 \(Relu\), its dx\[[^]]*\] is \S+, should be 0",
                shown(panel),
            ),
        )


async def test_a_layer_that_raises_pauses_the_run_with_a_notice_and_a_fixed_file_trains_after_reset(
    tmp_path,
):
    """Their Relu has `backword`: the first step raises. The run is paused, not failed, the
    notice names the layer, method and line; fixed and reset, the same dashboard trains."""
    from bp_tui.engine import RunState

    theirs = tmp_path / "layers.py"
    faulty = (LEARNERS / "fault_typo_backword.py").read_text()
    theirs.write_text(faulty)
    app, links = app_on(theirs)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await pilot.press("space")
        await until(
            pilot,
            lambda: any(
                "'Relu' object has no attribute 'backward' at layers.py line 105" in n.message
                # the key and what it does: reset loads their file again
                and n.message.endswith("(r: reset with your fixed file)")
                for n in app._notifications
            ),
        )
        await until(pilot, lambda: app.run_state is RunState.PAUSED)
        assert app.summary is None and links[-1].engine.error is None
        # Why it is paused stays in the Progress panel once the notice has gone.
        await until(pilot, lambda: "Your code stopped the run: " in str(app.alert))
        theirs.write_text(faulty.replace("def backword(", "def backward("))
        await pilot.press("r")
        await until(pilot, lambda: app.run_state is RunState.READY)
        await until(pilot, lambda: "Your code" not in str(app.alert))
        await pilot.press("space")
        await until(pilot, lambda: app.summary is not None)
        assert app.summary["iterations"] == HP.iters


async def test_watch_checks_each_save_and_the_next_reset_trains_the_saved_layers(tmp_path):
    """--watch: a save is checked at once (bp-tui check, in its child) and told in a notice;
    r then reloads the layers into the run and the gradient check names their fault."""
    import time

    theirs = tmp_path / "layers.py"
    theirs.write_text((LEARNERS / "book_style.py").read_text())
    app, _ = app_on(theirs)
    app.watch_path = theirs
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#gradcheck")
        await until(pilot, lambda: "your layers: your backprop" in text_of(panel))
        assert "first wrong node" not in shown(panel)
        wrong = (LEARNERS / "fault_relu_mask_wrong_side.py").read_text()
        written = [0.0]

        def saved_and_told() -> bool:
            told = any("layers.py saved · Relu wrong" in n.message for n in app._notifications)
            if not told and time.monotonic() - written[0] > 3:  # the watcher may start late
                theirs.write_text(wrong)
                written[0] = time.monotonic()
            return told

        await until(pilot, saved_and_told)
        await pilot.press("r")
        await until(pilot, lambda: "first wrong node: Relu1 (Relu)" in shown(panel))


async def test_a_gradient_of_the_wrong_shape_fails_the_check_and_says_which_shape():
    """db = dout: their db has the batch's shape. The check ends (it never hung on it): FAILED,
    and the first wrong node with the shape its gradient should have."""
    app, _ = app_on(LEARNERS / "fault_affine_db_is_dout.py")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#gradcheck")
        await until(pilot, lambda: "FAILED" in text_of(panel))
        await until(
            pilot,
            lambda: (
                "first wrong node: Affine2 (Affine), its db has shape (3, 10), should be (10,)"
                in shown(panel)
            ),
        )
        # Nothing was compared for a misshapen gradient: its figures are "–", not inf.
        await until(pilot, lambda: "inf" not in shown(panel) and " – " in shown(panel))


async def test_gradients_never_stored_fail_the_check_instead_of_checking_for_ever():
    """Affine computes dW and db but never stores them: the check ends, FAILED."""
    app, _ = app_on(LEARNERS / "fault_affine_grads_never_stored.py")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#gradcheck")
        await until(
            pilot,
            lambda: (
                "FAILED" in text_of(panel)
                and "gave no gradient for W1, b1, W2, b2: does your Affine.backward store self.dW"
                in shown(panel)
            ),
        )


async def test_a_run_their_layers_blow_up_points_to_bp_tui_check_not_the_learning_rate():
    """Softmax over the whole batch: its loss is about ln(10 N), over the divergence line for a
    batch of 200 at any rate. The cause is their code."""
    from bp_tui.engine import RunState

    app, _ = app_on(LEARNERS / "fault_softmax_over_the_batch.py", HP.replace(batch_size=200))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state is RunState.READY)
        await pilot.press("space")
        await until(pilot, lambda: app.run_state is RunState.DIVERGED)
        check = f"bp-tui check {LEARNERS / 'fault_softmax_over_the_batch.py'}"
        await until(pilot, lambda: check in app.alert.plain)
        assert "Lower the rate" not in app.alert.plain
        await until(
            pilot,
            lambda: any(
                f"your layers are the likely cause: {check}" in n.message
                for n in app._notifications
            ),
        )
