"""The URL tab: pasted addresses checked against real local servers, a plain reason per line."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.local_http import ranged_files_in, serving
from uploader_app.gui import url_tab
from uploader_app.gui.url_tab import Column, UrlTab, split_addresses
from uploader_app.jobs.urlcheck import check_url
from uploader_app.models import Target, UploadKind, UrlFinding, Verdict
from uploader_app.validation import limits


def finding(url: str, verdict: Verdict, message: str) -> UrlFinding:
    """A verdict as check_url gives it, for tests that stand in for the network."""
    return UrlFinding(url, verdict, None, message, "", None, None, None, None, None, "a.mp4")


def test_split_addresses_one_a_line() -> None:
    pasted = "  https://a.example/x.mp4 \n\nhttps://b.example/y.mp4\nhttps://a.example/x.mp4\n"
    assert split_addresses(pasted) == ["https://a.example/x.mp4", "https://b.example/y.mp4"]


def test_pasted_addresses_get_a_verdict_each(
    qtbot: QtBot, video: Callable[..., Path], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(video(duration=5.0), site / "good.mp4")
    shutil.copy(video(duration=2.0), site / "short.mp4")
    (site / "page.html").write_text("<html><body>Our videos</body></html>")
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.set_index("idx1", None)
    tab.show()
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    served: list[tuple[str, int]] = []
    with serving(ranged_files_in(site, served)) as base:
        QGuiApplication.clipboard().setText(
            f"{base}/good.mp4\n{base}/short.mp4\n{base}/page.html\nftp://example.com/a.mp4\n"
        )
        tab.table.setFocus()
        QTest.keyClick(tab.table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        assert tab.model.rowCount() == 4
        assert tab.summary.text() == "Checking 0 of 4…"
        qtbot.waitUntil(lambda: not tab.checking, timeout=30_000)

    rows = {r.url.rsplit("/", 1)[-1]: r for r in tab.model.rows}
    assert rows["good.mp4"].verdict is Verdict.OK
    assert rows["good.mp4"].status == "Ready to upload"
    good = [r.url for r in tab.model.rows].index(f"{base}/good.mp4")
    assert tab.model.data(tab.model.index(good, Column.DURATION)) == "0:05"
    assert tab.model.data(tab.model.index(good, Column.RESOLUTION)) == "640×360"
    assert rows["short.mp4"].verdict is Verdict.REJECTED
    assert rows["short.mp4"].status.startswith("Can't be sent:")
    assert rows["page.html"].verdict is Verdict.REJECTED
    assert "web page" in rows["page.html"].status
    assert "http" in rows["a.mp4"].status
    for row in tab.model.rows:
        assert "HTTP 4" not in row.status and "Error" not in row.status
    assert tab.summary.text() == "4 addresses: 1 ready to send, 3 can't be sent"
    assert tab.upload_button.text() == "Upload 1 video"

    with qtbot.waitSignal(tab.upload_requested) as sent:
        tab.upload_button.click()
    assert sent.args[0] == [f"{base}/good.mp4"]
    tab.mark_queued(sent.args[0])
    assert tab.model.rowCount() == 3
    assert not tab.upload_button.isEnabled()
    assert "each row says why" in tab.upload_button.toolTip()


def test_typed_addresses_are_checked_with_ctrl_enter(qtbot: QtBot) -> None:
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.show()
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    tab.editor.setPlainText("not an address")
    QTest.keyClick(tab.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert tab.editor.toPlainText() == ""
    qtbot.waitUntil(lambda: not tab.checking, timeout=10_000)
    assert tab.model.rows[0].verdict is Verdict.REJECTED
    assert "web address" in tab.model.rows[0].status
    assert "Choose the index" in tab.upload_button.toolTip()


def test_a_check_for_the_previous_index_never_overwrites_the_new_verdict(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changing the index checks every address again; a check still running for the old
    index (its limits) must not land on the row after the new one."""
    strict = Target(require_audio=True)
    release = threading.Event()

    def check(url: str, target: Target, **_: object) -> UrlFinding:
        if target.require_audio:
            release.wait(10)  # the old index's check is slow
            return finding(url, Verdict.REJECTED, "No sound.")
        return finding(url, Verdict.OK, "Ready to upload.")

    monkeypatch.setattr(url_tab, "check_url", check)
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.set_index("strict-index", strict)
    tab.add_urls(["https://example.com/silent.mp4"])
    tab.set_index("relaxed-index", Target())
    qtbot.waitUntil(lambda: tab.model.rows[0].verdict is Verdict.OK, timeout=5000)
    release.set()
    qtbot.wait(300)  # the old check ends now; its verdict must be dropped
    qtbot.waitUntil(lambda: not tab.checking, timeout=5000)
    assert [r.verdict for r in tab.model.rows] == [Verdict.OK]
    assert tab.upload_button.text() == "Upload 1 video"


def test_queued_addresses_leave_the_list_in_place(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows leave one by one (never a model reset), so the rows that stay keep their
    selection."""

    def check(url: str, target: Target, **_: object) -> UrlFinding:
        return finding(url, Verdict.OK, "Ready to upload.")

    monkeypatch.setattr(url_tab, "check_url", check)
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.set_index("idx", None)
    urls = [f"https://example.com/{n}.mp4" for n in range(3)]
    tab.add_urls(urls)
    qtbot.waitUntil(lambda: not tab.checking, timeout=5000)
    tab.table.selectRow(2)
    with qtbot.assertNotEmitted(tab.model.modelReset):
        tab.mark_queued(urls[:1])
    assert [r.url for r in tab.model.rows] == urls[1:]
    selected = tab.table.selectionModel().selectedRows()
    assert [tab.model.rows[i.row()].url for i in selected] == [urls[2]]
    assert tab.upload_button.text() == "Upload 2 videos"


def _shown(qtbot: QtBot) -> UrlTab:
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.set_index("idx", None)
    tab.show()
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    return tab


def test_ctrl_enter_checks_then_enter_sends(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Typed addresses, then the keyboard alone: Ctrl+Enter checks them; once checked, Enter
    in the emptied text box (which keeps the focus) sends them."""
    monkeypatch.setattr(url_tab, "check_url", lambda url, target, **_: finding(url, Verdict.OK, ""))
    tab = _shown(qtbot)
    tab.editor.setFocus()
    QTest.keyClicks(tab.editor, "https://example.com/a.mp4")
    QTest.keyClick(tab.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not tab.checking and tab.upload_button.isEnabled(), timeout=5000)
    assert tab.editor.hasFocus()
    with qtbot.waitSignal(tab.upload_requested, timeout=2000) as sent:
        QTest.keyClick(tab.editor, Qt.Key.Key_Return)
    assert sent.args[0] == ["https://example.com/a.mp4"]


def test_ctrl_enter_in_the_empty_box_and_enter_in_the_list_send(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(url_tab, "check_url", lambda url, target, **_: finding(url, Verdict.OK, ""))
    tab = _shown(qtbot)
    tab.add_urls(["https://example.com/a.mp4"])
    qtbot.waitUntil(lambda: not tab.checking, timeout=5000)
    tab.editor.setFocus()
    with qtbot.waitSignal(tab.upload_requested, timeout=2000):
        QTest.keyClick(tab.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    tab.table.setFocus()
    with qtbot.waitSignal(tab.upload_requested, timeout=2000):
        QTest.keyClick(tab.table, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    # In the text box, Enter is a new line, never a send.
    tab.editor.setFocus()
    QTest.keyClicks(tab.editor, "https://example.com/b.mp4")
    with qtbot.assertNotEmitted(tab.upload_requested):
        QTest.keyClick(tab.editor, Qt.Key.Key_Return)
    assert tab.editor.toPlainText() == "https://example.com/b.mp4\n"


def test_addresses_are_judged_with_the_url_routes_limits(
    qtbot: QtBot, video: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service fetches a URL itself, under the URL route's cap, not the file route's: with
    that cap below the video's size (and the file route's above it), the address is refused."""
    site = tmp_path / "site"
    site.mkdir()
    clip = shutil.copy(video(duration=5.0), site / "clip.mp4")
    size = Path(clip).stat().st_size
    monkeypatch.setitem(limits.MAX_SIZE, UploadKind.URL, size - 1)
    assert limits.MAX_SIZE[UploadKind.TASK_FILE] > size
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.set_index("idx", Target(listens_to_audio=True))
    assert tab.target.kind is UploadKind.URL
    with serving(ranged_files_in(site, [])) as base:
        tab.add_urls([f"{base}/clip.mp4"])
        qtbot.waitUntil(lambda: not tab.checking, timeout=30_000)
    row = tab.model.rows[0]
    assert row.verdict is Verdict.REJECTED, row.status
    assert "Can't be sent" in row.status


def test_the_tab_checks_with_the_service_address_it_was_given(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A private address is refused for the real service, fetched for the sandbox here.
    asked: list[str | None] = []

    def check(url: str, target: Target, service_url: str | None = None) -> UrlFinding:
        asked.append(service_url)
        return check_url(url, target, timeout=1, service_url=service_url)

    monkeypatch.setattr(url_tab, "check_url", check)
    tab = UrlTab()
    qtbot.addWidget(tab)
    tab.set_index("idx", None, "https://api.twelvelabs.io/v1.3")
    tab.add_urls(["http://192.168.1.5/clip.mp4"])
    qtbot.waitUntil(lambda: tab.model.rows[0].verdict is Verdict.REJECTED, timeout=5000)
    assert asked == ["https://api.twelvelabs.io/v1.3"]
    finding = tab.model.rows[0].finding
    assert finding is not None
    assert "only this computer or its own network" in finding.message


def test_typing_on_after_a_ctrl_enter_check_keeps_every_key(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person checks one address and types the next at once: every key lands in the text
    box (none goes to a button that moved under the cursor), and the Enter that ends the new
    line is a new line, not a send of the first address without the second."""
    monkeypatch.setattr(url_tab, "check_url", lambda url, target, **_: finding(url, Verdict.OK, ""))
    tab = _shown(qtbot)
    tab.editor.setFocus()
    QTest.keyClicks(tab.editor, "https://example.com/a.mp4")
    QTest.keyClick(tab.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not tab.checking and tab.upload_button.isEnabled(), timeout=5000)
    focused = QApplication.focusWidget()
    assert focused is not None
    QTest.keyClicks(focused, "https://example.com/b.mp4")
    with qtbot.assertNotEmitted(tab.upload_requested):
        QTest.keyClick(focused, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is focused
    assert tab.editor.toPlainText() == "https://example.com/b.mp4\n"
