"""How every command words counts and accuracies, so that the lines read alike."""

from __future__ import annotations


def counted(count: int, word: str, many: str | None = None) -> str:
    """'1 iteration', '2,000 iterations': the count with the word in the number it needs."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def accuracy_text(value: float | None) -> str:
    """An accuracy as every command prints it: four decimals (0.0970, not 0.097)."""
    return "-" if value is None else f"{value:.4f}"
