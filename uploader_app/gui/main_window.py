"""The main window: where videos go (top), what to send (Files and URL tabs), the uploads
(task list) and, at the bottom, whether it is working and how long it will take.

The window is a view over the engine: it queues checked files and addresses with the engine in
a worker, and follows the engine's events (docs/ux.md, "The main window, top to bottom").
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QFontMetricsF, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from uploader_app import __version__
from uploader_app.gui.account import Account
from uploader_app.gui.background import Stream
from uploader_app.gui.files_tab import FilesTab
from uploader_app.gui.index_picker import IndexPicker
from uploader_app.gui.job_text import (
    INDEX_MISSING,
    KEY_PROBLEMS,
    STORE_RETRY_HINT,
    STORE_UNWRITABLE,
    format_eta,
    format_speed,
    short_size,
)
from uploader_app.gui.task_panel import TaskPanel
from uploader_app.gui.text import problem_text
from uploader_app.gui.workers import EngineHost
from uploader_app.jobs.events import BatchProblem, BatchProblemCleared, JobChanged, JobNotice
from uploader_app.models import Finding, Index, Job, JobState, SourceKind, Target
from uploader_app.settings import AppSettings
from uploader_app.validation.messages import count

# The engine, the API client, the settings dialog and the manifest sender load after the
# first frame, where they are first used (docs/gui.md, "Start-up").
if TYPE_CHECKING:
    from uploader_app.api.client import ApiClient
    from uploader_app.gui.manifest_tab import ManifestTab
    from uploader_app.gui.settings_dialog import Saved
    from uploader_app.gui.tray import Tray
    from uploader_app.gui.url_tab import UrlTab
    from uploader_app.jobs.engine import Engine, Totals
    from uploader_app.jobs.transfer import SendReport

logger = logging.getLogger(__name__)

GEOMETRY_KEY = "window/geometry"
SPLITTER_KEY = "window/splitter"
TAB_KEY = "window/tab"
COLUMNS_KEY = "window/task_columns"
TOTALS_INTERVAL_MS = 1000  # the status bar's figures: once a second is plenty for a person
# A job in these states has not put (and will not put) its file in the index.
UNSENT_STATES = frozenset({JobState.REJECTED, JobState.CANCELLED})
# The smallest sizes of the URL and Manifest tabs (their button rows, their stacked parts):
# their pages hold them from the start, so the window and the splitter keep the limits the
# tabs bring when built on first show, and showing one moves nothing (docs/gui.md,
# "Start-up"). Each is pixels (the style's margins and frames, which do not grow with the
# font) plus the font's average character widths or line heights: in font units alone, a
# larger font reserved far more than the tabs need (114 px more height at 14 pt, 243 px at
# 20 pt: a taller window than a small screen holds). A test measures them on the built tabs.
Minimum = tuple[tuple[float, float], tuple[float, float]]
URL_TAB_MINIMUM: Minimum = ((54.5, 32.59), (201.0, 3.023))
MANIFEST_TAB_MINIMUM: Minimum = ((222.0, 57.6), (137.5, 4.122))


class MainWindow(QMainWindow):
    """``account_changed(Account)``: the user entered a key in demo mode, or changed it; the
    app opens a window for that account."""

    account_changed = Signal(object)

    def __init__(
        self,
        account: Account,
        settings: AppSettings,
        host: EngineHost,
        state: QSettings,
        parent: QWidget | None = None,
        *,
        log_file: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.account = account
        self.settings = settings
        self.host = host
        self._state = state
        # Rows whose index is gone, by what they send, while their videos wait in a tab to
        # be sent to another index (_send_elsewhere).
        self._replacing: dict[tuple[SourceKind, str], int] = {}
        self._totals_dirty = True
        self._totals_running = False
        self._cannot_send: str | None = None  # why nothing can be sent (stop_sending)
        self._connection = "Connecting…"
        self._url_tab: UrlTab | None = None
        self._manifest_tab: ManifestTab | None = None
        # What the tabs not yet built are given when they are (_on_index_changed, listed).
        self._index: tuple[str | None, Target | None] | None = None  # id, what it takes
        self._account_indexes: list[str] | None = None
        self.setWindowTitle("Video Indexing Uploader" + (" (demo)" if account.demo else ""))
        self.setAccessibleName("Video Indexing Uploader")
        self._build()
        self._build_menu()
        self._restore()
        host.event.connect(self._on_event)
        # Rows the list dropped (Remove, or the engine's JobsRemoved) change the counts with
        # no job event after them: the totals must not wait for another job to move.
        self.task_panel.model.counts_changed.connect(self._on_counts_changed)
        # Earlier runs' jobs too, so a file sent last week is known to be in its index.
        host.run_in_background(host.jobs, self._note_jobs, self._on_totals_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(TOTALS_INTERVAL_MS)
        self._timer.timeout.connect(self._update_totals)
        self._timer.start()
        self.tray: Tray | None = None  # after the first frame: show_tray()
        if account.key_note:
            self.statusBar().showMessage(account.key_note, 15_000)

    # ---- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 0)

        # Parented at once: shown without a parent it would open as a window of its own for a
        # moment (and cost 40 ms of start-up) until the layout adopts it.
        self.demo_strip = QFrame(central)
        self.demo_strip.setObjectName("demoStrip")
        self.demo_strip.setAccessibleName("Demo mode")
        self.demo_strip.setStyleSheet(
            "#demoStrip { background: #f6d860; border-radius: 4px; }"
            " #demoStrip QLabel { color: #2b2b2b; }"
        )
        demo_label = QLabel("Demo mode: nothing leaves this computer.")
        self.use_account_button = QPushButton("Use my account")
        self.use_account_button.setAccessibleName("Use my account")
        self.use_account_button.setToolTip("Enter your Twelve Labs API key to send real videos")
        self.use_account_button.clicked.connect(lambda: self.open_settings(focus_key=True))
        strip = QHBoxLayout(self.demo_strip)
        strip.setContentsMargins(10, 4, 10, 4)
        strip.addWidget(demo_label, 1)
        strip.addWidget(self.use_account_button)
        self.demo_strip.setVisible(self.account.demo)

        self.banner = QFrame()
        self.banner.setObjectName("problemBanner")
        self.banner.setAccessibleName("Problem that stops the uploads")
        self.banner.setStyleSheet(
            "#problemBanner { background: #c0392b; border-radius: 4px; }"
            " #problemBanner QLabel { color: white; }"
        )
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_button = QPushButton("Open settings")
        self.banner_button.setAccessibleName("Fix it in settings")
        self.banner_button.clicked.connect(lambda: self.open_settings(focus_key=True))
        # A full disk: once space is freed, this lifts that stop alone (docs/gui.md).
        self.store_retry_button = QPushButton("Try again")
        self.store_retry_button.setAccessibleName("Try the uploads again once disk space is freed")
        self.store_retry_button.clicked.connect(self._try_store_again)
        # The fix for a job list that cannot be used at start (stop_sending).
        self._stop_fix: tuple[str, Callable[[], None]] | None = None
        self.stop_fix_button = QPushButton()
        self.stop_fix_button.setAccessibleName("Fix what keeps the list of uploads from opening")
        self.stop_fix_button.hide()
        self.stop_fix_button.clicked.connect(self._on_stop_fix)
        # The code and the log file, for the person who will help; hidden until asked for.
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Show details for the person helping you")
        self.details_label = QLabel()
        self.details_label.setAccessibleName("Details")
        self.details_label.setWordWrap(True)
        self.details_label.setTextFormat(Qt.TextFormat.PlainText)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label.hide()
        self.details_button.toggled.connect(self.details_label.setVisible)
        words = QVBoxLayout()
        words.addWidget(self.banner_label)
        words.addWidget(self.details_label)
        banner = QHBoxLayout(self.banner)
        banner.setContentsMargins(10, 6, 10, 6)
        banner.addLayout(words, 1)
        banner.addWidget(self.details_button)
        banner.addWidget(self.store_retry_button)
        banner.addWidget(self.stop_fix_button)
        banner.addWidget(self.banner_button)
        self.banner.hide()

        self.picker = IndexPicker(self._client_factory(), self._state)
        self.picker.index_changed.connect(self._on_index_changed)
        self.picker.listing_failed.connect(lambda _words: self._show_connection("Not connected"))

        self.files_tab = FilesTab(self._state)
        self.files_tab.upload_requested.connect(self._queue_findings)
        self.picker.listed.connect(self._on_listed)
        # The URL and Manifest tabs are built into their pages when first shown or used, so
        # the first frame loads neither them nor the checks behind them (docs/gui.md,
        # "Start-up").
        self._url_page = _page("urlPage", URL_TAB_MINIMUM)
        self._manifest_page = _page("manifestPage", MANIFEST_TAB_MINIMUM)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("sourceTabs")
        self.tabs.setAccessibleName("What to send")
        self.tabs.addTab(self.files_tab, "&Files")
        self.tabs.addTab(self._url_page, "&URL")
        self.tabs.addTab(self._manifest_page, "&Manifest")
        self.tabs.currentChanged.connect(self._fill_page)
        self.tabs.setTabToolTip(0, "Videos on this computer")
        self.tabs.setTabToolTip(1, "Web addresses of videos the service can download")
        self.tabs.setTabToolTip(2, "A list of videos already stored in Amazon S3")

        self.task_panel = TaskPanel(self.host)
        self.task_panel.files_dropped.connect(self._on_dropped_on_list)
        self.task_panel.key_fix_requested.connect(lambda: self.open_settings(focus_key=True))
        self.task_panel.index_fix_requested.connect(self._send_elsewhere)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.task_panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        layout.addWidget(self.demo_strip)
        layout.addWidget(self.banner)
        layout.addWidget(self.picker)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.connection_label = QLabel()
        self.connection_label.setAccessibleName("Connection")
        self.totals_label = QLabel()
        self.totals_label.setAccessibleName("Upload totals")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Overall progress")
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        status = self.statusBar()
        status.addWidget(self.connection_label)
        status.addWidget(self.totals_label, 1)
        status.addPermanentWidget(self.progress)
        self._show_connection("Connecting…")
        self.setTabOrder(self.picker.combo, self.tabs)
        self.resize(1100, 760)

    def _build_menu(self) -> None:
        self.file_menu = file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.files_tab.add_files_action)
        file_menu.addAction(self.files_tab.add_folder_action)
        self.files_tab.add_files_action.triggered.connect(self._show_files_tab)
        self.files_tab.add_folder_action.triggered.connect(self._show_files_tab)
        paste = QAction("&Paste addresses", self)
        paste.triggered.connect(self._paste_addresses)
        file_menu.addAction(paste)
        file_menu.addSeparator()
        refresh = QAction("&Refresh indexes", self)
        refresh.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        refresh.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # F5 is the picker's
        refresh.triggered.connect(self.picker.refresh)
        file_menu.addAction(refresh)
        new_index = QAction("&New index…", self)
        new_index.triggered.connect(self.picker.create_index)
        file_menu.addAction(new_index)
        file_menu.addSeparator()
        self.settings_action = QAction("&Settings…", self)
        # The platform's own keys where it has some (Cmd+, on macOS); X11 and Windows have
        # none, so Ctrl+, as most apps use there.
        preferences = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
        self.settings_action.setShortcuts(preferences or [QKeySequence("Ctrl+,")])
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        # A lambda: triggered passes "checked", which is not a settings argument.
        self.settings_action.triggered.connect(lambda: self.open_settings())  # noqa: PLW0108
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # ---- state ---------------------------------------------------------------------------

    def _restore(self) -> None:
        # The tab first: a tab built when first shown brings its minimum size, which the
        # splitter's sizes must already include.
        tab = str(self._state.value(TAB_KEY, 0))
        self.tabs.setCurrentIndex(int(tab) if tab.isdigit() else 0)
        geometry = self._state.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = self._state.value(SPLITTER_KEY)
        if not (isinstance(splitter, QByteArray) and self.splitter.restoreState(splitter)):
            # Half each at first (scaled to the window, minimums permitting): left to the size
            # hints, the tabs took two thirds and the uploads list showed about four rows.
            self.splitter.setSizes([500, 500])
        columns = self._state.value(COLUMNS_KEY)
        table = self.task_panel.table
        if isinstance(columns, QByteArray) and table.horizontalHeader().restoreState(columns):
            table.columns_fitted = True  # the person's own widths, never fitted over

    def save_state(self) -> None:
        self._state.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._state.setValue(SPLITTER_KEY, self.splitter.saveState())
        self._state.setValue(COLUMNS_KEY, self.task_panel.table.horizontalHeader().saveState())
        self._state.setValue(TAB_KEY, self.tabs.currentIndex())
        self._state.sync()

    def show_tray(self) -> None:
        """The tray icon, with progress and notifications; once the window is on screen (a
        tray icon is a round trip to the desktop's panel, docs/gui.md "Start-up")."""
        from uploader_app.gui.tray import Tray  # noqa: PLC0415 - see the docstring

        if self.tray is None:
            self.tray = Tray(self.host, self.task_panel.model, self)
            self.tray.set_notifications(self.settings.notifications)

    # ---- the tabs built when first needed -----------------------------------------------

    @property
    def url_tab(self) -> UrlTab:
        if self._url_tab is None:
            from uploader_app.gui.url_tab import UrlTab  # noqa: PLC0415 - see _build

            tab = self._url_tab = UrlTab()
            tab.upload_requested.connect(self._queue_urls)
            self._fill(self._url_page, tab)
            if self._index is not None:
                tab.set_index(*self._index, self.account.base_url)
        return self._url_tab

    @property
    def manifest_tab(self) -> ManifestTab:
        if self._manifest_tab is None:
            from uploader_app.gui.manifest_tab import ManifestTab  # noqa: PLC0415 - see _build

            tab = self._manifest_tab = ManifestTab(self._state)
            tab.send_requested.connect(self._send_manifest)
            self._fill(self._manifest_page, tab)
            if self._account_indexes is not None:
                tab.set_account_indexes(self._account_indexes)
            if self._index is not None:
                tab.set_index(self._index[0])
        return self._manifest_tab

    def show_tab(self, tab: QWidget) -> None:
        """Bring ``tab`` (``files_tab``, ``url_tab`` or ``manifest_tab``) to the front."""
        pages = {id(self._url_tab): self._url_page, id(self._manifest_tab): self._manifest_page}
        self.tabs.setCurrentWidget(pages.get(id(tab), tab))

    def held_sources(self) -> tuple[list[Path], list[str]]:
        """The files and web addresses the tabs hold; a URL tab never built holds none."""
        urls = [row.url for row in self._url_tab.model.rows] if self._url_tab else []
        return [row.path for row in self.files_tab.model.rows], urls

    def shown_tab(self) -> QWidget | None:
        """The tab in front: ``files_tab``, ``url_tab`` or ``manifest_tab``."""
        page = self.tabs.currentWidget()
        tabs = {id(self._url_page): self._url_tab, id(self._manifest_page): self._manifest_tab}
        return tabs.get(id(page), page)

    def _fill(self, page: QWidget, tab: QWidget) -> None:
        layout = page.layout()
        assert layout is not None
        layout.addWidget(tab)
        # The page's own minimum wins over its layout's: never below what the tab needs (a
        # font or style other than the one the reservation was measured with).
        page.setMinimumSize(page.minimumSize().expandedTo(tab.minimumSizeHint()))
        page.setFocusProxy(tab)  # keyboard focus given to the page goes into the tab

    @Slot(int)
    def _fill_page(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is self._url_page:
            self.url_tab  # noqa: B018 - built on first use
        elif page is self._manifest_page:
            self.manifest_tab  # noqa: B018

    @Slot(list)
    def _on_listed(self, ids: list[str]) -> None:
        self._account_indexes = ids
        if self._manifest_tab is not None:
            self._manifest_tab.set_account_indexes(ids)

    def _client_factory(self) -> Callable[[], ApiClient]:
        account = self.account

        def client() -> ApiClient:
            from uploader_app.api.client import ApiClient  # noqa: PLC0415 - see the imports
            from uploader_app.api.retry import RetryPolicy  # noqa: PLC0415

            # Someone is waiting on these reads (index list, new index): retry briefly, then
            # say so.
            return ApiClient(account.base_url, account.key, retry=RetryPolicy.interactive())

        return client

    # ---- what the user does --------------------------------------------------------------

    def add_paths(self, paths: Sequence[Path]) -> None:
        """Files and folders from the command line or the app's icon: into the Files tab."""
        self._show_files_tab()
        self.files_tab.add_paths(paths, focus_upload=True)

    def add_urls(self, urls: Sequence[str]) -> None:
        """Web addresses from the command line: checked in the URL tab, as if pasted. Files
        handed over with them take the Files tab after this (the line below says where the
        addresses went)."""
        self.show_tab(self.url_tab)
        self.url_tab.add_urls(urls)
        self.statusBar().showMessage(
            f"{count(len(urls), 'web address', 'web addresses')} added to the URL tab.", 15_000
        )

    @Slot()
    def _show_files_tab(self) -> None:
        self.tabs.setCurrentWidget(self.files_tab)

    @Slot()
    def _paste_addresses(self) -> None:
        self.show_tab(self.url_tab)
        self.url_tab.paste()

    @Slot(list)
    def _on_dropped_on_list(self, paths: list[Path]) -> None:
        self.add_paths(paths)

    @Slot(list)
    def _send_elsewhere(self, jobs: list[Job]) -> None:
        """Videos whose index is gone go back to their tab, to be checked for the index chosen
        now (the deleted one leaves the list when it is listed again). Their old rows leave
        the uploads list once they are sent again (:meth:`_replaced`), not before."""
        for job in jobs:
            self._replacing[_source_key(job.source_kind, job.source)] = job.id
        urls = [j.source for j in jobs if j.source_kind is SourceKind.URL]
        paths = [Path(j.source) for j in jobs if j.source_kind is SourceKind.FILE]
        if urls:
            self.show_tab(self.url_tab)
            self.url_tab.add_urls(urls)
        if paths:
            self._show_files_tab()
            self.files_tab.add_paths(paths)
        self.picker.refresh()
        self.picker.combo.setFocus(Qt.FocusReason.OtherFocusReason)
        self.statusBar().showMessage("Choose the index to send them to, at the top.", 15_000)

    def open_settings(self, *, focus_key: bool = False) -> None:
        from uploader_app.gui.settings_dialog import SettingsDialog  # noqa: PLC0415

        dialog = SettingsDialog(self.settings, focus_key=focus_key, parent=self)
        if dialog.exec() and dialog.saved is not None:
            self._apply_settings(dialog.saved)

    def _apply_settings(self, saved: Saved) -> None:
        before = self.settings
        self.settings = saved.settings
        # A settings file's problem goes; the engine's stays in view, since the engine does
        # not raise a problem it still has again (a full disk's Try again would be lost).
        problem = self.host.engine.problem
        if problem is None:
            self._hide_banner()
        else:
            self._on_event(problem)
        # The engine reads its speed limit and polling budget at each use: they apply at once.
        self.host.engine.settings = saved.settings
        self.host.set_concurrency(saved.settings.concurrent_uploads)
        if self.tray is not None:
            self.tray.set_notifications(saved.settings.notifications)
        if saved.key or (not self.account.demo and saved.settings.base_url != before.base_url):
            # The key as given, not Account.key: a keychain read still running would stop the
            # GUI thread until it ends; the new window waits for it instead.
            key = saved.key or self.account.given_key
            self.account_changed.emit(Account(saved.settings.base_url, key, False, saved.key_note))

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - loads when opened

        QMessageBox.about(
            self,
            "About Video Indexing Uploader",
            f"Video Indexing Uploader {__version__}\n\nChecks videos on this computer and "
            "sends them to your Twelve Labs index.",
        )

    # ---- queueing ------------------------------------------------------------------------

    @Slot(list)
    def _queue_findings(self, findings: list[Finding]) -> None:
        index = self.picker.current
        if index is None:
            return
        engine = self.host.engine
        self.files_tab.set_sending(True)
        self.host.run_in_background(
            lambda: _looked_at(engine, index.id, engine.add_findings(findings, index.id)),
            lambda jobs: self._on_queued_files(findings, jobs, index),
            self._on_queue_failed,
        )

    def _on_queued_files(self, findings: list[Finding], jobs: list[Job], index: Index) -> None:
        self.files_tab.set_sending(False)
        self.files_tab.mark_queued([f.path for f in findings])
        self._replaced((_source_key(SourceKind.FILE, str(f.path)) for f in findings), jobs)
        self.host.wake()
        added = count(len(jobs), "video")
        self.statusBar().showMessage(f"{added} added to the uploads into {index.name}.", 8000)

    @Slot(list)
    def _queue_urls(self, urls: list[str]) -> None:
        index = self.picker.current
        if index is None:
            return
        engine, target = self.host.engine, self.url_tab.target
        self.url_tab.set_sending(True)
        self.host.run_in_background(
            lambda: _looked_at(engine, index.id, engine.add_urls(urls, index.id, target=target)),
            lambda jobs: self._on_queued_urls(urls, jobs, index),
            self._on_queue_failed,
        )

    def _on_queued_urls(self, urls: list[str], jobs: list[Job], index: Index) -> None:
        self.url_tab.set_sending(False)
        self.url_tab.mark_queued(urls)
        self._replaced((_source_key(SourceKind.URL, url) for url in urls), jobs)
        self.host.wake()
        added = count(len(jobs), "video")
        self.statusBar().showMessage(f"{added} added to the uploads into {index.name}.", 8000)

    def _replaced(self, sources: Iterable[tuple[SourceKind, str]], queued: list[Job]) -> None:
        """Rows whose index was gone leave the list now that their videos went elsewhere;
        not one the engine handed back as ``queued`` (sent to the same index again)."""
        kept = {job.id for job in queued}
        gone = [self._replacing.pop(key) for key in sources if key in self._replacing]
        ids = [i for i in gone if i not in kept]
        if ids:
            self.task_panel.forget(ids)

    def _on_queue_failed(self, error: BaseException) -> None:
        self.files_tab.set_sending(False)
        if self._url_tab is not None:
            self._url_tab.set_sending(False)
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - loads when opened

        QMessageBox.warning(
            self, "Not added", f"The videos were not added to the uploads. {problem_text(error)}"
        )

    @Slot(list)
    def _send_manifest(self, rows: list[dict[str, str]]) -> None:
        """A checked manifest's rows become jobs (docs/manifests.md, "Sending"); on v1.2 the
        transfer and the matching of its tasks run in the background."""
        from uploader_app.jobs.transfer import send_manifest  # noqa: PLC0415 - see the imports

        make_client, store = self._client_factory(), self.host.engine.store
        profile = self.manifest_tab.aws_profile

        def send(cancel: threading.Event) -> Iterator[SendReport]:
            # Cancellable: the v1.2 matching waits up to minutes, and quitting must stop it
            # (background.cancel_all) rather than leave a thread running past the window.
            with make_client() as client:
                yield send_manifest(client, store, rows, profile=profile, cancel=cancel)

        self.manifest_tab.set_sending(True)
        stream = Stream(send, self)
        stream.batch.connect(lambda reports: self._on_manifest_sent(reports[0]))
        stream.failed.connect(self._on_manifest_failed)
        stream.start()

    def _on_manifest_sent(self, report: SendReport) -> None:
        self.manifest_tab.set_sending(False)
        for job in report.jobs:
            self.task_panel.model.apply_event(JobChanged(job))
        self.host.wake()
        words = [f"{count(len(report.sent), 'video')} sent from the list."]
        if report.already:
            words.append(f"{count(len(report.already), 'video')} already in the index.")
        self.statusBar().showMessage(" ".join([*words, *report.notes]), 15_000)

    def _on_manifest_failed(self, error: BaseException) -> None:
        from uploader_app.api.errors import CancelledError  # noqa: PLC0415 - see the imports

        self.manifest_tab.set_sending(False)
        if isinstance(error, CancelledError):
            # The window is closing: a modal box now would hold the quit up, and the rows
            # simply wait for the next send of the list.
            return
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - loads when opened

        QMessageBox.warning(self, "Not sent", f"The list was not sent. {problem_text(error)}")

    # ---- what the engine and the picker say ----------------------------------------------

    @Slot(object, str)
    def _on_index_changed(self, index: Index | None, api_version: str) -> None:
        target = self.picker.target()
        index_id = index.id if index else None
        # Every index by name, not only the chosen one: earlier jobs went to others too, and
        # the list must never show a bare id (docs/ux.md, "Never show").
        self.task_panel.model.add_index_names({i.id: i.name for i in self.picker.indexes})
        self.files_tab.set_index(index_id, target, api_version, self.picker.limits_text())
        self._index = index_id, target
        if self._url_tab is not None:
            self._url_tab.set_index(index_id, target, self.account.base_url)
        if self._manifest_tab is not None:
            self._manifest_tab.set_index(index_id)
        self._show_connection("Demo (on this computer)" if self.account.demo else "Connected")

    def _note_jobs(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._note_job(job)

    def _note_job(self, job: Job) -> None:
        if job.source_kind is SourceKind.FILE and job.state not in UNSENT_STATES:
            self.files_tab.note_sent(job.index_id, job.source)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, JobChanged):
            self._totals_dirty = True
            self._note_job(event.job)
            if event.job.error_code == INDEX_MISSING:
                self.picker.forget(event.job.index_id)  # "Send to" must not name it any more
        elif isinstance(event, BatchProblem):
            if event.code == INDEX_MISSING:
                self.picker.refresh()
            full_disk = event.code == STORE_UNWRITABLE
            # The command line's hint says to start the uploads again; here a button does it.
            hint = STORE_RETRY_HINT if full_disk else event.hint
            self.show_banner(
                f"{event.title}. {event.message}{f' {hint}' if hint else ''}",
                event.code in KEY_PROBLEMS,
                details=f"Problem code: {event.code}.",
            )
            self.store_retry_button.setVisible(full_disk)
            self._show_connection(event.title)
        elif isinstance(event, BatchProblemCleared):
            self._hide_banner()
            self._show_connection("Demo (on this computer)" if self.account.demo else "Connected")
        elif isinstance(event, JobNotice) and event.job_id is None:
            self.statusBar().showMessage(event.message, 10_000)
        else:
            self._totals_dirty = True

    def show_banner(self, words: str, offer_settings: bool, details: str = "") -> None:
        """Across the window: what stops the uploads, or a settings file that was ignored.
        ``details`` (a code) sits behind the Details button with the log file's place."""
        if self._cannot_send is not None and words != self._cannot_send:
            # The job list's problem stays in view, with its button: the tabs are off for it.
            words = f"{words}\n{self._cannot_send}"
        self.banner_label.setText(words)
        self.banner_button.setVisible(offer_settings)
        self.store_retry_button.hide()
        log = f"The log file {self.log_file} has the full story." if self.log_file else ""
        self.details_label.setText(" ".join(part for part in (details, log) if part))
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(self.details_label.text()))
        self.banner.show()

    def stop_sending(self, words: str, fix: tuple[str, Callable[[], None]] | None = None) -> None:
        """The job list cannot be used: ``words`` stay in the banner, with ``fix`` (a button's
        words and what it does) beside them, and the tabs that send are off, so nothing is
        queued into a list that would not be kept (docs/gui.md)."""
        self._cannot_send = words
        self.tabs.setEnabled(False)
        self.show_banner(words, offer_settings=False)
        self._stop_fix = fix
        self.stop_fix_button.setVisible(fix is not None)
        if fix is not None:
            self.stop_fix_button.setText(fix[0])

    @Slot()
    def _on_stop_fix(self) -> None:
        if self._stop_fix is not None:
            self._stop_fix[1]()

    def _hide_banner(self) -> None:
        if self._cannot_send is None:
            self.banner.hide()
        else:
            self.show_banner(self._cannot_send, offer_settings=False)

    @Slot()
    def _try_store_again(self) -> None:
        """The engine lifts the full disk's stop (it raises it again if the disk is still
        full); the banner goes with its "cleared" event."""
        self.store_retry_button.setEnabled(False)
        engine = self.host.engine

        def done(_lifted: object) -> None:
            self.store_retry_button.setEnabled(True)
            self.host.wake()

        def failed(error: BaseException) -> None:
            self.store_retry_button.setEnabled(True)
            logger.warning("trying the job list again failed: %r", error)

        self.host.run_in_background(engine.try_store_again, done, failed)

    def _show_connection(self, words: str) -> None:
        self._connection = words
        good = words.startswith(("Connected", "Demo"))
        dot = "●" if good else "○"
        self.connection_label.setText(f"{dot} {words}")

    @Slot()
    def _on_counts_changed(self) -> None:
        self._totals_dirty = True

    @Slot()
    def _update_totals(self) -> None:
        if not self._totals_dirty or self._totals_running:
            return
        self._totals_dirty = False
        self._totals_running = True
        self.host.run_in_background(self.host.totals, self._show_totals, self._on_totals_failed)

    def _show_totals(self, totals: Totals) -> None:
        self._totals_running = False
        # Bytes of the running batch, not of every job ever listed: a failed or old job must
        # not park the bar short of the end or stretch the time left (docs/ux.md, "Time, not only
        # bytes").
        done, total = self.task_panel.model.batch_bytes()
        self.totals_label.setText(totals_text(totals, done, total))
        self.progress.setVisible(bool(total) and done < total)
        if total:
            self.progress.setValue(round(1000 * done / total))

    def _on_totals_failed(self, error: BaseException) -> None:
        self._totals_running = False
        logger.warning("reading the job list failed: %r", error)

    # ---- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        from uploader_app.gui.close_dialog import close_host  # noqa: PLC0415 - on close only

        if not close_host(self.host, self):
            event.ignore()
            return
        self.save_state()
        self.files_tab.shutdown()
        if self._url_tab is not None:
            self._url_tab.shutdown()
        self._timer.stop()
        if self.tray is not None:
            self.tray.icon.hide()
        event.accept()


def _page(name: str, minimum: Minimum) -> QWidget:
    """An empty page for a tab built later, holding ``minimum`` from the start: a width of
    pixels plus the font's average character widths, a height of pixels plus line heights."""
    page = QWidget()
    page.setObjectName(name)
    metrics = QFontMetricsF(page.font())
    (width, chars), (height, lines) = minimum
    page.setMinimumSize(
        math.ceil(width + chars * metrics.averageCharWidth()),
        math.ceil(height + lines * metrics.height()),
    )
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    return page


def _looked_at(engine: Engine, index_id: str, jobs: list[Job]) -> list[Job]:
    """``jobs`` just queued; while a problem stops every upload (a gone index, say), the key
    and the index they go to are checked again, which lifts the problem when both are fine.
    Without it, videos sent to another index would wait behind the gone one for good."""
    if engine.problem is not None:
        engine.preflight(index_id)
    return jobs


def _source_key(kind: SourceKind, source: str) -> tuple[SourceKind, str]:
    """A job's file or address as the tabs give it back (a file's path in one spelling)."""
    return kind, str(Path(source)) if kind is SourceKind.FILE else source


def totals_text(totals: Totals, batch_done: int = 0, batch_total: int = 0) -> str:
    """``4 uploading, 12 waiting · 1.8 of 6.2 GB · 12 MB/s · about 7 min left``; the bytes and
    the time left are those of the running batch (``batch_done`` of ``batch_total``)."""
    counts = totals.counts
    parts = []
    uploading = counts.get(JobState.UPLOADING, 0)
    waiting = counts.get(JobState.QUEUED, 0) + counts.get(JobState.CHECKING, 0)
    on_service = counts.get(JobState.ON_SERVICE, 0)
    if uploading:
        parts.append(f"{uploading:,} uploading")
    if waiting:
        parts.append(f"{waiting:,} waiting")
    if on_service:
        parts.append(f"{on_service:,} being indexed")
    # The same words as the list's filters, so "1 failed" is found under "Failed".
    needs = counts.get(JobState.NEEDS_ATTENTION, 0)
    if needs:
        parts.append(f"{needs:,} {'needs' if needs == 1 else 'need'} you")
    failed = counts.get(JobState.FAILED, 0)
    if failed:
        parts.append(f"{failed:,} failed")
    if not parts:
        ready = counts.get(JobState.READY, 0) + counts.get(JobState.ALREADY_IN_INDEX, 0)
        return f"All done · {count(ready, 'video')} ready" if ready else ""
    line = ", ".join(parts)
    if batch_total and batch_done < batch_total:
        line += f" · {short_size(batch_done)} of {short_size(batch_total)}"
        if uploading and totals.speed:
            line += f" · {format_speed(totals.speed)}"
            line += f" · {format_eta((batch_total - batch_done) / totals.speed)}"
    return line
