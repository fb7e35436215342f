"""Running a learner's kept statements (imports and definitions) into module objects.

Only ever called in the checking child process (bp_tui.learner.child): this executes their code.
Each import runs one name at a time, so one missing name does not lose the others; the book's
modules resolve to bp-tui's book API, and a module beside the learner's file to that file, loaded
the same way (definitions only).
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import sys
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from bp_tui.learner.book import book_module, is_book_module
from bp_tui.learner.names import book_name_of
from bp_tui.learner.source import LearnerFile, Place, learner_files, place_of, read_learner_file


@dataclass
class DefinedClass:
    """A class of the learner's file, as loading left it (None when its definition raised)."""

    name: str
    place: Place
    cls: type | None
    error: str | None = None
    error_place: Place | None = None


@dataclass
class Loaded:
    files: dict[str, LearnerFile] = field(default_factory=dict)
    modules: dict[str, types.ModuleType] = field(default_factory=dict)
    classes: list[DefinedClass] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)  # class name -> status, as checked
    faults: dict[str, Place] = field(default_factory=dict)  # class name -> its first finding's line
    hung: dict[tuple, tuple[str, Place]] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files.values())

    def by_book_name(self) -> dict[str, DefinedClass]:
        """For each book class, the learner's class that stands for it: the book's own name
        first, else the last class defined under a variant of it (as Python keeps the last)."""
        chosen: dict[str, DefinedClass] = {}
        for defined in self.classes:
            book = book_name_of(defined.name)
            if book is None:
                continue
            if book not in chosen or chosen[book].name != book or defined.name == book:
                chosen[book] = defined
        return chosen

    def place(self, filename: str, line: int) -> Place | None:
        return place_of(filename, line, self.files)

    def learner_frame(self, error: BaseException) -> Place | None:
        """The last line of the learner's code in the error's traceback."""
        found = None
        for frame in traceback.extract_tb(error.__traceback__):
            place = self.place(frame.filename, frame.lineno or 0)
            if place is not None:
                found = place
        return found


def load(path: Path, hung: dict[tuple, tuple[str, Place]] | None = None) -> Loaded:
    """The learner's file or folder, loaded: LearnerFileError if a file cannot be read.

    hung: definitions not to run, by (file, cell, line) of their first line, each with what to
    say and where (an earlier child found them still running at that place).
    """
    loaded = Loaded(hung=hung or {})
    paths = learner_files(path)
    for file in paths:
        loaded.files[str(file)] = read_learner_file(file)
    _Finder.install({p.stem: p for p in _beside(paths)}, loaded)
    for file in paths:
        _module_of(loaded, file)
    return loaded


def learner_classes(path: Path) -> dict[str, type]:
    """The learner's classes that load, by the book's name (runs their definitions: for a
    process that runs their code, such as an engine process started for their layers)."""
    return {b: c.cls for b, c in load(path).by_book_name().items() if c.cls is not None}


def _beside(paths: list[Path]) -> list[Path]:
    """The .py and .ipynb files that an import of the learner's may mean (same folders)."""
    folders = {p.parent for p in paths}
    return [p for d in folders for p in sorted(d.iterdir()) if p.suffix in (".py", ".ipynb")]


def _module_of(loaded: Loaded, file: Path) -> types.ModuleType:
    key = str(file)
    if key in loaded.modules:
        return loaded.modules[key]
    if key not in loaded.files:
        loaded.files[key] = read_learner_file(file)
    learner = loaded.files[key]
    module = types.ModuleType(learner.module_name)
    module.__file__ = key
    loaded.modules[key] = module
    sys.modules.setdefault(learner.module_name, module)
    loaded.notes.extend(f"{file.name}: {note}" for note in learner.notes)
    own = learner.defined_names()
    for piece in learner.pieces:
        for node in piece.kept:
            if isinstance(node, ast.Import | ast.ImportFrom):
                _run_import(loaded, module, piece, node, own)
                continue
            if (piece.file, piece.cell, node.lineno) in loaded.hung:
                what, where = loaded.hung[(piece.file, piece.cell, node.lineno)]
                if isinstance(node, ast.ClassDef):
                    place = piece.line(node.lineno)
                    loaded.classes.append(DefinedClass(node.name, place, None, what, where))
                continue
            code = compile(ast.Module([node], []), piece.filename, "exec")
            try:
                exec(code, module.__dict__)
                error = None
            except BaseException as raised:  # noqa: B036 - their code: sys.exit() included
                error = raised
            if isinstance(node, ast.ClassDef):
                _record_class(loaded, module, piece.line(node.lineno), node.name, error)
            elif error is not None:
                where = loaded.learner_frame(error) or piece.line(node.lineno)
                loaded.notes.append(f"{where}: {describe(error)}")
    return module


def _record_class(loaded, module, place, name, error) -> None:
    loaded.classes = [
        c for c in loaded.classes if not (c.name == name and c.place.file == place.file)
    ]
    if error is None:
        loaded.classes.append(DefinedClass(name, place, module.__dict__.get(name)))
    else:
        where = loaded.learner_frame(error) or place
        loaded.classes.append(DefinedClass(name, place, None, describe(error), where))


def describe(error: BaseException) -> str:
    """An exception as one line: "NameError: name 'slef' is not defined"."""
    if isinstance(error, SystemExit):
        return (
            f"sys.exit({error.code!r}) was called"
            if error.code is not None
            else "sys.exit() was called"
        )
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _run_import(loaded, module, piece, node, own: set[str]) -> None:
    """One import statement, name by name; failures become notes."""
    place = piece.line(node.lineno)
    if isinstance(node, ast.Import):
        single = [ast.Import(names=[alias]) for alias in node.names]
    elif any(alias.name == "*" for alias in node.names):
        _star_import(loaded, module, place, node, own)
        return
    else:
        single = [
            ast.ImportFrom(module=node.module, names=[a], level=node.level) for a in node.names
        ]
    for statement in single:
        ast.copy_location(statement, node)
        code = compile(
            ast.fix_missing_locations(ast.Module([statement], [])), piece.filename, "exec"
        )
        try:
            exec(code, module.__dict__)
        except BaseException as error:  # noqa: B036
            loaded.notes.append(f"{place}: {_import_failure(statement, error)}")


def _import_failure(statement, error: BaseException) -> str:
    if isinstance(statement, ast.ImportFrom) and is_book_module(statement.module or ""):
        name = statement.names[0].name
        return f"bp-tui's book API has no {statement.module}.{name}: {name} is left undefined"
    return f"{ast.unparse(statement)} failed ({describe(error)}); its names are left undefined"


def _star_import(loaded, module, place, node, own: set[str]) -> None:
    """from X import *; a name the learner's own file defines stays theirs."""
    try:
        source = importlib.import_module(node.module or "")
    except BaseException as error:  # noqa: B036
        loaded.notes.append(f"{place}: from {node.module} import * failed ({describe(error)})")
        return
    names = getattr(source, "__all__", None) or [n for n in vars(source) if not n.startswith("_")]
    kept = sorted(n for n in names if n in own)
    module.__dict__.update(
        {n: getattr(source, n) for n in names if n not in own and hasattr(source, n)}
    )
    if kept and is_book_module(node.module or ""):
        loaded.notes.append(
            f"{place}: from {node.module} import * would replace your {', '.join(kept)} with "
            "the book's; yours are checked and used"
        )


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of the book's modules and of the learner's files beside theirs."""

    def __init__(self, beside: dict[str, Path], loaded: Loaded) -> None:
        self.beside = beside
        self.loaded = loaded

    @classmethod
    def install(cls, beside: dict[str, Path], loaded: Loaded) -> None:
        sys.meta_path.insert(0, cls(beside, loaded))

    def find_spec(self, name, path=None, target=None):
        if name in self.beside or is_book_module(name):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        if spec.name in self.beside:
            return _module_of(self.loaded, self.beside[spec.name])
        return book_module(spec.name)

    def exec_module(self, module) -> None:
        missing = getattr(module, "__bp_tui_missing__", None)
        if missing:  # a star import of it binds what there is; the rest is named when used
            module.__dict__.setdefault("__bp_tui_missing__", missing)
