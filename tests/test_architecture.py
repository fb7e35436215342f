"""The import contract: the layers of bp_tui, checked on every run of the suite.

    nn (the book's math)  <-  data  <-  learner  <-  engine  <-  ui (Textual)  <-  cli

Each package imports only those to its left (nn imports nothing of bp_tui but the shared errors
and files); nothing but ui and cli imports Textual; and no module imports, even lazily, one that
imports it back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "bp_tui"
LAYERS = ("nn", "data", "learner", "engine", "ui", "cli")
SHARED = {"bp_tui", "bp_tui.errors", "bp_tui.files", "bp_tui.paths", "bp_tui.__main__"}
UI_LIBRARIES = ("textual", "textual_plotext", "plotext", "rich")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            # `from bp_tui.engine import events` imports the module bp_tui.engine.events
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    return {
        name: {m for m in imports_of(path) if m in modules or not m.startswith("bp_tui")}
        for name, path in modules.items()
    }


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def back_edges(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, imported in sorted(edges.items()):
        own = layer(module)
        for target in sorted(imported):
            if target.split(".")[0] in UI_LIBRARIES and own not in ("ui", "cli"):
                wrong.append(f"{module} imports {target}: only ui and cli may use Textual")
            other = layer(target)
            if own and other and LAYERS.index(other) > LAYERS.index(own):
                wrong.append(f"{module} imports {target}: {own} may not import {other}")
            if own == "nn" and target.startswith("bp_tui") and not other and target not in SHARED:
                wrong.append(f"{module} imports {target}: nn stands alone")
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles between bp_tui's modules. A package's __init__ is left out: importing a
    package's module through it (from bp_tui.engine import events) is not a cycle."""
    packages = {p for p in edges if (ROOT.parent / p.replace(".", "/") / "__init__.py").exists()}
    internal = {
        m: {t for t in ts if t in edges and t not in packages}
        for m, ts in edges.items()
        if m not in packages
    }
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(internal[module]):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(internal):
        if module not in state:
            visit(module, [module])
    return found


def test_no_layer_imports_one_above_it():
    assert back_edges(graph()) == []


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(graph()) == []


@pytest.mark.parametrize(
    "module, target",
    [
        ("bp_tui.engine.loop", "bp_tui.ui.app"),
        ("bp_tui.ui.app", "bp_tui.cli.options"),
        ("bp_tui.nn.net", "textual.widget"),
        ("bp_tui.data.idx", "bp_tui.engine.trainer"),
    ],
)
def test_the_check_finds_a_back_edge(module, target):
    edges = graph()
    edges[module] = edges[module] | {target}
    assert any(line.startswith(f"{module} imports {target}") for line in back_edges(edges))


def test_the_check_finds_a_cycle():
    edges = graph()
    edges["bp_tui.nn.functions"] = edges["bp_tui.nn.functions"] | {"bp_tui.nn.layers"}
    assert cycles(edges)


# Parameter names come from the network (bp_tui/nn); the learner's checks, the engine and the
# command line loop over net.params. ui/** is checked likewise once its graph and charts name none.
NAMELESS = ("learner", "engine", "cli")


@pytest.mark.parametrize("package", NAMELESS)
def test_no_module_outside_nn_spells_a_parameter_name(package):
    import io
    import re
    import tokenize

    spelled = re.compile(r"\b[Wb][0-9]+\b")
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            # names and strings: code that names a parameter (comments and docstrings are prose)
            prose = token.type == tokenize.STRING and token.string.lstrip("rbfu").startswith('"""')
            if (
                token.type in (tokenize.NAME, tokenize.STRING)
                and not prose
                and spelled.search(token.string)
            ):
                found.append(f"{path.relative_to(ROOT)}:{token.start[0]} {token.string[:40]}")
    assert not found, found


# ---- the dashboard's shape (issue 21) -----------------------------------------------------------


def test_each_kind_of_engine_news_has_its_own_message_and_one_handler():
    """No catch-all message and no dispatch table: every event the engine sends (or the link says
    in its place) has the message of its kind, and ui/app.py one `@news_handler` for it."""
    import dataclasses
    import inspect

    from bp_tui.engine import events as ev
    from bp_tui.engine.remote import EngineLost
    from bp_tui.ui import messages

    sent = {
        c
        for _, c in inspect.getmembers(ev, inspect.isclass)
        if dataclasses.is_dataclass(c) and c.__module__ == ev.__name__
    }
    assert set(messages.NEWS) == sent | {EngineLost}
    assert len(set(messages.NEWS.values())) == len(messages.NEWS)  # one kind each
    handled = []
    for node in ast.walk(ast.parse((ROOT / "ui" / "app.py").read_text())):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == (
                    "news_handler"
                ):
                    handled.append(decorator.args[0].attr)
    assert sorted(handled) == sorted(c.__name__ for c in messages.NEWS.values())
    assert "EngineNews" not in handled


def test_no_handler_takes_every_kind_of_news():
    """EngineNews is only the base of the messages: nothing handles it (or an `events` list)."""
    source = "\n".join(p.read_text() for p in (ROOT / "ui").rglob("*.py"))
    assert "on_engine_news" not in source and "@on(EngineNews)" not in source
    assert "news_handler(news.EngineNews)" not in source
    assert "class EngineEvent" not in source


def test_the_rule_of_what_waits_for_the_reset_is_written_once():
    """engine/config.py's LIVE_FIELDS is read through split_changes and waits_for_reset only:
    the engine and the dashboard cannot come to disagree on it."""
    named = [
        str(path.relative_to(ROOT))
        for path in sorted(ROOT.rglob("*.py"))
        if path.name != "config.py" and "LIVE_FIELDS" in code_of(path)
    ]
    assert named == []


def code_of(path: Path) -> str:
    """A module's code without its comments and docstrings."""
    import io
    import tokenize

    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return " ".join(
        t.string
        for t in tokens
        if t.type != tokenize.COMMENT
        and not (t.type == tokenize.STRING and t.string.lstrip("rbfu").startswith('"""'))
    )


def from_own_package(module: str, source: str) -> list[str]:
    """What `module` takes from its own package's __init__ other than modules: a cycle through
    the __init__ (which the cycle check leaves out), as when cli/__init__.py built the parser
    from the commands and the commands took its signal plumbing from it."""
    modules = {module_name(p) for p in ROOT.rglob("*.py")}
    taken = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and module.startswith(node.module + ".")
        ):
            if node.module != "bp_tui":  # bp_tui/__init__.py imports nothing
                taken += [
                    f"{module} takes {a.name} from {node.module}"
                    for a in node.names
                    if f"{node.module}.{a.name}" not in modules
                ]
    return taken


def test_no_module_takes_a_name_from_its_own_package():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        found += from_own_package(module_name(path), path.read_text())
    assert found == []


def test_the_check_finds_a_name_taken_from_the_package():
    line = "from bp_tui.cli import quit_on_signal, serve"
    assert from_own_package("bp_tui.cli.dashboard", line) == [
        "bp_tui.cli.dashboard takes quit_on_signal from bp_tui.cli"
    ]
    assert from_own_package("bp_tui.ui.app", line) == []  # another package's: a layer's matter


def test_every_command_declares_what_it_takes():
    """Each command's module adds itself with its runner and what it takes (options.Takes)."""
    from bp_tui.cli import build_parser
    from bp_tui.cli.options import Takes

    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    for name, command in commands.choices.items():
        assert isinstance(command.get_default("takes"), Takes), name
    assert not (ROOT / "cli" / "__init__.py").read_text().count("add_parser(")


# Textual's private names the app once used; the notices use its public API now (ui/notices.py).
PRIVATE_TEXTUAL = ("_notifications", "_unnotify", "_refresh_notifications")


def test_the_app_uses_no_private_textual_api_for_its_notices():
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "ui").rglob("*.py"))
        for name in PRIVATE_TEXTUAL
        if f".{name}" in code_of(path).replace(" . ", ".")
    ]
    assert found == []


# ---- ui's folders (issue 21) -----------------------------------------------------------------------
# Inside ui, each folder imports only those to its left; ui's own modules (app.py, colours.py...)
# sit around them:
#     drawing (Text and Strips)  <-  widgets (panels, charts)  <-  screens  <-  inspector
UI_FOLDERS = ("drawing", "widgets", "screens", "inspector")
# What drawing may take of Textual: no widget, app or screen, only the pieces a drawing is made of.
DRAWING_TEXTUAL = ("textual.strip", "textual.color", "textual.geometry")


def ui_folder(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == ["bp_tui", "ui"] and len(parts) > 3 and parts[2] in UI_FOLDERS:
        return parts[2]
    return None


def folder_back_edges(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, imported in sorted(edges.items()):
        own = ui_folder(module)
        for target in sorted(imported):
            other = ui_folder(target)
            if own and other and UI_FOLDERS.index(other) > UI_FOLDERS.index(own):
                wrong.append(f"{module} imports {target}: ui/{own} may not import ui/{other}")
            textual = target.startswith("textual.")  # `from textual import x` names textual.x too
            if own == "drawing" and textual and not target.startswith(DRAWING_TEXTUAL):
                wrong.append(f"{module} imports {target}: ui/drawing makes no widgets")
    return wrong


def test_no_ui_folder_imports_one_to_its_right():
    assert folder_back_edges(graph()) == []


@pytest.mark.parametrize(
    "module, target",
    [
        ("bp_tui.ui.widgets.charts", "bp_tui.ui.screens.help_screen"),
        ("bp_tui.ui.screens.runs_screen", "bp_tui.ui.inspector.inspector"),
        ("bp_tui.ui.drawing.braille", "bp_tui.ui.widgets.drawn"),
        ("bp_tui.ui.drawing.halfblock", "textual.widget"),
    ],
)
def test_the_check_finds_a_ui_folder_back_edge(module, target):
    edges = graph()
    edges[module] = edges[module] | {target}
    assert any(line.startswith(f"{module} imports {target}") for line in folder_back_edges(edges))


def test_every_screen_lives_in_ui_screens_and_only_screens_do():
    """A newcomer looking for a screen finds it in ui/screens; a module there is one."""
    import importlib
    import inspect

    from textual.screen import Screen

    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "ui").rglob("*.py")):
        name = module_name(path)
        module = importlib.import_module(name)
        found[name] = [
            c.__name__
            for _, c in inspect.getmembers(module, inspect.isclass)
            if c.__module__ == name and issubclass(c, Screen)
        ]
    elsewhere = {m: s for m, s in found.items() if s and ui_folder(m) != "screens"}
    empty = [m for m, s in found.items() if ui_folder(m) == "screens" and not s]
    assert elsewhere == {} and empty == []
    assert found["bp_tui.ui.screens.help_screen"] == ["HelpScreen"]  # the check sees screens
