"""Progress: iteration and epoch counts, speed, elapsed time and ETA, a bar."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="bar")
        yield Static(id="progress-text")
        yield Static(id="progress-alert")
        yield Static(id="progress-results")

    def on_mount(self) -> None:
        self.border_title = "Progress"
        self.show_counts(0, 0, 0.0, 0.0, 0.0, 0.0)

    last: tuple | None = None

    def show_counts(self, iteration: int, total: int, epoch: float, total_epochs: float,
                    speed: float, elapsed: float) -> None:  # fmt: skip
        self.last = (iteration, total, epoch, total_epochs, speed, elapsed)
        self.query_one("#bar", Static).update(self.bar(iteration / max(total, 1)))
        eta = (total - iteration) / speed if speed > 0 else None
        text = Text()
        text.append("iteration ", style="dim").append(f"{iteration:,} / {total:,}\n")
        text.append("epoch     ", style="dim").append(f"{epoch:.2f} / {total_epochs:.2f}\n")
        text.append("speed     ", style="dim").append(f"{speed:,.0f} it/s\n" if speed else "-\n")
        text.append("elapsed   ", style="dim").append(f"{clock(elapsed)}\n")
        text.append("ETA       ", style="dim").append(clock(eta) if eta is not None else "-")
        self.query_one("#progress-text", Static).update(text)

    def show_results(
        self, loss: float | None, train_acc: float | None, test_acc: float | None
    ) -> None:
        text = Text()
        if loss is not None:
            text.append("loss      ", style="dim").append(f"{loss:.4f}\n")
        if train_acc is not None:
            text.append("accuracy  ", style="dim").append(f"train {train_acc:.4f}\n")
            text.append("          ", style="dim").append(f"test  {test_acc:.4f}")
        self.query_one("#progress-results", Static).update(text)

    def bar(self, fraction: float) -> Text:
        """A plain text bar: drawn the same every time, unlike an animated one."""
        fraction = min(max(fraction, 0.0), 1.0)
        width = max(self.content_size.width - 6, 4)
        done = round(fraction * width)
        return Text.assemble(
            ("━" * done, f"bold {self.app.theme_variables.get('primary', 'blue')}"),
            ("━" * (width - done), "dim"),
            f" {fraction:4.0%}",
        )

    def on_resize(self) -> None:
        if self.last is not None:
            self.show_counts(*self.last)

    def alert(self, message: str | Text = "") -> None:
        self.query_one("#progress-alert", Static).update(message)
