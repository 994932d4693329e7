"""Videos handed to the running app by the desktop as open-file events (macOS).

Finder's "Open With" and a drop on the Dock icon do not start the app with the files as
arguments, as Linux launchers (``%F``) and Windows do: macOS sends them as Apple Events, which
Qt turns into ``QFileOpenEvent`` on the application object, also at first launch
(packaging/README.md). They land in the Files tab like a drop on the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent

from uploader_app.gui.main_window import MainWindow

logger = logging.getLogger(__name__)


class FileOpenFilter(QObject):
    """Install on the QApplication; ``window()`` gives the window of the current account."""

    def __init__(self, window: Callable[[], MainWindow | None], parent: QObject) -> None:
        super().__init__(parent)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.FileOpen or not isinstance(event, QFileOpenEvent):
            return super().eventFilter(watched, event)
        window = self._window()
        if window is None:  # the welcome screen is still up: nothing to add the file to yet
            logger.info("an opened file arrived before the window: %s", event.file())
            return True
        window.add_paths([Path(event.file())])
        window.raise_()
        window.activateWindow()
        return True
