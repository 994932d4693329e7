"""The live task list against the real engine and the sandbox: uploads reach ready in place,
and pause, resume, stop, retry, remove, restart, close and CSV export work from the list."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, QRect, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDropEvent, QGuiApplication, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from tests.gui.conftest import MakeHost, MakeRig, wait_for_state
from tests.gui.helpers import Recorder, make_job
from tests.integration.engine.support import lift_cap
from uploader_app.gui.app import dark_palette
from uploader_app.gui.close_dialog import CloseDialog, close_host
from uploader_app.gui.progress_delegate import ProgressDelegate
from uploader_app.gui.task_model import Category, Column
from uploader_app.gui.task_panel import TaskPanel
from uploader_app.gui.tray import Tray
from uploader_app.gui.workers import EngineHost
from uploader_app.jobs.events import JobChanged
from uploader_app.models import Finding, JobState, Verdict
from uploader_app.store import StoreWriteError
from uploader_app.validation.probe import probe_file

PanelFor = Callable[[EngineHost], TaskPanel]
# Slow enough that a person (a test) can act while the bytes move: ~300 KB at 60 KB/s.
SLOW = 60_000
SLOW_CLIP = {"width": 1280, "height": 720, "duration": 10.0}


def select(panel: TaskPanel, *job_ids: int) -> None:
    """Select the rows of these jobs, as a click (with Ctrl) would."""
    selection = panel.table.selectionModel()
    selection.clearSelection()
    for job_id in job_ids:
        row = panel.model.row_of(job_id)
        assert row is not None
        index = panel.proxy.mapFromSource(panel.model.index(row, 0))
        selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


def test_an_upload_reaches_ready_with_the_list_updated_in_place(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig()
    panel = r.panel
    seen = Recorder(panel.model)
    states: list[str] = []
    panel.model.dataChanged.connect(
        lambda tl, _br, _r=(): states.append(panel.model.index(tl.row(), Column.STATE).data())
    )
    [job] = r.add(video("interview.mp4", duration=6.0))
    ready = wait_for_state(qtbot, panel, job.id, JobState.READY)

    assert seen.resets == 0
    assert seen.inserted == [(0, 0)]
    assert seen.changed_rows() == {0}
    assert any(s.startswith(("Twelve Labs", "Waiting its turn", "Indexing")) for s in states)
    assert panel.model.index(0, Column.STATE).data() == "Ready"
    assert ready.video_id
    assert panel.model.index(0, Column.IDS).data().startswith(f"video id {ready.video_id}")
    assert panel.model.index(0, Column.PROGRESS).data() == ""  # no bar parked at 100 %
    assert "Done (1)" in panel._filters[Category.DONE].text()

    select(panel, job.id)
    panel.table.setFocus()
    QTest.keyClick(panel.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == ready.video_id


def test_stop_and_try_again_from_the_list(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig(bandwidth_cap=SLOW)
    panel = r.panel
    [job] = r.add(video("lecture.mp4", **SLOW_CLIP))
    wait_for_state(qtbot, panel, job.id, JobState.UPLOADING)
    select(panel, job.id)
    assert panel.cancel_action.isEnabled()
    assert not panel.retry_action.isEnabled()
    panel.cancel_action.trigger()
    wait_for_state(qtbot, panel, job.id, JobState.CANCELLED)
    qtbot.waitUntil(panel.retry_action.isEnabled, timeout=2000)
    assert panel.model.index(0, Column.STATE).data() == "Stopped"

    lift_cap(r.host.engine)
    panel.table.setFocus()
    QTest.keyClick(panel.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait_for_state(qtbot, panel, job.id, JobState.READY)


def test_pause_keeps_the_bytes_and_resume_continues(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig(bandwidth_cap=SLOW)
    panel = r.panel
    [job] = r.add(video("walkthrough.mp4", **SLOW_CLIP))
    wait_for_state(qtbot, panel, job.id, JobState.UPLOADING)
    qtbot.waitUntil(lambda: panel.model.live(job.id)[0] > 0, timeout=20_000)
    select(panel, job.id)
    panel.pause_action.trigger()
    paused = wait_for_state(qtbot, panel, job.id, JobState.PAUSED)
    assert panel.model.index(0, Column.STATE).data() == "Paused"
    qtbot.wait(1500)  # a paused job stays paused: no worker picks it up
    assert panel.model.job_at(0).state is JobState.PAUSED
    assert panel.resume_action.isEnabled()
    assert paused.bytes_sent >= 0

    lift_cap(r.host.engine)
    panel.resume_action.trigger()
    wait_for_state(qtbot, panel, job.id, JobState.READY)


def test_a_restart_shows_earlier_jobs_and_continues_unfinished_ones(
    qtbot: QtBot,
    rig: MakeRig,
    make_host: MakeHost,
    panel_for: PanelFor,
    video: Callable[..., Path],
) -> None:
    r = rig(uploads=1, bandwidth_cap=SLOW)
    first, panel = r.host, r.panel
    done, unfinished = r.add(video("one.mp4"), video("two.mp4", **SLOW_CLIP))
    wait_for_state(qtbot, panel, done.id, JobState.READY)
    wait_for_state(qtbot, panel, unfinished.id, JobState.UPLOADING)
    first.shutdown(keep=True)  # quit mid-upload, keeping it for next time
    assert first.engine.job(unfinished.id).state is JobState.QUEUED

    second = make_host(r.server)
    again = panel_for(second)
    assert {job.id for job in again.model.jobs()} == {done.id, unfinished.id}
    assert again.notice.text() == "1 unfinished upload continues from last time."
    wait_for_state(qtbot, again, unfinished.id, JobState.READY)
    assert again.model.job_at(again.model.row_of(done.id) or 0).state is JobState.READY


def _answer_close(qtbot: QtBot, button: str) -> list[str]:
    """Click ``button`` of the close dialog once it shows; returns the question it asked."""
    asked: list[str] = []

    def click() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, CloseDialog):
            QTimer.singleShot(20, click)
            return
        asked.append(dialog.text())
        {"keep": dialog.keep_button, "stop": dialog.stop_button, "stay": dialog.stay_button}[
            button
        ].click()

    QTimer.singleShot(20, click)
    return asked


def test_closing_with_uploads_running_keeps_or_stops_them(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig(bandwidth_cap=SLOW)
    host, panel = r.host, r.panel
    jobs = r.add(video("a.mp4", **SLOW_CLIP), video("b.mp4"))
    wait_for_state(qtbot, panel, jobs[0].id, JobState.UPLOADING)

    asked = _answer_close(qtbot, "stay")
    assert close_host(host, panel) is False
    assert asked == ["2 videos are still uploading."]
    assert host.upload_workers == 2

    asked = _answer_close(qtbot, "keep")
    assert close_host(host, panel) is True
    assert not host.running
    kept = {job.id: job.state for job in host.engine.jobs()}
    # The slow upload is left to resume; the small one may already have reached the service
    # on a busy machine, and then it stays tracked there. Nothing is lost either way.
    assert kept[jobs[0].id] in {JobState.QUEUED, JobState.PAUSED}
    assert set(kept.values()) <= {
        JobState.QUEUED, JobState.PAUSED, JobState.ON_SERVICE, JobState.READY
    }  # fmt: skip

    host.start()
    wait_for_state(qtbot, panel, jobs[0].id, JobState.UPLOADING)
    asked = _answer_close(qtbot, "stop")
    assert close_host(host, panel) is True
    stopped = {job.id: job.state for job in host.engine.jobs()}
    assert stopped[jobs[0].id] is JobState.CANCELLED  # still listed: Try again sends it later
    # Nothing is left half-sent: an upload either stopped or had already reached the service.
    assert set(stopped.values()) <= {JobState.CANCELLED, JobState.ON_SERVICE, JobState.READY}


def test_export_csv_writes_every_job(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path], tmp_path: Path
) -> None:
    r = rig()
    panel = r.panel
    [job] = r.add(video("report.mp4"))
    wait_for_state(qtbot, panel, job.id, JobState.READY)
    target = tmp_path / "out" / "uploads.csv"
    target.parent.mkdir()
    panel.choose_export_path = lambda: target  # type: ignore[method-assign]
    panel.export_button.click()
    qtbot.waitUntil(lambda: panel.notice.text() == "Saved 1 row to uploads.csv.", timeout=5000)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    finished = panel.model.job_at(0)
    assert (rows[0]["file"], rows[0]["status"]) == ("report.mp4", "ready")
    assert rows[0]["video_id"] == finished.video_id


def test_remove_with_the_delete_key_and_search_with_ctrl_f(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig()
    host, panel = r.host, r.panel
    one, two = r.add(video("keep.mp4"), video("drop.mp4", duration=7.0))
    wait_for_state(qtbot, panel, one.id, JobState.READY)
    wait_for_state(qtbot, panel, two.id, JobState.READY)

    QTest.keyClick(panel, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.search.hasFocus()
    QTest.keyClicks(panel.search, "drop")
    assert panel.proxy.rowCount() == 1
    panel.search.clear()

    select(panel, two.id)
    panel.table.setFocus()
    QTest.keyClick(panel.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    assert panel.model.job_at(0).id == one.id
    assert [job.id for job in host.engine.jobs()] == [one.id]
    assert panel.proxy.rowCount(QModelIndex()) == 1


def test_tray_says_when_a_batch_finishes(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig()
    host, panel = r.host, r.panel
    tray = Tray(host, panel.model)
    # Without an icon the platform shows no tray icon, and so none of its notifications.
    assert not tray.icon.icon().isNull()
    said: list[tuple[str, str]] = []
    tray.notified.connect(lambda title, message: said.append((title, message)))
    r.add(video("x.mp4"), video("y.mp4", duration=7.0))
    qtbot.waitUntil(lambda: bool(said), timeout=30_000)
    assert said == [("Uploads finished", "2 videos are in the index.")]

    tray.set_notifications(False)
    r.add(video("z.mp4", duration=8.0))
    qtbot.waitUntil(lambda: panel.model.counts()[Category.DONE] == 3, timeout=30_000)
    assert len(said) == 1


def test_a_video_the_service_refuses_shows_why_and_the_tray_says_so(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig()
    tray = Tray(r.host, r.panel.model)
    said: list[tuple[str, str]] = []
    tray.notified.connect(lambda title, message: said.append((title, message)))
    short = video("teaser.mp4", duration=2.0)
    # Sent as if the local check had passed it, so the refusal comes from the service.
    [job] = r.host.engine.add_findings(
        [Finding(short, Verdict.OK, None, "Ready to upload.", probe=probe_file(short))],
        r.index_id,
    )
    r.host.wake()
    failed = wait_for_state(qtbot, r.panel, job.id, JobState.FAILED)
    reason = r.panel.model.index(0, Column.REASON).data()
    assert reason == f"{failed.error_message} {failed.error_hint}"
    assert r.panel.details.isHidden()
    select(r.panel, job.id)
    assert r.panel.details.isVisibleTo(r.panel)
    assert failed.error_hint in r.panel.details.text()
    assert "HTTP" not in reason and "400" not in reason
    assert failed.error_hint
    qtbot.waitUntil(lambda: len(said) == 2, timeout=5000)
    assert said[0] == ("teaser.mp4 was not indexed", failed.error_message)
    assert said[1] == ("Uploads finished", "1 video failed: the list says why.")


def test_tabbing_into_the_list_selects_a_row_for_the_keys(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig()
    [job] = r.add(video("keys.mp4"))
    wait_for_state(qtbot, r.panel, job.id, JobState.READY)
    assert not r.panel.selected_jobs()
    r.panel.search.setFocus()
    QTest.keyClick(r.panel.search, Qt.Key.Key_Tab)
    qtbot.waitUntil(r.panel.table.hasFocus, timeout=2000)
    assert [j.id for j in r.panel.selected_jobs()] == [job.id]
    assert r.panel.copy_action.isEnabled()


def test_tray_ring_follows_the_batch_and_clears_when_it_ends(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path]
) -> None:
    r = rig(bandwidth_cap=SLOW)
    tray = Tray(r.host, r.panel.model)
    shares: list[int | None] = []
    r.host.events.connect(lambda _events: shares.append(tray.percent))
    [job] = r.add(video("ring.mp4", **SLOW_CLIP))
    qtbot.waitUntil(lambda: any(s is not None and s > 0 for s in shares), timeout=20_000)
    assert "on their way" in tray.icon.toolTip()
    lift_cap(r.host.engine)
    wait_for_state(qtbot, r.panel, job.id, JobState.READY)
    qtbot.waitUntil(lambda: tray.percent is None, timeout=5000)
    assert tray.icon.toolTip() == "Video Indexing Uploader"


def test_a_video_already_in_the_index_can_be_sent_again_from_the_menu(
    qtbot: QtBot,
    rig: MakeRig,
    make_host: MakeHost,
    panel_for: PanelFor,
    video: Callable[..., Path],
    *,
    tmp_path: Path,
) -> None:
    r = rig()
    clip = video("promo.mp4")
    [first] = r.add(clip)
    wait_for_state(qtbot, r.panel, first.id, JobState.READY)
    # Another job list (another computer, a reinstall) sends the same file to the same index.
    other = make_host(r.server, store=tmp_path / "other.sqlite3")
    panel = panel_for(other)
    [again] = other.engine.add_paths([clip], r.index_id)
    other.wake()
    known = wait_for_state(qtbot, panel, again.id, JobState.ALREADY_IN_INDEX)
    assert panel.model.index(0, Column.STATE).data() == "Already in this index"
    assert known.video_id
    select(panel, again.id)
    panel._show_menu(panel.table.visualRect(panel.proxy.index(0, 0)).center())
    menu_texts = [a.text() for a in panel._menu.actions() if a.isEnabled()]
    assert "Send again anyway" in menu_texts
    assert "Try again" not in menu_texts
    panel._menu.close()
    panel.resend_action.trigger()
    resent = wait_for_state(qtbot, panel, again.id, JobState.READY)
    assert resent.video_id and resent.video_id != known.video_id


def test_files_dropped_on_the_list_are_handed_to_the_window(
    qtbot: QtBot, rig: MakeRig, tmp_path: Path
) -> None:
    panel = rig().panel
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "clip.mp4")), QUrl("https://example.com/a")])
    drop = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(panel.files_dropped) as dropped:
        panel.table.dropEvent(drop)
    assert dropped.args == [[tmp_path / "clip.mp4"]]  # local files only


def test_a_row_stopped_by_the_plan_says_what_to_do(qtbot: QtBot, rig: MakeRig) -> None:
    """The plan's allowance cannot be fixed from here: the row's fix says what will."""
    panel = rig().panel
    used_up = make_job(
        901,
        JobState.NEEDS_ATTENTION,
        error_code="usage_limit_exceeded",
        error_message="Your Twelve Labs plan has used up its indexing allowance.",
        error_hint="Upgrade the plan or wait for the allowance to renew, then upload again.",
    )
    panel.model.apply_events([JobChanged(used_up), JobChanged(make_job(902, JobState.FAILED))])
    select(panel, 902)
    assert not panel.fix_button.isVisible()  # a plain failure has Try again, no other fix
    select(panel, 901)
    assert panel.fix_button.isVisible()
    assert panel.fix_action.text() == "What to do…"
    panel.fix_action.trigger()
    box = panel.plan_box
    qtbot.waitUntil(box.isVisible)
    assert "used up its indexing allowance" in box.text()
    assert "Resume" in box.text()
    box.accept()


def _text_pixels(image: QImage, rect: QRect, colour: QColor) -> int:
    """Pixels of ``rect`` within a small distance of ``colour`` (anti-aliased glyph cores)."""
    found = 0
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top(), rect.bottom() + 1):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - colour.red())
                + abs(pixel.green() - colour.green())
                + abs(pixel.blue() - colour.blue())
                < 60
            ):
                found += 1
    return found


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_percentage_is_drawn_beside_the_bar_in_the_text_colour(
    qtbot: QtBot, rig: MakeRig, *, dark: bool
) -> None:
    panel = rig().panel
    if dark:
        panel.setPalette(dark_palette())
    panel.model.apply_events([JobChanged(make_job(903, JobState.UPLOADING, bytes_sent=420))])
    source_row = panel.model.row_of(903)
    assert source_row is not None
    row = panel.proxy.mapFromSource(panel.model.index(source_row, 0)).row()
    cell = panel.table.visualRect(panel.proxy.index(row, Column.PROGRESS))
    option = QStyleOptionViewItem()
    option.rect = cell
    option.fontMetrics = panel.table.fontMetrics()
    delegate = panel.table.itemDelegateForColumn(Column.PROGRESS)
    assert isinstance(delegate, ProgressDelegate)
    bar, text = delegate.parts(option)
    assert not bar.intersects(text)
    assert text.width() >= panel.table.fontMetrics().horizontalAdvance("100%")
    assert bar.width() >= 40

    image = panel.table.viewport().grab().toImage()
    ink = panel.table.palette().color(QPalette.ColorRole.Text)
    assert _text_pixels(image, text, ink) > 5  # "42%" in the list's own text colour


def test_a_list_action_the_full_disk_refuses_says_so_in_words(
    qtbot: QtBot, rig: MakeRig, video: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store refusing a write as a full disk does (the real one: the CLI disk-full test in
    # tests/reliability/test_faults_local.py): the notice says why and what to do, not "That
    # did not work".
    r = rig(bandwidth_cap=SLOW)
    panel = r.panel
    [job] = r.add(video("lecture.mp4", **SLOW_CLIP))
    wait_for_state(qtbot, panel, job.id, JobState.UPLOADING)

    def full(*_args: object, **_fields: object) -> None:
        raise StoreWriteError("jobs.sqlite3 could not be written: database or disk is full")

    monkeypatch.setattr(r.host.engine.store, "update", full)
    select(panel, job.id)
    panel.cancel_action.trigger()
    qtbot.waitUntil(panel.notice.isVisible, timeout=5000)
    assert "the disk may be full" in panel.notice.text()
    assert "Free some disk space" in panel.notice.text()


def test_the_progress_bars_come_with_the_first_row(qtbot: QtBot, rig: MakeRig) -> None:
    """The empty list of the first frame needs no bar delegate (docs/gui.md, "Start-up")."""
    panel = rig().panel
    assert not isinstance(panel.table.itemDelegateForColumn(Column.PROGRESS), ProgressDelegate)
    panel.model.apply_events([JobChanged(make_job(904, JobState.UPLOADING, bytes_sent=420))])
    assert isinstance(panel.table.itemDelegateForColumn(Column.PROGRESS), ProgressDelegate)
    panel.model.apply_events([JobChanged(make_job(905, JobState.UPLOADING, bytes_sent=42))])
    assert isinstance(panel.table.itemDelegateForColumn(Column.PROGRESS), ProgressDelegate)
