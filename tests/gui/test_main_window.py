"""The whole window against the sandbox: pick an index, drop files, Enter, watch them get ready."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY
from tests.gui.helpers import make_job
from tests.local_http import ranged_files_in, serving
from uploader_app.api.client import ApiClient
from uploader_app.gui.account import Account
from uploader_app.gui.app import apply_theme
from uploader_app.gui.main_window import GEOMETRY_KEY, MainWindow, totals_text
from uploader_app.gui.settings_dialog import Saved, SettingsDialog
from uploader_app.gui.startup import make_host
from uploader_app.gui.task_model import Column
from uploader_app.jobs.engine import Totals
from uploader_app.jobs.events import BatchProblem, BatchProblemCleared, JobChanged
from uploader_app.models import Finding, IndexModel, Job, JobState, Target, Verdict
from uploader_app.sandbox.server import SandboxServer
from uploader_app.settings import AppSettings
from uploader_app.store import StoreWriteError
from uploader_app.validation.scan import scan

MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, qsettings: QSettings) -> Iterator[MakeWindow]:
    windows: list[MainWindow] = []

    def make(server: SandboxServer, *, demo: bool = False) -> MainWindow:
        account = Account(server.base_url(), TEST_API_KEY, demo=demo)
        settings = AppSettings(base_url=server.base_url())
        host = make_host(account, settings)
        window = MainWindow(account, settings, host, qsettings)
        qtbot.addWidget(window)
        windows.append(window)
        host.start()
        window.show()
        with qtbot.waitSignal(window.picker.index_changed, timeout=15_000):
            window.picker.refresh()
        return window

    yield make
    for window in windows:
        if window.host.running:
            window.host.shutdown(keep=True)
        window.files_tab.shutdown()
        window.url_tab.shutdown()


def _jobs_in(window: MainWindow) -> list[JobState]:
    model = window.task_panel.model
    return [model.job_at(row).state for row in range(model.rowCount())]


def test_dropped_files_go_to_ready_from_the_keyboard(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    window = make_window(sandbox)
    assert window.picker.current is not None
    assert window.connection_label.text() == "● Connected"
    assert not window.demo_strip.isVisible()
    good = [video("a.mp4"), video("b.mp4", duration=6.0)]
    short = video("short.mp4", duration=2.0)

    window.add_paths([*good, short])
    files = window.files_tab
    qtbot.waitUntil(lambda: files.model.tally().checked == 3, timeout=30_000)
    assert files.upload_button.text() == "Upload 2 videos"
    files.table.setFocus()
    QTest.keyClick(files.table, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: window.task_panel.model.rowCount() == 2, timeout=15_000)
    assert [r.path.name for r in files.model.rows] == ["short.mp4"]  # the rejected one stays

    def all_ready() -> None:
        assert _jobs_in(window) == [JobState.READY, JobState.READY]

    qtbot.waitUntil(all_ready, timeout=60_000)
    qtbot.waitUntil(lambda: "2 videos ready" in window.totals_label.text(), timeout=5_000)

    # The same files again: the list knows they are in this index already.
    window.add_paths(good)
    qtbot.waitUntil(lambda: files.model.tally().checked == 3, timeout=30_000)
    assert all(r.already_sent for r in files.model.rows if r.path in good)
    assert files.upload_button.text() == "Upload"


def test_addresses_are_queued_from_the_url_tab(
    qtbot: QtBot,
    make_window: MakeWindow,
    sandbox: SandboxServer,
    video: Callable[..., Path],
    tmp_path: Path,
) -> None:
    video("site/clip.mp4")
    window = make_window(sandbox)
    window.show_tab(window.url_tab)
    served: list[tuple[str, int]] = []
    with serving(ranged_files_in(tmp_path / "site", served)) as base:
        window.url_tab.add_urls([f"{base}/clip.mp4"])
        qtbot.waitUntil(window.url_tab.upload_button.isEnabled, timeout=30_000)
        window.url_tab.upload_button.click()
        qtbot.waitUntil(lambda: window.url_tab.model.rowCount() == 0, timeout=15_000)
    assert window.task_panel.model.rowCount() == 1
    assert window.task_panel.model.job_at(0).source == f"{base}/clip.mp4"


def test_demo_strip_and_problem_banner(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    window = make_window(sandbox, demo=True)
    assert window.demo_strip.isVisible()
    assert window.windowTitle().endswith("(demo)")
    assert window.connection_label.text() == "● Demo (on this computer)"

    window.host.event.emit(
        BatchProblem(
            "api_key_invalid",
            "API key not accepted",
            "Twelve Labs did not accept this API key.",
            "Enter a new key in Settings.",
        )
    )
    assert window.banner.isVisible()
    assert window.banner_label.text() == (
        "API key not accepted. Twelve Labs did not accept this API key. "
        "Enter a new key in Settings."
    )
    assert window.banner_button.isVisible()
    assert not window.details_label.isVisible()
    window.details_button.click()
    assert window.details_label.text().startswith("Problem code: api_key_invalid.")
    assert window.connection_label.text() == "○ API key not accepted"
    window.host.event.emit(BatchProblemCleared())
    assert not window.banner.isVisible()


def test_size_splitter_and_tab_are_remembered(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, qsettings: QSettings
) -> None:
    window = make_window(sandbox)
    window.resize(760, 560)  # inside the offscreen screen (800×600): restore clamps to it
    window.show()
    qtbot.waitExposed(window)
    # The tab first, as a person would: its minimum size bounds the splitter.
    window.tabs.setCurrentIndex(1)
    QApplication.processEvents()
    window.splitter.setSizes([150, 300])
    window.save_state()
    assert qsettings.value(GEOMETRY_KEY) is not None
    sizes = window.splitter.sizes()

    again = make_window(sandbox)
    assert again.size() == window.size()
    assert again.splitter.sizes() == sizes
    assert again.tabs.currentIndex() == 1


@pytest.fixture(params=[None, 14, 20], ids=["default-font", "14pt", "20pt"])
def font_size(request: pytest.FixtureRequest) -> Iterator[None]:
    """The application's font (the size a person chose for reading) while a window is built."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.font()
    if request.param is not None:
        font = QFont(before)
        font.setPointSize(request.param)
        app.setFont(font)
    yield
    app.setFont(before)


@pytest.mark.usefixtures("font_size")
def test_the_tabs_built_on_first_show_hold_their_minimum_from_the_start(
    qtbot: QtBot, qsettings: QSettings
) -> None:
    """Showing the URL or Manifest tab for the first time neither moves the splitter dragged
    to its limit nor widens the window: the limits they bring held before they were built.
    Nor, with a larger font, is much more held than they need (the window grew taller than a
    small screen when the reservation was in font units alone)."""
    account = Account("http://127.0.0.1:9/v1.3", TEST_API_KEY)
    settings = AppSettings(base_url=account.base_url)
    window = MainWindow(account, settings, make_host(account, settings), qsettings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    before = window.tabs.minimumSizeHint(), window.minimumSizeHint()
    window.resize(window.minimumSizeHint())  # as narrow and short as the window goes
    window.splitter.setSizes([0, 10_000])  # the tabs dragged to their smallest
    QApplication.processEvents()
    sizes, size = window.splitter.sizes(), window.size()
    for number in (1, 2):
        window.tabs.setCurrentIndex(number)
        QApplication.processEvents()
        assert window.splitter.sizes() == sizes
        assert window.size() == size
    assert window._url_tab is not None and window._manifest_tab is not None
    assert (window.tabs.minimumSizeHint(), window.minimumSizeHint()) == before
    # The reservation is what the built tabs need (this platform's font and style), a line or
    # a few characters at most over it: not a guess that leaves them squeezed or wastes room.
    metrics = window.fontMetrics()
    for page, tab in (
        (window._url_page, window._url_tab),
        (window._manifest_page, window._manifest_tab),
    ):
        need, held = tab.minimumSizeHint(), page.minimumSize()
        assert need.width() <= held.width() <= need.width() + 4 * metrics.averageCharWidth()
        assert need.height() <= held.height() <= need.height() + metrics.height()


def test_a_refused_key_shows_not_connected(
    qtbot: QtBot, qsettings: QSettings, sandbox: SandboxServer
) -> None:
    account = Account(sandbox.base_url(), "not-the-key")
    settings = AppSettings(base_url=sandbox.base_url())
    window = MainWindow(account, settings, make_host(account, settings), qsettings)
    qtbot.addWidget(window)
    window.picker.refresh()
    qtbot.waitUntil(lambda: window.connection_label.text() == "○ Not connected", timeout=15_000)
    assert "Choose the index" in window.files_tab.upload_button.toolTip()


def test_files_sent_in_an_earlier_run_are_known(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    clip = video("clip.mp4")
    first = make_window(sandbox)
    first.add_paths([clip])
    qtbot.waitUntil(first.files_tab.upload_button.isEnabled, timeout=30_000)
    first.files_tab.upload_button.click()
    qtbot.waitUntil(lambda: _jobs_in(first) == [JobState.READY], timeout=60_000)
    first.host.shutdown(keep=True)

    again = make_window(sandbox)  # a new run over the same job store
    again.add_paths([clip])
    qtbot.waitUntil(lambda: again.files_tab.model.tally().checked == 1, timeout=30_000)
    assert again.files_tab.model.rows[0].already_sent
    assert _jobs_in(again) == [JobState.READY]


def test_saved_settings_apply_to_the_running_window(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    window = make_window(sandbox)
    window.show_banner("The settings file could not be read.", offer_settings=True)
    changed = replace(window.settings, concurrent_uploads=3, bandwidth_cap=2_000_000)
    with qtbot.assertNotEmitted(window.account_changed):
        window._apply_settings(Saved(changed))
    assert window.host.upload_workers == 3
    assert window.host.engine.settings.bandwidth_cap == 2_000_000
    assert window.host.engine.settings.concurrent_uploads == 3
    assert not window.banner.isVisible()

    with qtbot.waitSignal(window.account_changed) as switched:
        window._apply_settings(Saved(changed, key="another-key"))
    assert switched.args[0].key == "another-key"
    assert not switched.args[0].demo


def test_totals_line_answers_how_long() -> None:
    busy = Totals(
        counts={JobState.UPLOADING: 4, JobState.QUEUED: 12, JobState.ON_SERVICE: 1},
        bytes_done=1_800_000_000,
        bytes_total=6_200_000_000,
        speed=12_000_000,
        eta=400,
    )
    assert totals_text(busy, 1_800_000_000, 6_200_000_000) == (
        "4 uploading, 12 waiting, 1 being indexed · 1.8 GB of 6.2 GB · 12 MB/s · about 7 min left"
    )
    done = Totals(counts={JobState.READY: 3}, bytes_done=0, bytes_total=0, speed=None, eta=None)
    assert totals_text(done) == "All done · 3 videos ready"


def test_a_failed_video_parks_no_bar_and_reads_as_failed(
    make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    """The store's totals span every job ever listed; a failed one counts its size but none
    of it done. The status bar must not show that as a bar stuck at 90 % with bytes to go."""
    window = make_window(sandbox)
    window._show_totals(
        Totals(
            counts={JobState.READY: 3, JobState.FAILED: 1, JobState.NEEDS_ATTENTION: 1},
            bytes_done=2_200_000,
            bytes_total=2_500_000,
            speed=None,
            eta=4000,
        )
    )
    assert not window.progress.isVisible()
    assert window.totals_label.text() == "1 needs you, 1 failed"


def test_keyboard_shortcuts_of_the_window(make_window: MakeWindow, sandbox: SandboxServer) -> None:
    window = make_window(sandbox)
    files = window.files_tab
    assert files.add_files_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert files.add_folder_action.shortcut() == QKeySequence("Ctrl+Shift+O")
    assert QKeySequence("Ctrl+,") in window.settings_action.shortcuts()
    menu_actions = window.file_menu.actions()
    assert files.add_files_action in menu_actions and files.add_folder_action in menu_actions


def test_earlier_jobs_in_other_indexes_show_the_index_by_name(
    make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    window = make_window(sandbox)
    others = [i for i in window.picker.indexes if i != window.picker.current]
    assert others, "the sandbox lists several demo indexes"
    model = window.task_panel.model
    job = replace(make_job(1, JobState.READY), index_id=others[0].id)
    model.apply_event(JobChanged(job))
    assert model.data(model.index(0, Column.INDEX)) == others[0].name


def test_handed_over_files_get_the_focus_on_upload_and_a_missing_one_says_why(
    qtbot: QtBot,
    qsettings: QSettings,
    sandbox: SandboxServer,
    video: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """As at start with files on the command line: listed before the indexes are; once the
    verdicts are in, Enter alone sends (the Upload button has the focus). A file that is no
    longer there is a rejected row with a plain reason, not a silent exit."""
    account = Account(sandbox.base_url(), TEST_API_KEY)
    settings = AppSettings(base_url=sandbox.base_url())
    host = make_host(account, settings)
    window = MainWindow(account, settings, host, qsettings)
    qtbot.addWidget(window)
    host.start()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    gone = tmp_path / "moved away.mp4"
    window.add_paths([video("a.mp4"), gone])
    window.picker.refresh()
    files = window.files_tab
    try:
        qtbot.waitUntil(files.upload_button.hasFocus, timeout=30_000)
        assert files.upload_button.text() == "Upload 1 video"
        [missing] = [r for r in files.model.rows if r.path == gone]
        assert missing.verdict is Verdict.REJECTED
        assert "no longer there" in missing.status
        QTest.keyClick(files.upload_button, Qt.Key.Key_Return)  # the focused widget
        qtbot.waitUntil(lambda: window.task_panel.model.rowCount() == 1, timeout=15_000)
    finally:
        host.shutdown(keep=True)
        files.shutdown()


def test_handed_over_files_leave_the_focus_where_a_person_is_typing(
    qtbot: QtBot,
    qsettings: QSettings,
    sandbox: SandboxServer,
    video: Callable[..., Path],
) -> None:
    """The verdicts come in while the person types a search: the Upload button does not take
    the focus from them (their next keys, and an Enter, would go to it)."""
    account = Account(sandbox.base_url(), TEST_API_KEY)
    settings = AppSettings(base_url=sandbox.base_url())
    host = make_host(account, settings)
    window = MainWindow(account, settings, host, qsettings)
    qtbot.addWidget(window)
    host.start()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    files = window.files_tab
    search = window.task_panel.search
    try:
        window.add_paths([video("a.mp4")])
        search.setFocus()
        QTest.keyClicks(search, "cl")
        with qtbot.waitSignal(window.picker.index_changed, timeout=15_000):
            window.picker.refresh()
        qtbot.waitUntil(lambda: files.upload_button.isEnabled() and not files.checking)
        focused = QApplication.focusWidget()
        assert focused is search
        QTest.keyClicks(focused, "ip")
        assert search.text() == "clip"
    finally:
        host.shutdown(keep=True)
        files.shutdown()


MISSING_INDEX = "0123456789abcdef01234567"  # shaped like an id; no such index in the sandbox


def _checked(clip: Path) -> list[Finding]:
    """The file as the Files tab hands it over (checked, not yet sent)."""
    return list(scan([clip], Target(listens_to_audio=True)))


def _select_only(window: MainWindow) -> None:
    panel = window.task_panel
    panel.table.selectRow(0)
    assert len(panel.selected_jobs()) == 1


def test_a_row_whose_index_is_gone_offers_another_index(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    window = make_window(sandbox)
    clip = video("a.mp4")
    window.host.engine.add_findings(_checked(clip), MISSING_INDEX)
    window.host.wake()
    panel = window.task_panel
    qtbot.waitUntil(lambda: _jobs_in(window) == [JobState.NEEDS_ATTENTION], timeout=30_000)
    _select_only(window)
    assert panel.fix_button.isVisible()
    assert panel.fix_action.text() == "Choose another index…"
    panel._show_menu(panel.table.visualRect(panel.proxy.index(0, 0)).center())
    assert panel._menu.actions()[0] is panel.fix_action
    panel._menu.close()

    panel.fix_action.trigger()
    # The file is back in the Files tab, checked for the index chosen now, and the index
    # list has the focus.
    assert window.shown_tab() is window.files_tab
    qtbot.waitUntil(lambda: window.files_tab.model.tally().checked == 1, timeout=30_000)
    assert [r.path for r in window.files_tab.model.rows] == [clip]
    assert window.files_tab.upload_button.text() == "Upload 1 video"
    # Until it is sent again the old row stays, so quitting now loses nothing (the Files
    # tab is not kept from one session to the next).
    assert _jobs_in(window) == [JobState.NEEDS_ATTENTION]
    assert len(window.host.engine.jobs()) == 1
    # Sent to the chosen index: the old row leaves, and the video is sent once.
    chosen = window.picker.current
    assert chosen is not None
    window.files_tab.upload_button.click()
    qtbot.waitUntil(
        lambda: [j.index_id for j in window.host.engine.jobs()] == [chosen.id], timeout=15_000
    )
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=15_000)
    assert panel.model.job_at(0).index_id == chosen.id
    # The gone index stopped every upload; sending elsewhere is acting on it.
    qtbot.waitUntil(lambda: _jobs_in(window) == [JobState.READY], timeout=60_000)


def test_an_index_deleted_on_the_service_leaves_send_to_when_an_upload_learns_it(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    with ApiClient(sandbox.base_url(), TEST_API_KEY) as client:
        gone = client.create_index("A soon gone", [IndexModel("marengo3.0", ("visual",))])
    window = make_window(sandbox)
    assert window.picker.current == gone  # first by name
    requests.delete(
        f"{sandbox.base_url()}/indexes/{gone.id}", headers={"x-api-key": TEST_API_KEY}, timeout=10
    ).raise_for_status()
    window.host.engine.add_findings(_checked(video("a.mp4")), gone.id)
    window.host.wake()
    qtbot.waitUntil(lambda: _jobs_in(window) == [JobState.NEEDS_ATTENTION], timeout=30_000)
    # Nobody pressed refresh or the row's fix: "Send to" no longer names the gone index.
    qtbot.waitUntil(lambda: gone.id not in [i.id for i in window.picker.indexes], timeout=5_000)
    current = window.picker.current
    assert current is not None and current.id != gone.id
    assert window.picker.combo.currentText() == current.name
    assert "A soon gone is no longer on the service" in window.picker.status_label.text()
    qtbot.waitUntil(window.picker.refresh_button.isEnabled, timeout=10_000)
    assert gone.id not in [i.id for i in window.picker.indexes]


def test_a_row_whose_key_was_refused_offers_a_new_key(
    qtbot: QtBot, qsettings: QSettings, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    account = Account(sandbox.base_url(), "not-the-key")
    settings = AppSettings(base_url=sandbox.base_url())
    host = make_host(account, settings)
    window = MainWindow(account, settings, host, qsettings)
    qtbot.addWidget(window)
    host.start()
    window.show()
    try:
        with ApiClient(sandbox.base_url(), TEST_API_KEY) as client:
            index_id = client.list_indexes().items[0].id
        host.engine.add_findings(_checked(video("a.mp4")), index_id)
        host.wake()
        qtbot.waitUntil(lambda: _jobs_in(window) == [JobState.NEEDS_ATTENTION], timeout=30_000)
        _select_only(window)
        panel = window.task_panel
        assert panel.fix_action.text() == "Enter a new key…"
        assert panel.fix_button.isVisible()

        seen: list[bool] = []

        def look_and_close() -> None:
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, SettingsDialog)
            seen.append(dialog.key_edit.hasFocus())
            dialog.reject()

        QTimer.singleShot(300, look_and_close)
        panel.fix_button.click()
        assert seen == [True]
    finally:
        host.shutdown(keep=True)


def test_the_uploads_list_gets_a_fair_share_at_first(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer
) -> None:
    """No remembered sizes: the list shows about eight rows under the Files tab, not four."""
    window = make_window(sandbox)
    tabs, uploads = window.splitter.sizes()
    assert abs(tabs - uploads) <= 0.1 * (tabs + uploads)
    table = window.task_panel.table
    assert table.viewport().height() >= 7 * table.verticalHeader().defaultSectionSize()


def test_sent_again_to_the_gone_index_the_row_is_kept(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    """Sent before the index list was read again, to the same gone index: the engine hands
    back the old job itself, which must stay on the list (it is the only one)."""
    window = make_window(sandbox)
    clip = video("a.mp4")
    findings = _checked(clip)
    window.host.engine.add_findings(findings, MISSING_INDEX)
    window.host.wake()
    panel = window.task_panel
    qtbot.waitUntil(lambda: _jobs_in(window) == [JobState.NEEDS_ATTENTION], timeout=30_000)
    _select_only(window)
    panel.fix_action.trigger()
    old = window.host.engine.jobs()
    again = window.host.engine.add_findings(findings, MISSING_INDEX)
    assert [j.id for j in again] == [j.id for j in old]
    index = window.picker.current
    assert index is not None
    window._on_queued_files(findings, again, index)
    qtbot.wait(500)  # a removal would run in the background and land by now
    assert [j.id for j in window.host.engine.jobs()] == [j.id for j in old]
    assert panel.model.rowCount() == 1


def test_rows_taken_off_the_list_leave_the_totals_at_once(
    qtbot: QtBot, make_window: MakeWindow, sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    """Rows removed from the list (by the person, or by the engine's ``JobsRemoved``) must
    leave the status bar's counts at once, not at the next change of another job."""
    window = make_window(sandbox)
    engine = window.host.engine
    picked = window.picker.current
    assert picked is not None
    index = picked.id
    missing = [video("gone.mp4").parent / f"gone-{n}.mp4" for n in range(3)]
    # Files that cannot be read when queued: failed jobs that never start an upload.
    engine.add_findings([Finding(p, Verdict.OK, None, "Ready to upload.") for p in missing], index)
    qtbot.waitUntil(lambda: window.totals_label.text() == "3 failed", timeout=5_000)
    # Removed by the person: the list's Remove.
    window.task_panel.table.selectRow(0)
    window.task_panel.remove_action.trigger()
    qtbot.waitUntil(lambda: window.task_panel.model.rowCount() == 2, timeout=5_000)
    qtbot.waitUntil(lambda: window.totals_label.text() == "2 failed", timeout=3_000)
    # Removed by the engine: a failed file put back as a copy of a job of the index.
    sent = video("sent.mp4")
    [done] = engine.add_findings(_checked(sent), index)
    qtbot.waitUntil(lambda: engine.job(done.id).state is JobState.READY, timeout=30_000)
    qtbot.waitUntil(lambda: window.totals_label.text() == "2 failed", timeout=3_000)
    missing[2].write_bytes(sent.read_bytes())
    engine.add_findings(_checked(missing[2]), index)
    qtbot.waitUntil(lambda: window.task_panel.model.rowCount() == 2, timeout=5_000)
    qtbot.waitUntil(lambda: window.totals_label.text() == "1 failed", timeout=3_000)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_uploads_list_never_scrolls_sideways_at_the_default_size(
    qtbot: QtBot,
    make_window: MakeWindow,
    sandbox: SandboxServer,
    qsettings: QSettings,
    *,
    dark: bool,
) -> None:
    """Empty, then full enough for a vertical scroll bar: every column in view; a column the
    person widens is still theirs, and kept for the next start."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, style = QPalette(app.palette()), app.style().name()
    try:
        if dark:
            apply_theme(app, "dark")
        window = make_window(sandbox)
        table = window.task_panel.table
        header = table.horizontalHeader()
        assert window.size() == QSize(1100, 760)  # the default size, nothing remembered
        assert not table.horizontalScrollBar().isVisible()
        assert header.length() <= table.viewport().width()

        window.task_panel.model.apply_events(
            [
                JobChanged(make_job(n, JobState.FAILED, error_message="x" * 200))
                for n in range(1, 60)
            ]
        )
        qtbot.waitUntil(table.verticalScrollBar().isVisible)
        assert not table.horizontalScrollBar().isVisible()
        assert header.length() <= table.viewport().width()

        header.resizeSection(Column.NAME, 300)
        window.save_state()
        again = make_window(sandbox)
        assert again.task_panel.table.horizontalHeader().sectionSize(Column.NAME) == 300
    finally:
        app.setStyle(style)
        app.setPalette(palette)


def test_after_a_full_disk_try_again_resumes_only_what_the_disk_stopped(
    qtbot: QtBot,
    make_window: MakeWindow,
    sandbox: SandboxServer,
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store refusing a write as a full disk does (the real one: tests/reliability/
    test_faults_local.py): the banner says what to do and its "Try again" restarts the held
    upload, not the one the person paused."""
    window = make_window(sandbox)
    engine = window.host.engine
    index = window.picker.current
    assert index is not None
    full = True
    claim = engine.store.claim

    def claim_unless_full(*args: Any, **fields: Any) -> Job | None:
        if full:
            raise StoreWriteError("jobs.sqlite3 could not be written: database or disk is full")
        return claim(*args, **fields)

    monkeypatch.setattr(engine.store, "claim", claim_unless_full)
    seen: list[object] = []
    window.host.event.connect(seen.append)
    [held] = engine.add_findings(_checked(video("held.mp4")), index.id)
    [paused] = engine.add_findings(_checked(video("paused.mp4", duration=6.0)), index.id)
    engine.pause([paused.id])
    window.host.wake()
    qtbot.waitUntil(window.banner.isVisible, timeout=15_000)
    assert window.banner_label.text() == (
        "Job list not saved. The app could not save its list of uploads: the disk may be "
        "full. Free some disk space, then press Try again."
    )
    assert window.store_retry_button.isVisible() and not window.banner_button.isVisible()

    # Still full: the uploads stop again, and the banner comes back.
    seen.clear()
    window.store_retry_button.click()
    qtbot.waitUntil(
        lambda: (
            any(isinstance(e, BatchProblemCleared) for e in seen)
            and isinstance(seen[-1], BatchProblem)
        ),
        timeout=15_000,
    )
    qtbot.waitUntil(window.banner.isVisible, timeout=15_000)
    assert engine.store.get(held.id).state is JobState.QUEUED

    full = False
    window.store_retry_button.click()
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15_000)
    qtbot.waitUntil(lambda: engine.store.get(held.id).state is JobState.READY, timeout=60_000)
    assert engine.store.get(paused.id).state is JobState.PAUSED
    # Another problem's banner never offers it.
    window.host.event.emit(BatchProblem("no_network", "No network", "Offline.", ""))
    assert not window.store_retry_button.isVisible()


def test_saving_settings_during_a_full_disk_keeps_its_banner_and_try_again(
    qtbot: QtBot,
    make_window: MakeWindow,
    sandbox: SandboxServer,
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine does not raise a problem it still has again: hidden by a settings change,
    the full disk's banner (and its only button that restarts the uploads) would be gone
    while the uploads stay stopped."""
    window = make_window(sandbox)
    engine = window.host.engine
    index = window.picker.current
    assert index is not None

    def full(*_args: Any, **_fields: Any) -> Job | None:
        raise StoreWriteError("jobs.sqlite3 could not be written: database or disk is full")

    monkeypatch.setattr(engine.store, "claim", full)
    engine.add_findings(_checked(video("held.mp4")), index.id)
    window.host.wake()
    qtbot.waitUntil(window.banner.isVisible, timeout=15_000)
    said = window.banner_label.text()

    window._apply_settings(Saved(replace(window.settings, concurrent_uploads=2)))
    assert engine.problem is not None
    assert window.banner.isVisible() and window.banner_label.text() == said
    assert window.store_retry_button.isVisible()


@pytest.mark.parametrize("fills", ["at the claim", "midway"])
def test_after_a_full_disk_try_again_resumes_an_upload_the_disk_stopped(
    qtbot: QtBot,
    make_window: MakeWindow,
    sandbox: SandboxServer,
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    *,
    fills: str,
) -> None:
    """The job claimed, then its attempt (at the claim) or its progress and its lease's
    release (midway) refused, as on a disk that fills meanwhile: Try again lets go of the
    lease the disk kept, so the upload starts again at once, not when the lease runs out (a
    long one here)."""
    monkeypatch.setattr("uploader_app.jobs.engine.LEASE", 600.0)
    window = make_window(sandbox)
    engine = window.host.engine
    store = engine.store
    index = window.picker.current
    assert index is not None
    full = armed = False
    update, release = store.update, store.release
    released: list[int] = []

    def update_unless_full(*args: Any, **fields: Any) -> Job | None:
        nonlocal full
        if armed and (fills == "at the claim" or "attempts" not in fields):
            full = True
        if full:
            raise StoreWriteError("jobs.sqlite3 could not be written: database or disk is full")
        return update(*args, **fields)

    def release_unless_full(job_id: int, worker: str) -> None:
        released.append(job_id)
        if full:
            raise StoreWriteError("jobs.sqlite3 could not be written: database or disk is full")
        release(job_id, worker)

    monkeypatch.setattr(store, "update", update_unless_full)
    monkeypatch.setattr(store, "release", release_unless_full)
    [held] = engine.add_findings(_checked(video("held.mp4")), index.id)
    armed = True
    window.host.wake()
    if fills == "midway":
        qtbot.waitUntil(lambda: held.id in released, timeout=15_000)
    qtbot.waitUntil(window.banner.isVisible, timeout=15_000)
    assert window.store_retry_button.isVisible()
    assert store.internals(held.id).lease_owner is not None  # the disk kept its lease
    assert store.get(held.id).state is JobState.UPLOADING

    full = armed = False  # space freed
    window.store_retry_button.click()
    qtbot.waitUntil(lambda: store.get(held.id).state is JobState.READY, timeout=60_000)
    assert not window.banner.isVisible()
