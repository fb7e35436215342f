"""The dashboard: trains in the background and shows it learning.

Data flows one way: engine events -> messages (messages.py) -> widgets; keys -> actions -> engine
commands. The app holds no math: numbers come from the engine's events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import get_current_worker

from bp_tui.engine import events as ev
from bp_tui.engine.config import LIVE_FIELDS, HyperParams
from bp_tui.engine.remote import EngineExited, EngineLink
from bp_tui.errors import ConfigError
from bp_tui.nn.init import INIT_SCHEMES
from bp_tui.nn.optimizers import OPTIMIZERS
from bp_tui.ui import messages as msg
from bp_tui.ui.bindings import APP_BINDINGS, BATCH_FACTOR, HIDDEN_STEP, LR_FACTOR
from bp_tui.ui.widgets.charts import AccuracyChart, LossChart
from bp_tui.ui.widgets.digits import DigitsView
from bp_tui.ui.widgets.edit_form import EditForm
from bp_tui.ui.widgets.gradcheck_panel import GradCheckPanel
from bp_tui.ui.widgets.help_screen import HelpScreen
from bp_tui.ui.widgets.hyper_panel import HyperPanel
from bp_tui.ui.widgets.inspector import Inspector
from bp_tui.ui.widgets.learned import LearnedView
from bp_tui.ui.widgets.progress_panel import ProgressPanel
from bp_tui.ui.widgets.runs_screen import Comparison, RunsScreen
from bp_tui.ui.widgets.status import StatusLine

REDRAW_SECONDS = 0.1  # charts redraw at most 10 times a second


def cycle(options, current):
    options = list(options)
    return options[(options.index(current) + 1) % len(options)]


class BpTuiApp(App):
    CSS_PATH = Path(__file__).parent / "app.tcss"
    BINDINGS = APP_BINDINGS
    TITLE = "bp-tui"

    def __init__(
        self,
        link_factory: Callable[[], EngineLink],
        hp: HyperParams,
        *,
        start: bool = True,
        exit_when_done: bool = False,
        note: str = "",
    ) -> None:
        super().__init__()
        self.link_factory = link_factory
        self.link: EngineLink | None = None
        self.hp = hp
        self.pending: dict = {}
        self.state = "starting"
        self.start_running = start
        self.exit_when_done = exit_when_done
        self.note = note
        self.exact = False
        self.summary: dict | None = None
        self.iteration = 0
        self.last_accuracy: tuple[float | None, float | None] = (None, None)
        self.compared: list[str] = []  # ids of the earlier runs drawn under this one (c)

    # ---- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with TabbedContent(id="tabs"):
            with TabPane("Train", id="train"):
                with Horizontal(id="charts"):
                    yield LossChart(id="loss")
                    yield AccuracyChart(id="accuracy")
                with Horizontal(id="panels"):
                    yield ProgressPanel(id="progress")
                    yield HyperPanel(id="hyper")
                    yield GradCheckPanel(id="gradcheck")
            with TabPane("Inspector", id="inspector"):
                yield Inspector(id="inspector-view")
            with TabPane("Digits", id="digits"):
                yield DigitsView(id="digits-view")
            with TabPane("Learned", id="learned"):
                yield LearnedView(id="learned-view")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#loss").border_title = "Loss"
        self.query_one("#accuracy").border_title = "Accuracy"
        self.query_one(HyperPanel).show(self.hp, self.pending)
        self.query_one(StatusLine).show(hp=self.hp)
        self.query_one(ProgressPanel).show_counts(0, self.hp.iters, 0.0, 0.0, 0.0, 0.0)
        self.set_interval(REDRAW_SECONDS, self.redraw_charts)
        if self.note:
            self.notify(self.note, timeout=6)
        self.link = self.link_factory()
        self.link.start()
        self.pump_events()
        # The book's check on the untrained net first, then (unless --paused) training.
        self.send(ev.CheckGradient(self.exact))
        if self.start_running:
            self.send(ev.Run())

    # ---- engine link ----------------------------------------------------------------------------

    def send(self, command: object) -> None:
        if self.link is not None:
            self.link.send(command)

    @work(thread=True, exclusive=True, group="engine-events")
    def pump_events(self) -> None:
        """Read engine events off the link and post them as messages (thread-safe)."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            event = self.link.next_event(timeout=0.05)
            if event is None:
                continue
            if isinstance(event, EngineExited):
                return
            message = msg.message_for(event)
            if message is not None:
                self.post_message(message)

    def stop_engine(self) -> None:
        if self.link is not None:
            self.link.stop(timeout=0.8)
            self.link = None

    async def action_quit(self) -> None:
        self.stop_engine()
        self.exit(self.summary)

    def on_unmount(self) -> None:
        self.stop_engine()

    # ---- engine messages -> widgets -------------------------------------------------------------

    def on_engine_ready(self, message: msg.EngineReady) -> None:
        e: ev.EngineReady = message.event
        size = f"{e.dataset} ({e.train_size:,} train / {e.test_size:,} test)"
        self.query_one(StatusLine).show(dataset=size, shape=e.shape, hp=e.hp)

    def on_training_progress(self, message: msg.TrainingProgress) -> None:
        p: ev.Progress = message.event
        self.iteration = p.iteration
        self.query_one(LossChart).add_losses(p.losses)
        self.show_results()
        self.query_one(ProgressPanel).show_counts(
            p.iteration, p.total, p.epoch, p.total_epochs, p.iters_per_second, p.elapsed
        )

    def show_results(self) -> None:
        smoothed = self.query_one(LossChart).series.smoothed
        self.query_one(ProgressPanel).show_results(smoothed, *self.last_accuracy)

    def on_evaluation_done(self, message: msg.EvaluationDone) -> None:
        e: ev.Evaluated = message.event
        self.query_one(AccuracyChart).add(e.iteration, e.train_acc, e.test_acc)
        self.last_accuracy = (e.train_acc, e.test_acc)
        self.show_results()
        self.query_one(
            "#accuracy"
        ).border_subtitle = f"train {e.train_acc:.4f} · test {e.test_acc:.4f} · epoch {e.epoch:.2f}"

    def on_run_state_changed(self, message: msg.RunStateChanged) -> None:
        e: ev.StateChanged = message.event
        self.state = e.state.value
        self.hp, self.pending = e.hp, e.pending
        self.query_one(StatusLine).show(state=self.state, hp=e.hp)
        self.query_one(HyperPanel).show(self.hp, self.pending)
        if e.state is not ev.RunState.DIVERGED:
            self.query_one(ProgressPanel).alert("")

    def on_params_changed(self, message: msg.ParamsChanged) -> None:
        e: ev.ParamsChanged = message.event
        self.hp, self.pending = e.hp, e.pending
        self.query_one(HyperPanel).show(self.hp, self.pending)
        self.query_one(StatusLine).show(hp=self.hp)
        if e.changes and e.iteration > 0:
            self.query_one(LossChart).mark(e.iteration)
        changed = ", ".join(f"{k} {v}" for k, v in {**e.changes}.items())
        if changed:
            self.notify(f"{changed} from iteration {e.iteration + 1:,}", timeout=3)

    def on_run_reset(self, message: msg.RunReset) -> None:
        e: ev.RunReset = message.event
        self.hp, self.pending = e.hp, {}
        self.query_one(LossChart).start_new_run()
        self.query_one(AccuracyChart).clear()
        self.last_accuracy = (None, None)
        self.show_results()
        self.query_one(StatusLine).show(shape=e.shape, hp=e.hp)
        self.query_one(HyperPanel).show(self.hp, self.pending)
        self.query_one(ProgressPanel).show_counts(0, e.hp.iters, 0.0, 0.0, 0.0, 0.0)

    def on_run_finished(self, message: msg.RunFinished) -> None:
        self.summary = message.event.summary
        if self.exit_when_done:
            self.stop_engine()
            self.exit(self.summary)

    def on_run_diverged(self, message: msg.RunDiverged) -> None:
        e: ev.Diverged = message.event
        text = Text.assemble(
            ("Diverged", "bold red"),
            f" at iteration {e.iteration:,}, learning rate {e.lr:g}. ",
            ("Lower the rate (-), then reset (r).", "italic"),
        )
        self.query_one(ProgressPanel).alert(text)
        self.notify(e.message, severity="error", timeout=8)
        if self.exit_when_done:
            self.stop_engine()
            self.exit(self.summary)

    def on_run_failed(self, message: msg.RunFailed) -> None:
        self.state = "failed"
        self.query_one(StatusLine).show(state="failed")
        self.query_one(ProgressPanel).alert(Text(message.event.message, style="bold red"))
        self.notify(message.event.message, severity="error", timeout=10)

    def on_gradient_checked(self, message: msg.GradientChecked) -> None:
        self.query_one(GradCheckPanel).show(message.event.report)

    def on_checkpoint_saved(self, message: msg.CheckpointSaved) -> None:
        self.notify(f"saved {message.event.path}", title="Checkpoint", timeout=6)

    def on_checkpoint_loaded(self, message: msg.CheckpointLoaded) -> None:
        e: ev.Loaded = message.event
        self.query_one(LossChart).start_new_run()
        self.notify(f"loaded {e.path} at iteration {e.iteration:,}", title="Checkpoint")

    def on_inspection_ready(self, message: msg.InspectionReady) -> None:
        self.query_one(Inspector).show_inspection(message.event)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # The inspector takes the keys while its tab is shown (and asks for graph 3's data).
        self.query_one(Inspector).tab_changed(event.pane.id == "inspector")

    def on_images_ready(self, message: msg.ImagesReady) -> None:
        self.query_one(DigitsView).set_images(message.event)

    def on_insight_ready(self, message: msg.InsightReady) -> None:
        self.query_one(DigitsView).show(message.event)
        self.query_one(LearnedView).show(message.event)

    def on_engine_notice(self, message: msg.EngineNotice) -> None:
        self.notify(message.event.message, severity="warning", timeout=6)

    def on_resize(self, event) -> None:
        # 80x24 and the like: the hyperparameters panel gives way (the header and `e` show them).
        self.set_class(event.size.width < 100 or event.size.height < 30, "-small")

    def redraw_charts(self) -> None:
        # query, not query_one: the timer can fire once more while the app shuts down.
        for chart in (*self.query(LossChart), *self.query(AccuracyChart)):
            chart.redraw()

    # ---- keys -> actions -> engine commands -----------------------------------------------------

    def action_toggle_run(self) -> None:
        if self.state == "running":
            self.send(ev.Pause())
            self.show_state("paused")  # shown at once; the engine's StateChanged confirms it
        elif self.state in ("ready", "paused"):
            self.send(ev.Run())
            self.show_state("running")
        else:
            self.send(ev.Run())  # finished or diverged: the engine says why it cannot run

    def show_state(self, state: str) -> None:
        self.state = state
        self.query_one(StatusLine).show(state=state)

    def action_step(self) -> None:
        self.send(ev.Step(1))

    def action_reset(self) -> None:
        self.send(ev.Reset())
        self.query_one(GradCheckPanel).running(self.exact)
        self.send(ev.CheckGradient(self.exact))

    def change(self, **changes) -> None:
        self.send(ev.SetParams(changes))
        # Show the request at once, even while the engine is busy evaluating; its ParamsChanged
        # confirms the values, or puts the old ones back if it refused them.
        try:
            self.hp = self.hp.replace(**{k: v for k, v in changes.items() if k in LIVE_FIELDS})
        except ConfigError:
            return
        waiting = {**self.pending, **{k: v for k, v in changes.items() if k not in LIVE_FIELDS}}
        self.pending = {k: v for k, v in waiting.items() if getattr(self.hp, k) != v}
        self.query_one(HyperPanel).show(self.hp, self.pending)
        self.query_one(StatusLine).show(hp=self.hp)

    def _next_value(self, field: str):
        return self.pending.get(field, getattr(self.hp, field))

    def action_lr_up(self) -> None:
        self.change(lr=self.hp.lr * LR_FACTOR)

    def action_lr_down(self) -> None:
        self.change(lr=self.hp.lr / LR_FACTOR)

    def action_batch_up(self) -> None:
        self.change(batch_size=self.hp.batch_size * BATCH_FACTOR)

    def action_batch_down(self) -> None:
        self.change(batch_size=max(1, self.hp.batch_size // BATCH_FACTOR))

    def action_hidden_up(self) -> None:
        self.change(hidden=self._next_value("hidden") + HIDDEN_STEP)

    def action_hidden_down(self) -> None:
        self.change(hidden=max(1, self._next_value("hidden") - HIDDEN_STEP))

    def action_toggle_activation(self) -> None:
        self.change(activation=cycle(("relu", "sigmoid"), self._next_value("activation")))

    def action_cycle_optimizer(self) -> None:
        self.change(optimizer=cycle(OPTIMIZERS, self.hp.optimizer))

    def action_cycle_init(self) -> None:
        self.change(init=cycle(INIT_SCHEMES, self._next_value("init")))

    def action_gradcheck(self) -> None:
        self.query_one(GradCheckPanel).running(self.exact)
        self.send(ev.CheckGradient(self.exact))

    def action_toggle_exact(self) -> None:
        self.exact = not self.exact
        self.action_gradcheck()

    def action_save(self) -> None:
        self.send(ev.Save())

    def action_load(self) -> None:
        self.send(ev.Load())

    def action_compare_runs(self) -> None:
        self.push_screen(RunsScreen(self.hp, self.compared), self.show_comparisons)

    def show_comparisons(self, chosen: list[Comparison] | None) -> None:
        if chosen is None:
            return
        self.compared = [c.run_id for c in chosen]
        self.query_one(LossChart).set_comparisons([(c.label, c.loss_x, c.loss) for c in chosen])
        self.query_one(AccuracyChart).set_comparisons(
            [(c.label, c.acc_x, c.test_acc) for c in chosen]
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane)]
        tabs.active = cycle(panes, tabs.active)

    def action_edit(self) -> None:
        def apply(changes: dict | None) -> None:
            if changes:
                self.change(**changes)

        self.push_screen(EditForm(self.hp, self.pending), apply)
