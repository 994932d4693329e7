"""The import rules of docs/architecture.md: only gui/ touches Qt, the sandbox never borrows the
client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "uploader_app"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(subdir: str = "") -> list[Path]:
    return sorted((PACKAGE / subdir).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_gui_imports_qt(path: Path) -> None:
    if "gui" in path.relative_to(PACKAGE).parts:
        return
    qt = {name for name in _imports(path) if name.split(".")[0] in ("PySide6", "shiboken6")}
    assert not qt, f"{path.name} imports {qt}; keep Qt inside uploader_app/gui"


def test_sandbox_never_imports_the_client() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            n
            for n in _imports(path)
            if n == "uploader_app.api" or n.startswith("uploader_app.api.")
        )
        for path in _modules("sandbox")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_core_does_not_import_upward() -> None:
    """api, validation and models sit below jobs, cli and gui."""
    upward = ("uploader_app.jobs", "uploader_app.cli", "uploader_app.gui", "uploader_app.sandbox")
    for sub in ("api", "validation"):
        for path in _modules(sub):
            bad = [n for n in _imports(path) if n.startswith(upward)]
            assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_settings_key_and_log_modules_stay_low() -> None:
    """config, settings, logfile and files sit beside models (everything may read them); keys also
    calls the API client, so it may import api, but nothing above it."""
    above_api = (
        "uploader_app.jobs",
        "uploader_app.cli",
        "uploader_app.gui",
        "uploader_app.sandbox",
    )
    for name in ("config.py", "settings.py", "logfile.py", "files.py"):
        bad = [
            n for n in _imports(PACKAGE / name) if n.startswith((*above_api, "uploader_app.api"))
        ]
        assert not bad, f"{name} imports {bad}"
    bad = [n for n in _imports(PACKAGE / "keys.py") if n.startswith(above_api)]
    assert not bad, f"keys.py imports {bad}"


def test_store_sits_on_models_only() -> None:
    """The job store keeps rows; the engine (jobs/) is the only one that gives them meaning."""
    for path in _modules("store"):
        bad = [
            n
            for n in _imports(path)
            if n.startswith("uploader_app.") and n != "uploader_app.models"
        ]
        bad = [n for n in bad if not n.startswith("uploader_app.store")]
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"
