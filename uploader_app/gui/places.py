"""Where the window finds its icon (``resources/``) and keeps its own state (QSettings).

Low in gui/: the application set-up, the tray and the session all read these, and it imports
none of them, so imports inside gui/ keep going one way (docs/gui.md, "Modules").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon

from uploader_app.config import ENV_HOME, app_home

WINDOW_STATE_FILE = "window.ini"  # in the app's folder when UPLOADER_APP_HOME is set


def resource_path(name: str) -> Path:
    """A file in ``resources/``: beside the package in a checkout, in the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return root / "resources" / name


def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("icon.svg", "icon.png"):
        path = resource_path(name)
        if path.is_file():
            icon.addFile(str(path))
    return icon


def window_state() -> QSettings:
    """Where the window keeps its size, splitter and columns (GUI-only state).

    ``UPLOADER_APP_HOME`` moves everything into one folder (docs/settings.md), this too: a
    test run or a portable copy must neither read nor change the user's own window state.
    """
    if os.environ.get(ENV_HOME, "").strip():
        return QSettings(str(app_home() / WINDOW_STATE_FILE), QSettings.Format.IniFormat)
    return QSettings()
