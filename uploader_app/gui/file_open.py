"""Videos handed to the running app by the desktop as open-file events (macOS).

Finder's "Open With" and a drop on the Dock icon do not start the app with the files as
arguments, as Linux launchers (``%F``) and Windows do: macOS sends them as Apple Events, which
Qt turns into ``QFileOpenEvent`` on the application object, also at first launch
(packaging/README.md). They land in the Files tab like a drop on the window.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent

if TYPE_CHECKING:
    from uploader_app.gui.main_window import MainWindow

logger = logging.getLogger(__name__)

# Only macOS sends them. Elsewhere the filter stays out: a Python filter on the application
# sees every event of every widget, and its first call alone makes PySide6 build a hundred
# enum types before the first frame (docs/gui.md, "Start-up").
DESKTOP_SENDS_OPEN_EVENTS = sys.platform == "darwin"


class FileOpenFilter(QObject):
    """Install on the QApplication before the welcome screen; ``window`` gives the window of
    the current account once there is one. Files that come before it are kept for it: on a
    first launch, the video dropped on the Dock icon arrives while the welcome screen is up."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.window: Callable[[], MainWindow | None] = lambda: None
        self.pending: list[Path] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.FileOpen or not isinstance(event, QFileOpenEvent):
            return super().eventFilter(watched, event)
        window = self.window()
        if window is None:
            logger.info("an opened file arrived before the window; kept for it: %s", event.file())
            self.pending.append(Path(event.file()))
            return True
        window.add_paths([Path(event.file())])
        window.raise_()
        window.activateWindow()
        return True
