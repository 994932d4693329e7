"""macOS hands videos opened with the app, or dropped on its Dock icon, as QFileOpenEvent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from uploader_app import keys
from uploader_app.gui import file_open, startup, welcome
from uploader_app.gui.account import demo_account, start_demo_sandbox
from uploader_app.gui.startup import start


@pytest.fixture(autouse=True)
def on_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Mac does; the code is the same everywhere, only the switch is per platform."""
    monkeypatch.setattr(file_open, "DESKTOP_SENDS_OPEN_EVENTS", True)


def test_an_opened_video_lands_in_the_files_tab(qtbot: QtBot, video: Callable[..., Path]) -> None:
    clip = video("clip.mp4")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    session = start(app, [], demo=True)
    assert session is not None and session.window is not None
    window = session.window
    try:
        window.show_tab(window.url_tab)

        QApplication.sendEvent(app, QFileOpenEvent(str(clip)))

        qtbot.waitUntil(lambda: [r.path for r in window.files_tab.model.rows] == [clip])
        assert window.shown_tab() is window.files_tab
    finally:
        window.close()
        session.shutdown()


def test_a_video_opened_while_the_welcome_screen_is_up_reaches_the_window(
    qtbot: QtBot, video: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """First launch on macOS: the video dropped on the Dock icon arrives during the welcome."""
    clip = video("clip.mp4")
    instance = QApplication.instance()
    assert isinstance(instance, QApplication)
    app: QApplication = instance

    class Welcome:
        """The welcome screen, answered with demo mode once the desktop sent the video."""

        def __init__(self, _base_url: str, *, log_file: Path | None = None) -> None:
            self.demo_server = start_demo_sandbox()
            self.account = demo_account(self.demo_server)

        def exec(self) -> int:
            QApplication.sendEvent(app, QFileOpenEvent(str(clip)))
            return 1

    monkeypatch.setattr(welcome, "WelcomeDialog", Welcome)
    monkeypatch.setattr(keys, "load_key", lambda: keys.KeyInfo(None, "none"))
    monkeypatch.setattr(keys, "first_start_read", lambda: None)  # no key left anywhere
    session = startup.start(app, [], demo=False)
    assert session is not None and session.window is not None
    window = session.window
    try:
        qtbot.waitUntil(lambda: [r.path for r in window.files_tab.model.rows] == [clip])
    finally:
        window.close()
        session.shutdown()


def test_elsewhere_no_filter_watches_every_event(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux and Windows pass files as arguments: a filter on the application would only cost
    (every event of every widget through Python; a hundred enum types built before the first
    frame, docs/gui.md "Start-up")."""
    monkeypatch.setattr(file_open, "DESKTOP_SENDS_OPEN_EVENTS", False)
    installed: list[object] = []
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    monkeypatch.setattr(app, "installEventFilter", installed.append)
    session = startup.start(app, [], demo=True)
    assert session is not None and session.window is not None
    try:
        assert installed == []
    finally:
        session.window.close()
        session.shutdown()
