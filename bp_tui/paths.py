"""Where bp-tui keeps what it writes: checkpoints and runs (not data sets: see bp_tui.data)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from bp_tui.errors import BpTuiError

DEFAULT_NAME_MAX = 255  # bytes in one file name: Linux's, macOS's and Windows' usual limit
DEFAULT_PATH_MAX = 4096


class FolderError(BpTuiError, OSError):
    """A folder that no file system could have (a name past the file-name limit). An OSError
    too, so that code which carries on when a folder cannot be written still does."""


def home() -> Path:
    """BP_TUI_HOME, else the platform's user data directory."""
    override = os.environ.get("BP_TUI_HOME")
    if override:
        return checked_folder(Path(override), "$BP_TUI_HOME")
    return checked_folder(Path(platformdirs.user_data_dir("bp-tui")), "the data folder")


def checkpoints_dir() -> Path:
    return home() / "checkpoints"


def checked_folder(path: Path, origin: str) -> Path:
    """path, when each of its names fits the file system's limit; else FolderError naming
    origin (what gave the path: an option or a variable), one line with the name cut short."""
    limit = _limit(path, "PC_NAME_MAX", DEFAULT_NAME_MAX)
    for name in path.parts:
        size = len(os.fsencode(name))
        if size > limit:
            raise FolderError(
                f"{origin} has a folder name of {size:,} bytes ({name[:24]}…), more than the "
                f"{limit:,} a file name may have: name a shorter folder"
            )
    longest = _limit(path, "PC_PATH_MAX", DEFAULT_PATH_MAX)
    size = len(os.fsencode(str(path)))
    if size >= longest:
        raise FolderError(
            f"{origin} is a path of {size:,} bytes, more than the {longest - 1:,} a path may "
            "have: name a shorter folder"
        )
    return path


def _limit(path: Path, name: str, default: int) -> int:
    """The file system's limit `name` where path would be (its nearest existing folder)."""
    for folder in (path, *path.parents):
        try:
            if folder.is_dir():
                return os.pathconf(folder, name)
        except (OSError, ValueError):  # too long itself, or no such limit here
            continue
    return default
