"""The window's settings dialog never shows the API key: after a working key is tested, a
wrong one is tried and refused and a working one is saved, no text the dialog shows or tells
assistive technology holds either key, nor does any file it left in the app's folder (the
settings file, the daily log). tests/reliability/test_secrets.py has the rest of the proof."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.conftest import StartSandbox
from tests.reliability.test_secrets import KEY, WRONG_KEY, files_under, leaks
from uploader_app import config, keys
from uploader_app.gui.settings_dialog import SettingsDialog
from uploader_app.logfile import setup_logging
from uploader_app.settings import AppSettings


def _everything_shown(dialog: SettingsDialog) -> list[tuple[str, bytes]]:
    """Every text of every widget: what is drawn and what a screen reader is told."""
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QLineEdit, QWidget

    shown: list[tuple[str, bytes]] = []
    for widget in [dialog, *dialog.findChildren(QWidget)]:
        texts = [
            widget.windowTitle(),
            widget.toolTip(),
            widget.statusTip(),
            widget.whatsThis(),
            widget.accessibleName(),
            widget.accessibleDescription(),
        ]
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        if isinstance(widget, QLineEdit):
            texts += [widget.displayText(), widget.placeholderText()]
        name = f"{type(widget).__name__} {widget.objectName()}"
        shown.append((name, "\n".join(texts).encode()))
    return shown


def test_the_settings_dialog_never_shows_the_key(qtbot: QtBot, start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(api_key=KEY)
    log = setup_logging(verbose=True)  # as the window does: the dialog's requests are logged
    keys.save_key(KEY)
    dialog = SettingsDialog(AppSettings(base_url=sandbox.base_url()))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.key_status.text() != "Looking for your key…")

    dialog.test_button.click()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=15_000)
    assert dialog.test_result.text().startswith("Connected")
    shown = _everything_shown(dialog)

    dialog.key_edit.setText(WRONG_KEY)  # pasted by the person: drawn as dots
    dialog.test_button.click()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=15_000)
    assert "not accept" in dialog.test_result.text()
    dialog.save_button.click()
    qtbot.waitUntil(
        lambda: dialog.problem_label.text().startswith("Nothing was saved"), timeout=15_000
    )
    shown += _everything_shown(dialog)
    # The field holds the pasted key (or this proof would prove nothing) but draws dots.
    assert dialog.key_edit.text() == WRONG_KEY != dialog.key_edit.displayText()

    dialog.key_edit.setText(KEY)  # the right one, saved: the settings file is written
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.saved is not None, timeout=15_000)
    shown += _everything_shown(dialog)

    # A screenshot holds pixels, not text: only the texts above prove what is drawn. The
    # files prove what was written, so they must be there to be searched.
    written = files_under(config.app_home())
    assert {config.SETTINGS_FILE, log.name} <= {Path(where).name for where, _ in written}
    assert b"the key was refused" in log.read_bytes()  # the path where a key could slip in
    assert leaks([*shown, *written], KEY, WRONG_KEY) == []
