"""The one way the dashboard reads a colour of the current theme ($primary, $text-success...)."""

from __future__ import annotations

from textual.color import Color
from textual.widget import Widget


def theme_color(widget: Widget, name: str) -> Color:
    """A colour of the app's current theme, by its CSS variable's name (without the $)."""
    app = widget.app
    variables = app.theme_variables if name in app.theme_variables else app.get_css_variables()
    return Color.parse(variables[name])


def theme_rgb(widget: Widget, name: str) -> tuple[int, int, int]:
    return theme_color(widget, name).rgb


def hex_of(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
