"""Settings: the API key (OS keychain), a connection test, the server address and how uploads
behave. Everything that may wait (keychain, network, the settings file) runs in a worker."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from uploader_app import config, keys
from uploader_app.gui.background import run_in_background
from uploader_app.gui.text import problem_text
from uploader_app.gui.welcome import key_note
from uploader_app.keys import KeyInfo, KeyProblem
from uploader_app.settings import AppSettings, SettingsError, save_settings_file, setting_problem

MB = 1_000_000
MAX_UPLOADS = 8


@dataclass(frozen=True)
class Saved:
    """What the dialog changed: the window applies it."""

    settings: AppSettings
    key: str | None = field(default=None, repr=False)  # a new key, tested and stored
    key_note: str = ""


def key_source_text(info: KeyInfo) -> str:
    if info.source == "env":
        return (
            f"Your key comes from the {config.ENV_API_KEY} setting of this computer; change "
            "it there, or remove that setting to use a key entered here."
        )
    if info.source == "keychain":
        return "A key is saved in this computer's keychain."
    if info.source == "memory":
        return "A key is kept until the app quits (this computer has no keychain the app can use)."
    return "No key yet."


def _version_problem(base_url: str) -> str | None:
    version = config.api_version_of(base_url)
    if version is not None and version not in config.SUPPORTED_VERSIONS:
        return version_text(base_url)
    return None


def version_text(base_url: str) -> str:
    version = config.api_version_of(base_url)
    if version is None:
        return f"API version: {config.DEFAULT_API_VERSION} (the address names none)"
    if version not in config.SUPPORTED_VERSIONS:
        return f"This app speaks {' and '.join(config.SUPPORTED_VERSIONS)}, not {version}."
    return f"API version: {version}"


def test_connection(base_url: str, key: str) -> KeyProblem | None:
    return keys.verify_key(base_url, key)


def save_all(settings: AppSettings, key: str | None) -> KeyProblem | Saved:
    """Test and store a new key (if any), then write the settings file (blocking)."""
    note = ""
    if key:
        problem = keys.verify_key(settings.base_url, key)
        if problem is not None:
            return problem
        note = key_note(keys.save_key(key))
    save_settings_file(settings)
    return Saved(settings, key, note)


class SettingsDialog(QDialog):
    """``saved`` is set when the dialog is accepted."""

    def __init__(
        self, settings: AppSettings, *, focus_key: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settings")
        self._settings = settings
        self._key_info: KeyInfo | None = None
        self._busy = False
        self._saving = False
        self.saved: Saved | None = None
        self._build()
        self._load(settings)
        run_in_background(keys.load_key, self._on_key_loaded, self._on_key_load_failed, self)
        if focus_key:
            self.key_edit.setFocus()

    def _build(self) -> None:
        account = QGroupBox("Twelve Labs account")
        self.key_status = QLabel("Looking for your key…")
        self.key_status.setAccessibleName("Where the key comes from")
        self.key_status.setWordWrap(True)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("keyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste a new API key to change it")
        self.key_edit.setAccessibleName("New API key")
        where = QLabel(keys.WHERE_TO_FIND)
        where.setWordWrap(True)
        self.remove_key_button = QPushButton("Forget key")
        self.remove_key_button.setAccessibleName("Forget the saved key")
        self.remove_key_button.setToolTip("Remove the key from this computer's keychain")
        self.remove_key_button.clicked.connect(self._forget_key)
        self.address_edit = QLineEdit()
        self.address_edit.setAccessibleName("Server address")
        self.address_edit.textChanged.connect(self._on_address_edited)
        self.version_label = QLabel()
        self.version_label.setAccessibleName("API version")
        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.setToolTip("Ask Twelve Labs whether the key and the address work")
        self.test_button.clicked.connect(self._test)
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setAccessibleName("Connection test result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.remove_key_button)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        form = QFormLayout(account)
        form.addRow(self.key_status)
        key_label = QLabel("API &key:")
        key_label.setBuddy(self.key_edit)
        form.addRow(key_label, key_row)
        form.addRow("", where)
        form.addRow("Server &address:", self.address_edit)
        form.addRow("", self.version_label)
        form.addRow(test_row)

        uploads = QGroupBox("Uploads")
        self.uploads_spin = QSpinBox()
        self.uploads_spin.setRange(1, MAX_UPLOADS)
        self.uploads_spin.setAccessibleName("Uploads at once")
        self.cap_box = QCheckBox("Limit upload speed to")
        self.cap_box.setAccessibleName("Limit upload speed")
        self.cap_spin = QDoubleSpinBox()
        self.cap_spin.setRange(0.1, 10_000)
        self.cap_spin.setDecimals(1)
        self.cap_spin.setSuffix(" MB/s")
        self.cap_spin.setAccessibleName("Upload speed limit in megabytes a second")
        # The cap is per program (docs/settings.md): say so where it is set.
        self.cap_box.setToolTip(
            "For this window's uploads together; a command-line upload running at the same "
            "time has its own limit"
        )
        self.cap_box.toggled.connect(self.cap_spin.setEnabled)
        cap_row = QHBoxLayout()
        cap_row.addWidget(self.cap_box)
        cap_row.addWidget(self.cap_spin)
        cap_row.addStretch(1)
        self.notify_box = QCheckBox("Tell me when a batch finishes or a video fails")
        self.notify_box.setAccessibleName("Notifications")
        upload_form = QFormLayout(uploads)
        upload_form.addRow("&Uploads at once:", self.uploads_spin)
        upload_form.addRow(cap_row)
        upload_form.addRow(self.notify_box)

        self.problem_label = QLabel()
        self.problem_label.setAccessibleName("Problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName("Save settings")
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(account)
        layout.addWidget(uploads)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def _load(self, settings: AppSettings) -> None:
        self.address_edit.setText(settings.base_url)
        self.uploads_spin.setValue(max(1, min(MAX_UPLOADS, settings.concurrent_uploads)))
        capped = settings.bandwidth_cap is not None
        self.cap_box.setChecked(capped)
        self.cap_spin.setEnabled(capped)
        self.cap_spin.setValue((settings.bandwidth_cap or 10 * MB) / MB)
        self.notify_box.setChecked(settings.notifications)

    def chosen(self) -> AppSettings:
        """The settings as the dialog shows them."""
        cap = round(self.cap_spin.value() * MB) if self.cap_box.isChecked() else None
        return replace(
            self._settings,
            base_url=self.address_edit.text().strip().rstrip("/") or config.DEFAULT_BASE_URL,
            concurrent_uploads=self.uploads_spin.value(),
            bandwidth_cap=cap,
            notifications=self.notify_box.isChecked(),
        )

    # ---- slots ---------------------------------------------------------------------------

    def _on_key_loaded(self, info: KeyInfo) -> None:
        self._key_info = info
        self.key_status.setText(key_source_text(info))
        self.remove_key_button.setEnabled(info.source in ("keychain", "memory"))
        env_key = info.source == "env"
        self.key_edit.setEnabled(not env_key)

    def _on_key_load_failed(self, error: BaseException) -> None:
        self.key_status.setText(f"The keychain could not be read. {problem_text(error)}")

    @Slot(str)
    def _on_address_edited(self, address: str) -> None:
        self.version_label.setText(version_text(address.strip()))

    def reject(self) -> None:
        """Cancel and Escape wait for a save under way: it finishes in the background anyway,
        and the window must then take up what was saved (the new key, the new address)."""
        if not self._saving:
            super().reject()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (self.test_button, self.save_button, self.remove_key_button):
            widget.setEnabled(not busy)

    @Slot()
    def _test(self) -> None:
        key = self.key_edit.text().strip() or (self._key_info.key if self._key_info else None)
        if not key:
            self.test_result.setText("Enter an API key first: there is none to test.")
            return
        base_url = self.chosen().base_url
        self._set_busy(True)
        self.test_result.setText("Testing…")
        run_in_background(
            lambda: test_connection(base_url, key),
            self._on_tested,
            self._on_test_failed,
            self,
        )

    def _on_tested(self, problem: KeyProblem | None) -> None:
        self._set_busy(False)
        if problem is None:
            version = config.api_version_of(self.chosen().base_url) or config.DEFAULT_API_VERSION
            self.test_result.setText(f"Connected: the key works (API {version}).")
        else:
            hint = f" {problem.hint}" if problem.hint else ""
            self.test_result.setText(f"{problem.title}. {problem.message}{hint}")

    def _on_test_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.test_result.setText(problem_text(error))

    @Slot()
    def _forget_key(self) -> None:
        self._set_busy(True)
        run_in_background(keys.delete_key, self._on_forgotten, self._on_test_failed, self)

    def _on_forgotten(self, removal: keys.Removal) -> None:
        self._set_busy(False)
        if not removal.keychain_reached:
            # A key saved there stays: the button stays, for when the keychain is unlocked.
            forgot = "The key kept in memory was forgotten, but the" if removal.removed else "The"
            if removal.removed:  # gone from memory: Test connection must not send it any more
                self._key_info = KeyInfo(None, "none")
            self.key_status.setText(
                f"{forgot} password store (keychain) could not be reached, so no key saved "
                "in it was removed. Unlock it, then remove the key again."
            )
            return
        self._key_info = KeyInfo(None, "none")
        self.key_status.setText("The key was removed from this computer.")
        self.remove_key_button.setEnabled(False)

    @Slot()
    def _save(self) -> None:
        if self._busy:
            return
        settings, key = self.chosen(), self.key_edit.text().strip() or None
        problem = setting_problem("base_url", settings.base_url) or _version_problem(
            settings.base_url
        )
        if problem:
            self.problem_label.setText(problem)
            self.address_edit.setFocus()
            return
        self._set_busy(True)
        self._saving = True
        self.problem_label.setText("Checking the new key…" if key else "Saving…")
        run_in_background(
            lambda: save_all(settings, key), self._on_saved, self._on_save_failed, self
        )

    def _on_saved(self, result: KeyProblem | Saved) -> None:
        self._set_busy(False)
        self._saving = False
        if isinstance(result, KeyProblem):
            hint = f" {result.hint}" if result.hint else ""
            self.problem_label.setText(f"Nothing was saved. {result.title}. {result.message}{hint}")
            return
        self.saved = result
        self.accept()

    def _on_save_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self._saving = False
        if isinstance(error, SettingsError):
            self.problem_label.setText(str(error))  # already plain words, with the fix
            return
        self.problem_label.setText(f"The settings were not saved. {problem_text(error)}")
