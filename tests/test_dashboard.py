"""The dashboard driven by keys, with a real engine in a thread.

The app starts paused: pilot.press waits for the app to be idle by comparing CPU time with wall
time, and a training worker would make each key wait its full second."""

import asyncio
import html
import re

import pytest
from rich.console import Console
from textual.widgets import TabbedContent

from bp_tui.engine import HyperParams
from bp_tui.engine.remote import ThreadLink
from bp_tui.ui.app import HIDDEN_TABS, BpTuiApp
from bp_tui.ui.screens.edit_form import EditForm
from bp_tui.ui.screens.help_screen import HelpScreen
from bp_tui.ui.widgets.charts import LossChart
from bp_tui.ui.widgets.hyper_panel import HyperPanel
from bp_tui.ui.widgets.progress_panel import ProgressPanel
from tests.helpers import tiny_data, until, wait_until

HP = HyperParams(iters=60, batch_size=50)


def make_app(hp=HP, **options):
    links = []

    def factory():
        links.append(
            ThreadLink(hp, tiny_data(), start=False, progress_interval=0.02, blas_threads=1)
        )
        return links[-1]

    app = BpTuiApp(factory, hp, start=False, **options)
    app.animation_level = "none"
    return app, links


def text_of(widget) -> str:
    """What a widget shows on screen, as plain text lines (read from the app's screenshot)."""
    svg = widget.app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in re.findall(r'<text [^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    region = widget.region
    cell_w, cell_h = 12.2, 24.4  # Textual's SVG cell size
    lines = []
    for y in sorted(rows):
        row = int(round((y - 20) / cell_h))
        if region.y <= row < region.bottom:
            spans = sorted(rows[y])
            lines.append(
                "".join(t for x, t in spans if region.x <= int(round(x / cell_w)) < region.right)
            )
    return "\n".join(lines)


async def test_step_change_values_reset_and_quit():
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        engine = links[0].engine

        await pilot.press("n")
        await until(pilot, lambda: app.iteration == 1)
        assert engine.trainer.iteration == 1
        await until(pilot, lambda: "iteration 1 / 60" in text_of(app.query_one(ProgressPanel)))

        await pilot.press("plus")
        assert app.hp.lr == pytest.approx(0.2)  # shown at once, before the engine answers
        await until(pilot, lambda: app.query_one(LossChart).marks == [1])  # marked on the chart
        assert engine.trainer.optimizer.lr == pytest.approx(0.2)

        await pilot.press("h")
        await until(pilot, lambda: engine.pending.get("hidden") == (60,))
        assert engine.trainer.net.shape == (784, 50, 10)  # waits for the reset
        await until(pilot, lambda: "→ 60" in text_of(app.query_one(HyperPanel)))

        await pilot.press("r")
        await until(pilot, lambda: engine.trainer.net.shape == (784, 60, 10) and not app.pending)
        assert engine.trainer.iteration == 0

        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    wait_until(lambda: not links[0].thread.is_alive())


async def test_run_pause_and_finish():
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        await pilot.press("space")
        await until(pilot, lambda: app.run_state in ("running", "finished"))
        # The state comes before the summary (Finished): each is waited for.
        await until(pilot, lambda: app.run_state == "finished")
        await until(pilot, lambda: app.summary is not None)
        assert app.summary["iterations"] == 60
        assert links[0].engine.trainer.evaluations  # accuracy at each epoch's end and the end


async def test_gradient_check_at_start_and_exact_mode_on_x():
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#gradcheck")
        await until(pilot, lambda: "book mode" in text_of(panel))
        # Issue 21: book mode's own rule on screen, beside the verdict's
        rule = "the book's rule is rel err < 1e-5"
        await until(pilot, lambda: rule in " ".join(text_of(panel).replace("│", " ").split()))
        await pilot.press("x")
        # "checking (exact mode)…" comes first: wait for the check's result itself
        await until(pilot, lambda: "exact mode" in text_of(panel) and "passed" in text_of(panel))


async def open_edit_form(app, pilot) -> EditForm:
    """The edit form (e) of an app started paused, once the engine is ready."""
    await until(pilot, lambda: app.run_state == "ready")
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, EditForm))
    return app.screen


async def test_edit_form_applies_good_values_and_refuses_bad_ones():
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_edit_form(app, pilot)
        form.query_one("#in-batch_size").value = "0"
        await pilot.press("ctrl+s")
        error = form.query_one("#err-batch_size")
        await until(pilot, lambda: "1" in str(error.render()))
        assert app.screen is form  # refused: the form stays open
        form.query_one("#in-batch_size").value = "25"
        form.query_one("#in-lr").value = "0.05"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.hp.batch_size == 25)  # shown at once...
        await until(pilot, lambda: links[0].engine.trainer.hp.lr == 0.05)  # ...then applied


async def test_the_iterations_cannot_go_below_the_one_the_run_is_at():
    """Issue 21: 341 / 100, "running" and "finished" at once. The form names the iteration."""
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        await pilot.press("n", "n", "n", "n")
        await until(pilot, lambda: app.iteration == 4)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditForm))
        form = app.screen
        form.query_one("#in-iters").value = "2"
        await pilot.press("ctrl+s")
        error = form.query_one("#err-iters")
        await until(pilot, lambda: "at least 4" in str(error.render()))
        assert app.screen is form and links[0].engine.trainer.hp.iters == HP.iters
        form.query_one("#in-iters").value = "4"  # the iteration it is at: the run ends there
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.run_state == "finished")
        await pilot.press("space")  # refused by the engine: the state stays finished
        await until(pilot, lambda: links[0].engine.state == "finished")
        await until(pilot, lambda: app.run_state == "finished")


async def test_at_80x24_the_edit_form_and_the_hyperparameters_are_whole():
    """Issue 21: the form was cut after "activation" (init, optimizer, the buttons below the
    edge) and the Hyperparameters panel was gone."""
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        panel = text_of(app.query_one(HyperPanel))
        for label in ("batch size", "hidden layers", "init", "optimizer", "seed"):
            assert label in panel
        form = await open_edit_form(app, pilot)
        screen = app.screen.region
        await until(pilot, lambda: form.query_one("#apply").region.bottom <= screen.bottom)
        for widget in (*form.query("Input"), *form.query("Select"), *form.query("Button")):
            assert screen.contains_region(widget.region), widget.id
        assert "hidden layers" in text_of(form.query_one("#edit-grid"))  # a comma list of widths


async def test_a_ready_run_shows_its_length_and_says_what_it_has_no_speed_for():
    """Ready at 80x24, the panel said "epoch 0.00" with no total, and a bare "-" beside "ETA -"."""
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(ProgressPanel)
        await until(pilot, lambda: app.run_state == "ready" and panel.compact)
        # HP: 60 iterations of 50 of the tiny data's 600 images.
        await until(pilot, lambda: "epoch 0.00 / 5.00" in text_of(panel))
        await until(pilot, lambda: "speed -  ETA -" in text_of(panel))


async def test_exit_when_done_returns_the_summary():
    app, _ = make_app(HyperParams(iters=20, batch_size=50), exit_when_done=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        await pilot.press("space")
        await until(pilot, lambda: not app.is_running)
    assert app.return_value["iterations"] == 20
    assert set(app.return_value) >= {"train_acc", "test_acc", "iters_per_second", "diverged"}


async def test_help_screen_lists_every_key():
    """Issue 21: at 120x40 the tabs' keys were below the fold; the palette, screenshots and
    the mouse were never mentioned. Now all on one screen, the shown tab's keys first."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        app.query_one(TabbedContent).active = "digits"
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        box = app.screen.query_one("#help-box")
        await until(pilot, lambda: box.size.height > 0)
        assert box.max_scroll_y == 0  # nothing below the fold
        shown = text_of(box)
        for key in ("space", "Run/Pause", "lr ×2", "batch ×2", "Book/exact", "Quit"):
            assert key in shown
        for tab_key in ("Mistakes/all", "Follow live", "Hidden unit", "Next dead unit"):
            assert tab_key in shown
        for topic in ("ctrl+p", "mouse", "Save screenshot", "every hidden layer +10"):
            assert topic in shown
        assert "This tab: Digits" in shown
        await pilot.press("escape")
        await asyncio.sleep(0)


@pytest.mark.parametrize("tab", ["train", *HIDDEN_TABS])
async def test_help_fits_and_says_what_a_key_does_on_each_tab(tab):
    """The Draw tab's c, 0-9 and shift+arrows were missing, and c was listed as "Compare with
    earlier runs" for every tab, though on the Draw tab it clears the pad."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        app.query_one(TabbedContent).active = tab
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        box = app.screen.query_one("#help-box")
        await until(pilot, lambda: box.size.height > 0)
        assert box.max_scroll_y == 0  # nothing below the fold, whichever tab is shown
        console = Console(width=200, record=True)  # each section whole, a key a line
        for section in app.screen.query(".help-section"):
            console.print(section.content)
        shown = console.export_text()
        rows = [" ".join(line.split()) for line in shown.splitlines()]
        for key, what in (("c", "Clear the pad"), ("0-9", "Follow it"), ("⇧←↑→↓", "Draw")):
            assert any(row.startswith(f"{key} {what}") for row in rows), (key, rows)
        assert "c Compare with earlier runs (not on Draw)" in rows
        assert "space Run/Pause (not on Draw)" in rows and "n Step (not on Inspector)" in rows
        assert shown.count("Cursor") == 1  # the four arrows once, as ←↑→↓


def test_exit_when_done_json_from_the_command_line():
    """The real entry point: the dashboard runs, quits at the end and prints the summary."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bp_tui",
            "--dataset",
            "sample",
            "--iters",
            "100",
            "--exit-when-done",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-500:]
    summary = json.loads(done.stdout)
    assert summary["iterations"] == 100 and summary["dataset"] == "sample"
    assert summary["diverged"] is False and summary["test_acc"] > 0.5


async def test_a_refused_change_puts_the_old_value_back():
    app, links = make_app(HyperParams(iters=60, batch_size=50, lr=0.1))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        app.change(lr=0.2, hidden=0)  # one bad value refuses the whole change
        assert app.hp.lr == 0.2  # shown at once...
        await until(pilot, lambda: app.hp.lr == 0.1)  # ...and put back when the engine refuses
        assert links[0].engine.trainer.hp.lr == 0.1 and not app.pending


async def test_quitting_while_training_stops_the_engine_process():
    """The real set-up: the engine in its own process, training at full speed, then q."""
    import multiprocessing.resource_tracker

    from bp_tui.engine.remote import ProcessLink

    # As bp-tui does before App.run: under Textual's stderr the tracker could not start itself.
    multiprocessing.resource_tracker.ensure_running()
    links = []

    def factory():
        links.append(ProcessLink(HyperParams(iters=10_000_000), "sample", start=False))
        return links[-1]

    app = BpTuiApp(factory, HyperParams(iters=10_000_000), start=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "running" and app.iteration > 0)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    # How fast it quits is measured by benchmarks/bench_dashboard.py, not timed here.
    wait_until(lambda: not links[0].process.is_alive())


async def test_the_palettes_screenshot_lands_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BP_TUI_SCREENSHOTS", raising=False)
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        app.action_screenshot()
        await until(pilot, lambda: list(tmp_path.glob("*.svg")))
        [saved] = tmp_path.glob("*.svg")
        assert "bp-tui" in saved.read_text()
        monkeypatch.setenv("BP_TUI_SCREENSHOTS", str(tmp_path / "missing"))
        app.action_screenshot()  # a folder that does not exist: a notice, no crash
        await until(pilot, lambda: any("could not save" in n.message for n in app._notifications))


async def test_one_screenshot_command_the_apps_in_the_palette_and_on_a_key(tmp_path, monkeypatch):
    """Issue 21: the palette's Screenshot was Textual's (a Downloads folder, "Failed to save")."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BP_TUI_SCREENSHOTS", raising=False)
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if "screenshot" in t.lower()] == ["Save screenshot (SVG)"]
        await pilot.press("ctrl+p")
        await pilot.press(*"save screenshot", "enter")
        await until(pilot, lambda: len(list(tmp_path.glob("*.svg"))) == 1)
        await until(pilot, lambda: any(str(tmp_path) in n.message for n in app._notifications))
        await pilot.press("P")
        await until(pilot, lambda: len(list(tmp_path.glob("*.svg"))) == 2)


async def test_slow_motion_keys_step_through_the_speeds():
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.run_state == "ready")
        engine = links[0].engine
        await pilot.press("less_than_sign")
        await until(pilot, lambda: engine.speed == 50.0 and app.speed == 50.0)
        await pilot.press("less_than_sign", "less_than_sign", "less_than_sign")  # stops at 1
        await until(pilot, lambda: engine.speed == 1.0)
        await until(pilot, lambda: "at 1 it/s" in text_of(app.query_one("#status")))
        said = "slow motion: 1 iteration a second"  # not "1 iterations"
        await until(pilot, lambda: any(n.message == said for n in app._notifications))
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        await until(pilot, lambda: engine.speed is None and app.speed is None)
        await until(pilot, lambda: "it/s" not in text_of(app.query_one("#status")))


async def test_the_theme_is_remembered_and_a_damaged_config_is_the_defaults():
    from bp_tui.ui import settings

    app, _ = make_app(theme="nord")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.theme == "nord")
    assert settings.load() == {"theme": "nord"}
    again, _ = make_app()  # no --theme: last time's
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: again.run_state == "ready")
        assert again.theme == "nord"
    settings.config_file().write_text("{not json")
    fresh, _ = make_app()
    async with fresh.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: fresh.run_state == "ready")
        assert fresh.theme == settings.DEFAULT_THEME
