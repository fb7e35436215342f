"""Themes follow through (issue 21, 5): the charts recolour at once, the projector theme's
borders read on a 16-colour terminal, and --theme wins over the theme remembered."""

from rich.color import ColorSystem
from rich.segment import Segment

from bp_tui.ui import settings
from bp_tui.ui.widgets.charts import LossChart
from tests import recordings
from tests.helpers import until
from tests.ui_harness import app_with, settled

HP = recordings.RECORDINGS["short_run"].hp


def colours_of(widget) -> set[str]:
    """The foreground colours a widget draws (as #rrggbb)."""
    found = set()
    for y in range(widget.size.height):
        for segment in widget.render_line(y):
            style = Segment(*segment).style
            if style is not None and style.color is not None and style.color.triplet:
                found.add(style.color.triplet.hex)
    return found


async def test_a_theme_chosen_in_the_palette_recolours_the_charts_at_once():
    app, _ = app_with(recordings.load("short_run"), HP)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, 300)(pilot)
        chart = app.query_one(LossChart)
        dark_primary = app.theme_variables["primary"].lower()
        assert dark_primary in colours_of(chart)  # the mini-batch line
        app.theme = "projector"
        await until(pilot, lambda: app.theme_variables["primary"].lower() != dark_primary)
        projector_primary = app.theme_variables["primary"].lower()
        await until(pilot, lambda: projector_primary in colours_of(chart))
        await until(pilot, lambda: dark_primary not in colours_of(chart))


async def test_the_projector_themes_borders_read_on_a_16_colour_terminal():
    """TERM=xterm or linux: Textual downgrades each colour to the 16 ANSI ones; a border at
    50% of the primary on white became white (7) on bright white (15)."""
    app, _ = app_with(recordings.load("short_run"), HP, theme="projector")
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, 300)(pilot)
        for selector in ("#loss", "#accuracy", "#progress", "#gradcheck"):
            widget = app.query_one(selector)
            _, background = widget.background_colors
            border = background + widget.styles.border_top[1]  # as Textual blends it
            ink = border.rich_color.downgrade(ColorSystem.STANDARD).number
            paper = background.rich_color.downgrade(ColorSystem.STANDARD).number
            assert ink not in (7, 15) and ink != paper, selector


async def test_theme_on_the_command_line_wins_over_the_remembered_one_and_is_remembered():
    settings.save(theme="textual-light")
    app, _ = app_with(recordings.load("short_run"), HP, theme="textual-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.iteration > 0)
        assert app.theme == "textual-dark"
    assert settings.load()["theme"] == "textual-dark"
