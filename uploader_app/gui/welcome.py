"""First start without a key: enter one (tested before it is kept) or try the app in demo mode.

Demo mode runs the bundled sandbox on a free loopback port, in a background thread of this
process, with its data in ``app_home()/demo-sandbox``: the window then works exactly as with
an account, and nothing leaves the computer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from uploader_app import keys
from uploader_app.gui.account import (
    FOUND_KEY_NOTE,
    Account,
    demo_account,
    demo_failure_text,
    demo_folder,
    start_demo_sandbox,
)
from uploader_app.gui.background import run_in_background
from uploader_app.gui.text import problem_text
from uploader_app.keys import KeyInfo, KeyProblem

if TYPE_CHECKING:
    from uploader_app.sandbox.server import SandboxServer

logger = logging.getLogger(__name__)


def key_note(info: KeyInfo) -> str:
    if info.source == "memory":
        return (
            "This computer has no keychain the app can use, so your key is kept only until "
            "you quit. You will be asked for it again next time."
        )
    return ""


def check_and_save_key(base_url: str, key: str) -> KeyProblem | KeyInfo:
    """Test the key with the service; keep it only when it works (blocking)."""
    problem = keys.verify_key(base_url, key)
    if problem is not None:
        return problem
    return keys.save_key(key)


class WelcomeDialog(QDialog):
    """``account`` is set when the dialog is accepted; ``demo_server`` in demo mode."""

    def __init__(
        self, base_url: str, parent: QWidget | None = None, *, log_file: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome")
        self.setObjectName("welcome")
        self._base_url = base_url
        self._log_file = log_file
        self.account: Account | None = None
        self.demo_server: SandboxServer | None = None
        self._busy = False
        self._build()

    def _build(self) -> None:
        title = QLabel("Send your videos to Twelve Labs")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        lead = QLabel(
            "Drop videos or whole folders, see each one checked on this computer first, "
            "and watch them get ready to search in your index."
        )
        lead.setWordWrap(True)

        key_box = QFrame()
        key_box.setFrameShape(QFrame.Shape.StyledPanel)
        key_title = QLabel("<b>Enter my API key</b>")
        where = QLabel(
            f"{keys.WHERE_TO_FIND} The key is kept in this computer's keychain, never in a file."
        )
        where.setWordWrap(True)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("keyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste your API key")
        self.key_edit.setAccessibleName("API key")
        self.key_edit.textChanged.connect(self._update)
        self.key_edit.returnPressed.connect(self._use_key)
        self.use_key_button = QPushButton("Use this key")
        self.use_key_button.setAccessibleName("Use this key")
        self.use_key_button.setDefault(True)
        self.use_key_button.clicked.connect(self._use_key)
        row = QHBoxLayout()
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.use_key_button)
        key_layout = QVBoxLayout(key_box)
        key_layout.addWidget(key_title)
        key_layout.addWidget(where)
        key_layout.addLayout(row)

        demo_box = QFrame()
        demo_box.setFrameShape(QFrame.Shape.StyledPanel)
        demo_title = QLabel("<b>Try it without an account</b>")
        demo_text = QLabel(
            "A stand-in for Twelve Labs runs inside the app: everything works the same, and "
            "nothing leaves this computer. You can enter a key later in Settings."
        )
        demo_text.setWordWrap(True)
        self.demo_button = QPushButton("Try it without an account")
        self.demo_button.setAccessibleName("Try it without an account")
        self.demo_button.clicked.connect(self._start_demo)
        demo_layout = QVBoxLayout(demo_box)
        demo_layout.addWidget(demo_title)
        demo_layout.addWidget(demo_text)
        demo_layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.problem_label = QLabel()
        self.problem_label.setObjectName("problem")
        self.problem_label.setAccessibleName("Problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)

        icon = QLabel()
        icon.setPixmap(QApplication.windowIcon().pixmap(56, 56))
        heading = QHBoxLayout()
        heading.addWidget(icon)
        heading.addWidget(title, 1)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addLayout(heading)
        layout.addWidget(lead)
        layout.addWidget(key_box)
        layout.addWidget(demo_box)
        layout.addWidget(self.problem_label)
        self.setTabOrder(self.key_edit, self.use_key_button)
        self.setTabOrder(self.use_key_button, self.demo_button)
        self.setMinimumWidth(560)
        self._update()

    @Slot()
    def _update(self) -> None:
        has_key = bool(self.key_edit.text().strip())
        self.use_key_button.setEnabled(has_key and not self._busy)
        self.use_key_button.setToolTip("" if has_key else "Paste your API key first.")
        self.demo_button.setEnabled(not self._busy)
        self.key_edit.setEnabled(not self._busy)

    def reject(self) -> None:
        """Escape and the close button wait while a key is tested or the demo starts: the app
        would end with that work's thread still running, which aborts the process."""
        if not self._busy:
            super().reject()

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.problem_label.setText(message)
        self._update()

    @Slot()
    def _use_key(self) -> None:
        key = self.key_edit.text().strip()
        if not key or self._busy:
            return
        self._set_busy(True, "Checking the key with Twelve Labs…")
        base_url = self._base_url
        run_in_background(
            lambda: check_and_save_key(base_url, key),
            lambda result: self._on_key_checked(key, result),
            self._on_failed,
            self,
        )

    def _on_key_checked(self, key: str, result: KeyProblem | KeyInfo) -> None:
        if isinstance(result, KeyProblem):
            hint = f" {result.hint}" if result.hint else ""
            self._set_busy(False, f"{result.title}. {result.message}{hint}")
            self.key_edit.selectAll()
            self.key_edit.setFocus()
            return
        self.account = Account(self._base_url, key, key_note=key_note(result))
        self._set_busy(False)
        self.accept()

    def use_saved_key(self, key: str) -> None:
        """A key found in the keychain after the screen was shown (left there by an earlier
        install): used as if entered, unless a key is being checked or the demo starting."""
        if self._busy or self.account is not None:
            return
        self.account = Account(self._base_url, key, key_note=FOUND_KEY_NOTE)
        self.accept()

    @Slot()
    def _start_demo(self) -> None:
        if self._busy:
            return
        self._set_busy(True, "Starting the demo…")
        run_in_background(start_demo_sandbox, self._on_demo_started, self._on_demo_failed, self)

    def _on_demo_started(self, server: SandboxServer) -> None:
        self.demo_server = server
        self.account = demo_account(server)
        self._set_busy(False)
        self.accept()

    def _on_demo_failed(self, error: BaseException) -> None:
        logger.error("the demo sandbox did not start: %r", error)
        text = demo_failure_text(error, demo_folder(), self._log_file, then="try again")
        self._set_busy(False, text)

    def _on_failed(self, error: BaseException) -> None:
        self._set_busy(False, problem_text(error))
