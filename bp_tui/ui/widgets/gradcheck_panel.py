"""The gradient check: backprop against numerical gradients, per parameter, with a verdict."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from bp_tui.nn.gradcheck import GradCheckReport


class GradCheckPanel(Static):
    def on_mount(self) -> None:
        self.border_title = "Gradient check"
        self.border_subtitle = "g: run  x: book/exact"
        self.update(Text("checking…", style="dim"))

    def running(self, exact: bool) -> None:
        self.update(Text(f"checking ({'exact' if exact else 'book'} mode)…", style="dim"))

    def show(self, report: GradCheckReport) -> None:
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("param", style="bold")
        for name in ("mean|Δ|", "max|Δ|", "rel err"):
            table.add_column(name, justify="right")
        table.add_column("", justify="center", width=4)
        for key, check in report.params.items():
            mark = Text("✔ ok", style="green") if check.passed else Text("✖ bad", style="bold red")
            table.add_row(key, f"{check.mean_abs_diff:.1e}", f"{check.max_abs_diff:.1e}",
                          f"{check.rel_error:.1e}", mark)  # fmt: skip
        verdict = (
            Text("passed", style="bold green")
            if report.passed
            else Text("FAILED", style="bold red")
        )
        head = Text.assemble(
            verdict, (f"   {report.mode} mode, pass when rel err < {report.threshold:g}", "dim")
        )
        self.border_subtitle = f"iteration {report.iteration or 0:,} · g: run  x: book/exact"
        self.report = report
        parts = [head, table]
        if self.size.height >= 9 or not self.size.height:  # room for the why, below the figures
            parts.append(Text(report.explanation, style="italic dim"))
        self.update(Group(*parts))

    def on_resize(self) -> None:
        if getattr(self, "report", None) is not None:
            self.show(self.report)
