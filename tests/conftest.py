import pytest


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real cache and data folders."""
    root = tmp_path_factory.mktemp("bp-tui-home")
    monkeypatch.setenv("BP_TUI_DATA_DIR", str(root / "cache"))
    monkeypatch.setenv("BP_TUI_HOME", str(root / "home"))
    return root
