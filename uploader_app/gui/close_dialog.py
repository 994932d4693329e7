"""Closing the window while videos are still on their way: keep them or stop them."""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QMessageBox, QWidget

from uploader_app.gui.workers import EngineHost


class CloseChoice(Enum):
    KEEP = "keep"  # leave them; they continue when the app opens again
    STOP = "stop"  # cancel them; they stay in the list, and Try again sends them later
    STAY = "stay"  # do not close after all


class CloseDialog(QMessageBox):
    """ "4 videos are still uploading. Keep them for next time / Stop them" (keep is default)."""

    def __init__(self, unsent: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle("Videos still uploading")
        noun = "video is" if unsent == 1 else "videos are"
        self.setText(f"{unsent} {noun} still uploading.")
        self.setInformativeText(
            "Keep them for next time: they continue when you open the app again.\n"
            "Stop them: they stay in the list as stopped, and Try again sends them later."
        )
        self.keep_button = self.addButton(
            "Keep them for next time", QMessageBox.ButtonRole.AcceptRole
        )
        self.stop_button = self.addButton("Stop them", QMessageBox.ButtonRole.DestructiveRole)
        self.stay_button = self.addButton("Don't quit", QMessageBox.ButtonRole.RejectRole)
        self.keep_button.setAccessibleName("Keep them for next time")
        self.stop_button.setAccessibleName("Stop them")
        self.stay_button.setAccessibleName("Don't quit")
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.stay_button)

    def choice(self) -> CloseChoice:
        clicked = self.clickedButton()
        if clicked is self.stop_button:
            return CloseChoice.STOP
        if clicked is self.stay_button:
            return CloseChoice.STAY
        return CloseChoice.KEEP


def close_host(host: EngineHost, parent: QWidget | None = None) -> bool:
    """Ask when videos are unsent, then stop the workers; False means stay open.

    The window calls this from its ``closeEvent``; either answer loses nothing: kept jobs
    continue next time, stopped ones stay listed for Try again (docs/task-list.md).
    """
    unsent = len(host.unsent_jobs())
    keep = True
    if unsent:
        dialog = CloseDialog(unsent, parent)
        dialog.exec()
        choice = dialog.choice()
        if choice is CloseChoice.STAY:
            return False
        keep = choice is CloseChoice.KEEP
    host.shutdown(keep=keep)
    return True
