"""After a crash, the next window says so once and offers to open the report (crash.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from uploader_app import crash


class CrashNotice(QMessageBox):
    """ "The app ran into a problem last time. Open the report / Not now" over the window.

    Window-modal and opened, not exec'd: the window is usable behind it at once, and a test
    or a screenshot is never stuck on it.
    """

    def __init__(self, report: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle("A problem last time")
        self.setText("The app ran into an unexpected problem last time.")
        self.setInformativeText(
            f"A report was saved to {report}. It holds no API key: please send it to whoever "
            "supports the app."
        )
        self.open_button = self.addButton("Open the report", QMessageBox.ButtonRole.AcceptRole)
        self.later_button = self.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
        self.open_button.setAccessibleName("Open the crash report")
        self.later_button.setAccessibleName("Not now")
        self.setDefaultButton(self.open_button)
        self.setEscapeButton(self.later_button)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.finished.connect(self._on_finished)

    @Slot()
    def _on_finished(self) -> None:
        if self.clickedButton() is self.open_button:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report)))


def offer_crash_report(parent: QWidget) -> CrashNotice | None:
    """Show the notice for the newest report not yet pointed out; None when there is none."""
    report = crash.pending_report()
    if report is None:
        return None
    crash.mark_announced(report)  # once, whichever button is pressed
    notice = CrashNotice(report, parent)
    notice.open()
    return notice
