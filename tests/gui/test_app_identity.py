"""The running app names itself as its launcher does, and draws its icon from the one SVG."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from uploader_app.config import APP_DISPLAY_NAME, APP_ID
from uploader_app.gui.app import make_application


def test_the_app_carries_the_launcher_id_and_the_icon(qtbot: QtBot) -> None:
    app = make_application([])
    # The .deb's launcher is <APP_ID>.desktop (packaging/build_deb.py): Wayland and the task
    # switchers match the window to it by this name.
    assert QGuiApplication.desktopFileName() == APP_ID
    assert QGuiApplication.applicationDisplayName() == APP_DISPLAY_NAME
    for size in (16, 32, 256):
        pixmap = app.windowIcon().pixmap(size, size)
        assert not pixmap.isNull()
        assert pixmap.width() == size
