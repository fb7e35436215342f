"""Display choices remembered between runs (the theme), in the platform's config folder.

$BP_TUI_CONFIG names another folder. A missing or damaged file is the defaults: a display
choice is never worth an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs
from textual.theme import Theme

from bp_tui.files import atomic_write

DEFAULT_THEME = "textual-dark"
# For projectors: black on white, every colour dark and saturated enough to read from the back.
PROJECTOR = Theme(
    name="projector",
    primary="#0040C0",
    secondary="#6A1B9A",
    accent="#B3006B",
    warning="#A05A00",
    error="#C00000",
    success="#006B1F",
    foreground="#000000",
    background="#FFFFFF",
    surface="#FFFFFF",
    panel="#E6E6E6",
    dark=False,
)
THEMES = (PROJECTOR,)  # bp-tui's own, beside Textual's


def config_file() -> Path:
    folder = os.environ.get("BP_TUI_CONFIG") or platformdirs.user_config_dir("bp-tui")
    return Path(folder) / "settings.json"


def load() -> dict:
    """The remembered choices that can be used (see read)."""
    return read()[0]


def read() -> tuple[dict, str | None]:
    """The remembered choices that can be used, and a line naming what was ignored (a damaged
    file, a value of the wrong kind), for a notice; no file is no choice and no notice."""
    path = config_file()
    try:
        values = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, RecursionError):  # RecursionError: nested past Python's limit
        return {}, f"{path} is damaged: its settings are ignored"
    if not isinstance(values, dict):
        return {}, f"{path} is not a JSON object: its settings are ignored"
    theme = values.get("theme")
    if theme is not None and not isinstance(theme, str):  # an unknown name: the app says it
        kind = {list: "a list", dict: "an object", bool: "true or false"}.get(
            type(theme), "a number"
        )
        values = {k: v for k, v in values.items() if k != "theme"}
        return values, f"the theme in {path} is {kind}, not a theme name: the default is used"
    return values, None


def save(**changes) -> None:
    """Remember display choices; a folder that cannot be written just forgets them."""
    values = {**load(), **changes}
    try:
        atomic_write(config_file(), lambda f: f.write(json.dumps(values, indent=1).encode()))
    except OSError:
        pass


def theme_names() -> list[str]:
    from textual.app import App

    app = App()
    for theme in THEMES:
        app.register_theme(theme)
    return sorted(app.available_themes)
