"""A guard for the handlers of views mounted after the first frame."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def unless_closing(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The handler, skipped once the app is closing: a view mounted as the user quits gets its
    Mount after Textual has already taken its children away, and a query for them would fail."""

    @functools.wraps(handler)
    def run(self, *args: Any) -> Any:
        if self.is_attached:  # False from the moment the app was told to exit
            return handler(self, *args)
        return None

    return run
