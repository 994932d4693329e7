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


def _gui_imports(path: Path) -> set[str]:
    """The gui modules ``path`` imports, at the top or inside a function (a late import still
    ties the two modules together), but not under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "uploader_app.gui":
            found.update(f"uploader_app.gui.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {n.removeprefix("uploader_app.gui.") for n in found if n.startswith("uploader_app.gui.")}


def test_gui_modules_import_one_way() -> None:
    """No circle of imports inside gui/: each module only leans on modules below it."""
    graph = {p.stem: _gui_imports(p) for p in _modules("gui") if p.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circle = [*path[path.index(module) :], module]
            pytest.fail("import circle in gui/: " + " -> ".join(circle))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
