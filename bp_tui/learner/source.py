"""A learner's code as pieces to run: a .py file, a notebook's code cells, or a folder of them.

Only imports and class and function definitions are kept (and names bound to plain constants),
so that loading never trains, downloads or opens a window; every other top-level statement is
counted as skipped. Each piece keeps its own line numbers, and a notebook cell its number, so
a line in a traceback can be named as the learner sees it.
"""

from __future__ import annotations

import ast
import json
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bp_tui.errors import BpTuiError

SUFFIXES = (".py", ".ipynb")
# The compiled filename of a piece: "<learner>/path/to/file.ipynb#5" for cell 5.
FILENAME_PREFIX = "<learner>"


class LearnerFileError(BpTuiError):
    """The learner's file cannot be read or parsed: nothing of it can be checked."""


@dataclass(frozen=True)
class Place:
    """A line of the learner's code: file, cell (notebooks, 1-based) and line (1-based)."""

    file: str
    line: int
    cell: int | None = None
    text: str = ""

    def __str__(self) -> str:
        where = f"cell {self.cell}, line {self.line}" if self.cell else f"line {self.line}"
        return f"{Path(self.file).name} {where}"

    def to_dict(self) -> dict:
        return {"file": self.file, "cell": self.cell, "line": self.line, "text": self.text}


@dataclass
class Piece:
    """One file's code, or one notebook cell's, with only the statements worth running."""

    file: str
    cell: int | None
    source: str
    kept: list[ast.stmt] = field(default_factory=list)
    skipped: int = 0

    @property
    def filename(self) -> str:
        suffix = f"#{self.cell}" if self.cell else ""
        return f"{FILENAME_PREFIX}{self.file}{suffix}"

    def line(self, number: int) -> Place:
        lines = self.source.splitlines()
        text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        return Place(self.file, number, self.cell, text)


@dataclass
class LearnerFile:
    path: Path
    pieces: list[Piece]
    notes: list[str] = field(default_factory=list)

    @property
    def module_name(self) -> str:
        return self.path.stem

    @property
    def skipped(self) -> int:
        return sum(p.skipped for p in self.pieces)

    def defined_names(self) -> set[str]:
        """The names the file's own definitions bind (classes, functions, constants)."""
        names: set[str] = set()
        for piece in self.pieces:
            for node in piece.kept:
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(node.name)
                elif isinstance(node, ast.Assign):
                    names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        return names


def place_of(filename: str, line: int, files: dict[str, LearnerFile]) -> Place | None:
    """The learner's Place behind a compiled filename and line, or None for code not theirs."""
    if not filename.startswith(FILENAME_PREFIX):
        return None
    file, _, cell = filename[len(FILENAME_PREFIX) :].partition("#")
    learner = files.get(file)
    if learner is None:
        return Place(file, line, int(cell) if cell else None)
    for piece in learner.pieces:
        if piece.cell == (int(cell) if cell else None):
            return piece.line(line)
    return Place(file, line, int(cell) if cell else None)


def learner_files(path: Path) -> list[Path]:
    """The files behind PATH: itself, or a folder's .py and .ipynb files (not recursively)."""
    if not path.exists():
        raise LearnerFileError(f"{path}: no such file or folder")
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        if not found:
            raise LearnerFileError(f"{path}: no .py or .ipynb file in this folder")
        return found
    if path.suffix not in SUFFIXES:
        raise LearnerFileError(f"{path}: not a .py file, a notebook (.ipynb) or a folder")
    return [path]


def readable_learner_files(path: Path) -> list[Path]:
    """learner_files(path), each of them read as loading them will: LearnerFileError (one line)
    for a file that is missing, binary, not a notebook or does not parse, before anything runs."""
    files = learner_files(path)
    for file in files:
        read_learner_file(file)
    return files


def saves(path: Path, stop: threading.Event) -> Iterator[None]:
    """Once each time a .py or .ipynb file in path's folder is saved (a file's helpers beside
    it count), until stop is set: watchfiles, which waits for the writes to settle."""
    from watchfiles import watch  # here: a single check or run does not import it

    folder = path if path.is_dir() else path.parent
    for _ in watch(folder, watch_filter=_learner_file, stop_event=stop):
        yield


def _learner_file(change: object, name: str) -> bool:
    return Path(name).suffix in SUFFIXES


def read_learner_file(path: Path) -> LearnerFile:
    """The file's pieces; LearnerFileError if it cannot be read or (a .py) does not parse."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LearnerFileError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise LearnerFileError(f"{path}: {error.strerror or error}") from None
    if path.suffix == ".ipynb":
        return _notebook(path, text)
    piece = Piece(str(path), None, text)
    try:
        tree = ast.parse(text, piece.filename)
    except SyntaxError as error:
        raise LearnerFileError(f"{path} line {error.lineno}: SyntaxError: {error.msg}") from None
    _keep(piece, tree)
    return LearnerFile(path, [piece])


def _notebook(path: Path, text: str) -> LearnerFile:
    import nbformat  # here: a .py check does not pay for it

    try:
        with warnings.catch_warnings():  # nbformat's own (a missing cell id): not the learner's
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, ValueError, KeyError) as error:
        raise LearnerFileError(f"{path}: not a Jupyter notebook ({error})") from None
    learner = LearnerFile(path, [])
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = _without_magics(cell.get("source", ""))
        piece = Piece(str(path), number, source)
        try:
            tree = ast.parse(source, piece.filename)
        except SyntaxError as error:
            learner.notes.append(
                f"cell {number} line {error.lineno}: SyntaxError: {error.msg} (cell skipped)"
            )
            continue
        _keep(piece, tree)
        learner.pieces.append(piece)
    return learner


def _without_magics(source: str) -> str:
    """IPython's %magic and !shell lines blanked (the line numbers stay)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _keep(piece: Piece, tree: ast.Module) -> None:
    for node in tree.body:
        if _worth_running(node):
            piece.kept.append(node)
        else:
            piece.skipped += 1


def _worth_running(node: ast.stmt) -> bool:
    if isinstance(
        node, ast.Import | ast.ImportFrom | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
    ):
        return True
    if isinstance(node, ast.Try):  # try: import cupy as np / except ImportError: import numpy
        blocks = [node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)]
        return all(isinstance(s, ast.Import | ast.ImportFrom | ast.Pass) for b in blocks for s in b)
    if isinstance(node, ast.Assign | ast.AnnAssign):  # delta = 1e-7: a constant, no call
        value = node.value
        return value is not None and all(
            isinstance(n, ast.Constant | ast.UnaryOp | ast.BinOp | ast.Tuple | ast.List)
            or isinstance(n, ast.operator | ast.unaryop | ast.expr_context)
            for n in ast.walk(value)
        )
    return False
