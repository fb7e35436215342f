"""Where bp-tui keeps what it writes: checkpoints and runs (not data sets: see bp_tui.data)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home() -> Path:
    """BP_TUI_HOME, else the platform's user data directory."""
    override = os.environ.get("BP_TUI_HOME")
    return Path(override) if override else Path(platformdirs.user_data_dir("bp-tui"))


def checkpoints_dir() -> Path:
    return home() / "checkpoints"
