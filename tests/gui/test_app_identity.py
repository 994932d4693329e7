"""The running app names itself as its launcher does, and draws its icon from the one SVG."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from uploader_app.config import APP_DISPLAY_NAME, APP_ID, ENV_HOME
from uploader_app.gui.app import make_application
from uploader_app.gui.places import window_state


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


def test_the_window_state_stays_in_the_app_folder_it_is_given(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With UPLOADER_APP_HOME (tests, the e2e runs, portable copies) the window's size and
    columns are kept there, never in the user's own configuration."""
    make_application([])
    monkeypatch.setenv(ENV_HOME, str(tmp_path))
    state = window_state()
    state.setValue("window/tab", 1)
    state.sync()
    assert Path(state.fileName()).parent == tmp_path
    assert (tmp_path / "window.ini").is_file()
