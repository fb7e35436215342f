"""The dashboard: trains in the background and shows it learning.

Data flows one way, and the app holds no math (numbers come from the engine's events):
- Engine news: pump_events reads the engine's events off the link in a thread and posts each as
  the message of its kind (messages.py); the handler marked `@news_handler(news.<Kind>)` below
  ("engine news") sets the app's reactives, which the panels are bound to, and feeds the charts
  and tabs; BatchEnd redraws the charts once per batch.
- Keys: ui/bindings.py names each key's action -> `action_<name>` below -> an engine command
  (engine/commands.py) sent on the link -> the engine loop's handler of that command
  (engine/loop.py) -> its events come back as news.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.notifications import Notify
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane
from textual.worker import get_current_worker

from bp_tui.data import DATASETS
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.chance import CHANCE_LOSS, ChanceWatch, advice
from bp_tui.engine.config import HyperParams, split_changes, waits_for_reset
from bp_tui.engine.events import STREAMING, RunState, merged
from bp_tui.engine.remote import EngineExited, EngineLink, EngineLost
from bp_tui.errors import ConfigError
from bp_tui.nn.init import INIT_SCHEMES
from bp_tui.nn.optimizers import OPTIMIZERS
from bp_tui.ui import messages as news
from bp_tui.ui import settings
from bp_tui.ui.bindings import (
    APP_BINDINGS,
    BATCH_FACTOR,
    HIDDEN_STEP,
    LR_FACTOR,
    PAD_BINDINGS,
    SPEEDS,
    keys_for,
)
from bp_tui.ui.comparison import Comparison
from bp_tui.ui.messages import InspectionWanted, news_handler
from bp_tui.ui.names import LABELS, format_value, notice_text
from bp_tui.ui.notices import Notices
from bp_tui.ui.screens.edit_form import EditForm
from bp_tui.ui.screens.help_screen import HelpScreen, tab_sections, taken_keys
from bp_tui.ui.series import SMOOTHINGS
from bp_tui.ui.widgets.charts import AccuracyChart, Chart, LossChart
from bp_tui.ui.widgets.compared_runs import ComparedRuns
from bp_tui.ui.widgets.gradcheck_panel import GradCheckPanel
from bp_tui.ui.widgets.hyper_panel import HyperPanel
from bp_tui.ui.widgets.progress_panel import ProgressPanel
from bp_tui.ui.widgets.status import KeyFooter, StatusLine

if TYPE_CHECKING:  # the tabs' views, a --watch's and the modal screens' modules: when used
    from bp_tui.ui.inspector.inspector import Inspector
    from bp_tui.ui.layers_watch import LayersSaved
    from bp_tui.ui.widgets.digits import DigitsView
    from bp_tui.ui.widgets.draw_view import DrawView

# The tabs after Train: id -> title, the module and class of its view (which takes the keys while
# it is shown: the footer and the help screen show them), and whether the view follows the run's
# progress and state. Their modules are imported, and the views mounted, after the first frame:
# it shows none of them (the Inspector's modules alone cost ~0.1 s).
HIDDEN_TABS = {
    "inspector": ("Inspector", "bp_tui.ui.inspector.inspector", "Inspector", True),
    "digits": ("Digits", "bp_tui.ui.widgets.digits", "DigitsView", False),
    "draw": ("Draw", "bp_tui.ui.widgets.draw_view", "DrawView", True),
    "learned": ("Learned", "bp_tui.ui.widgets.learned", "LearnedView", False),
    "gradients": ("Gradients", "bp_tui.ui.widgets.grad_norms", "GradientsView", False),
}
REDRAW_SECONDS = 0.1  # charts redraw at most 10 times a second
BATCH_LIMIT = 1000  # events read off the link in one go, at most
NOTICE_SECONDS = 4.0  # a notice's life; a change within it updates the same notice


def tabs() -> dict[str, tuple[str, type | None]]:
    """Each tab's id -> its title and its view's class (None: the Train tab, the app's own)."""
    views = {
        tab: (title, getattr(importlib.import_module(module), name))
        for tab, (title, module, name, _) in HIDDEN_TABS.items()
    }
    return {"train": ("Train", None), **views}


def cycle(options, current):
    options = list(options)
    return options[(options.index(current) + 1) % len(options)]


class BpTuiApp(App):
    CSS_PATH = Path(__file__).parent / "app.tcss"
    BINDINGS = APP_BINDINGS
    TITLE = "bp-tui"

    # The run as the engine last reported it (or as a key just asked for it); panels bind to these.
    hp: var[HyperParams] = var(HyperParams)
    pending: var[dict] = var(dict)  # values that wait for the next reset
    run_state: var[RunState] = var(RunState.STARTING)
    progress: var[ev.Progress | None] = var(None, always_update=True)
    evaluation: var[ev.Evaluation | None] = var(None)
    smoothed_loss: var[float | None] = var(None)
    alert: var[str | Text] = var("")
    comparisons: var[list[Comparison]] = var(list)  # earlier runs drawn under this one (c)
    train_size: int | None = None  # the training images, as the engine said (EngineReady)

    def __init__(
        self,
        link_factory: Callable[[], EngineLink],
        hp: HyperParams,
        *,
        start: bool = True,
        exit_when_done: bool = False,
        note: str = "",
        theme: str | None = None,
        on_quit: Callable[[], None] | None = None,
        watch: Path | None = None,
    ) -> None:
        """on_quit: called as soon as the app is asked to quit (the command line arms its
        watchdog with it). watch: the learner's file of --layers, checked at each save."""
        super().__init__()
        self.on_quit = on_quit
        self.watch_path, self._stop_watching = watch, threading.Event()
        for own in settings.THEMES:
            self.register_theme(own)
        # --theme, else the one chosen last time (remembered by watch_theme), else the default.
        remembered, self.settings_notice = settings.read()
        self.chosen_theme = theme or remembered.get("theme")
        self.theme_given = theme is not None  # --theme: it wins, and is remembered
        self.link_factory = link_factory
        self.link: EngineLink | None = None
        self.set_reactive(BpTuiApp.hp, hp)
        self.start_running = start
        self.exit_when_done = exit_when_done
        self.note = note
        self.exact = False
        self.summary: dict | None = None
        self.compared: list[str] = []  # ids of the earlier runs drawn under this one (c)
        self.run_id: str | None = None  # the run folder this run is recorded in
        self.speed: float | None = None  # slow motion, as the engine last confirmed it
        # Set while the app has taken every batch of events posted to it: the reader posts the
        # next batch only then, so the app's queue never holds more than one (it cannot fall
        # behind the engine, however slow a frame was) and progress is coalesced meanwhile.
        self.events_taken = threading.Event()
        self.events_taken.set()
        # The latest Insight not yet drawn (an evaluation's; on the sample there are dozens a
        # second): see draw_insight.
        self.insight: ev.Insight | None = None
        self.activations: ev.Activations | None = None  # likewise, drawn with the Insight
        self.notices = Notices(self)  # one toast per kind, updated in place
        # The changes made within one notice's life: field -> (value before, value now), presses.
        self._changes: dict[str, tuple] = {}
        self._presses = 0
        self._changed_at = -NOTICE_SECONDS
        self._parts: dict[type, object] = {}
        self.chance = ChanceWatch()
        self.engine_lost = False  # the engine's process ended unasked: r starts a new one
        # The engine loads its data and checks the gradient while the first frame is drawn;
        # it trains once the app can show it (and quit it): on_mount.
        self.connect()

    @property
    def iteration(self) -> int:
        return self.progress.iteration if self.progress is not None else 0

    # ---- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status").data_bind(BpTuiApp.hp, BpTuiApp.run_state)
        with TabbedContent(id="tabs"):
            with TabPane("Train", id="train"):
                with Horizontal(id="charts"):
                    yield LossChart(id="loss").data_bind(BpTuiApp.comparisons)
                    yield AccuracyChart(id="accuracy").data_bind(BpTuiApp.comparisons)
                yield ComparedRuns(id="compared").data_bind(BpTuiApp.comparisons)
                with Horizontal(id="panels"):
                    yield ProgressPanel(id="progress").data_bind(
                        BpTuiApp.hp,
                        BpTuiApp.run_state,
                        BpTuiApp.progress,
                        BpTuiApp.evaluation,
                        BpTuiApp.smoothed_loss,
                        BpTuiApp.alert,
                    )
                    yield HyperPanel(id="hyper").data_bind(BpTuiApp.hp, BpTuiApp.pending)
                    yield GradCheckPanel(id="gradcheck")
            # In a terminal the other tabs' views come after the first frame (mount_tabs);
            # headless (tests, --exit-when-done with no terminal) no frame is seen: at once.
            views = self.tab_views() if self.is_headless else {}
            for tab, (title, *_) in HIDDEN_TABS.items():
                with TabPane(title, id=tab):
                    if tab in views:
                        yield views[tab]
        yield KeyFooter(APP_BINDINGS, {tab: type(view).BINDINGS for tab, view in views.items()})

    def on_mount(self) -> None:
        if self.chosen_theme in self.available_themes:
            self.theme = self.chosen_theme
            if self.theme_given:  # the default theme given again sets nothing: say it here
                self.remember_theme(self.theme)
        elif self.chosen_theme and not self.settings_notice:
            self.settings_notice = (
                f"the theme {self.chosen_theme[:40]!r} in {settings.config_file()} is not one "
                "of the themes: the default is used"
            )
        self.set_interval(REDRAW_SECONDS, self.redraw_charts)
        # Back from Ctrl-Z (fg): the terminal's screen was the shell's meanwhile, draw it all.
        self.app_resume_signal.subscribe(self, lambda _: self.refresh(layout=True))
        self.theme_changed_signal.subscribe(self, self.recolour_charts)
        if self.note:
            self.notify(self.note, timeout=6)
        if self.settings_notice:
            self.notify(self.settings_notice, severity="warning", timeout=8)
        if self.watch_path is not None:
            from bp_tui.ui.layers_watch import watch_layers

            self._stop_watching = watch_layers(self, self.watch_path)
        if self.is_headless:
            self.listen(self.start_running)
        else:
            self.call_after_refresh(self.mount_tabs)

    def tab_views(self) -> dict[str, Widget]:
        """A new view for each tab after Train (their modules are imported here)."""
        views = {}
        for tab, (_, view) in tabs().items():
            if view is not None:
                views[tab] = view(id=f"{tab}-view")
                if HIDDEN_TABS[tab][3]:  # the Inspector and the pad can follow the run live
                    views[tab].data_bind(BpTuiApp.progress, BpTuiApp.run_state)
        return views

    async def mount_tabs(self) -> None:
        """After the first frame: the other tabs' views, then the engine's news (whose handlers
        fill those views)."""
        if self.link is None:  # the app quit before its first frame (stop_engine)
            return
        views = self.tab_views()
        mounts = [self.query_one(f"#{tab}", TabPane).mount(view) for tab, view in views.items()]
        for mounted in mounts:
            await mounted
        if self.link is None:  # the app quit meanwhile
            return
        footer = self.part(KeyFooter)
        footer.tab_bindings.update({tab: type(view).BINDINGS for tab, view in views.items()})
        footer.refresh()
        if self.part(TabbedContent).active == "inspector":  # shown before its view was there
            self.part("inspector").tab_changed(True)
        self.listen(self.start_running)

    def on_layers_saved(self, saved: LayersSaved) -> None:
        self.notice(
            "layers",
            f"{saved.path.name} saved · {saved.verdict} · {keys_for('reset')}: reset with them",
            timeout=NOTICE_SECONDS * 3,
        )

    def start_engine(self, run: bool) -> None:
        self.connect()
        self.listen(run)

    def listen(self, run: bool) -> None:
        """Read the engine's events from now on, and (unless --paused) let it train."""
        self.pump_events()
        if run:
            self.send(cmd.Run())

    def connect(self) -> None:
        self.link = self.link_factory()
        self.link.start()
        self.engine_lost = False
        self.send(cmd.CheckGradient(self.exact))  # the book's check on the untrained net first

    # ---- engine link ----------------------------------------------------------------------------

    def send(self, command: object) -> None:
        if self.link is not None:
            self.link.send(command)

    def notice(
        self, kind: str, message: str, *, severity: str = "information", timeout=NOTICE_SECONDS
    ) -> None:
        """One toast per kind: a newer message of the same kind replaces it (notices.py)."""
        self.notices.show(kind, message, severity, timeout)

    def withdraw(self, kind: str) -> None:
        self.notices.withdraw(kind)

    def on_notify(self, message: Notify) -> None:
        self.notices.arrived(message.notification)

    def clear_notifications(self) -> None:
        self.notices.forget()
        super().clear_notifications()

    @work(thread=True, exclusive=True, group="engine-events")
    def pump_events(self) -> None:
        """Read engine events off the link and post them, in batches, each as the message of its
        kind (post_news; thread-safe): a batch waits until the app has handled the one before
        (its BatchEnd; Progress events merge meanwhile), so the app's queue never holds more
        than one and what it shows is never older."""
        worker = get_current_worker()
        batch: list = []
        posted_at = -REDRAW_SECONDS
        while not worker.is_cancelled:
            event = self.link.next_event(timeout=0.01 if batch else 0.05)
            while event is not None:
                if isinstance(event, EngineExited):
                    if isinstance(event, EngineLost):
                        batch.append(event)
                    self.post_news(batch)
                    return
                merged(batch, event)
                if len(batch) >= BATCH_LIMIT:
                    break
                event = self.link.next_event(timeout=0)
            # Training news (progress, evaluations) at most once a frame; anything else (a
            # state, a value, a notice) as soon as the app has taken the batch before.
            now = monotonic()
            due = now - posted_at >= REDRAW_SECONDS or any(
                not isinstance(e, STREAMING) for e in batch
            )
            if batch and due and self.events_taken.is_set():
                self.events_taken.clear()
                self.post_news(batch)
                batch, posted_at = [], now

    def post_news(self, batch: list) -> None:
        """Each event of `batch` as the message of its kind (messages.py), then BatchEnd."""
        if batch:
            for event in batch:
                self.post_message(news.of(event))
            self.post_message(news.BatchEnd())

    def stop_engine(self) -> None:
        if self.link is not None:
            self.link.stop(timeout=0.8)
            self.link = None

    async def action_quit(self) -> None:
        self.quitting()
        self.stop_engine()
        self.exit(self.summary)

    def quitting(self) -> None:
        if self.on_quit is not None:
            self.on_quit()

    def on_unmount(self) -> None:
        self._stop_watching.set()
        self.quitting()  # also the ways out that skip action_quit (a browser page's quit)
        self.stop_engine()

    # ---- engine news (messages.py) -> state ---------------------------------------------------

    def on_batch_end(self, _: news.BatchEnd) -> None:
        self.redraw_charts()  # in the same frame as the Progress panel: one screen update
        self.events_taken.set()

    @news_handler(news.EngineReady)
    def _engine_ready(self, e: ev.EngineReady) -> None:
        status = self.part(StatusLine)
        status.dataset = e.dataset
        status.sizes = f"({e.train_size:,} train / {e.test_size:,} test)"
        self.train_size = e.train_size
        status.shape = e.shape
        status.layers = e.layers
        self.part("learned").widths = tuple(e.shape)
        self.hp = e.hp

    @news_handler(news.Progress)
    def _progress(self, p: ev.Progress) -> None:
        chart = self.part(LossChart)
        chart.add_losses(p.losses, p.iteration, p.epoch)
        self.smoothed_loss = chart.series.smoothed
        self.progress = p

    @news_handler(news.Evaluation)
    def _evaluation(self, e: ev.Evaluation) -> None:
        self.part(AccuracyChart).add(e.iteration, e.epoch, e.train_acc, e.test_acc)
        self.evaluation = e
        if (
            self.chance.see(e.test_acc, self.smoothed_loss)
            and self.run_state is not RunState.DIVERGED
        ):
            hp = self.hp
            tip = advice(hp.activation, hp.init, len(hp.hidden))
            guess = f"loss ~{CHANCE_LOSS:.2f} (ln 10), accuracy ~0.1: the net guesses"
            if tip.cause:  # the cause has the room: the panel is a few lines tall
                guess = f"the net guesses; {tip.cause} (Gradients tab)"
            to_try = tip.phrase(
                f"lower the rate ({keys_for('lr_down')})",
                f"{{name}} init ({keys_for('cycle_init')})",
                f"another optimizer ({keys_for('cycle_optimizer')})",
            )
            self.alert = Text.assemble(
                ("At chance", "bold yellow"),
                f": {guess}. ",
                (f"{to_try[0].upper()}{to_try[1:]}, then reset ({keys_for('reset')}).", "italic"),
            )
            self.notice(
                "run", "The net is guessing at chance level: " + tip.words(), severity="warning"
            )
        elif not self.chance.stuck and self.run_state is not RunState.DIVERGED:
            if isinstance(self.alert, Text) and self.alert.plain.startswith("At chance"):
                self.alert = ""

    @news_handler(news.StateChanged)
    def _state_changed(self, e: ev.StateChanged) -> None:
        self.run_state = e.state
        self.hp, self.pending = e.hp, e.pending
        if e.state is not RunState.DIVERGED and not self.chance.stuck:
            self.alert = ""

    @news_handler(news.ParamsChanged)
    def _params_changed(self, e: ev.ParamsChanged) -> None:
        self.hp, self.pending = e.hp, e.pending
        if e.changes and e.iteration > 0:
            self.part(LossChart).mark(e.iteration)
        if e.changes:
            self._tell_changes(e.iteration)

    def _tell_changes(self, iteration: int | None = None) -> None:
        """The one notice of the changes made lately: each field from its first value to its
        latest, live ones from the iteration the engine applied them at."""
        if not self._changes:
            return
        parts = []
        for field, (before, after) in self._changes.items():
            part = f"{LABELS[field]} {format_value(field, before)} → {format_value(field, after)}"
            if waits_for_reset(field) or self.run_state is RunState.DIVERGED:
                part += f" at the reset ({keys_for('reset')})"
            parts.append(part)
        text = ", ".join(parts)
        if iteration is not None and not all(map(waits_for_reset, self._changes)):
            if self.run_state is not RunState.DIVERGED:
                text += f" from iteration {iteration + 1:,}"
        if self._presses > 1:
            text += f" ({self._presses} changes)"
        self.notice("changes", text)

    @news_handler(news.RunReset)
    def _run_reset(self, e: ev.RunReset) -> None:
        self.hp, self.pending = e.hp, {}
        self.part(StatusLine).shape = e.shape
        self.part("learned").widths = tuple(e.shape)
        self.part(LossChart).start_new_run()
        self.part(AccuracyChart).clear()
        self.part("gradients").clear()
        self.progress, self.evaluation, self.smoothed_loss = None, None, None
        self.chance = ChanceWatch()
        self.alert = ""

    @news_handler(news.Finished)
    def _finished(self, e: ev.Finished) -> None:
        self.summary = e.summary
        if self.exit_when_done:
            self.quitting()
            self.stop_engine()
            self.exit(self.summary)

    @news_handler(news.Diverged)
    def _diverged(self, e: ev.Diverged) -> None:
        self.withdraw("changes")
        self._changes = {}
        theirs = self.part(StatusLine).layers
        advice = (
            f"Your layers are the likely cause: bp-tui check {theirs} says where; "
            f"fix them, then reset ({keys_for('reset')})."
            if theirs
            else f"Lower the rate ({keys_for('lr_down')}), then reset ({keys_for('reset')})."
        )
        self.alert = Text.assemble(
            ("Diverged", "bold red"),
            f" at iteration {e.iteration:,}, learning rate {format_value('lr', e.lr)}. ",
            (advice, "italic"),
        )
        self.notice("run", e.message, severity="error", timeout=8)
        if self.exit_when_done:
            self.quitting()
            self.stop_engine()
            self.exit(self.summary)

    @news_handler(news.Failed)
    def _failed(self, e: ev.Failed) -> None:
        self.run_state = RunState.FAILED
        self.alert = Text(e.message, style="bold red")
        where = (
            " (the traceback is in the run's error.log: bp-tui runs show latest)"
            if e.details
            else ""
        )
        self.notify(e.message + where, severity="error", timeout=10)

    @news_handler(news.Lost)
    def _engine_lost(self, e: EngineLost) -> None:
        self.run_state = RunState.FAILED
        self.engine_lost = True
        text = (
            f"The engine stopped ({e.describe()}): the run so far is recorded (bp-tui runs); "
            f"{keys_for('reset')} starts a new engine."
        )
        self.alert = Text(text, style="bold red")
        self.notice("run", text, severity="error", timeout=10)

    @news_handler(news.GradChecked)
    def _grad_checked(self, e: ev.GradChecked) -> None:
        panel = self.part(GradCheckPanel)
        panel.report, panel.problem, panel.checking = e.report, e.problem, ""

    @news_handler(news.Saved)
    def _saved(self, e: ev.Saved) -> None:
        self.notify(f"saved {e.path}", title="Checkpoint", timeout=6)

    @news_handler(news.Loaded)
    def _loaded(self, e: ev.Loaded) -> None:
        self.part(LossChart).start_new_run()
        self.part("gradients").clear()
        self.notify(f"loaded {e.path} at iteration {e.iteration:,}", title="Checkpoint")

    @news_handler(news.SpeedChanged)
    def _speed_changed(self, e: ev.SpeedChanged) -> None:
        self.speed = e.iters_per_second
        self.part(StatusLine).speed = e.iters_per_second
        self.part("inspector").set_speed(e.iters_per_second)

    @news_handler(news.Notice)
    def _notice(self, e: ev.Notice) -> None:
        self.notice("engine", notice_text(e), severity="warning", timeout=6)
        if e.action == "reset":  # their code stopped the run: why stays on screen, not 6 s
            self.alert = Text.assemble(
                ("Your code stopped the run", "bold red"), f": {notice_text(e)}"
            )

    @news_handler(news.Inspection)
    def _inspection(self, e: ev.Inspection) -> None:
        self.part("inspector").show_inspection(e)

    @news_handler(news.ImageSet)
    def _image_set(self, e: ev.ImageSet) -> None:
        self.part("digits").set_images(e)

    @news_handler(news.Insight)
    def _insight(self, e: ev.Insight) -> None:
        self.insight = e

    @news_handler(news.GradNorms)
    def _grad_norms(self, e: ev.GradNorms) -> None:
        self.part("gradients").add(e)

    @news_handler(news.Activations)
    def _activations(self, e: ev.Activations) -> None:
        self.activations = e

    @news_handler(news.Prediction)
    def _prediction(self, e: ev.Prediction) -> None:
        self.part("draw").show_prediction(e)

    @news_handler(news.Recording)
    def _recording(self, e: ev.Recording) -> None:
        self.run_id = e.run_id

    # ---- children's messages and the screen -----------------------------------------------------

    def on_inspection_wanted(self, _: InspectionWanted) -> None:
        """Graph 3 shows the engine's own parameters: training pauses while the inspector looks."""
        if self.run_state is RunState.RUNNING:
            self.notify("training paused while inspecting", timeout=3)
        self.send(cmd.Pause())
        self.send(cmd.Inspect(exact=self.exact))

    def on_inspector_live_inspection_wanted(self, _: Inspector.LiveInspectionWanted) -> None:
        """The inspector follows the run in slow motion: the step just taken, training goes on."""
        self.send(cmd.Inspect(exact=self.exact, last_step=True))

    def on_draw_view_prediction_wanted(self, message: DrawView.PredictionWanted) -> None:
        self.send(message.command)

    def on_draw_view_follow_wanted(self, message: DrawView.FollowWanted) -> None:
        """The drawing into graph 3, as a batch of one; training pauses as for any batch."""
        if self.run_state is RunState.RUNNING:
            self.notify("training paused while inspecting", timeout=3)
        self.send(cmd.Pause())
        inspector = self.part("inspector")
        inspector.expect_drawing()
        self.part(TabbedContent).active = "inspector"
        # Once its tab is on screen: focused now, it could lose the focus to the pad's hiding.
        self.call_after_refresh(inspector.focus)
        self.send(cmd.Inspect(exact=self.exact, drawing=message.drawing, label=message.label))

    def on_digits_view_draw_wanted(self, message: DigitsView.DrawWanted) -> None:
        self.part(TabbedContent).active = "draw"
        self.part("draw").load(message.image, message.source)

    def action_follow_drawing(self) -> None:
        self.part("draw").action_follow()

    def on_tabbed_content_tab_activated(self, _: TabbedContent.TabActivated) -> None:
        # The inspector takes the keys while its tab is shown (and asks for graph 3's data). The
        # tab shown now, not the event's: t pressed fast queues the events of the tabs passed
        # on the way, and focusing the inspector for one of those took its tab back.
        try:
            self.part("inspector").tab_changed(self.part(TabbedContent).active == "inspector")
        except NoMatches:  # before its view is mounted (mount_tabs tells it then)
            pass
        self.redraw_charts()

    def on_resize(self, event) -> None:
        # 80x24 and the like: the panels narrow (app.tcss); at 60x20 the gradient check goes.
        self.set_class(event.size.width < 100 or event.size.height < 30, "-small")
        self.set_class(event.size.width < 72, "-narrow")

    def part(self, kind: type | str):
        """The app's one widget of type `kind`, or the view of tab `kind`, found once (each
        query walks the whole DOM, the Inspector's and Digits' widgets too: dear ten times a
        second)."""
        found = self._parts.get(kind)
        if found is None or not found.is_attached:
            found = self._parts[kind] = self.query_one(
                kind if isinstance(kind, type) else f"#{kind}-view"
            )
        return found

    def redraw_charts(self) -> None:
        """Each frame (10 a second): the charts whose data changed, the latest Insight."""
        if not self.is_running:
            return  # the timer can fire once more while the app shuts down
        try:
            self.part(LossChart).redraw()
            self.part(AccuracyChart).redraw()
            if self.part(TabbedContent).active == "gradients":
                self.part("gradients").redraw()
            self.draw_insight()
        except NoMatches:
            pass

    def draw_insight(self) -> None:
        """The latest Insight to the Digits and Learned tabs: at once while one of them is
        shown, else only while the run is not running (drawing them relayouts the screen)."""
        if self.insight is None and self.activations is None:
            return
        shown = self.part(TabbedContent).active in ("digits", "learned")
        if shown or self.run_state is not RunState.RUNNING:
            if self.insight is not None:
                insight, self.insight = self.insight, None
                self.part("digits").show(insight)
                self.part("learned").show(insight)
            if self.activations is not None:
                activations, self.activations = self.activations, None
                self.part("learned").show_activations(activations)

    # ---- keys -> actions -> engine commands -----------------------------------------------------

    def refused_after_divergence(self) -> bool:
        """A diverged run takes only values for the reset, and the reset: say so to the rest."""
        if self.run_state is not RunState.DIVERGED:
            return False
        self.notice(
            "run",
            f"The run diverged: it takes only new values for the reset ({keys_for('edit')}, "
            f"{keys_for('lr_down')} ...) and the reset ({keys_for('reset')}).",
            severity="warning",
        )
        return True

    def action_toggle_run(self) -> None:
        # The new state shows at once; the engine's StateChanged confirms it.
        if self.refused_after_divergence():
            return
        if self.run_state is RunState.RUNNING:
            self.send(cmd.Pause())
            self.run_state = RunState.PAUSED
        elif self.run_state in (RunState.READY, RunState.PAUSED):
            self.send(cmd.Run())
            self.run_state = RunState.RUNNING
        else:
            self.send(cmd.Run())  # finished or diverged: the engine says why it cannot run

    def action_step(self) -> None:
        if self.refused_after_divergence():
            return
        if self.run_state is RunState.RUNNING:
            # One step of a running run is no step to look at: say how to get one.
            self.notice(
                "run",
                f"{keys_for('step')} steps a paused run: pause first ({keys_for('toggle_run')})",
                severity="warning",
            )
            return
        self.send(cmd.Step(1))

    def action_reset(self) -> None:
        if self.engine_lost:  # a new engine, a new run: the charts start again
            self.stop_engine()
            self.part(LossChart).start_new_run()
            self.part(AccuracyChart).clear()
            self.progress, self.evaluation, self.smoothed_loss, self.alert = None, None, None, ""
            self.withdraw("run")
            self.start_engine(run=False)
            return
        self.send(cmd.Reset())
        self.check_gradient()

    def change(self, **changes) -> None:
        now = monotonic()
        if now - self._changed_at > NOTICE_SECONDS:
            self._changes, self._presses = {}, 0
        self._changed_at = now
        self._presses += 1
        for field, value in changes.items():
            before = self._changes.get(field, (self._next_value(field),))[0]
            self._changes[field] = (before, value)
        self._changes = {f: (b, a) for f, (b, a) in self._changes.items() if b != a}
        self.send(cmd.SetParams(changes))
        self._tell_changes()
        # Show the request at once, even while the engine is busy evaluating; its ParamsChanged
        # confirms the values, or puts the old ones back if it refused them.
        live, pending = split_changes(self.hp, self.pending, changes)
        try:
            self.hp = self.hp.replace(**live)
        except ConfigError:
            return
        self.pending = pending

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
        self.change(hidden=tuple(w + HIDDEN_STEP for w in self._next_value("hidden")))

    def action_hidden_down(self) -> None:
        self.change(hidden=tuple(max(1, w - HIDDEN_STEP) for w in self._next_value("hidden")))

    def action_toggle_activation(self) -> None:
        self.change(activation=cycle(("relu", "sigmoid"), self._next_value("activation")))

    def action_cycle_optimizer(self) -> None:
        self.change(optimizer=cycle(OPTIMIZERS, self.hp.optimizer))

    def action_cycle_init(self) -> None:
        self.change(init=cycle(INIT_SCHEMES, self._next_value("init")))

    def action_gradcheck(self) -> None:
        if not self.refused_after_divergence():
            self.check_gradient()

    def check_gradient(self) -> None:
        self.part(GradCheckPanel).checking = "exact" if self.exact else "book"
        self.send(cmd.CheckGradient(self.exact))

    def action_toggle_exact(self) -> None:
        if not self.refused_after_divergence():
            self.exact = not self.exact
            self.check_gradient()

    def action_save(self) -> None:
        if not self.refused_after_divergence():
            self.send(cmd.Save())

    def action_load(self) -> None:
        self.send(cmd.Load())

    def action_compare_runs(self) -> None:
        from bp_tui.ui.screens.runs_screen import RunsScreen  # here: the first frame needs none

        dataset = self.part(StatusLine).dataset
        screen = RunsScreen(self.hp, self.compared, current=self.run_id, dataset=dataset)
        self.push_screen(screen, self.show_comparisons)

    def show_comparisons(self, chosen: list[Comparison] | None) -> None:
        if chosen is None:
            return
        self.compared = [c.run_id for c in chosen]
        self.comparisons = chosen

    def action_cycle_smoothing(self) -> None:
        chart = self.part(LossChart)
        chart.smoothing = cycle(SMOOTHINGS, chart.smoothing)
        self.smoothed_loss = chart.series.smoothed

    def action_toggle_epochs(self) -> None:
        in_epochs = not self.part(LossChart).in_epochs
        for chart in (self.part(LossChart), self.part(AccuracyChart)):
            chart.in_epochs = in_epochs

    def action_toggle_log_loss(self) -> None:
        self.part(LossChart).log_scale = not self.part(LossChart).log_scale

    def action_toggle_pin_accuracy(self) -> None:
        self.part(AccuracyChart).pinned = not self.part(AccuracyChart).pinned

    def action_zoom(self, factor: float) -> None:
        """The charts on screen show `factor` times the iterations (the latest ones), the same
        iterations on both, no fewer than both can draw."""
        charts = [chart for chart in self.query(Chart) if chart.region and chart.x_end > 0]
        if len({chart.in_epochs for chart in charts}) != 1:
            for chart in charts:
                chart.zoom(factor)
            return
        lead = max(charts, key=lambda chart: chart.x_end)  # the one that has come furthest
        window = lead.zoomed(factor, shortest=max(chart.shortest_span() for chart in charts))
        for chart in charts:
            chart.window = window

    def action_pan(self, share: float) -> None:
        """The zoomed charts on screen move `share` of their range later (negative: earlier)."""
        for chart in self.query(Chart):
            if chart.region:
                chart.pan(share)

    def action_zoom_reset(self) -> None:
        for chart in self.query(Chart):
            chart.window = None

    def watch_theme(self, theme: str) -> None:
        if self.is_mounted:
            self.remember_theme(theme)

    def recolour_charts(self, _=None) -> None:
        """The charts read their colours from the theme when they draw: draw them again (once
        the new theme's variables are set: theme_changed_signal)."""
        for chart in self.query(Chart):
            chart.dirty = True
        self.redraw_charts()

    def remember_theme(self, theme: str) -> None:
        if theme != settings.load().get("theme"):
            settings.save(theme=theme)  # --theme or the palette's choice, for next time

    def action_speed_up(self) -> None:
        self._set_speed(+1)

    def action_slow_down(self) -> None:
        self._set_speed(-1)

    def _set_speed(self, step: int) -> None:
        at = SPEEDS.index(self.speed) if self.speed in SPEEDS else len(SPEEDS) - 1
        speed = SPEEDS[min(max(at + step, 0), len(SPEEDS) - 1)]
        self.send(cmd.SetSpeed(speed))
        self.notify(
            "full speed"
            if speed is None
            else f"slow motion: {speed:g} iteration{'' if speed == 1 else 's'} a second",
            timeout=3,
        )

    def action_race(self, kind: str) -> None:
        """One of chapter 6's races on this data set; training pauses to leave it the cores."""
        if self.run_state is RunState.RUNNING:
            self.send(cmd.Pause())
            self.notify("training paused while the race runs", timeout=3)
        from bp_tui.ui.screens.race_screen import RaceScreen  # here: the first frame needs none

        dataset = self.part(StatusLine).dataset
        self.push_screen(RaceScreen(kind, dataset if dataset in DATASETS else "sample"))

    def get_system_commands(self, screen):
        """The command palette offers the app's own actions beside Textual's commands; the
        screenshot is the app's (Textual's saves in a Downloads folder that may not exist)."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command
        for action in (
            "toggle_log_loss",
            "toggle_pin_accuracy",
            "cycle_smoothing",
            "toggle_epochs",
            "slow_down",
            "speed_up",
            "reset",
            "compare_runs",
            "gradcheck",
            "save",
            "load",
            "screenshot",
        ):
            binding = next(b for b in APP_BINDINGS if b.action == action)
            yield SystemCommand(
                binding.description, f"key {keys_for(action)}", getattr(self, f"action_{action}")
            )
        yield SystemCommand(
            "Follow the drawing through the network",
            f"the Draw tab's digit into the Inspector, forward and back (key {keys_for('follow', bindings=PAD_BINDINGS)} there)",
            self.action_follow_drawing,
        )
        for kind, figure in (("optimizers", "6-9"), ("init", "6-15")):
            yield SystemCommand(
                f"Race: {kind} (the book's figure {figure})",
                "train its configurations side by side and draw their losses together",
                lambda kind=kind: self.action_race(kind),
            )

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's screenshot: an SVG in the current folder (or $BP_TUI_SCREENSHOTS), not
        in a Downloads folder that may not exist; in a browser, a download as Textual does."""
        if self.is_web:
            self.deliver_screenshot(filename, path)
            return
        folder = path or os.environ.get("BP_TUI_SCREENSHOTS") or os.getcwd()
        try:
            saved = self.save_screenshot(filename, folder)
        except OSError as error:
            self.notify(
                f"could not save a screenshot in {folder}: {error.strerror or error}",
                severity="error",
                timeout=8,
            )
            return
        self.notify(f"saved {saved}", title="Screenshot", timeout=6)

    def action_help(self) -> None:
        views = tabs()
        active = self.part(TabbedContent).active
        self.push_screen(HelpScreen(tab_sections(active, views), taken_keys(views)))

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane)]
        tabs.active = cycle(panes, tabs.active)

    def action_edit(self) -> None:
        def apply(changes: dict | None) -> None:
            # Once the form has gone: a notice shown while it is still the current screen comes
            # back with the main screen as the engine's confirmation replaces it (two toasts).
            if changes:
                self.call_after_refresh(self.change, **changes)

        shape = self.part(StatusLine).shape  # the engine's net: its first width is the inputs
        options = {"inputs": shape[0]} if shape else {}
        options["train_size"] = self.train_size
        form = EditForm(self.hp, self.pending, iteration=self.iteration, **options)
        self.push_screen(form, apply)
