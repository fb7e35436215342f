"""Earlier runs (c): tick some, and their curves are drawn dimmed under the current run's."""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from bp_tui.engine.config import HyperParams
from bp_tui.engine.runs import RunInfo, RunStore
from bp_tui.errors import BpTuiError
from bp_tui.ui.comparison import Comparison, compare_color, comparison_of, differences

HEADER = (
    f"{'started':<16}  {'test acc':>8}  {'status':<10}  {'iters':>9}  {'data':<8} what differed"
)
# A narrow screen (80x24): the key (what differed) keeps the room, iterations and data set give
# way (the results table below has the iterations; another data set is one of the differences).
NARROW_HEADER = f"{'started':<11}  {'test acc':>8}  {'status':<10}  what differed"
NARROW_BELOW = 104  # screen columns


def prompt_for(
    run: RunInfo,
    hp: HyperParams,
    narrow: bool = False,
    dataset: str = "",
    changes: list[dict] | None = None,
) -> Text:
    """One line under HEADER: when, how well, how it ended, and what it did differently from
    the current run, mid-run changes and their iterations included (cut at the right)."""
    accuracy = "-" if run.test_acc is None else f"{run.test_acc:.4f}"
    differed = " ".join(differences(run, hp, changes)) or "the same values as now"
    status = (f"{run.status:<10}", "" if run.status == "finished" else "dim")
    if narrow:
        if dataset and run.dataset != dataset:
            differed = f"{run.dataset} {differed}"
        text = Text.assemble(
            (f"{run.started:%m-%d %H:%M}", "bold"), f"  {accuracy:>8}  ", status, f"  {differed}"
        )
    else:
        text = Text.assemble(
            (f"{run.started:%Y-%m-%d %H:%M}", "bold"),
            f"  {accuracy:>8}  ",
            status,
            f"  {run.iterations:>6,} it  {run.dataset:<8} {differed}",
        )
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def results_table(runs: list[Comparison]) -> Table:
    """The chosen runs' last figures side by side, each in its colour on the charts."""
    table = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
    for name, justify in RESULT_COLUMNS:
        table.add_column(name, justify=justify, no_wrap=name != "run")
    for index, run in enumerate(runs):
        final = run.final
        table.add_row(
            Text("━━", style=Style(color=Color.from_rgb(*compare_color(index)))),
            run.label,
            f"{final['iterations']:,}",
            _figure(final["final_loss"]),
            _figure(final["train_acc"]),
            _figure(final["test_acc"]),
            final["status"],
        )
    return table


RESULT_COLUMNS = (
    ("", "left"),
    ("run", "left"),
    ("iterations", "right"),
    ("last loss", "right"),
    ("train acc", "right"),
    ("test acc", "right"),
    ("status", "left"),
)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


class RunsScreen(ModalScreen[list[Comparison] | None]):
    """Dismisses with the chosen runs (an empty list clears the comparison), None when closed."""

    DEFAULT_CSS = """
    RunsScreen {
        align: center middle;
    }
    #runs-box {
        width: 108;
        max-width: 98%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #runs-list {
        height: auto;
        max-height: 20;
        border: none;
        padding: 0;
    }
    #runs-results {
        height: auto;
        margin: 1 0 0 0;
    }
    #runs-header, #runs-hint, #runs-empty {
        color: $text-muted;
    }
    #runs-header {
        padding: 0 0 0 4;
    }
    """
    BINDINGS = [
        Binding("enter,c", "compare", "Compare", priority=True),
        Binding("x", "clear", "Clear"),
        Binding("escape", "cancel", "Close"),
    ]

    def __init__(
        self,
        hp: HyperParams,
        chosen: list[str] = (),  # type: ignore[assignment]
        store: RunStore | None = None,
        current: str | None = None,
        dataset: str = "",
    ):
        """current: the run the dashboard is training, not an earlier one; dataset: its data."""
        super().__init__()
        self.hp, self.dataset = hp, dataset
        self.store = store or RunStore()
        self.runs = [r for r in reversed(self.store.list()) if r.id != current]  # newest first
        self.changes = {r.id: self._changes(r) for r in self.runs}
        self.chosen = set(chosen)
        self._loaded: dict[str, Comparison] = {}

    def _changes(self, run: RunInfo) -> list[dict] | None:
        """Its change lines (None: removed or damaged since listed, its start values shown)."""
        try:
            return self.store.changes(run)
        except BpTuiError:
            return None

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-box"):
            if self.runs:
                narrow = self.app.size.width < NARROW_BELOW
                header = NARROW_HEADER if narrow else HEADER
                yield Static(Text(header, no_wrap=True, overflow="ellipsis"), id="runs-header")
                yield SelectionList[str](
                    *[
                        (
                            prompt_for(r, self.hp, narrow, self.dataset, self.changes[r.id]),
                            r.id,
                            r.id in self.chosen,
                        )
                        for r in self.runs
                    ],
                    id="runs-list",
                )
                yield Static(id="runs-results")
                hint = "space tick · enter compare · x clear · esc close"
            else:
                yield Static(
                    "No runs yet. Every run, here or from bp-tui train, is recorded as it goes.",
                    id="runs-empty",
                )
                hint = "esc close"
            yield Static(hint, id="runs-hint")

    def on_mount(self) -> None:
        box = self.query_one("#runs-box")
        box.border_title = "Compare with earlier runs"
        count = len(self.runs)
        box.border_subtitle = f"{count} run{'s' if count != 1 else ''}, newest first"
        self.show_results()

    def on_selection_list_selected_changed(self) -> None:
        self.show_results()

    def show_results(self) -> None:
        """The ticked runs' last figures under the list, as they will be compared."""
        if not self.runs:
            return
        chosen, _ = self.comparisons()
        results = self.query_one("#runs-results", Static)
        results.display = bool(chosen)
        results.update(results_table(chosen))

    def comparisons(self) -> tuple[list[Comparison], list[str]]:
        """The ticked runs, in the list's order (the charts' colours follow it), and the
        problems of those that could not be read."""
        chosen, problems = [], []
        ticked = set(self.query_one(SelectionList).selected)
        for run_id in [r.id for r in self.runs if r.id in ticked]:
            if run_id not in self._loaded:
                try:
                    self._loaded[run_id] = comparison_of(self.store.load(run_id), self.hp)
                except BpTuiError as error:  # removed or damaged since the list was read
                    problems.append(str(error))
                    continue
            chosen.append(self._loaded[run_id])
        return chosen, problems

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_clear(self) -> None:
        if self.runs:
            self.query_one(SelectionList).deselect_all()

    def action_compare(self) -> None:
        if not self.runs:
            self.dismiss(None)
            return
        self._loaded.clear()  # as the files are now
        chosen, problems = self.comparisons()
        for problem in problems:
            self.app.notify(problem, severity="warning")
        self.dismiss(chosen)
