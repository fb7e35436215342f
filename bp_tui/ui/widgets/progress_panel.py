"""Progress: iteration and epoch counts, speed, elapsed time and ETA, a bar, the latest results.

Counts come from the engine's latest Progress; the run's length from the hyperparameters (the
value the Hyperparameters panel shows). Each part redraws in place (no layout) when it changed.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive, var
from textual.widgets import Static

from bp_tui.engine import events as ev
from bp_tui.engine.config import HyperParams
from bp_tui.engine.events import RunState
from bp_tui.ui.colours import theme_color


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Bar(Static):
    """A plain text bar as wide as it is: drawn the same every time, unlike an animated one."""

    # Repainted only when what it shows changes (ten new fractions a second look the same).
    fraction: reactive[float] = reactive(0.0, repaint=False)

    def _look(self, fraction: float) -> tuple[int, int, str]:
        fraction = min(max(fraction, 0.0), 1.0)
        width = max(self.content_size.width - 6, 4)
        return width, round(fraction * width), f" {fraction:4.0%}"

    def watch_fraction(self, before: float, now: float) -> None:
        if self._look(before) != self._look(now):
            self.refresh()

    def render(self) -> Text:
        width, done, percent = self._look(self.fraction)
        return Text.assemble(
            ("━" * done, f"bold {theme_color(self, 'primary').hex}"),
            ("━" * (width - done), "dim"),
            percent,
        )


def counts_text(
    hp: HyperParams, p: ev.Progress | None, state: RunState, compact: bool = False
) -> tuple[float, Text]:
    """The bar's fraction and the counts' lines (compact: three, for a short panel)."""
    total = hp.iters
    iteration, epoch, speed, elapsed = (
        (p.iteration, p.epoch, p.iters_per_second, p.elapsed) if p else (0, 0.0, 0.0, 0.0)
    )
    # The engine's epoch total holds for its own iteration total: after a change it waits for
    # the engine's next report, and before a run there is none to give.
    total_epochs = f" / {p.total_epochs:.2f}" if p and p.total == total and p.total_epochs else ""
    live = state in (RunState.RUNNING, RunState.PAUSED, RunState.READY)
    eta = (total - iteration) / speed if live and speed > 0 and total > iteration else None
    text = Text()
    shown_speed = f"{speed:,.0f} it/s" if speed else "-"
    shown_eta = clock(eta) if eta is not None else "-"
    if compact:  # 26 columns
        text.append("iteration ", style="dim").append(f"{iteration:,} / {total:,}\n")
        text.append("epoch ", style="dim").append(f"{epoch:.2f}{total_epochs}\n")
        if not speed:  # a bare "-" beside "ETA -" said nothing
            text.append("speed ", style="dim")
        text.append(shown_speed).append("  ETA ", style="dim").append(shown_eta)
        return iteration / max(total, 1), text
    text.append("iteration ", style="dim").append(f"{iteration:,} / {total:,}\n")
    text.append("epoch     ", style="dim").append(f"{epoch:.2f}{total_epochs}\n")
    text.append("speed     ", style="dim").append(f"{shown_speed}\n")
    text.append("elapsed   ", style="dim").append(f"{clock(elapsed)}\n")
    text.append("ETA       ", style="dim").append(shown_eta)
    return iteration / max(total, 1), text


COMPACT_BELOW = 13  # rows of the panel under which it is compact


class ProgressPanel(Vertical):
    # Its parts show these and repaint themselves: the panel's own frame is not repainted.
    hp: var[HyperParams] = var(HyperParams)
    run_state: var[RunState] = var(RunState.STARTING)
    progress: var[ev.Progress | None] = var(None, always_update=True)
    evaluation: var[ev.Evaluation | None] = var(None)
    smoothed_loss: var[float | None] = var(None)
    alert: var[str | Text] = var("")
    # A short panel (80x24) packs the counts and results in five lines, so that both show.
    compact: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Bar(id="bar")
        yield Static(id="progress-text")
        yield Static(id="progress-results")
        # Last: an alert takes the room left and never pushes the results out of the panel.
        yield Static(id="progress-alert")

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        # An alert needs the room too: then the counts and results take five lines.
        self.compact = self.size.height < COMPACT_BELOW or bool(self.alert)

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        self._show_counts()
        self._show_results()

    def on_mount(self) -> None:
        self.border_title = "Progress"

    def watch_progress(self) -> None:
        self._show_counts()

    def watch_hp(self) -> None:
        self._show_counts()

    def watch_run_state(self) -> None:
        self._show_counts()

    def _show_counts(self) -> None:
        fraction, text = counts_text(self.hp, self.progress, self.run_state, self.compact)
        self.query_one(Bar).fraction = fraction
        self._update("#progress-text", text)

    def _update(self, selector: str, text: Text | str) -> None:
        """Redraw one part if its text changed; its height is fixed, so no layout is needed."""
        part = self.query_one(selector, Static)
        if getattr(part, "shown", None) != text:
            part.shown = text
            part.update(text, layout=False)

    def watch_smoothed_loss(self) -> None:
        self._show_results()

    def watch_evaluation(self) -> None:
        self._show_results()

    def _show_results(self) -> None:
        text = Text()
        if self.compact:  # 26 columns
            if self.smoothed_loss is not None:
                text.append("loss ", style="dim").append(f"{self.smoothed_loss:.4f}")
                text.append(" smoothed\n", style="dim")
            if self.evaluation is not None:
                e = self.evaluation
                text.append("train ", style="dim").append(f"{e.train_acc:.4f}")
                text.append("  test ", style="dim").append(f"{e.test_acc:.4f}")
            self._update("#progress-results", text)
            return
        if self.smoothed_loss is not None:
            text.append("loss      ", style="dim").append(f"smoothed {self.smoothed_loss:.4f}\n")
        if self.evaluation is not None:
            e = self.evaluation
            text.append("accuracy  ", style="dim").append(f"train {e.train_acc:.4f}\n")
            text.append("          ", style="dim").append(f"test  {e.test_acc:.4f}")
        self._update("#progress-results", text)

    def watch_alert(self, alert: str | Text) -> None:
        self.query_one("#progress-alert", Static).update(alert)
        self._fit()
