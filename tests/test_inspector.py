"""The graph inspector tab: keys, steps, the edit form and the live network (fake engine link)."""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.widgets import Input, Label, TabPane

from bp_tui.engine import HyperParams, RunState
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.ui.app import BpTuiApp
from bp_tui.ui.bindings import key_of
from bp_tui.ui.inspector.inspector import Inspector
from bp_tui.ui.messages import InspectionWanted
from bp_tui.ui.screens.help_screen import tab_sections
from bp_tui.ui.screens.inspector_edit import InputEditForm
from tests import recordings, ui_harness
from tests.helpers import until

SHAPE = (784, 50, 10)


@pytest.fixture(autouse=True)
def charts_quiet_at_exit(monkeypatch):
    """The dashboard redraws its charts every 0.1 s from an app timer, which can fire while the
    app is tearing its widgets down (NoMatches). The charts are not under test here."""
    redraw = BpTuiApp.redraw_charts

    def tolerant(self) -> None:
        try:
            redraw(self)
        except NoMatches:
            pass

    monkeypatch.setattr(BpTuiApp, "redraw_charts", tolerant)


@functools.cache
def answers(name: str = "inspection") -> tuple[ev.Inspection, ev.Inspection]:
    """What the engine answered to Inspect (recorded: tests/recordings.py): at once 100 random
    sample images and float64 parameters, then the same with the gradient check of that batch."""
    first, checked = [e for e in recordings.load(name) if isinstance(e, ev.Inspection)]
    assert first.report is None and checked.report is not None
    return first, checked


def inspection(name: str = "inspection") -> ev.Inspection:
    return answers(name)[1]


class FakeLink(ui_harness.FakeLink):
    """Starts paused on the sample; answers Inspect with a fixed Inspection, like the engine."""

    def __init__(self, answer_inspect: bool = True, recording: str = "inspection") -> None:
        hp = HyperParams()
        super().__init__(
            [
                ev.EngineReady("sample", 10_000, 2_000, SHAPE, hp),
                ev.StateChanged(RunState.PAUSED, hp),
            ]
        )
        self.answer_inspect = answer_inspect
        self.recording = recording

    def send(self, command) -> None:
        super().send(command)
        if isinstance(command, cmd.Inspect) and self.answer_inspect:
            for answer in answers(self.recording):
                self.events.put(answer)


def make_app(**link_options) -> tuple[BpTuiApp, FakeLink]:
    link = FakeLink(**link_options)
    return BpTuiApp(lambda: link, HyperParams(), start=False), link


class Host(App):
    """The inspector alone, focused as on its tab, in an app that counts its requests for the
    network: quicker to start than the dashboard, for the tests that need no charts."""

    def __init__(self) -> None:
        super().__init__()
        self.wanted = 0

    def compose(self) -> ComposeResult:
        yield Inspector()

    def on_mount(self) -> None:
        self.query_one(Inspector).tab_changed(True)

    def on_inspection_wanted(self, _: InspectionWanted) -> None:
        self.wanted += 1


async def settle(pilot, condition=lambda: True) -> None:
    """Let the app's messages through until `condition()` holds."""
    await pilot.pause()
    await until(pilot, condition)


async def open_inspector(pilot) -> Inspector:
    app = pilot.app
    await settle(pilot, lambda: app.run_state == "paused")
    await pilot.press("t")
    inspector = app.query_one(Inspector)
    await until(pilot, lambda: app.focused is inspector)
    return inspector


async def open_network(pilot) -> Inspector:
    inspector = await open_inspector(pilot)
    await pilot.press("3")
    await settle(pilot, lambda: inspector.trace is not None and inspector.inspection.report)
    return inspector


def graph_text(inspector: Inspector) -> str:
    return inspector.query_one("#insp-graph-view").render().plain


def plain(renderable, width: int = 200) -> str:
    """A Rich renderable's text, as a terminal of that width shows it."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


# ---- keys ----------------------------------------------------------------------------------------


async def test_the_tab_takes_the_keys_and_gives_them_back():
    app, link = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_inspector(pilot)
        assert app.focused is inspector
        await pilot.press("n", "e")  # the inspector's n and e, not the app's
        assert inspector.k == 0 and isinstance(app.screen, InputEditForm)
        await pilot.press("escape", "t")
        await pilot.pause()
        assert not any(isinstance(c, cmd.Step) for c in link.commands)
        assert app.focused is not inspector
        await pilot.press("n")  # the app's n again: one training step
        assert inspector.k == 0
        assert cmd.Step(1) in link.commands


async def test_steps_with_arrows_n_p_home_end_and_switches_graphs():
    async with Host().run_test(size=(120, 40)) as pilot:
        inspector = pilot.app.query_one(Inspector)
        assert (inspector.graph, inspector.k) == (1, -1)  # step 0: nothing computed yet
        await pilot.press("right", "n")
        assert inspector.k == 1
        await pilot.press("left")
        assert inspector.k == 0
        await pilot.press("p", "p", "p")  # stops at step 0
        assert inspector.k == -1
        await pilot.press("end")
        assert inspector.k == 3
        await pilot.press("right")  # stops at the last step
        assert inspector.k == 3
        await pilot.press("2")
        assert (inspector.graph, inspector.k, len(inspector.trace.steps)) == (2, -1, 8)
        await pilot.press("right", "1")  # each graph keeps its own cursor
        assert (inspector.graph, inspector.k) == (1, 3)
        await pilot.press("home", "2")
        assert inspector.k == 0
        await pilot.press("1")
        assert inspector.k == -1


async def test_step_0_shows_nothing_computed_then_forward():
    async with Host().run_test(size=(120, 40)) as pilot:
        inspector = pilot.app.query_one(Inspector)
        await pilot.press("2")
        text = graph_text(inspector)
        for given in ("100", "150", "1.1"):  # the inputs are given
            assert given in text
        assert "200" not in text and "715" not in text  # nothing computed: every other edge ?
        assert text.count("?") == 13  # 4 computed values, 9 gradients
        node = inspector.query_one("#insp-node")
        assert node.border_title.startswith("step 0 of 8")
        assert "nothing computed yet" in plain(inspector._node(inspector.palette()))
        await pilot.press("right")
        assert "200" in graph_text(inspector)


async def test_values_and_gradients_appear_step_by_step_never_as_zero():
    async with Host().run_test(size=(120, 40)) as pilot:
        inspector = pilot.app.query_one(Inspector)
        await pilot.press("2", "right")
        first = graph_text(inspector)
        assert "200" in first and "450" not in first and "715" not in first
        assert "?" in first and " 0 " not in first
        await pilot.press(*["right"] * 3)  # end of forward: 715, no gradient yet
        forward = graph_text(inspector)
        assert "715" in forward and "2.2" not in forward and "1.1" in forward  # the tax
        assert "650" in forward and forward.count("650") == 1  # a value, not yet dTax
        await pilot.press("end")
        end = graph_text(inspector)
        for number in ("715", "2.2", "110", "3.3", "165"):
            assert number in end
        assert end.count("650") == 2 and "?" not in end


async def test_edit_recomputes_the_trace():
    async with Host().run_test(size=(120, 40)) as pilot:
        app, inspector = pilot.app, pilot.app.query_one(Inspector)
        await pilot.press("2", "end", "e")
        assert isinstance(app.screen, InputEditForm)
        field = app.screen.query_one("#in-apple_num", Input)
        field.value = "4"
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, InputEditForm)
        assert inspector.inputs[2]["apple_num"] == 4
        assert inspector.trace.edges["price"].value == pytest.approx((400 + 450) * 1.1)
        assert inspector.trace.edges["apple"].grad == pytest.approx(4 * 1.1)
        assert inspector.k == 7  # the cursor stays where it was
        assert "935" in graph_text(inspector)


async def test_edit_refuses_a_bad_value_beside_its_field():
    async with Host().run_test(size=(120, 40)) as pilot:
        app, inspector = pilot.app, pilot.app.query_one(Inspector)
        await pilot.press("2", "e")
        form = app.screen
        field = form.query_one("#in-orange_num", Input)
        field.value = "2.5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert str(form.query_one("#err-orange_num", Label).render()) == (
            "a count must be a whole number (got 2.5)"
        )
        assert str(form.query_one("#err-apple", Label).render()) == ""
        assert form.focused is field
        await pilot.press("backspace")  # the text the error was about is gone: so is the error
        await until(pilot, lambda: str(form.query_one("#err-orange_num", Label).render()) == "")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not form)
        assert inspector.trace.edges["price"].value == pytest.approx(715)


async def test_graph_1_s_edit_form_describes_its_own_fields_only():
    async with Host().run_test(size=(120, 40)) as pilot:
        await pilot.press("1", "e")
        hint = str(pilot.app.screen.query_one("#inputs-hint").render())
        assert hint.startswith("apple: prices · apple_num: how many · tax: 1.1 is 10 %.")
        assert "orange" not in hint


# ---- the live network ----------------------------------------------------------------------------


async def test_graph_3_pauses_training_and_traces_the_engines_batch():
    app, link = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_network(pilot)
        sent = [type(c) for c in link.commands]
        assert sent.index(cmd.Pause) < sent.index(cmd.Inspect)
        trace = inspector.trace
        assert trace.title == "TwoLayerNet 784-50-10 (ReLU), batch of 100"
        assert len(trace.steps) == 8
        report = inspection().report
        for name, grad in trace.param_grads().items():  # the gradients the check compared
            np.testing.assert_allclose(grad, report.backprop[name], rtol=1e-6, atol=1e-12)
        assert "?" in graph_text(inspector)
        await pilot.press("end")
        text = graph_text(inspector)
        assert "(100, 784)" in text and "‖d‖" in text and "?" not in text
        # Round every tab and back on this one: a fresh batch.
        await pilot.press(*["t"] * len(app.query(TabPane)))
        await pilot.pause()
        assert sum(isinstance(c, cmd.Inspect) for c in link.commands) == 2


async def test_graph_3_waits_for_the_engine_and_refuses_edits():
    async with Host().run_test(size=(120, 40)) as pilot:
        app, inspector = pilot.app, pilot.app.query_one(Inspector)
        await pilot.press("3")
        assert app.wanted == 1
        assert inspector.trace is None and inspector.waiting
        assert "Asking the engine" in graph_text(inspector)
        await pilot.press("right", "e")
        await pilot.pause()
        assert not isinstance(app.screen, InputEditForm)


async def test_graph_3_draws_at_once_and_the_check_fills_in_where_the_cursor_is():
    first, checked = answers()
    async with Host().run_test(size=(120, 40)) as pilot:
        app, inspector = pilot.app, pilot.app.query_one(Inspector)
        await pilot.press("3")
        inspector.show_inspection(first)  # the engine's first answer: no check yet
        await pilot.pause()
        assert inspector.trace is not None and inspector.k == -1
        assert "checking…" in plain(inspector._side(inspector.palette()))
        await pilot.press("end")
        inspector.show_inspection(checked)  # the same batch, checked: the cursor stays
        await pilot.pause()
        assert inspector.k == len(inspector.trace.steps) - 1
        side = plain(inspector._side(inspector.palette()))
        assert "book mode" in side and "checking" not in side
        assert "images 27, 53, 82, … (100 random)" in side
        assert "images 27, 53, 82" in inspector.query_one("#insp-graph").border_subtitle
        assert app.wanted == 1


async def test_a_trained_net_shows_no_false_failure_in_the_inspector():
    """After 300 steps book mode's figures carry the 1e-7 offset past 1e-5 (the old ✖); the
    verdict judges backprop against its own loss: ✔ for every parameter."""
    report = inspection("trained_inspection").report
    assert max(c.rel_error for c in report.params.values()) > 1e-5
    app, _ = make_app(recording="trained_inspection")
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_network(pilot)
        await pilot.press("end")
        side = plain(inspector._side(inspector.palette()))
        assert "✖" not in side and side.count("✔") >= 4
        assert (
            "offset" in side
            and "iteration 300" in inspector.query_one("#insp-graph").border_subtitle
        )


async def test_3_asks_for_a_fresh_batch_each_time():
    app, link = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_network(pilot)
        await pilot.press("3")
        await pilot.pause()
        inspects = [c for c in link.commands if isinstance(c, cmd.Inspect)]
        assert len(inspects) == 2 and all(c.seed is None for c in inspects)


# ---- the mouse, the words ------------------------------------------------------------------------


def head_lines(inspector: Inspector) -> list[str]:
    return inspector.query_one("#insp-head").render().plain.splitlines()


async def test_the_mouse_picks_graphs_steps_and_nodes():
    async with Host().run_test(size=(120, 40)) as pilot:
        inspector = pilot.app.query_one(Inspector)
        head = inspector.query_one("#insp-head")
        await pilot.click(head, offset=(head_lines(inspector)[0].index("2 Apple and orange"), 0))
        assert (inspector.graph, inspector.k) == (2, -1)
        await pilot.click(head, offset=(head_lines(inspector)[1].index(" 3 ") + 1, 1))
        assert inspector.k == 2  # step 3: add_apple_orange going forward
        graph = inspector.query_one("#insp-graph-view")

        async def click_box(label: str, which: int = 0) -> None:
            lines = graph.render().plain.splitlines()
            cells = [
                (x, y) for y, line in enumerate(lines) for x, ch in enumerate(line) if ch == label
            ]
            await pilot.click(graph, offset=sorted(cells)[which])

        await click_box("+")  # the current node: its other step
        assert (inspector.trace.steps[inspector.k].node, inspector.k) == ("add_apple_orange", 5)
        await click_box("×", which=-1)  # the rightmost ×: mul_tax, in the phase on screen
        assert (inspector.trace.steps[inspector.k].node, inspector.k) == ("mul_tax", 4)
        await click_box("+")
        await click_box("+")  # back to its forward step
        assert inspector.k == 2
        await pilot.click(head, offset=(head_lines(inspector)[1].index(" 0 ") + 1, 1))
        assert inspector.k == -1


async def test_the_network_and_the_forms_use_the_books_names():
    async with Host().run_test(size=(120, 40)) as pilot:
        app, inspector = pilot.app, pilot.app.query_one(Inspector)
        await pilot.press("3")
        inspector.show_inspection(inspection())
        await pilot.pause()
        text = graph_text(inspector)
        assert "Relu1" in text and "SoftmaxWithLoss" in text
        assert "ReLU1" not in text and "Softmax-with-Loss" not in text
        await pilot.press(*["right"] * 4)
        node = plain(inspector._node(inspector.palette()))
        assert node.startswith("SoftmaxWithLoss   SoftmaxWithLoss: cross entropy of softmax")
        await pilot.press("1", "e")
        await until(pilot, lambda: isinstance(app.screen, InputEditForm))
        labels = [str(label.render()) for label in app.screen.query(".inputs-label")]
        assert labels == ["apple", "apple_num", "tax"]  # the edges' own names


async def test_brackets_choose_the_hidden_unit_of_the_gradient_picture():
    from tests.test_inspector_code import exact_inspection

    async with Host().run_test(size=(120, 40)) as pilot:
        inspector = pilot.app.query_one(Inspector)
        await pilot.press("right_square_bracket")  # graph 1 has no units: it says where they are
        await until(
            pilot,
            lambda: any("hidden units of graph 3" in n.message for n in pilot.app._notifications),
        )
        await pilot.press("3")
        inspector.show_inspection(exact_inspection())
        await pilot.press("end")
        strongest = int(np.argmax(np.linalg.norm(inspector.trace.edges["W1"].grad, axis=0)))
        assert f"d W1[:, {strongest}]" in plain(inspector._side(inspector.palette()))
        await pilot.press("right_square_bracket", "right_square_bracket", "left_square_bracket")
        assert inspector.unit == (strongest + 1) % 16
        assert f"d W1[:, {inspector.unit}]" in plain(inspector._side(inspector.palette()))
        (_, keys), *_ = tab_sections("inspector", {"inspector": ("Inspector", Inspector)})
        assert {("[ ]", "Hidden unit"), ("f", "Follow live")} <= {
            (key_of(b), b.description) for b in keys
        }
        await pilot.press("home")
        assert "d W1[:" not in plain(inspector._side(inspector.palette()))  # not computed yet


# ---- following the live run (the real engine: test_inspector_engine.py) --------------------------


async def test_following_asks_without_pausing_only_in_slow_motion():
    app, link = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inspector = await open_inspector(pilot)
        await pilot.press("f")  # turning it on goes to graph 3
        await settle(pilot, lambda: inspector.trace is not None and inspector.inspection.report)
        assert inspector.graph == 3 and inspector.follow
        assert "following live · in slow motion only (<)" in head_lines(inspector)[0]
        pauses = link.commands.count(cmd.Pause())
        assert pauses == 1  # full speed: 3 pauses training, as without following
        link.events.put(ev.SpeedChanged(1.0))
        await settle(pilot, lambda: inspector.speed == 1.0)
        assert "following live · every iteration" in head_lines(inspector)[0]
        inspects = sum(isinstance(c, cmd.Inspect) for c in link.commands)
        await pilot.press("3")
        await settle(
            pilot, lambda: sum(isinstance(c, cmd.Inspect) for c in link.commands) > inspects
        )
        assert link.commands.count(cmd.Pause()) == pauses  # slow motion: training goes on
        await pilot.press("f")
        assert not inspector.follow and "f: follow live" in head_lines(inspector)[0]
