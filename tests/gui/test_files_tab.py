"""The Files tab: drops of files and nested folders, verdicts with reasons, the Upload button."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from uploader_app.gui import files_tab
from uploader_app.gui.files_tab import FilesTab
from uploader_app.gui.findings_model import Column
from uploader_app.models import Finding, Index, IndexModel, Target, Verdict
from uploader_app.validation import pool, scan
from uploader_app.validation.scan import Candidate


def _drop(tab: FilesTab, paths: list[Path]) -> None:
    """What the OS file manager sends: a drag entering the tab, then a drop of file URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    actions = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(10, 10), actions, mime, buttons, keys)
    QApplication.sendEvent(tab, enter)
    assert enter.isAccepted()
    assert tab.drop_zone.property("highlighted") is True
    drop = QDropEvent(QPointF(10, 10), actions, mime, buttons, keys)
    QApplication.sendEvent(tab, drop)
    assert drop.isAccepted()
    assert tab.drop_zone.property("highlighted") is False


def _texts(tab: FilesTab) -> dict[str, str]:
    model = tab.model
    return {
        model.data(model.index(r, Column.NAME)): model.data(model.index(r, Column.STATUS))
        for r in range(model.rowCount())
    }


def _wait_checked(qtbot: QtBot, tab: FilesTab, rows: int) -> None:
    def done() -> None:
        tally = tab.model.tally()
        assert tally.total == rows and tally.checked == rows and not tab.checking

    qtbot.waitUntil(done, timeout=30_000)


def _tab(qtbot: QtBot, qsettings: QSettings, index_id: str | None = "idx1") -> FilesTab:
    tab = FilesTab(qsettings)
    qtbot.addWidget(tab)
    tab.set_index(index_id, Target(listens_to_audio=True), "v1.3", "Videos of 4 s to 2 h")
    tab.show()
    return tab


def test_dropped_nested_folder_lists_every_file_and_gives_reasons(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path], tmp_path: Path
) -> None:
    video("Trip/day 1/good.mp4")
    video("Trip/day 1/deeper/short.mp4", duration=2.0)
    video("Trip/tiny.mp4", width=320, height=240)
    (tmp_path / "Trip" / "notes.txt").write_text("shopping list")
    tab = _tab(qtbot, qsettings)

    _drop(tab, [tmp_path / "Trip"])

    _wait_checked(qtbot, tab, rows=4)
    texts = _texts(tab)
    assert texts["good.mp4"] == "Ready to upload"
    assert texts["short.mp4"].startswith("Can't be sent:")
    assert "2 seconds" in texts["short.mp4"] and "4 seconds" in texts["short.mp4"]
    assert texts["tiny.mp4"].startswith("Can't be sent:")
    assert texts["notes.txt"].startswith("Left out:")
    folders = {
        tab.model.data(tab.model.index(r, Column.NAME)): tab.model.data(
            tab.model.index(r, Column.FOLDER)
        )
        for r in range(4)
    }
    assert folders["short.mp4"] == "Trip/day 1/deeper"
    good = next(r for r in range(4) if tab.model.rows[r].path.name == "good.mp4")
    assert tab.model.data(tab.model.index(good, Column.DURATION)) == "0:05"
    assert tab.model.data(tab.model.index(good, Column.RESOLUTION)) == "640×360"
    # Only the good one is ticked and counted; rejected rows have no tick box at all.
    assert tab.upload_button.text() == "Upload 1 video"
    assert tab.upload_button.isEnabled()
    short = next(r for r in range(4) if tab.model.rows[r].path.name == "short.mp4")
    assert (
        tab.model.data(tab.model.index(short, Column.NAME), Qt.ItemDataRole.CheckStateRole) is None
    )
    assert tab.summary.text() == "4 files: 1 ready, 2 can't be sent, 1 left out"


def test_dropped_files_send_only_ticked_ones(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path]
) -> None:
    a = video("a.mp4")
    b = video("b.mp4", duration=6.0)
    silent = video("silent.mp4", audio=False)
    tab = _tab(qtbot, qsettings)

    _drop(tab, [a, b, silent])
    _drop(tab, [a])  # the same file twice keeps one row

    _wait_checked(qtbot, tab, rows=3)
    rows = {r.path.name: r for r in tab.model.rows}
    assert rows["silent.mp4"].verdict is Verdict.WARNING
    assert not rows["silent.mp4"].chosen
    assert "Tick it to send it anyway" in rows["silent.mp4"].status
    assert tab.upload_button.text() == "Upload 2 videos"
    assert tab.accept_button.isVisible()

    with qtbot.waitSignal(tab.upload_requested) as sent:
        QTest.keyClick(tab.table, Qt.Key.Key_Return)
    assert sorted(f.path.name for f in sent.args[0]) == ["a.mp4", "b.mp4"]

    tab.accept_button.click()
    assert tab.upload_button.text() == "Upload 3 videos"
    assert not tab.accept_button.isVisible()
    tab.mark_queued([a, b])
    assert [r.path.name for r in tab.model.rows] == ["silent.mp4"]
    assert tab.upload_button.text() == "Upload 1 video"


def test_lookalikes_and_files_already_in_the_index_start_unticked(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path]
) -> None:
    first = video("first.mp4")
    copy = video("copy/first-again.mp4")  # same encode: same size, length and picture
    old = video("old.mp4", duration=7.0)
    tab = _tab(qtbot, qsettings)
    tab.note_sent("idx1", str(old))

    tab.add_paths([first, copy, old])

    _wait_checked(qtbot, tab, rows=3)
    rows = {r.path.name: r for r in tab.model.rows}
    marked = [n for n in ("first.mp4", "first-again.mp4") if rows[n].duplicate_of]
    assert len(marked) == 1
    assert "probably the same video" in rows[marked[0]].status
    assert rows["old.mp4"].already_sent
    assert rows["old.mp4"].status.startswith("Already sent to this index")
    assert tab.upload_button.text() == "Upload 1 video"


def test_changing_the_index_checks_again_with_its_limits(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path]
) -> None:
    long_clip = video("long.mp4", duration=6.0)
    silent = video("silent.mp4", audio=False)
    tab = _tab(qtbot, qsettings)
    tab.add_paths([long_clip, silent])
    _wait_checked(qtbot, tab, rows=2)
    assert tab.model.rows[0].verdict is not Verdict.REJECTED

    audio_only = Index("idx2", "Podcasts", (IndexModel("marengo3.0", ("audio",)),))
    tab.set_index("idx2", Target.for_index(audio_only), "v1.3", "")

    _wait_checked(qtbot, tab, rows=2)
    rows = {r.path.name: r for r in tab.model.rows}
    assert rows["silent.mp4"].verdict is Verdict.REJECTED
    assert rows["long.mp4"].verdict is Verdict.OK


def test_upload_disabled_with_a_reason(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path]
) -> None:
    tab = _tab(qtbot, qsettings, index_id=None)
    assert not tab.upload_button.isEnabled()
    assert "Choose the index" in tab.upload_button.toolTip()
    tab.set_index("idx1", None, "v1.3")
    assert "Add videos first" in tab.upload_button.toolTip()
    tab.add_paths([video("short.mp4", duration=2.0)])
    _wait_checked(qtbot, tab, rows=1)
    assert not tab.upload_button.isEnabled()
    assert "each row says why" in tab.upload_button.toolTip()


def test_delete_takes_selected_files_off_the_list(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path]
) -> None:
    a, b = video("a.mp4"), video("b.mp4", duration=6.0)
    tab = _tab(qtbot, qsettings)
    tab.add_paths([a, b])
    _wait_checked(qtbot, tab, rows=2)
    row = [r.path for r in tab.model.rows].index(a)
    tab.table.selectRow(row)
    tab.table.setFocus()
    QTest.keyClick(tab.table, Qt.Key.Key_Delete)
    assert [r.path for r in tab.model.rows] == [b]
    assert a.exists()
    assert tab.upload_button.text() == "Upload 1 video"


def test_sent_files_leave_the_list_in_place(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path], tmp_path: Path
) -> None:
    """Rows leave in place (never a model reset), so a long list keeps its selection and
    scroll position, and the counts and the button follow."""
    folder = tmp_path / "drop"
    folder.mkdir()
    clip = video("clip.mp4")
    names = [f"clip-{n}.mp4" for n in range(6)]
    for name in names:
        shutil.copy(clip, folder / name)
    tab = _tab(qtbot, qsettings)
    tab.add_paths([folder])
    _wait_checked(qtbot, tab, rows=6)
    for number in range(6):  # copies of one file: tick the look-alikes too
        index = tab.model.index(number, Column.NAME)
        tab.model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    paths = [r.path for r in tab.model.rows]
    tab.table.selectRow(5)
    with qtbot.assertNotEmitted(tab.model.modelReset):
        tab.mark_queued([paths[0], paths[1], paths[3]])
    assert [r.path for r in tab.model.rows] == [paths[2], paths[4], paths[5]]
    selected = tab.table.selectionModel().selectedRows()
    assert [tab.model.rows[i.row()].path for i in selected] == [paths[5]]
    assert tab.model.tally().total == 3
    assert tab.summary.text() == "3 files: 3 ready"
    assert tab.upload_button.text() == "Upload 3 videos"


def test_a_check_that_breaks_down_says_so_and_stays_said(
    qtbot: QtBot, qsettings: QSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A probe worker that dies (killed for memory, a crashing decoder) ends the check; the
    summary must say so rather than "Checking 1 of 2…" for ever."""

    def breaks(
        roots: Sequence[Path], again: object, target: object, version: object, cancel: object
    ) -> Iterator[object]:
        for n, root in enumerate(roots):
            yield Candidate(root, root.name, True, None)
            if n:
                raise BrokenProcessPool("a probe worker died")

    monkeypatch.setattr(files_tab, "check_files", breaks)
    tab = _tab(qtbot, qsettings)
    tab.add_paths([tmp_path / "a.mp4", tmp_path / "b.mp4"])
    qtbot.waitUntil(lambda: not tab.checking, timeout=5000)
    assert tab.model.rowCount() == 2
    assert tab.summary.text().startswith("Checking stopped on an unexpected problem.")
    assert "Add the files again" in tab.summary.text()


def test_enter_on_a_focused_button_presses_that_button_not_upload(
    qtbot: QtBot, qsettings: QSettings, video: Callable[..., Path]
) -> None:
    """A keyboard user Tabs to "Clear list" and presses Enter: the list is cleared; nothing is
    sent (Enter elsewhere in the tab still sends)."""
    tab = _tab(qtbot, qsettings)
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow)
    _drop(tab, [video("a.mp4")])
    _wait_checked(qtbot, tab, rows=1)
    tab.clear_button.setFocus()
    with qtbot.assertNotEmitted(tab.upload_requested):
        QTest.keyClick(tab.clear_button, Qt.Key.Key_Return)
    assert tab.model.rowCount() == 0


def test_the_check_probes_on_one_thread_fewer_than_the_cores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The probes' threads share the window's process; one core stays the window's (docs/gui.md,
    # "The GUI thread while uploads run"). Worker processes, when they take over, use them all.
    monkeypatch.setattr(pool, "default_workers", lambda: 3)
    threads: set[str] = set()
    real = scan.check_item

    def recording(item: Candidate | Finding, target: Target, api_version: str | None) -> Finding:
        threads.add(threading.current_thread().name)
        time.sleep(0.002)
        return real(item, target, api_version)

    monkeypatch.setattr(scan, "check_item", recording)
    for n in range(30):
        (tmp_path / f"{n}.txt").write_text("not a video")

    out = list(files_tab.check_files([tmp_path], [], Target(), None, threading.Event()))

    assert len([o for o in out if isinstance(o, Finding)]) == 30
    assert len(threads) == 2


def test_the_windows_check_asks_its_worker_processes_to_yield_the_cpu(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The command line's checks keep normal priority; the window's must not take the cores
    # its GUI thread and uploads need (docs/validation.md, "Worker processes yield the CPU").
    asked: list[object] = []
    real = pool.imap_unordered

    def recording(*args: Any, **kwargs: Any) -> Iterator[Any]:
        asked.append(kwargs.get("yield_cpu", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(pool, "imap_unordered", recording)
    (tmp_path / "a.txt").write_text("not a video")

    out = list(files_tab.check_files([tmp_path], [], Target(), None, threading.Event()))

    assert len([o for o in out if isinstance(o, Finding)]) == 1
    assert asked == [True]
