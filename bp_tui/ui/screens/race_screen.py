"""The race screen: one of chapter 6's races run beside the dashboard, its loss curves together."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual_plotext import PlotextPlot

from bp_tui.engine.race import LOSS_EVERY, RACES, Entry, run_race
from bp_tui.ui.colours import theme_rgb
from bp_tui.ui.widgets.charts import iteration_ticks, tick_label

Runner = Callable[..., list[Entry]]  # run_race's signature: kind, dataset, done=...


class RaceScreen(ModalScreen[None]):
    """Trains the race's configurations in worker processes (the dashboard's run is paused
    meanwhile by the app) and draws each one's loss as it finishes."""

    DEFAULT_CSS = """
    RaceScreen {
        align: center middle;
    }
    #race-box {
        width: 95%;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #race-chart {
        height: 1fr;
    }
    #race-table {
        height: auto;
    }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, kind: str, dataset: str, run: Runner = run_race) -> None:
        super().__init__()
        self.kind, self.dataset, self.run = kind, dataset, run
        self.entries: list[Entry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="race-box"):
            yield PlotextPlot(id="race-chart")
            yield Static(id="race-table")

    def on_mount(self) -> None:
        names = ", ".join(name for name, _ in RACES[self.kind])
        box = self.query_one("#race-box")
        box.border_title = f"Race: {self.kind} ({names}) on {self.dataset}, the same mini-batches"
        box.border_subtitle = "escape closes"
        self.draw()
        self.race()

    @work(thread=True, exclusive=True, group="race")
    def race(self) -> None:
        def done(entry: Entry) -> None:
            self.app.call_from_thread(self.add, entry)

        try:
            self.run(self.kind, self.dataset, done=done)
        except Exception as error:  # noqa: BLE001 - one line on screen, the dashboard goes on
            self.app.call_from_thread(self.failed, f"{type(error).__name__}: {error}")

    def failed(self, why: str) -> None:
        self.query_one("#race-table", Static).update(f"The race could not run: {why}")

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self.draw()

    def colour(self, index: int) -> tuple[int, int, int]:
        """The theme's own colours: each configuration its own, bright as the live curves."""
        names = ("primary", "warning", "success", "error", "accent")
        return theme_rgb(self, names[index % len(names)])

    def draw(self) -> None:
        plt = self.query_one(PlotextPlot).plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("iteration  ·  loss: the mean of each 100 iterations")
        last = 0
        for index, entry in enumerate(self.entries):
            x = [(i + 1) * LOSS_EVERY for i in range(len(entry.losses))]
            plt.plot(x, entry.losses, marker="braille", color=self.colour(index))
            last = max(last, x[-1] if x else 0)
        if last:
            ticks = iteration_ticks(last)
            plt.xticks(ticks, [tick_label(t) for t in ticks])
            plt.xlim(0, max(ticks[-1], last) + 1)
        self.query_one(PlotextPlot).refresh()
        table = Table(box=None, padding=(0, 2))
        for column in ("configuration", "final loss", "train acc", "test acc"):
            table.add_column(column, justify="left" if column == "configuration" else "right")
        waiting = [n for n, _ in RACES[self.kind] if n not in {e.name for e in self.entries}]
        for index, entry in enumerate(self.entries):
            colour = "#{:02x}{:02x}{:02x}".format(*self.colour(index))
            if entry.diverged:
                table.add_row(f"[{colour}]━[/] {entry.name}", "diverged", "-", "-")
            else:
                table.add_row(
                    f"[{colour}]━[/] {entry.name}",
                    f"{entry.final_loss:.4f}",
                    f"{entry.train_acc:.4f}",
                    f"{entry.test_acc:.4f}",
                )
        for name in waiting:
            table.add_row(name, "training…", "", "")
        self.query_one("#race-table", Static).update(table)
