"""Every control a person can reach has a name a screen reader can say."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from uploader_app.api.client import ApiClient
from uploader_app.gui.account import Account
from uploader_app.gui.main_window import MainWindow
from uploader_app.gui.new_index import NewIndexDialog
from uploader_app.gui.settings_dialog import SettingsDialog
from uploader_app.gui.startup import make_host
from uploader_app.gui.welcome import WelcomeDialog
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QPlainTextEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
)


def unnamed(root: QWidget) -> list[str]:
    """Interactive widgets with neither an accessible name nor visible text of their own."""
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or isinstance(widget, QTabBar):
            continue
        if widget.objectName().startswith("qt_") or _inside_qt_part(widget):
            continue  # parts Qt builds itself (a combo box's popup, a line edit's clear button)
        text = widget.text() if isinstance(widget, QAbstractButton) else ""
        if not (widget.accessibleName() or text.replace("&", "").strip()):
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return missing


def _inside_qt_part(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox | QAbstractSpinBox | QAbstractItemView | QLineEdit):
            return True
        parent = parent.parentWidget()
    return False


@pytest.fixture
def window(qtbot: QtBot, sandbox: SandboxServer, qsettings: QSettings) -> MainWindow:
    account = Account(sandbox.base_url(), TEST_API_KEY)
    settings = AppSettings(base_url=sandbox.base_url())
    made = MainWindow(account, settings, make_host(account, settings), qsettings)
    qtbot.addWidget(made)
    return made


def test_main_window_controls_are_named(window: MainWindow) -> None:
    # Built when first shown: built here as a click on their tab would.
    assert window.isAncestorOf(window.url_tab) and window.isAncestorOf(window.manifest_tab)
    assert unnamed(window) == []


def test_dialog_controls_are_named(qtbot: QtBot, sandbox: SandboxServer) -> None:
    dialogs: list[QWidget] = [
        WelcomeDialog(sandbox.base_url()),
        SettingsDialog(AppSettings(base_url=sandbox.base_url())),
        NewIndexDialog(lambda: ApiClient(sandbox.base_url(), TEST_API_KEY), "v1.3"),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        assert unnamed(dialog) == [], type(dialog).__name__
