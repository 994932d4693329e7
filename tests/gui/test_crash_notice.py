"""The window after a crash: one notice, and its button opens the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from uploader_app import crash
from uploader_app.gui import crash_notice
from uploader_app.gui.startup import start


def _crashed() -> Path:
    """A report as crash.py writes it, in the test's own app folder."""
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        path = crash.write_report(
            RuntimeError, exc, exc.__traceback__, directory=crash.reports_dir()
        )
    assert path is not None
    return path


def test_no_notice_without_a_report(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    assert crash_notice.offer_crash_report(parent) is None


def test_the_notice_opens_the_report_and_shows_once(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _crashed()
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(opened.append))
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()

    notice = crash_notice.offer_crash_report(parent)

    assert notice is not None
    assert notice.isVisible()
    assert str(report) in notice.informativeText()
    notice.open_button.click()
    assert opened == [QUrl.fromLocalFile(str(report))]
    assert crash_notice.offer_crash_report(parent) is None  # pointed out once


def test_not_now_opens_nothing(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    _crashed()
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(opened.append))
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()

    notice = crash_notice.offer_crash_report(parent)
    assert notice is not None
    notice.later_button.click()

    assert opened == []
    assert not notice.isVisible()


def test_the_window_after_a_crash_offers_the_report(qtbot: QtBot) -> None:
    """Through the real start-up: demo mode opens the window, and the notice sits over it."""
    report = _crashed()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    session = start(app, [], demo=True)
    assert session is not None and session.window is not None
    try:
        notices = session.window.findChildren(crash_notice.CrashNotice)
        assert [n.report for n in notices] == [report]
        assert notices[0].isVisible()
    finally:
        session.window.close()
        session.shutdown()
