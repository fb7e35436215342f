"""The gradient check: backprop against numerical gradients, per parameter, with a verdict."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from bp_tui.nn.gradcheck import GradCheckReport
from bp_tui.ui.bindings import keys_for


class GradCheckPanel(Static):
    report: reactive[GradCheckReport | None] = reactive(None, always_update=True)
    checking: reactive[str] = reactive("")  # the mode of a check under way; "" when none

    def on_mount(self) -> None:
        self.border_title = "Gradient check"
        self._name_the_check()

    def watch_report(self) -> None:
        self._name_the_check()

    def watch_checking(self) -> None:
        self._name_the_check()

    def _name_the_check(self) -> None:
        keys = f"{keys_for('gradcheck')}: run  {keys_for('toggle_exact')}: book/exact"
        shown = self.report is not None and not self.checking
        self.border_subtitle = (
            f"iteration {self.report.iteration or 0:,} · {keys}" if shown else keys
        )

    def render(self) -> RenderableType:
        report = self.report
        if self.checking or report is None:
            mode = f" ({self.checking} mode)" if self.checking else ""
            return Text(f"checking{mode}…", style="dim")
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("param", style="bold")
        for name in ("mean|Δ|", "max|Δ|", "rel err"):
            table.add_column(name, justify="right")
        table.add_column("", justify="center", width=4)
        for key, check in report.params.items():
            mark = Text("✔ ok", style="green") if check.passed else Text("✖ bad", style="bold red")
            table.add_row(
                key,
                f"{check.mean_abs_diff:.1e}",
                f"{check.max_abs_diff:.1e}",
                f"{check.rel_error:.1e}",
                mark,
            )
        verdict = (
            Text("passed", style="bold green")
            if report.passed
            else Text("FAILED", style="bold red")
        )
        head = Text.assemble(
            verdict, (f"   {report.mode} mode, pass when rel err < {report.threshold:g}", "dim")
        )
        parts = [head, table]
        if self.size.height >= 9 or not self.size.height:  # room for the why, below the figures
            parts.append(Text(report.explanation, style="italic dim"))
        return Group(*parts)
