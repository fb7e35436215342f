"""The gradient check: backprop against numerical gradients, per parameter, with a verdict.

The verdict is the report's (bp_tui.nn.gradcheck): backprop against the loss it differentiates,
the same rule in book and exact mode and in the inspector. Book mode's own figures (its loss has
1e-7 inside the log) are shown beside it, never as a failure of backprop.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from bp_tui.nn.gradcheck import GradCheckReport
from bp_tui.ui.bindings import keys_for

NARROW = 40  # columns of content under which the panel shows the verdicts alone


def batch_text(report: GradCheckReport) -> str:
    """Which images the check used: the report's words, else the engine's first N."""
    if report.batch:
        return report.batch
    n = report.images or 3
    return f"training images 0-{n - 1}"


def verdict_cell(check, exact: bool) -> Text:
    """✔ or ✖ by the one rule; in book mode with the rel err that rule judged."""
    return Text(check.verdict(exact), style="green" if check.passed else "bold red")


def full_table(report: GradCheckReport) -> Table:
    """A row per parameter: mean and max |Δ|, rel err, the verdict."""
    table = Table(box=None, padding=(0, 1, 0, 0), expand=True, show_edge=False)
    table.add_column("param", style="bold", no_wrap=True, min_width=5)
    book = report.two_figures
    for name in ("mean|Δ|", "max|Δ|", report.figure_name):
        table.add_column(name, justify="right", style="dim" if book else None, no_wrap=True)
    table.add_column("backprop", justify="left", no_wrap=True)
    for key, check in report.params.items():
        table.add_row(
            key,
            check.shown(check.mean_abs_diff),
            check.shown(check.max_abs_diff),
            check.shown_rel_error(),
            verdict_cell(check, report.exact),
        )
    return table


def paired_table(report: GradCheckReport, per_row: int = 2, figures: bool = True) -> Table:
    """Two parameters a row, in the net's order (each layer's weights beside its biases), or
    one in a narrow panel: the verdict with the rel err it judged (figures), or the mark alone
    (a deep net in a narrow panel)."""
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False, show_header=figures)
    for _ in range(per_row):
        table.add_column("param", style="bold", no_wrap=True)
        table.add_column("backprop", justify="left", no_wrap=True)
    checks = list(report.params.items())
    for pair in (checks[i : i + per_row] for i in range(0, len(checks), per_row)):
        cells = []
        for key, check in pair:
            mark = check.mark
            cell = Text(f"{mark} {check.verdict_figure}" if figures else mark)
            cell.stylize("green" if check.passed else "bold red")
            cells += [key, cell]
        table.add_row(*cells)
    return table


class GradCheckPanel(Static):
    report: reactive[GradCheckReport | None] = reactive(None, always_update=True)
    checking: reactive[str] = reactive("")  # the mode of a check under way; "" when none
    problem: reactive[str] = reactive("")  # why the last check could not run ("" when it ran)

    def on_mount(self) -> None:
        self.border_title = "Gradient check"
        self._name_the_check()

    def watch_report(self) -> None:
        self._name_the_check()

    def watch_checking(self) -> None:
        self._name_the_check()

    def on_resize(self) -> None:
        self._name_the_check()

    def _name_the_check(self) -> None:
        if self.narrow:  # 80x24: the keys alone fit the border (the iteration would cut them)
            self.border_subtitle = f"{keys_for('gradcheck')}: run  {keys_for('toggle_exact')}: mode"
            return
        keys = f"{keys_for('gradcheck')}: run  {keys_for('toggle_exact')}: book/exact"
        shown = self.report is not None and not self.checking
        self.border_subtitle = (
            f"iteration {self.report.iteration or 0:,} · {keys}" if shown else keys
        )

    @property
    def narrow(self) -> bool:
        return bool(self.size.width) and self.size.width < NARROW

    def render(self) -> RenderableType:
        report = self.report
        if self.problem and not self.checking:
            return Group(
                Text("FAILED", style="bold red"),
                Text(f"the check could not run: {self.problem}"),
            )
        if self.checking or report is None:
            mode = f" ({self.checking} mode)" if self.checking else ""
            return Text(f"checking{mode}…", style="dim")
        # A row per parameter when they fit below the verdict and the header, else a deep
        # net's parameters two to a row (each layer's weights beside its biases). The wide
        # table's figures need their rules below (a book rel err of 5e-5 beside a ✔ reads as a
        # contradiction without them): it is shown only with room for the short rules.
        # A narrow panel (80x24): the verdicts alone, the figures are in the wider views.
        height, rows = self.size.height, len(report.params) + 2
        narrow = self.narrow
        if narrow:
            fits = not height or rows <= height
            table = paired_table(report, *((1, True) if fits else (2, False)))
        else:
            fits = not height or rows + len(report.rule_lines(short=True)) <= height
            table = full_table(report) if fits else paired_table(report)
        verdict = (
            Text("passed", style="bold green")
            if report.passed
            else Text("FAILED", style="bold red")
        )
        # Narrow, "passed · exact" keeps to its line ("exact mode" wrapped its "mode").
        more = f" · {report.mode}" if narrow else f"   {report.mode} mode · {batch_text(report)}"
        head = Text.assemble(verdict, (more, "dim"))
        parts = [head, table]
        if report.first_wrong:
            parts.append(Text(report.first_wrong, style="bold"))
        return Group(*parts, *self._why(report, parts))

    def _why(self, report: GradCheckReport, above: list[RenderableType]) -> list[Text]:
        """The rules and the explanation below the figures, as much of them as the panel holds
        (the rules in short, the explanation left out), nothing when not even the short rules
        fit; before the first layout, all of it."""
        rules, short = (
            [Text(line, style="dim") for line in report.rule_lines(brief)]
            for brief in (False, True)
        )
        explanation = Text(report.explanation, style="italic dim")
        if not self.size.height:
            return [*rules, explanation]
        options = ([*rules, explanation], [*short, explanation], rules, short)
        console = self.app.console
        width = console.options.update_width(self.size.width)
        for why in options:
            if len(console.render_lines(Group(*above, *why), width)) <= self.size.height:
                return why
        return []
