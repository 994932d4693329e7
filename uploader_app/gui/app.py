"""Start the window: ``uploader-app`` with no arguments, or with files and folders to check.

Sets up the QApplication (names, icon, the system's light or dark palette, high-DPI icons),
then shows the welcome screen when no key is known, and the main window.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from uploader_app import __version__
from uploader_app.config import APP_DISPLAY_NAME, APP_ID
from uploader_app.gui.places import app_icon
from uploader_app.handover import split_handed_over

ORGANISATION = APP_DISPLAY_NAME
DISPLAY_NAME = APP_DISPLAY_NAME
# Set to 1 to start in demo mode when no key is known, skipping the welcome (``make run``).
ENV_DEMO = "UPLOADER_APP_DEMO"
# Set to "dark" or "light" to force a palette (screenshots, and desktops that report none).
ENV_THEME = "UPLOADER_APP_THEME"

NO_DISPLAY = (
    "No display found, so the window cannot open. Use the command line instead: uploader-app --help"
)


def display_available(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """Whether Qt can open a window here; on Linux and BSD that needs X11 or Wayland.

    Checked before Qt starts, because Qt aborts the process when it finds no display.
    """
    source = os.environ if env is None else env
    if source.get("QT_QPA_PLATFORM"):
        return True  # the caller chose a platform (offscreen in tests, vnc, …)
    if platform.startswith(("win", "darwin")):
        return True
    return bool(source.get("DISPLAY") or source.get("WAYLAND_DISPLAY"))


def make_application(argv: list[str]) -> QApplication:
    """The QApplication with our names, icon and the system palette."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Fractional scale factors (150 %) pass through, so icons and text stay crisp.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication([sys.argv[0], *argv])
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName("uploader-app")
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setApplicationDisplayName(DISPLAY_NAME)
    QGuiApplication.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    apply_theme(app, os.environ.get(ENV_THEME, ""))
    return app


def apply_theme(app: QApplication, theme: str) -> None:
    """Keep the system's light or dark palette; ``theme`` ("dark"/"light") forces one.

    Qt 6 already follows the system scheme on Windows, macOS and desktops with a colour-scheme
    setting. Where the platform cannot switch (X11 without a portal, Xvfb), a forced dark
    theme gets a palette built here, drawn by Fusion, which takes every colour from it.
    """
    if theme not in ("dark", "light"):
        return
    wanted = Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light
    app.styleHints().setColorScheme(wanted)
    if _is_dark(app.palette()) != (theme == "dark"):
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A dark palette in the spirit of the desktops' own dark themes.

    Lists and fields are a little lighter than the window: Fusion outlines a tick box in a
    shade of the window colour, which would vanish on a darker background.
    """
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    palette = QPalette()
    colours = {
        role.Window: "#2b2b2b",
        role.WindowText: "#e6e6e6",
        role.Base: "#363636",
        role.AlternateBase: "#3c3c3c",
        role.ToolTipBase: "#3a3a3a",
        role.ToolTipText: "#e6e6e6",
        role.PlaceholderText: "#8c8c8c",
        role.Text: "#e6e6e6",
        role.Button: "#353535",
        role.ButtonText: "#e6e6e6",
        role.BrightText: "#ff6b6b",
        role.Light: "#4a4a4a",
        role.Midlight: "#3e3e3e",
        role.Mid: "#5a5a5a",
        role.Dark: "#1a1a1a",
        role.Shadow: "#000000",
        role.Highlight: "#3d7bd9",
        role.HighlightedText: "#ffffff",
        role.Link: "#7fb2ff",
        role.LinkVisited: "#b99aff",
    }
    for colour_role, value in colours.items():
        palette.setColor(colour_role, QColor(value))
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, colour_role, QColor("#7a7a7a"))
    return palette


def run_gui(argv: list[str]) -> int:
    """Open the window; ``argv`` holds only files and folders, which land in the Files tab,
    and web addresses, which land in the URL tab."""
    if not display_available():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from uploader_app.gui.startup import start  # noqa: PLC0415 - needs the QApplication

    app = make_application(argv)
    paths, urls = split_handed_over(argv)
    session = start(app, paths, demo=os.environ.get(ENV_DEMO) == "1", urls=urls)
    if session is None:
        return 0  # the welcome screen was closed: nothing to show
    return app.exec()
