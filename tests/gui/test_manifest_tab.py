"""The Manifest tab: open (button and drop), per-cell marks, edit, bulk set, undo, save, build
from a bucket, and send (refused with the first error focused, or through the window to ready)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from tests.s3_emulator import ACCESS_KEY, SECRET_KEY, S3Emulator, only_profile
from uploader_app.api.client import ApiClient
from uploader_app.gui import background, close_dialog
from uploader_app.gui.account import Account
from uploader_app.gui.job_text import state_words
from uploader_app.gui.main_window import MainWindow
from uploader_app.gui.manifest_model import Column
from uploader_app.gui.manifest_tab import AWS_PROFILE_KEY, BuildDialog, ManifestTab
from uploader_app.gui.startup import make_host
from uploader_app.jobs import transfer
from uploader_app.jobs.transfer import SendReport
from uploader_app.manifest.build import BuildResult
from uploader_app.models import SENT_KEY, JobState
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings

DATA = Path(__file__).resolve().parents[1] / "data" / "manifests"
GUIDE = DATA / "vendor-guide-example.json"
GOOD_ID = "629d807aa9e2a3a33a92c00b"
TIP = Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def tab(qtbot: QtBot, qsettings: QSettings) -> ManifestTab:
    made = ManifestTab(qsettings)
    qtbot.addWidget(made)
    made.resize(1100, 500)
    made.show()
    return made


def opened(tab: ManifestTab, tmp_path: Path) -> Path:
    path = tmp_path / "list.json"
    path.write_bytes(GUIDE.read_bytes())
    assert tab.open_file(path)
    return path


def select_rows(tab: ManifestTab, *rows: int) -> None:
    tab.table.clearSelection()
    selection = tab.table.selectionModel()
    for row in rows:
        selection.select(
            tab.model.index(row, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        )


def test_open_marks_the_wrong_cell_and_focuses_it(tab: ManifestTab, tmp_path: Path) -> None:
    opened(tab, tmp_path)
    model = tab.model
    assert model.rowCount() == 2
    wrong = model.index(0, Column.INDEX)
    assert "25 characters" in model.data(wrong, TIP)
    assert model.data(wrong, Qt.ItemDataRole.DecorationRole) is not None
    assert model.data(model.index(1, Column.INDEX), TIP) is None  # row 2's id is fine
    assert model.data(model.index(0, Column.CHECK)).startswith("index_id '629d")
    assert model.data(model.index(1, Column.CHECK)) == "Ready"
    assert tab.table.currentIndex() == wrong  # the first error has the focus
    assert "1 problem to fix" in tab.summary.text()
    assert tab.send_button.text() == "Send 2 videos"


def test_send_of_an_invalid_list_goes_to_its_first_error(
    qtbot: QtBot, tab: ManifestTab, tmp_path: Path
) -> None:
    opened(tab, tmp_path)
    tab.table.setCurrentIndex(tab.model.index(1, Column.LANGUAGE))
    with qtbot.assertNotEmitted(tab.send_requested):
        tab.send_button.click()
    assert tab.table.currentIndex() == tab.model.index(0, Column.INDEX)
    words = tab.summary.text()
    assert "1 problem to fix" in words and "First: Row 1, index_id:" in words
    assert "Copy the index id" in words  # and what to do


def test_edit_a_cell_then_undo_redo_and_send(
    qtbot: QtBot, tab: ManifestTab, tmp_path: Path
) -> None:
    opened(tab, tmp_path)
    model = tab.model
    assert model.setData(model.index(0, Column.INDEX), GOOD_ID)
    assert model.valid and model.data(model.index(0, Column.CHECK)) == "Ready"
    assert "(not saved)" in tab.summary.text()
    tab.undo_button.click()
    assert model.first_error() is not None
    assert not model.document.modified
    tab.redo_button.click()
    assert model.first_error() is None
    with qtbot.waitSignal(tab.send_requested) as sent:
        tab.send_button.click()
    rows = sent.args[0]
    assert [r["index_id"] for r in rows] == [GOOD_ID, GOOD_ID]
    assert rows[0]["transcription"] == "s3://twelve-labs-docs/01.srt"


def test_bulk_set_index_and_language_on_the_selected_rows(tab: ManifestTab, tmp_path: Path) -> None:
    opened(tab, tmp_path)
    select_rows(tab, 0, 1)
    tab.set_on_selected("index_id", "6298d673f1090f1100476d4c")
    tab.set_on_selected("language", "fr")
    assert [r["index_id"] for r in tab.model.document.rows] == ["6298d673f1090f1100476d4c"] * 2
    assert [r["language"] for r in tab.model.document.rows] == ["fr", "fr"]
    assert tab.model.valid
    assert tab.selected_rows() == [0, 1]  # still selected for the next bulk edit
    tab.undo()
    assert [r["language"] for r in tab.model.document.rows] == ["en", "en"]
    select_rows(tab, 1)
    tab.set_on_selected("language", "english")
    cell = tab.model.index(1, Column.LANGUAGE)
    assert "'en' (English)" in tab.model.data(cell, TIP)


def test_add_and_remove_rows_with_undo(qtbot: QtBot, tab: ManifestTab, tmp_path: Path) -> None:
    opened(tab, tmp_path)
    tab.set_index("6298d673f1090f1100476d4c")
    tab.add_button.click()
    assert tab.model.rowCount() == 3
    new_row = tab.model.document.rows[2]
    assert new_row["index_id"] == "6298d673f1090f1100476d4c"
    assert "object" in (tab.model.data(tab.model.index(2, Column.OBJECT), TIP) or "")
    select_rows(tab, 0, 2)
    tab.remove_button.click()
    assert [r["object"] for r in tab.model.document.rows] == ["s3://twelve-labs-docs/02.mp4"]
    assert tab.model.valid
    tab.undo()
    tab.undo()
    assert tab.model.rowCount() == 2 and not tab.model.document.modified


def test_save_writes_the_original_bytes_until_an_edit(tab: ManifestTab, tmp_path: Path) -> None:
    path = opened(tab, tmp_path)
    original = path.read_bytes()
    tab.save_button.click()
    assert path.read_bytes() == original
    tab.model.setData(tab.model.index(0, Column.INDEX), GOOD_ID)
    tab.save_button.click()
    assert json.loads(path.read_text())[0]["index_id"] == GOOD_ID
    assert path.read_text().count("\n") == original.decode().count("\n")  # layout kept
    assert "(not saved)" not in tab.summary.text()


def test_a_dropped_json_file_opens(tab: ManifestTab, tmp_path: Path) -> None:
    path = tmp_path / "dropped.json"
    path.write_bytes(GUIDE.read_bytes())
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(QPoint(50, 50)),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    tab.dropEvent(drop)
    assert tab.model.document.path == path
    assert tab.model.rowCount() == 2


def test_build_from_a_bucket_fills_the_table(
    qtbot: QtBot, tab: ManifestTab, s3: S3Emulator
) -> None:
    s3.bucket("media-west")
    s3.put("media-west", "v/01.mp4", b"\x00" * 8)
    s3.put("media-west", "v/01.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n")
    s3.put("media-west", "v/02.mov", b"\x00" * 8)
    dialog = BuildDialog("6298d673f1090f1100476d4c", tab)
    qtbot.addWidget(dialog)
    dialog.address.setText("s3://media-west/v/")
    dialog.start()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=15_000)
    assert dialog.result_rows is not None
    assert [r.get("transcription") for r in dialog.result_rows.rows] == [
        "s3://media-west/v/01.vtt",
        None,
    ]

    missing = BuildDialog("6298d673f1090f1100476d4c", tab)
    qtbot.addWidget(missing)
    missing.address.setText("s3://no-such-bucket")
    missing.start()
    qtbot.waitUntil(lambda: "There is no bucket" in missing.status.text(), timeout=15_000)
    assert missing.result_rows is None


@pytest.fixture
def window(
    qtbot: QtBot, qsettings: QSettings, sandbox: SandboxServer
) -> Iterator[Callable[..., MainWindow]]:
    made: list[MainWindow] = []

    def make(version: str = "v1.3") -> MainWindow:
        account = Account(sandbox.base_url(version), TEST_API_KEY, demo=False)
        settings = AppSettings(base_url=sandbox.base_url(version))
        host = make_host(account, settings)
        win = MainWindow(account, settings, host, qsettings)
        qtbot.addWidget(win)
        made.append(win)
        host.start()
        win.show()
        with qtbot.waitSignal(win.picker.index_changed, timeout=15_000):
            win.picker.refresh()
        return win

    yield make
    for win in made:
        if win.host.running:
            win.host.shutdown(keep=True)
        win.files_tab.shutdown()
        win.url_tab.shutdown()


def test_send_from_the_window_puts_the_rows_in_the_uploads_until_ready(
    qtbot: QtBot,
    window: Callable[..., MainWindow],
    s3: S3Emulator,
    video: Callable[..., Path],
    tmp_path: Path,
) -> None:
    s3.bucket("twelve-labs-docs")
    s3.put("twelve-labs-docs", "01.mp4", video(duration=5))
    s3.put("twelve-labs-docs", "02.mp4", video(duration=6))
    win = window()
    assert win.picker.current is not None
    index_id = win.picker.current.id
    win.show_tab(win.manifest_tab)
    tab = win.manifest_tab
    opened(tab, tmp_path)
    select_rows(tab, 0, 1)
    tab.set_on_selected("index_id", index_id)  # the index chosen at the top
    tab.send_button.click()
    model = win.task_panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=15_000)

    def all_ready() -> None:
        assert [model.job_at(r).state for r in range(2)] == [JobState.READY, JobState.READY]

    qtbot.waitUntil(all_ready, timeout=60_000)


def test_an_index_id_not_in_the_account_is_marked_and_the_list_is_not_sent(
    qtbot: QtBot, window: Callable[..., MainWindow], sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The window's own index list marks ids of no index of the account, with no request."""
    win = window()
    assert win.picker.current is not None
    tab = win.manifest_tab
    listed = sandbox.requests.count(("GET", "/v1.3/indexes"))
    opened(tab, tmp_path)
    select_rows(tab, 0)
    tab.set_on_selected("index_id", win.picker.current.id)
    cell = tab.model.index(1, Column.INDEX)  # the guide's own id: well formed, not ours
    assert f"There is no index {GOOD_ID} in your account." in tab.model.data(cell, TIP)
    assert "Pick one of your indexes" in tab.model.data(cell, TIP)
    assert tab.model.data(cell, Qt.ItemDataRole.BackgroundRole) is not None
    assert tab.model.data(tab.model.index(0, Column.INDEX), TIP) is None
    with qtbot.assertNotEmitted(tab.send_requested):
        tab.send_button.click()
    assert tab.table.currentIndex() == cell
    assert "First: Row 2, index_id: There is no index" in tab.summary.text()
    assert sandbox.requests.count(("GET", "/v1.3/indexes")) == listed  # checked from the list
    assert win.host.engine.store.jobs() == []
    select_rows(tab, 1)
    tab.set_on_selected("index_id", win.picker.current.id)
    assert tab.model.valid


def test_a_v13_send_presigns_with_the_profile_typed_in_build(
    qtbot: QtBot,
    qsettings: QSettings,
    window: Callable[..., MainWindow],
    *,
    s3: S3Emulator,
    video: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No default AWS credentials here, only the "media" profile: the links of a send are
    made with the profile typed when the list was built."""
    only_profile(monkeypatch, tmp_path, "media")
    s3.bucket("media-west")
    s3.put("media-west", "v/01.mp4", video(duration=5))
    win = window()
    tab = win.manifest_tab

    def typed(dialog: BuildDialog) -> QDialog.DialogCode:
        dialog.address.setText("s3://media-west/v/")
        dialog.profile.setText("media")
        dialog.start()
        qtbot.waitUntil(lambda: dialog.result_rows is not None, timeout=15_000)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(BuildDialog, "exec", typed)
    tab.build()
    assert tab.model.rowCount() == 1 and tab.model.valid
    assert tab.aws_profile == "media"  # the name only: the keys stay in the AWS files
    stored = " ".join(str(qsettings.value(k)) for k in qsettings.allKeys())
    assert ACCESS_KEY not in stored and SECRET_KEY not in stored
    tab.send_button.click()
    model = win.task_panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=15_000)

    def ready() -> None:
        job = model.job_at(0)
        assert job.state is JobState.READY, job.error_message

    qtbot.waitUntil(ready, timeout=60_000)


def test_quitting_during_a_v12_send_stops_it_and_leaves_the_rows_waiting(
    qtbot: QtBot,
    window: Callable[..., MainWindow],
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The v1.2 matching waits minutes for a row the service did not start; quitting stops
    it at once (it once ran on past the window) and the row is not called "not started"."""
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 20.0)
    # The window rightly asks about the waiting row when it closes: "keep" it, unasked.
    monkeypatch.setattr(
        close_dialog, "close_host", lambda host, _parent: host.shutdown(True) or True
    )
    win = window("v1.2")
    assert win.picker.current is not None
    row = {"index_id": win.picker.current.id, "language": "en", "object": "s3://docs/01.mp4"}
    with ApiClient(sandbox.base_url("v1.2"), TEST_API_KEY) as client:
        client.create_transfer([row])  # the service has this object: the send makes no task
    path = tmp_path / "one.json"
    path.write_text(json.dumps([row]))
    assert win.manifest_tab.open_file(path)
    win.manifest_tab.send_button.click()
    store = win.host.engine.store

    # The sandbox logs a request as it arrives, so quitting once it counts the POST may still
    # cut the body off (the next test covers that): wait until the POST was answered.
    qtbot.waitUntil(lambda: any(SENT_KEY in j.options for j in store.jobs()), timeout=15_000)
    assert sandbox.requests.count(("POST", "/v1.2/tasks/transfers")) == 2
    started = time.monotonic()
    background.cancel_all(timeout_ms=8_000)
    assert time.monotonic() - started < 5
    (job,) = win.host.engine.store.jobs()
    # Its transfer went out: it waits for its task, which the poller goes on looking for.
    assert job.state is JobState.CHECKING
    assert job.error_code is None
    assert state_words(job) == "Sent; waiting for Twelve Labs to start it…"


def test_quitting_during_the_v12_post_says_nothing_and_leaves_the_rows_unsent(
    qtbot: QtBot,
    window: Callable[..., MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A POST cut off by quitting sent nothing: no "Not sent" box may open while the window
    closes (a modal box there blocked the quit), and the row waits for the next send."""
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    win = window("v1.2")
    assert win.picker.current is not None
    row = {"index_id": win.picker.current.id, "language": "en", "object": "s3://docs/01.mp4"}
    path = tmp_path / "one.json"
    path.write_text(json.dumps([row]))
    assert win.manifest_tab.open_file(path)

    real = transfer.send_manifest

    def quitting(*args: object, cancel: threading.Event, **kwargs: object) -> SendReport:
        cancel.set()
        return real(*args, cancel=cancel, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transfer, "send_manifest", quitting)
    win.manifest_tab.send_button.click()
    assert not win.manifest_tab.send_button.isEnabled()  # while it sends
    qtbot.waitUntil(win.manifest_tab.send_button.isEnabled, timeout=15_000)
    (job,) = win.host.engine.store.jobs()
    assert (job.state, job.error_code) == (JobState.CHECKING, None)
    assert SENT_KEY not in job.options
    assert warned == []
    # The row says it was not sent and what to do, not "Checking…" until the list goes again.
    assert state_words(job) == "Not sent: the app closed while sending it. Send the list again."


def test_a_file_that_is_not_json_says_where_and_cannot_be_sent(
    qtbot: QtBot, tab: ManifestTab, tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"index_id": "x",}\n]\n')
    tab.open_file(path)
    assert tab.model.rowCount() == 0
    assert "First: Line 2, column 20" in tab.summary.text()
    assert not tab.add_button.isEnabled()  # adding rows would overwrite the broken text
    with qtbot.assertNotEmitted(tab.send_requested):
        tab.send()


def test_the_remembered_aws_profile_is_shown_and_chosen_in_the_tab(
    qtbot: QtBot, qsettings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile a send uses is in the tab, restored when it opens: an opened list (not
    only a built one) is sent with it, so it must be visible and changeable there."""
    qsettings.setValue(AWS_PROFILE_KEY, "media")
    tab = ManifestTab(qsettings)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.profile.text() == "media" and tab.profile.isVisible()
    assert tab.profile.accessibleName() == "AWS profile"
    assert tab.aws_profile == "media"
    # Chosen in the tab: used by the next send and remembered for the next start.
    tab.profile.clear()
    QTest.keyClicks(tab.profile, "archive")
    tab.profile.editingFinished.emit()
    assert tab.aws_profile == "archive"
    assert qsettings.value(AWS_PROFILE_KEY) == "archive"
    again = ManifestTab(qsettings)
    qtbot.addWidget(again)
    assert again.profile.text() == "archive"
    # Build from a bucket starts from it; the one typed there shows in the tab afterwards.
    seen: list[str] = []

    def typed(dialog: BuildDialog) -> QDialog.DialogCode:
        seen.append(dialog.profile.text())
        dialog.profile.setText("west")
        dialog.result_rows = BuildResult()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(BuildDialog, "exec", typed)
    again.build()
    assert seen == ["archive"]
    assert again.profile.text() == "west" and again.aws_profile == "west"
    assert qsettings.value(AWS_PROFILE_KEY) == "west"
    # Empty: the default credentials.
    again.profile.clear()
    again.profile.editingFinished.emit()
    assert again.aws_profile is None
