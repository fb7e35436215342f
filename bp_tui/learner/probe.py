"""Calling a learner's class and judging what comes back: the pieces every class's check uses.

A Probe runs one class. Each call into their code goes through it, so an exception becomes a
finding with their line (never a bp-tui traceback), and each comparison becomes a finding with
the first wrong element, the value it should have and, where one of the known faults fits the
numbers, the likely cause in words.
"""

from __future__ import annotations

import ast
import builtins
import traceback
from collections.abc import Callable, Sequence

import numpy as np

from bp_tui.learner.book import missing_from_book
from bp_tui.learner.lines import attributes_read, changed_in_place, made_at
from bp_tui.learner.load import DefinedClass, Loaded, describe
from bp_tui.learner.names import close_names
from bp_tui.learner.report import DOES_NOT_RUN, PASSED, WRONG, ClassResult, Finding
from bp_tui.learner.source import Place
from bp_tui.nn.numerical import central_differences

# A gradient that is the book's backward on the same inputs, where forward was found wrong.
FROM_FORWARD = (
    "backward is the book's; forward is wrong, so backward is not its derivative: fix forward"
)
GRADIENT_TOLERANCE = 1e-7  # relative error of a gradient against central differences
VALUE_TOLERANCE = 1e-6  # relative error of a forward value against the book's formula
# numpy's words for arrays whose shapes do not fit: their math is wrong, it is not a typo
_SHAPE_WORDS = ("not aligned", "broadcast", "mismatch", "shapes", "dimension")

Cause = tuple[Callable[[np.ndarray], bool], str]


class Stop(Exception):
    """The class cannot be checked further (it raised, or returned nothing to check)."""


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    """max |got - expected| over the larger of the two arrays' largest magnitudes."""
    scale = max(float(np.max(np.abs(expected), initial=0)), float(np.max(np.abs(got), initial=0)))
    diff = float(np.max(np.abs(got - expected), initial=0))
    return 0.0 if diff == 0 else (diff / scale if scale > 0 else float("inf"))


def close(got, expected, tolerance: float = VALUE_TOLERANCE) -> bool:
    """Whether got is expected (same shape, relative error under tolerance), for cause tests."""
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    return (
        got.shape == expected.shape
        and bool(np.all(np.isfinite(got)))
        and relative_error(got, expected) < tolerance
    )


class Probe:
    def __init__(self, book_name: str, defined: DefinedClass, loaded: Loaded) -> None:
        self.book_name = book_name
        self.defined = defined
        self.loaded = loaded
        self.cls = defined.cls
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.checked: list[str] = []
        self.does_not_run = False
        self.fallback_cause: str | None = None  # when nothing better explains an exception
        self.blame: Place | None = None  # the fault line behind the fallback cause (their layer's)
        self.forward_fault: Place | None = None  # the line of forward's first finding
        self._node = self._class_node()

    @property
    def class_node(self) -> ast.ClassDef | None:
        """The class's definition in their file (its AST), when found."""
        return self._node

    # ---- the result --------------------------------------------------------------------------

    def result(self) -> ClassResult:
        if self.does_not_run:
            status = DOES_NOT_RUN
        else:
            status = WRONG if self.findings else PASSED
        return ClassResult(
            self.book_name,
            self.defined.name,
            status,
            self.defined.place,
            self.findings,
            self.notes,
            self.checked,
        )

    def wrong(
        self,
        quantity: str,
        what: str,
        cause: str | None = None,
        *,
        method=None,
        place=None,
        **values,
    ):
        place = place or self._blamed(cause) or self.place_of(method, quantity)
        if method == "forward" and self.forward_fault is None:
            self.forward_fault = place
        self.findings.append(Finding(quantity, what, cause, place, **values))

    def _blamed(self, cause: str | None) -> Place | None:
        """Their wrong layer's fault line, for a finding that it explains."""
        return self.blame if cause is not None and cause == self.fallback_cause else None

    def fail(self, quantity: str, what: str, cause: str | None = None, place: Place | None = None):
        """The class does not run: one finding, and the check of this class ends."""
        self.does_not_run = True
        self.findings.append(Finding(quantity, what, cause, place or self.defined.place))
        raise Stop

    # ---- calling their code ------------------------------------------------------------------

    def make(self, *args):
        """An instance, made as the book makes one."""
        if self.cls is None:
            self.fail(
                "class",
                self.defined.error or "its definition raised",
                None,
                self.defined.error_place,
            )
        methods = self.method_names()
        if "__init__" not in methods and "__int__" in methods and args:
            self.fail(
                "__init__",
                f"{self.defined.name}() takes no arguments",
                "__int__ is a typo of __init__",
                self.place_of("__int__"),
            )
        return self.call("__init__", self.cls, *args)

    def method(self, instance, name: str):
        """Their method `name`; a missing one (foward, backword) ends the check."""
        if not callable(getattr(type(instance), name, None)):
            near = close_names(name, self.method_names())
            cause = f"{near[0]} is defined: a typo of {name}?" if near else None
            place = self.def_place(near[0]) if near else None
            self.fail(name, f"{self.defined.name} has no {name} method", cause, place)
        return getattr(instance, name)

    def call(self, method: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except BaseException as error:  # noqa: B036 - their code, sys.exit() included
            self._raised(method, error)

    def _raised(self, method: str, error: BaseException):
        place = self.loaded.learner_frame(error) or self.place_of(method)
        what = f"{method} raises {describe(error)}"
        why = self._why(error)
        cause = why or self.fallback_cause
        fault = self._typo_place(error) if why else self._blamed(cause)
        if fault is not None and fault != place:
            what, place = f"{what}, in {place}", fault
        if isinstance(error, ValueError) and any(w in str(error) for w in _SHAPE_WORDS):
            self.findings.append(Finding(method, what, cause or _shape_cause(place), place))
            raise Stop from None
        self.fail(method, what, cause, place)

    def _why(self, error: BaseException) -> str | None:
        frame = _last_learner_frame(error, self.loaded)
        names = set(dir(builtins))
        if frame is not None:
            names |= set(frame.f_locals) | set(frame.f_globals)
        if isinstance(error, NameError) and error.name == "self" and frame is not None:
            first = frame.f_code.co_varnames[:1]
            if first and first[0] != "self":
                return f"the method's first parameter is {first[0]}: a typo of self"
        if isinstance(error, NameError) and getattr(error, "name", None):
            book = missing_from_book(error.name)
            if book:
                return f"{error.name} is in the book's {book}, which bp-tui's book API lacks"
            near = close_names(error.name, names - {error.name})
            return f"a typo of {near[0]}?" if near else f"{error.name} is never defined or imported"
        if isinstance(error, AttributeError) and getattr(error, "obj", None) is not None:
            attrs = set(dir(error.obj)) - {error.name}
            near = close_names(error.name or "", attrs)
            if near:
                return f"{near[0]} is set; {error.name} is spelled differently"
        if isinstance(error, SystemExit):
            return "sys.exit() in a method ends the program: nothing is left to check"
        if isinstance(error, EOFError | InputCalled):
            return "input() waits for someone to type: a layer should not ask"
        if isinstance(error, MemoryError):
            return "the memory limit of the check was reached: an array far too large?"
        if isinstance(error, RecursionError):
            return "a method calls itself without end"
        return None

    def _typo_place(self, error: BaseException) -> Place | None:
        """The misspelt line behind a typo that raised elsewhere: the def of a method whose
        first parameter is not self; the definition of an attribute (or method) spelt one way
        where the rest of their code spells it another."""
        frame = _last_learner_frame(error, self.loaded)
        if isinstance(error, NameError) and error.name == "self" and frame is not None:
            return self.loaded.place(frame.f_code.co_filename, frame.f_code.co_firstlineno)
        if not isinstance(error, AttributeError) or getattr(error, "obj", None) is None:
            return None
        near = close_names(error.name or "", set(dir(error.obj)) - {error.name})
        if not near:
            return None
        used = _spellings(self.loaded, type(error.obj).__name__)
        if used.get(error.name, []) and len(used[error.name]) > len(used.get(near[0], [])):
            return used[near[0]][0] if used.get(near[0]) else None
        return None

    # ---- judging -----------------------------------------------------------------------------

    def array(self, method: str, quantity: str, value, cause_if_none: str | None = None):
        """value as a float64 array; None or something not numeric is a finding and stops."""
        if value is None:
            self.wrong(quantity, f"{quantity} is None", cause_if_none, method=method)
            raise Stop
        try:
            return np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            self.wrong(
                quantity, f"{quantity} is {type(value).__name__}, not numbers", method=method
            )
            raise Stop from None

    def compare(
        self,
        method: str,
        quantity: str,
        got: np.ndarray,
        expected: np.ndarray,
        causes: Sequence[Cause] = (),
        tolerance: float = VALUE_TOLERANCE,
        against: str = "the book's formula",
        place: Place | None = None,
    ) -> bool:
        """A finding (and False) when got is not expected in shape or value; at `place` when
        given (a wrong input the method read), else where their method made it."""
        self.checked.append(quantity)
        expected = np.asarray(expected, dtype=np.float64)
        cause = next((text for test, text in causes if _safely(test, got)), None)
        if got.shape != expected.shape:
            self.wrong(
                quantity,
                f"{quantity} has shape {_shape(got.shape)}; it should be {_shape(expected.shape)}",
                cause,
                method=method,
                place=place,
            )
            return False
        bad = ~np.isclose(
            got, expected, rtol=0, atol=tolerance * max(np.max(np.abs(expected), initial=0), 1e-300)
        )
        bad |= ~np.isfinite(got)
        if not bad.any():
            return True
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        error = relative_error(np.nan_to_num(got), expected)
        at = f"[{', '.join(map(str, index))}]" if index else ""
        self.wrong(
            quantity,
            f"{quantity}{at} is {got[index]:.6g}; it should be {expected[index]:.6g} "
            f"({against}; relative error {error:.1e})",
            cause,
            method=method,
            place=place,
            index=list(index),
            got=float(got[index]),
            expected=float(expected[index]),
        )
        return False

    def twice(self, quantity: str, first, second, method: str, cause: str | None = None) -> None:
        """A finding when a second call on the same inputs gives another answer."""
        if second is None or not close(second, first, 1e-12):
            self.wrong(
                quantity,
                f"{method} gives a different {quantity} when called a second time",
                cause
                or "state kept from the first call (a += where = belongs, or an input changed "
                "in place)",
                method=method,
            )

    def gradient(
        self,
        method: str,
        quantity: str,
        got,
        numeric,
        causes: Sequence[Cause] = (),
        tolerance: float = GRADIENT_TOLERANCE,
        place: Place | None = None,
        books: Sequence[np.ndarray] = (),
    ) -> bool:
        """compare() against central differences of their forward; a gradient that is one of
        `books` (the book's backward on the same inputs, or on the state their forward left)
        where forward was found wrong is named at forward's wrong line."""
        if self.forward_fault is not None and any(close(got, b, tolerance) for b in books):
            causes, place = [(lambda _: True, FROM_FORWARD)], self.forward_fault
        against = "central differences of forward"
        return self.compare(method, quantity, got, numeric, causes, tolerance, against, place)

    def numeric(self, f: Callable[[], float], x: np.ndarray) -> np.ndarray:
        """Central differences of their f with respect to x (perturbed in place), exceptions theirs."""
        return self.call("forward", central_differences, lambda _: f(), x)

    # ---- where in their file -----------------------------------------------------------------

    def method_names(self) -> set[str]:
        if self._node is not None:
            return {
                n.name
                for n in self._node.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
        return {n for n in vars(self.cls)} if self.cls else set()

    def place_of(self, method: str | None, quantity: str | None = None) -> Place | None:
        """The line that made `quantity` in their `method` (the last that assigned it or changed
        it in place, else that made what the method returns), else the method's def, else the
        class's."""
        node = self.method_node(method) if method else None
        if node is None:
            return self.defined.place
        return self._piece().line(made_at(node, quantity).lineno)

    def line(self, number: int) -> Place:
        """Line `number` of the piece of their code that defines the class."""
        return self._piece().line(number)

    def def_place(self, method: str) -> Place | None:
        """The `def` line of their method, else the class's."""
        node = self.method_node(method)
        return self._piece().line(node.lineno) if node is not None else self.defined.place

    def in_place_place(self, method: str) -> Place | None:
        """The line where their method changes an argument in place, else place_of(method)."""
        node = self.method_node(method)
        changed = changed_in_place(node) if node is not None else None
        return self._piece().line(changed.lineno) if changed else self.place_of(method)

    def attributes_read(self, method: str) -> set[str]:
        """The attributes their method reads (lower-case)."""
        node = self.method_node(method)
        return attributes_read(node) if node is not None else set()

    def assigns_local(self, method: str, name: str) -> bool:
        """Whether `method` assigns a plain local called `name` (computed, never stored)."""
        node = self.method_node(method)
        return node is not None and any(
            isinstance(c, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id.lower() == name.lower() for t in c.targets)
            for c in ast.walk(node)
        )

    def _piece(self):
        file = self.loaded.files.get(self.defined.place.file)
        for piece in file.pieces if file else []:
            if piece.cell == self.defined.place.cell:
                return piece
        return None

    def _class_node(self) -> ast.ClassDef | None:
        piece = self._piece()
        for node in piece.kept if piece else []:
            if isinstance(node, ast.ClassDef) and node.lineno == self.defined.place.line:
                return node
        return None

    def method_node(self, name: str) -> ast.FunctionDef | None:
        """Their method's definition (its AST), when found."""
        if self._node is None:
            return None
        found = [n for n in self._node.body if isinstance(n, ast.FunctionDef) and n.name == name]
        return found[-1] if found else None


class InputCalled(EOFError):
    """input() was called while checking."""


def _spellings(loaded: Loaded, class_name: str) -> dict[str, list[Place]]:
    """Each attribute and method name their code spells, with the places that define it in
    class_name (`self.name = ...`, `def name`) first, then the places that use it."""
    defined: dict[str, list[Place]] = {}
    used: dict[str, list[Place]] = {}
    for file in loaded.files.values():
        for piece in file.pieces:
            for top in piece.kept:
                in_class = isinstance(top, ast.ClassDef) and top.name == class_name
                for node in ast.walk(top):
                    if isinstance(node, ast.FunctionDef):
                        name, store = node.name, True
                    elif isinstance(node, ast.Attribute):
                        name, store = node.attr, isinstance(node.ctx, ast.Store)
                    else:
                        continue
                    into = defined if store and in_class else used
                    into.setdefault(name, []).append(piece.line(node.lineno))
    return {n: defined.get(n, []) + used.get(n, []) for n in defined.keys() | used.keys()}


def _last_learner_frame(error: BaseException, loaded: Loaded):
    frame = None
    for tb_frame, _ in traceback.walk_tb(error.__traceback__):
        if loaded.place(tb_frame.f_code.co_filename, 1) is not None:
            frame = tb_frame
    return frame


def _shape_cause(place: Place | None) -> str | None:
    text = place.text.replace(" ", "") if place else ""
    if "dout,self.x.T" in text or "dout,x.T" in text:
        return "the order of the product: dW is np.dot(self.x.T, dout)"
    if "self.x.T" in text and "dout" in text:
        return "dW is np.dot(self.x.T, dout): (in, N) times (N, out)"
    return "the shapes of a product do not fit: dx is dout . W.T, dW is x.T . dout"


def _safely(test, got) -> bool:
    try:
        return bool(test(got))
    except Exception:  # a cause test on a value of the wrong shape
        return False


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))
