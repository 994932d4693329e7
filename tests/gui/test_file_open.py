"""macOS hands videos opened with the app, or dropped on its Dock icon, as QFileOpenEvent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from uploader_app.gui.startup import start


def test_an_opened_video_lands_in_the_files_tab(qtbot: QtBot, video: Callable[..., Path]) -> None:
    clip = video("clip.mp4")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    session = start(app, [], demo=True)
    assert session is not None and session.window is not None
    window = session.window
    try:
        window.tabs.setCurrentWidget(window.url_tab)

        QApplication.sendEvent(app, QFileOpenEvent(str(clip)))

        qtbot.waitUntil(lambda: [r.path for r in window.files_tab.model.rows] == [clip])
        assert window.tabs.currentWidget() is window.files_tab
    finally:
        window.close()
        session.shutdown()
