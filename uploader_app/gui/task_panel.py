"""The "Uploads" panel: filter bar, search, the live table and the actions on its rows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPoint,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QFocusEvent,
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from uploader_app.gui.job_text import Fix, fix_for, reason_words
from uploader_app.gui.task_model import (
    JOB_ROLE,
    Category,
    Column,
    TaskFilterProxy,
    TaskTableModel,
)
from uploader_app.gui.text import problem_text
from uploader_app.gui.workers import EngineHost
from uploader_app.jobs.events import EngineEvent, JobNotice
from uploader_app.models import Job, JobState, SourceKind
from uploader_app.validation.messages import count

logger = logging.getLogger(__name__)

_FILTER_WORDS = {
    Category.ALL: "All",
    Category.ACTIVE: "Active",
    Category.NEEDS_YOU: "Needs you",
    Category.FAILED: "Failed",
    Category.DONE: "Done",
}

# Which rows each action applies to; a button is enabled when one selected row qualifies.
# These follow what each engine control acts on (docs/engine.md).
_PAUSABLE = frozenset({JobState.QUEUED, JobState.UPLOADING})
_RESUMABLE = frozenset({JobState.PAUSED, JobState.NEEDS_ATTENTION})
_CANCELLABLE = frozenset(
    {
        JobState.QUEUED,
        JobState.CHECKING,
        JobState.UPLOADING,
        JobState.PAUSED,
        JobState.NEEDS_ATTENTION,
    }
)
_RETRYABLE = frozenset({JobState.FAILED, JobState.CANCELLED, JobState.NEEDS_ATTENTION})
_RESENDABLE = frozenset({JobState.ALREADY_IN_INDEX})
# A job whose bytes are moving or which the service is working on stays until it settles, so
# taking it off the list never loses track of a video being indexed.
_REMOVABLE = frozenset(JobState) - {JobState.CHECKING, JobState.UPLOADING, JobState.ON_SERVICE}

_VISUAL_ORDER = (
    Column.NAME,
    Column.STATE,
    Column.PROGRESS,
    Column.SPEED,
    Column.ETA,
    Column.REASON,
    Column.IDS,
    Column.INDEX,
)
# Each column's share of the list's width at first (no widths remembered): spread over the
# width the list has when first shown, so nothing scrolls sideways (docs/task-list.md, "Columns").
_WIDTHS = {
    Column.NAME: 160,
    Column.STATE: 200,
    Column.PROGRESS: 120,
    Column.SPEED: 70,
    Column.ETA: 120,
    Column.REASON: 300,
    Column.IDS: 180,
    Column.INDEX: 100,
}

_FIX_TIPS = {
    Fix.NEW_KEY: "Enter a new API key in the settings",
    Fix.OTHER_INDEX: "Send these videos to another index",
    Fix.PLAN: "What to do when the plan's allowance is used up",
}


def _first_fix(jobs: Sequence[Job]) -> Fix | None:
    """The fix of the first selected row that has one (a key problem stops them all)."""
    return next((fix for fix in map(fix_for, jobs) if fix is not None), None)


_PROBLEM = "That did not work. Try again; if it keeps happening, the log file has the details."


class TaskTable(QTableView):
    """The table; files dropped on it are handed on (the window sends them to the Files tab)."""

    files_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.columns_fitted = False  # set once fitted, or once widths are restored

    def showEvent(self, event: QShowEvent) -> None:
        """The first time the list is shown, its columns share its width."""
        super().showEvent(event)
        if not self.columns_fitted:
            self.fit_columns()

    def fit_columns(self) -> None:
        """Spread ``_WIDTHS`` over the visible width; the last column takes what is left.

        Room for the vertical scroll bar is kept even while there is none, so the list that
        fills up later does not get a sideways one.
        """
        self.columns_fitted = True
        # The viewport's width without scroll bars, less the vertical one's. Not
        # viewport().width(): PySide6 finds the Python type of the QWidget it returns by
        # loading every widget class it has, ~50 enum types, 8 ms of the first frame's time.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        room = self.maximumViewportSize().width() - bar
        header = self.horizontalHeader()
        scale = min(1.0, room / sum(_WIDTHS.values()))
        for column, width in _WIDTHS.items():
            header.resizeSection(column, max(header.minimumSectionSize(), int(width * scale)))

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Tabbing into the list selects a row, so the keys and buttons act on something."""
        super().focusInEvent(event)
        model, selection = self.model(), self.selectionModel()
        if selection.hasSelection() or not model.rowCount():
            return
        current = self.currentIndex()
        if not current.isValid():
            current = model.index(0, 0)
            self.setCurrentIndex(current)
        flags = selection.SelectionFlag
        selection.select(current, flags.ClearAndSelect | flags.Rows)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            super().dropEvent(event)


class TaskPanel(QWidget):
    """Every job of every session: what it is doing, and pause/resume/stop/retry/remove."""

    files_dropped = Signal(list)  # list[Path] dropped on the table, for the Files tab
    key_fix_requested = Signal()  # a row's "Enter a new key…": the window opens the key field
    index_fix_requested = Signal(list)  # list[Job] whose files or addresses go to another index

    def __init__(self, host: EngineHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskPanel")
        self.setAccessibleName("Uploads")
        self.host = host
        self.model = TaskTableModel(self)
        self.proxy = TaskFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._filters: dict[Category, QToolButton] = {}
        self._build()
        self._build_actions()
        host.events.connect(self._on_events)
        self.model.counts_changed.connect(self._update_counts)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.proxy.layoutChanged.connect(self._update_actions)
        self.proxy.dataChanged.connect(self._on_rows_changed)
        self._update_counts()
        self._update_actions()
        self.loaded = False
        host.run_in_background(host.jobs, self._on_loaded, self._on_problem)

    def sizeHint(self) -> QSize:
        """Room for about eight rows (the window gives the list half its height at first)."""
        return QSize(900, 340)

    # -- building --------------------------------------------------------------------------

    def _build(self) -> None:
        title = QLabel("<b>Uploads</b>")
        bar = QHBoxLayout()
        bar.addWidget(title)
        group = QButtonGroup(self)
        group.setExclusive(True)
        for category, words in _FILTER_WORDS.items():
            button = QToolButton()
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setText(words)
            button.setAccessibleName(f"Show {words.lower()} uploads")
            button.setChecked(category is Category.ALL)
            button.clicked.connect(lambda _=False, c=category: self.set_filter(c))
            group.addButton(button)
            bar.addWidget(button)
            self._filters[category] = button
        bar.addStretch(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search uploads (Ctrl+F)")
        self.search.setAccessibleName("Search uploads")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        bar.addWidget(self.search)

        self.notice = QLabel()
        self.notice.setObjectName("taskNotice")
        self.notice.setAccessibleName("Upload notice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.table = TaskTable()
        self.table.setAccessibleName("Upload list")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the order jobs were added
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        # The bars' delegate comes with the first rows: its classes (style options, painter)
        # are not needed for the empty list of the first frame (docs/gui.md, "Start-up").
        self.model.rowsInserted.connect(self._draw_bars)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_menu)
        self.table.files_dropped.connect(self.files_dropped)
        self.table.doubleClicked.connect(self._on_double_click)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The reason comes right after the progress, so a failure's fix is in view without
        # scrolling; the ids and the index follow (docs/task-list.md, "Columns").
        for position, column in enumerate(_VISUAL_ORDER):
            header.moveSection(header.visualIndex(column), position)

        self.details = QLabel()
        self.details.setObjectName("taskDetails")
        self.details.setAccessibleName("Reason and what to do for the selected upload")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()

        self.buttons = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(self.buttons)

    def _draw_bars(self) -> None:
        from uploader_app.gui.progress_delegate import ProgressDelegate  # noqa: PLC0415

        self.model.rowsInserted.disconnect(self._draw_bars)
        self.table.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self.table))

    def _build_actions(self) -> None:
        # The fix for what stops the selected row (a key, an index, the plan), first in line;
        # its words follow the row (docs/task-list.md, "Fixes").
        self.fix_action = QAction(Fix.NEW_KEY.value, self)
        self.fix_action.triggered.connect(self.fix)
        self.fix_button = QToolButton()
        self.fix_button.setDefaultAction(self.fix_action)
        self.fix_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.fix_button.setAccessibleName("Fix what stops the selected upload")
        self.buttons.addWidget(self.fix_button)
        self.pause_action = self._action("Pause", "Pause the selected uploads", self.pause)
        self.resume_action = self._action("Resume", "Resume the selected uploads", self.resume)
        self.cancel_action = self._action("Stop", "Stop the selected uploads", self.cancel)
        self.retry_action = self._action("Try again", "Send the selected videos again", self.retry)
        self.remove_action = self._action(
            "Remove from list", "Remove the selected rows from the list", self.remove
        )
        self.copy_action = self._action("Copy video id", "Copy the video ids", self.copy_ids)
        # Keys that act on the selected rows while the list has the focus (docs/task-list.md).
        for action, key in (
            (self.remove_action, QKeySequence(QKeySequence.StandardKey.Delete)),
            (self.retry_action, QKeySequence("Ctrl+R")),
            (self.copy_action, QKeySequence(QKeySequence.StandardKey.Copy)),
        ):
            action.setShortcut(key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.table.addAction(action)
        self.show_action = self._action(
            "Show in folder", "Show the selected file in its folder", self.show_in_folder
        )
        self.resend_action = self._action(
            "Send again anyway",
            "Send a video the index already has once more",
            self.resend,
            button=False,
        )
        self.buttons.addStretch(1)
        export = QPushButton("Export CSV…")
        export.setAccessibleName("Export the list as CSV")
        export.clicked.connect(self._on_export_clicked)
        self.export_button = export
        self.buttons.addWidget(export)
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self.focus_search)

    def _action(
        self, text: str, name: str, slot: Callable[[], None], *, button: bool = True
    ) -> QAction:
        action = QAction(text, self)
        action.setToolTip(name)
        action.triggered.connect(slot)
        if button:
            widget = QToolButton()
            widget.setDefaultAction(action)
            widget.setAccessibleName(name)
            widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.buttons.addWidget(widget)
        return action

    # -- reading the selection -------------------------------------------------------------

    def selected_jobs(self) -> list[Job]:
        rows = self.table.selectionModel().selectedRows()
        return [self.model.job_at(self.proxy.mapToSource(i).row()) for i in rows]

    def _ids(self, states: frozenset[JobState]) -> list[int]:
        return [job.id for job in self.selected_jobs() if job.state in states]

    def _update_actions(self) -> None:
        jobs = self.selected_jobs()
        states = {job.state for job in jobs}
        self.pause_action.setEnabled(bool(states & _PAUSABLE))
        self.resume_action.setEnabled(bool(states & _RESUMABLE))
        self.cancel_action.setEnabled(bool(states & _CANCELLABLE))
        self.retry_action.setEnabled(bool(states & _RETRYABLE))
        self.resend_action.setEnabled(bool(states & _RESENDABLE))
        self.remove_action.setEnabled(bool(states & _REMOVABLE))
        self.copy_action.setEnabled(any(job.video_id for job in jobs))
        self.show_action.setEnabled(any(job.source_kind is SourceKind.FILE for job in jobs))
        self._offer_fix(jobs)
        self._show_details(jobs)

    def _offer_fix(self, jobs: list[Job]) -> None:
        fix = _first_fix(jobs)
        self.fix_action.setEnabled(fix is not None)
        self.fix_button.setVisible(fix is not None)
        if fix is not None:
            self.fix_action.setText(fix.value)
            self.fix_action.setToolTip(_FIX_TIPS[fix])
            self.fix_button.setAccessibleName(_FIX_TIPS[fix])

    def _show_details(self, jobs: list[Job]) -> None:
        """The whole reason and fix of the one selected row, wrapped: the table cell is too
        narrow for a sentence and its fix."""
        text = ""
        row = self.model.row_of(jobs[0].id) if len(jobs) == 1 else None
        if row is not None:
            reason = self.model.index(row, Column.REASON).data()
            if reason:
                state = self.model.index(row, Column.STATE).data()
                from html import escape  # noqa: PLC0415 - the first row selected, not the start

                text = f"<b>{escape(jobs[0].name)}</b> · {escape(state)}<br>{escape(reason)}"
        self.details.setText(text)
        self.details.setVisible(bool(text))

    def _on_rows_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        """A selected row that changed state may enable or disable an action."""
        selection = self.table.selectionModel()
        if any(
            selection.isRowSelected(row, QModelIndex())
            for row in range(top_left.row(), bottom_right.row() + 1)
        ):
            self._update_actions()

    # -- actions ---------------------------------------------------------------------------

    def pause(self) -> None:
        self._control(self.host.engine.pause, self._ids(_PAUSABLE))

    def resume(self) -> None:
        self._control(self.host.engine.resume, self._ids(_RESUMABLE))

    def cancel(self) -> None:
        self._control(self.host.engine.cancel, self._ids(_CANCELLABLE))

    def retry(self) -> None:
        self._control(self.host.engine.retry, self._ids(_RETRYABLE))

    def resend(self) -> None:
        self._control(self.host.engine.resend, self._ids(_RESENDABLE))

    def remove(self) -> None:
        ids = self._ids(_REMOVABLE)
        self._control(self.host.engine.remove, ids, lambda _r: self.model.remove_jobs(ids))

    def _control(
        self,
        method: Callable[[list[int]], Any],
        ids: Sequence[int],
        on_done: Callable[[Any], None] | None = None,
    ) -> None:
        if ids:
            self.host.control(method, ids, on_done, self._on_problem)

    def fix(self) -> None:
        """What the selected rows' problem asks of the person, as the action says."""
        jobs = self.selected_jobs()
        fix = _first_fix(jobs)
        if fix is Fix.NEW_KEY:
            self.key_fix_requested.emit()
        elif fix is Fix.OTHER_INDEX:
            self._send_elsewhere([job for job in jobs if fix_for(job) is fix])
        elif fix is Fix.PLAN:
            self._explain_plan(next(job for job in jobs if fix_for(job) is fix))

    def _send_elsewhere(self, jobs: list[Job]) -> None:
        # A manifest's row names its index in the manifest: it stays, its reason says what
        # to change there. Files and addresses go back to their tab; their rows stay here
        # until they are sent again (see forget), so quitting in between loses nothing.
        self.index_fix_requested.emit(
            [job for job in jobs if job.source_kind is not SourceKind.MANIFEST_ROW]
        )

    def forget(self, ids: Sequence[int]) -> None:
        """Take these jobs off the list (the window's: their videos went to another index)."""
        chosen = list(ids)
        self._control(self.host.engine.remove, chosen, lambda _r: self.model.remove_jobs(chosen))

    def _explain_plan(self, job: Job) -> None:
        """The plan's allowance is used up: nothing here can fix it, so say what will."""
        from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415 - loads when opened

        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Plan limit reached",
            f"{reason_words(job)}\n\nWhen the plan allows more, select these uploads and "
            "choose Resume: they continue where they stopped.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAccessibleName("What to do about the plan limit")
        box.open()
        self.plan_box = box  # kept while shown (and for tests)

    def copy_ids(self) -> None:
        ids = [job.video_id for job in self.selected_jobs() if job.video_id]
        if ids:
            QGuiApplication.clipboard().setText("\n".join(ids))
            self.show_notice(f"Copied {count(len(ids), 'video id')}.")

    def show_in_folder(self) -> None:
        for job in self.selected_jobs():
            if job.source_kind is SourceKind.FILE:
                QDesktopServices.openUrl(QUrl.fromLocalFile(job.folder))
                return

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_filter(self, category: Category) -> None:
        self._filters[category].setChecked(True)
        self.proxy.set_category(category)

    def export_csv(self, path: Path) -> None:
        """Write every job to ``path`` (off the GUI thread) and say how many rows went."""

        def done(rows: object) -> None:
            number = rows if isinstance(rows, int) else 0
            self.show_notice(f"Saved {count(number, 'row')} to {path.name}.")

        self.host.run_in_background(
            lambda: self.host.engine.export_csv(path), done, self._on_problem
        )

    def _on_export_clicked(self) -> None:
        path = self.choose_export_path()
        if path is not None:
            self.export_csv(path)

    def choose_export_path(self) -> Path | None:
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415 - loads when opened

        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export the list", str(Path.home() / "uploads.csv"), "CSV files (*.csv)"
        )
        return Path(chosen) if chosen else None

    def _show_menu(self, position: QPoint) -> None:
        if not self.selected_jobs():
            return
        menu = QMenu(self)
        if self.fix_action.isEnabled():
            menu.addAction(self.fix_action)
            menu.addSeparator()
        for action in (
            self.pause_action,
            self.resume_action,
            self.cancel_action,
            self.retry_action,
            self.resend_action,
            None,
            self.copy_action,
            self.show_action,
            None,
            self.remove_action,
        ):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(position))
        self._menu = menu  # kept for tests and so it is not collected while shown

    def _on_double_click(self, index: QModelIndex) -> None:
        job: Job = index.data(JOB_ROLE)
        if job.source_kind is SourceKind.FILE:
            QDesktopServices.openUrl(QUrl.fromLocalFile(job.folder))

    # -- events ----------------------------------------------------------------------------

    def _on_events(self, events: list[EngineEvent]) -> None:
        self.model.apply_events(events)
        for event in events:
            if isinstance(event, JobNotice) and event.job_id is None:
                self.show_notice(event.message)

    def _on_loaded(self, jobs: object) -> None:
        earlier = list(jobs) if isinstance(jobs, list) else []
        self.model.load(earlier)
        self.loaded = True
        unfinished = sum(1 for job in earlier if not job.state.is_terminal)
        if unfinished:
            words = "upload continues" if unfinished == 1 else "uploads continue"
            self.show_notice(f"{unfinished} unfinished {words} from last time.")

    def _on_problem(self, error: BaseException) -> None:
        logger.warning("task list action failed: %s", error)
        from uploader_app.store import StoreWriteError  # noqa: PLC0415 - loaded by the failure

        self.show_notice(problem_text(error) if isinstance(error, StoreWriteError) else _PROBLEM)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _update_counts(self) -> None:
        counts = self.model.counts()
        for category, button in self._filters.items():
            words = _FILTER_WORDS[category]
            number = counts[category]
            button.setText(
                f"{words} ({number})" if number and category is not Category.ALL else words
            )
