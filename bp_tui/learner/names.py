"""Which of the learner's classes is which of the book's: by name and its close variants."""

from __future__ import annotations

import difflib
import re

# The chapter's classes, in the order the report lists them.
BOOK_CLASSES = (
    "MulLayer",
    "AddLayer",
    "Relu",
    "Sigmoid",
    "Affine",
    "SoftmaxWithLoss",
    "TwoLayerNet",
)

# Other names learners give them, written as the key below makes them.
_VARIANTS = {
    "MulLayer": {"mul", "multiply", "multiplication", "multi", "mult"},
    "AddLayer": {"add", "addition", "plus"},
    "Relu": {"relu"},
    "Sigmoid": {"sigmoid"},
    "Affine": {"affine"},
    "SoftmaxWithLoss": {
        "softmaxwithloss",
        "softmaxloss",
        "softmaxcrossentropy",
        "softmaxwithcrossentropy",
    },
    "TwoLayerNet": {"twolayernet", "twolayernetwork", "twolayer"},
}


def key(name: str) -> str:
    """SoftmaxWithLossLayer, Affine_Layer, ReLU, MyRelu -> softmaxwithloss, affine, relu, relu."""
    text = re.sub(r"[^a-z0-9]", "", name.lower())
    text = re.sub(r"^(my|naive)", "", text)
    text = re.sub(r"(layer|class|naive)$", "", text)
    return text or name.lower()


def book_name_of(name: str) -> str | None:
    """The book's class a learner's class name stands for, or None."""
    k = key(name)
    for book, variants in _VARIANTS.items():
        if k in variants:
            return book
    # One letter wrong, missing or extra (Sigmod, Afine, SoftmaxWithLos), in a long enough name.
    for book, variants in _VARIANTS.items():
        for variant in variants:
            if len(variant) >= 5 and _one_edit(k, variant):
                return book
    return None


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def close_names(name: str, candidates) -> list[str]:
    """Names a typo may have meant (difflib), best first."""
    return difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
