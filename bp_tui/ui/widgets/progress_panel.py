"""Progress: iteration and epoch counts, speed, elapsed time and ETA, a bar, the latest results."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from bp_tui.engine import events as ev
from bp_tui.engine.config import HyperParams


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Bar(Static):
    """A plain text bar as wide as it is: drawn the same every time, unlike an animated one."""

    fraction: reactive[float] = reactive(0.0)

    def render(self) -> Text:
        fraction = min(max(self.fraction, 0.0), 1.0)
        width = max(self.content_size.width - 6, 4)
        done = round(fraction * width)
        return Text.assemble(
            ("━" * done, f"bold {self.app.theme_variables.get('primary', 'blue')}"),
            ("━" * (width - done), "dim"),
            f" {fraction:4.0%}",
        )


class ProgressPanel(Vertical):
    hp: reactive[HyperParams] = reactive(HyperParams)
    progress: reactive[ev.Progress | None] = reactive(None, always_update=True)
    evaluation: reactive[ev.Evaluation | None] = reactive(None)
    smoothed_loss: reactive[float | None] = reactive(None)
    alert: reactive[str | Text] = reactive("")

    def compose(self) -> ComposeResult:
        yield Bar(id="bar")
        yield Static(id="progress-text")
        yield Static(id="progress-alert")
        yield Static(id="progress-results")

    def on_mount(self) -> None:
        self.border_title = "Progress"

    def watch_progress(self) -> None:
        self._show_counts()

    def watch_hp(self) -> None:
        self._show_counts()

    def _show_counts(self) -> None:
        p, total = self.progress, self.hp.iters
        iteration, epoch, total_epochs, speed, elapsed = (
            (p.iteration, p.epoch, p.total_epochs, p.iters_per_second, p.elapsed)
            if p is not None
            else (0, 0.0, 0.0, 0.0, 0.0)
        )
        if p is not None:
            total = p.total
        self.query_one(Bar).fraction = iteration / max(total, 1)
        eta = (total - iteration) / speed if speed > 0 else None
        text = Text()
        text.append("iteration ", style="dim").append(f"{iteration:,} / {total:,}\n")
        text.append("epoch     ", style="dim").append(f"{epoch:.2f} / {total_epochs:.2f}\n")
        text.append("speed     ", style="dim").append(f"{speed:,.0f} it/s\n" if speed else "-\n")
        text.append("elapsed   ", style="dim").append(f"{clock(elapsed)}\n")
        text.append("ETA       ", style="dim").append(clock(eta) if eta is not None else "-")
        self.query_one("#progress-text", Static).update(text)

    def watch_smoothed_loss(self) -> None:
        self._show_results()

    def watch_evaluation(self) -> None:
        self._show_results()

    def _show_results(self) -> None:
        text = Text()
        if self.smoothed_loss is not None:
            text.append("loss      ", style="dim").append(f"{self.smoothed_loss:.4f}\n")
        if self.evaluation is not None:
            e = self.evaluation
            text.append("accuracy  ", style="dim").append(f"train {e.train_acc:.4f}\n")
            text.append("          ", style="dim").append(f"test  {e.test_acc:.4f}")
        self.query_one("#progress-results", Static).update(text)

    def watch_alert(self, alert: str | Text) -> None:
        self.query_one("#progress-alert", Static).update(alert)
