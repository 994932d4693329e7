"""First start: a refused key, an accepted key kept in the (test) keychain, and demo mode."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from uploader_app import config, keys
from uploader_app.api.client import ApiClient
from uploader_app.gui.welcome import WelcomeDialog
from uploader_app.sandbox.server import SandboxServer


def _welcome(qtbot: QtBot, base_url: str) -> WelcomeDialog:
    dialog = WelcomeDialog(base_url)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_refused_key_says_why_and_is_not_kept(qtbot: QtBot, sandbox: SandboxServer) -> None:
    dialog = _welcome(qtbot, sandbox.base_url())
    assert not dialog.use_key_button.isEnabled()
    dialog.key_edit.setText("not-the-key")
    dialog.use_key_button.click()
    assert not dialog.use_key_button.isEnabled()  # busy while the key is tested
    qtbot.waitUntil(dialog.use_key_button.isEnabled, timeout=15_000)

    said = dialog.problem_label.text()
    assert said.startswith("API key not accepted.") and "API Key page" in said
    assert "401" not in said and "Error" not in said
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.account is None
    assert keys.load_key().key is None


def test_an_accepted_key_is_kept_in_the_keychain(qtbot: QtBot, sandbox: SandboxServer) -> None:
    dialog = _welcome(qtbot, sandbox.base_url())
    dialog.key_edit.setText(f"  {TEST_API_KEY} ")
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        dialog.use_key_button.click()
    assert dialog.account is not None
    assert dialog.account.key == TEST_API_KEY
    assert not dialog.account.demo
    assert dialog.account.base_url == sandbox.base_url()
    stored = keys.load_key()
    assert (stored.key, stored.source) == (TEST_API_KEY, "keychain")


def test_demo_mode_starts_a_sandbox_on_loopback(qtbot: QtBot) -> None:
    dialog = _welcome(qtbot, config.DEFAULT_BASE_URL)
    with qtbot.waitSignal(dialog.accepted, timeout=15_000):
        dialog.demo_button.click()
    server = dialog.demo_server
    assert server is not None
    try:
        account = dialog.account
        assert account is not None and account.demo
        assert account.base_url.startswith("http://127.0.0.1:")
        assert account.key == config.SANDBOX_DEMO_KEY
        with ApiClient(account.base_url, account.key) as client:
            names = [i.name for i in client.iter_indexes()]
        assert "Demo - Marengo (search)" in names
        assert (config.app_home() / "demo-sandbox").is_dir()
        assert keys.load_key().key is None  # the demo key is never stored
    finally:
        server.stop()


def test_closing_while_the_demo_starts_waits_for_it(qtbot: QtBot) -> None:
    """Escape or the close button while a key is tested or the demo starts would end the app
    with that work's thread still running, which aborts the process; the dialog stays until
    the work is done."""
    dialog = _welcome(qtbot, config.DEFAULT_BASE_URL)
    dialog.demo_button.click()
    dialog.reject()
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.demo_server is not None, timeout=15_000)
    assert dialog.demo_server is not None
    dialog.demo_server.stop()
    assert dialog.result() == QDialog.DialogCode.Accepted
