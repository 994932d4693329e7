"""Settings: where the key comes from, Test connection, and saving (a new key tested first)."""

from __future__ import annotations

import keyring
import pytest
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from tests.memory_keyring import MemoryKeyring
from uploader_app import keys
from uploader_app.gui.settings_dialog import Saved, SettingsDialog, version_text
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings, load_settings_file


def _dialog(qtbot: QtBot, settings: AppSettings) -> SettingsDialog:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.key_status.text() != "Looking for your key…")
    return dialog


def _saved(dialog: SettingsDialog) -> Saved | None:
    """Read afresh: the type checker would otherwise keep an earlier narrowing."""
    return dialog.saved


def test_test_connection_gives_a_plain_result(qtbot: QtBot, sandbox: SandboxServer) -> None:
    keys.save_key(TEST_API_KEY)
    dialog = _dialog(qtbot, AppSettings(base_url=sandbox.base_url()))
    assert dialog.key_status.text() == "A key is saved in this computer's keychain."
    assert dialog.version_label.text() == "API version: v1.3"

    dialog.test_button.click()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=15_000)
    assert dialog.test_result.text() == "Connected: the key works (API v1.3)."

    dialog.key_edit.setText("a-wrong-key")
    dialog.test_button.click()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=15_000)
    said = dialog.test_result.text()
    assert "key" in said.lower() and "Connected" not in said and "401" not in said


def test_save_writes_the_settings_file(qtbot: QtBot, sandbox: SandboxServer) -> None:
    keys.save_key(TEST_API_KEY)
    dialog = _dialog(qtbot, AppSettings(base_url=sandbox.base_url()))
    dialog.uploads_spin.setValue(4)
    dialog.cap_box.setChecked(True)
    dialog.cap_spin.setValue(2.5)
    dialog.notify_box.setChecked(False)
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        dialog.save_button.click()

    assert dialog.saved is not None and dialog.saved.key is None
    on_disk = load_settings_file()
    assert on_disk.concurrent_uploads == 4
    assert on_disk.bandwidth_cap == 2_500_000
    assert on_disk.notifications is False
    assert on_disk.base_url == sandbox.base_url()


def test_a_new_key_is_tested_before_anything_is_saved(qtbot: QtBot, sandbox: SandboxServer) -> None:
    dialog = _dialog(qtbot, AppSettings(base_url=sandbox.base_url()))
    assert dialog.key_status.text() == "No key yet."
    dialog.uploads_spin.setValue(3)
    dialog.key_edit.setText("a-wrong-key")
    dialog.save_button.click()
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=15_000)
    assert dialog.problem_label.text().startswith("Nothing was saved.")
    assert _saved(dialog) is None
    assert keys.load_key().key is None
    assert load_settings_file().concurrent_uploads == 2

    dialog.key_edit.setText(TEST_API_KEY)
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        dialog.save_button.click()
    saved = _saved(dialog)
    assert saved is not None and saved.key == TEST_API_KEY
    assert keys.load_key().key == TEST_API_KEY
    assert load_settings_file().concurrent_uploads == 3


def test_forget_key_with_the_keychain_locked_says_the_key_stays(qtbot: QtBot) -> None:
    keys.save_key(TEST_API_KEY)
    chain = keyring.get_keyring()
    assert isinstance(chain, MemoryKeyring)
    dialog = _dialog(qtbot, AppSettings())
    chain.broken = True  # locked after the dialog read the key
    dialog.remove_key_button.click()
    qtbot.waitUntil(dialog.test_button.isEnabled)
    assert dialog.key_status.text() == (
        "The password store (keychain) could not be reached, so no key saved in it was "
        "removed. Unlock it, then remove the key again."
    )
    assert dialog.remove_key_button.isEnabled()
    chain.broken = False
    assert keys.load_key().key == TEST_API_KEY


def test_a_key_forgotten_from_memory_is_not_tested_after_when_the_keychain_is_away(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key kept in memory is gone even though the keychain could not be reached: the
    dialog must not go on using it (Test connection sent the forgotten key)."""
    monkeypatch.setattr(keys, "keychain_available", lambda: False)
    assert keys.save_key(TEST_API_KEY).source == "memory"
    dialog = _dialog(qtbot, AppSettings())
    dialog.remove_key_button.click()
    qtbot.waitUntil(lambda: "could not be reached" in dialog.key_status.text())
    qtbot.waitUntil(dialog.test_button.isEnabled)
    assert dialog.key_status.text().startswith("The key kept in memory was forgotten")
    assert keys.load_key().key is None
    dialog.test_button.click()
    assert dialog.test_result.text() == "Enter an API key first: there is none to test."


def test_forget_key_removes_it(qtbot: QtBot) -> None:
    keys.save_key(TEST_API_KEY)
    dialog = _dialog(qtbot, AppSettings())
    dialog.remove_key_button.click()
    qtbot.waitUntil(
        lambda: not dialog.remove_key_button.isEnabled() and dialog.test_button.isEnabled()
    )
    assert keys.load_key().key is None
    assert dialog.key_status.text() == "The key was removed from this computer."


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("https://api.twelvelabs.io/v1.2", "API version: v1.2"),
        ("http://127.0.0.1:4010", "API version: v1.3 (the address names none)"),
        ("https://api.twelvelabs.io/v1.1", "This app speaks v1.2 and v1.3, not v1.1."),
    ],
)
def test_the_address_names_its_version(address: str, said: str) -> None:
    assert version_text(address) == said


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("ftp://example.com", "The server address must be a web address starting with https://."),
        ("https://api.twelvelabs.io/v1.1", "This app speaks v1.2 and v1.3, not v1.1."),
    ],
)
def test_an_unusable_address_is_not_saved(qtbot: QtBot, address: str, said: str) -> None:
    dialog = _dialog(qtbot, AppSettings())
    dialog.address_edit.setText(address)
    dialog.save_button.click()
    assert dialog.problem_label.text() == said
    assert _saved(dialog) is None
    assert load_settings_file().base_url == AppSettings().base_url


def test_cancel_while_saving_waits_for_the_save(qtbot: QtBot, sandbox: SandboxServer) -> None:
    """The save goes on in the background whatever the dialog does: cancelled half-way, the
    new key and settings were on disk while the window went on with the old ones."""
    dialog = _dialog(qtbot, AppSettings(base_url=sandbox.base_url()))
    dialog.uploads_spin.setValue(3)
    dialog.key_edit.setText(TEST_API_KEY)
    dialog.save_button.click()
    dialog.reject()
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: _saved(dialog) is not None, timeout=15_000)
    saved = _saved(dialog)
    assert saved is not None and saved.key == TEST_API_KEY
    assert load_settings_file().concurrent_uploads == 3
