"""Writing files so that a crash or a kill never leaves half of one behind."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def temp_file(path: Path, suffix: str = ".tmp") -> tuple[BinaryIO, Path]:
    """A new, uniquely named file beside ``path`` (created with the umask, unlike mkstemp)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")
        try:
            return tmp.open("xb"), tmp
        except FileExistsError:
            continue


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through a temp file in the same folder, then rename: readers never see half a file."""
    f, tmp = temp_file(path)
    try:
        with f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
