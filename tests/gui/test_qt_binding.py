"""Guards against a Qt binding that breaks long-running windows (docs/dependencies.md)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


def test_calls_returning_nothing_keep_none_alive(qtbot: QtBot) -> None:
    """PySide6 6.12.0 dropped a reference to None on each such call; a window that updates
    its labels a few thousand times then crashed with "deallocating None"."""
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for number in range(2000):
        label.setText(str(number))
        label.setEnabled(number % 2 == 0)
    assert sys.getrefcount(None) > before - 100
