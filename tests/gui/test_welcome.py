"""First start: a refused key, an accepted key kept in the (test) keychain, and demo mode."""

from __future__ import annotations

import errno
import socket
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from uploader_app import config, keys
from uploader_app.api.client import ApiClient
from uploader_app.gui.account import demo_failure_text, demo_folder
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


def _sqlite_error(tmp_path: Path, cause: str) -> sqlite3.Error:
    """A real SQLite refusal: a database capped at one page (full), or opened read-only."""
    path = tmp_path / f"{cause}.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x BLOB)").connection.commit()
    uri = f"file:{path}?mode=ro" if cause == "readonly" else f"file:{path}"
    db = sqlite3.connect(uri, uri=True)
    if cause == "full":
        db.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.Error) as caught:
        db.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    db.close()
    return caught.value


def _bind_error(address: tuple[str, int]) -> OSError:
    with socket.socket() as sock, pytest.raises(OSError) as caught:
        sock.bind(address)
    return caught.value


def test_the_demo_failure_says_the_cause_and_its_fix(tmp_path: Path) -> None:
    folder, log = tmp_path / "demo-sandbox", tmp_path / "logs" / "uploader-app.log"

    def said(error: BaseException) -> str:
        return demo_failure_text(error, folder, log, then="try again")

    # What SQLite says when the disk under a demo folder made before is full (seen on a
    # full tmpfs): it cannot grow the shared-memory file beside the sandbox's database.
    shm = sqlite3.OperationalError("disk I/O error")
    shm.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    full = [
        OSError(errno.ENOSPC, "No space left on device", str(folder / "media")),
        _sqlite_error(tmp_path, "full"),
        shm,
    ]
    for error in full:
        assert said(error) == (
            f"The demo could not start: the disk that holds {folder} is full. "
            "Free some space on it, then try again."
        )
    denied = [
        PermissionError(errno.EACCES, "Permission denied", str(folder)),
        _cannot_open(tmp_path),
    ]
    for error in denied:
        assert said(error).startswith(
            f"The demo could not start: the app is not allowed to write in {folder}."
        )
    for error in (
        OSError(errno.EROFS, "Read-only file system", str(folder)),
        _sqlite_error(tmp_path, "readonly"),
    ):
        assert f"{folder} is on a disk that can only be read" in said(error)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        in_use = _bind_error(taken.getsockname())
    for error in (in_use, _bind_error(("192.0.2.1", 0))):  # a port taken; not this computer
        assert said(error).startswith(
            "The demo could not start: this computer did not let the app open a port on its "
            "own address (127.0.0.1)"
        )
    assert said(RuntimeError("boom")) == (
        f"The demo could not start. The log file {log} says why. Try again, and if it fails "
        "once more, send that file to whoever helps you with the app."
    )
    for error in [*full, *denied, in_use, RuntimeError("boom")]:
        words = said(error)
        assert "Error" not in words and "errno" not in words.lower() and "boom" not in words


def _cannot_open(tmp_path: Path) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        sqlite3.connect(tmp_path / "no-such-folder" / "jobs.sqlite3")
    return caught.value


def test_the_welcome_screen_says_why_the_demo_did_not_start(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full() -> SandboxServer:
        raise OSError(errno.ENOSPC, "No space left on device", str(demo_folder()))

    monkeypatch.setattr("uploader_app.gui.welcome.start_demo_sandbox", full)
    dialog = _welcome(qtbot, config.DEFAULT_BASE_URL)
    dialog.demo_button.click()
    qtbot.waitUntil(dialog.demo_button.isEnabled, timeout=10_000)
    assert dialog.problem_label.text() == (
        f"The demo could not start: the disk that holds {demo_folder()} is full. "
        "Free some space on it, then try again."
    )
    assert dialog.account is None
