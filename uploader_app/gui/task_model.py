"""The live task list: a table model over the engine's jobs, updated in place.

A map job id -> row lets every event touch one row: new jobs are inserted (never a reset),
a change emits ``dataChanged`` for that row only, and progress events are held and applied
together a few times a second, so the view never repaints once per chunk (docs/task-list.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)

from uploader_app.gui.job_text import (
    INDEXING_TYPICAL,
    format_eta,
    format_minutes,
    format_speed,
    ids_words,
    reason_words,
    state_words,
)
from uploader_app.jobs.events import (
    BatchProblem,
    BatchProblemCleared,
    EngineEvent,
    JobChanged,
    JobNotice,
    JobProgress,
    JobsRemoved,
)
from uploader_app.models import Job, JobState

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    STATE = 1
    PROGRESS = 2
    SPEED = 3
    ETA = 4
    INDEX = 5
    IDS = 6
    REASON = 7


HEADERS = {
    Column.NAME: "Video",
    Column.STATE: "Status",
    Column.PROGRESS: "Progress",
    Column.SPEED: "Speed",
    Column.ETA: "Time left",
    Column.INDEX: "Index",
    Column.IDS: "Ids",
    Column.REASON: "Reason and what to do",
}


class Category(StrEnum):
    """The filters above the list; every job is in ALL and in exactly one other."""

    ALL = "all"
    ACTIVE = "active"
    NEEDS_YOU = "needs_you"
    FAILED = "failed"
    DONE = "done"


# A paused job is unfinished work, so it stays with the active ones; a stopped (cancelled) or
# rejected one did not reach the index, so it sits with the failures where Retry is offered.
_CATEGORY = {
    JobState.QUEUED: Category.ACTIVE,
    JobState.CHECKING: Category.ACTIVE,
    JobState.UPLOADING: Category.ACTIVE,
    JobState.ON_SERVICE: Category.ACTIVE,
    JobState.PAUSED: Category.ACTIVE,
    JobState.NEEDS_ATTENTION: Category.NEEDS_YOU,
    JobState.FAILED: Category.FAILED,
    JobState.REJECTED: Category.FAILED,
    JobState.CANCELLED: Category.FAILED,
    JobState.READY: Category.DONE,
    JobState.ALREADY_IN_INDEX: Category.DONE,
}

# Sorting by status follows the order a person cares about: problems first, done last.
_STATE_ORDER = {
    state: rank
    for rank, state in enumerate(
        (
            JobState.NEEDS_ATTENTION,
            JobState.FAILED,
            JobState.REJECTED,
            JobState.UPLOADING,
            JobState.CHECKING,
            JobState.ON_SERVICE,
            JobState.QUEUED,
            JobState.PAUSED,
            JobState.CANCELLED,
            JobState.ALREADY_IN_INDEX,
            JobState.READY,
        )
    )
}

# Rows that wait on the batch problem (no network, key refused) say so in place of their state.
_STALLED_BY_BATCH = frozenset({JobState.QUEUED, JobState.CHECKING, JobState.UPLOADING})

JOB_ROLE = Qt.ItemDataRole.UserRole + 1  # the Job snapshot
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2  # 0-100, or None when no bar belongs there


def category_of(state: JobState) -> Category:
    return _CATEGORY[state]


@dataclass
class _Row:
    """A job and what the list knows beyond the stored snapshot (live speed, notices)."""

    job: Job
    sent: int
    total: int | None
    speed: float | None = None
    eta: float | None = None
    notice: str = ""
    on_service_since: float | None = None
    haystack: str | None = None  # what the search matches, built when first searched


class TaskTableModel(QAbstractTableModel):
    """Jobs in the order they were added; ``apply_events`` keeps them current."""

    counts_changed = Signal()

    def __init__(self, parent: QObject | None = None, *, flush_ms: int = 250) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._row_of: dict[int, int] = {}
        self._removed: set[int] = set()
        self._counts = dict.fromkeys(Category, 0)
        self._index_names: dict[str, str] = {}
        self._batch_problem: BatchProblem | None = None
        self._indexing_seconds: dict[str, list[float]] = {}
        self._pending: dict[int, JobProgress] = {}
        self._batch: set[int] = set()  # jobs active since the list last went idle
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(flush_ms)
        self._flush.timeout.connect(self.flush_progress)

    # -- Qt model interface --------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation is Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(Column):
            return HEADERS[Column(section)]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(Column):
            return None
        row = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == JOB_ROLE:
            return row.job
        if role == PROGRESS_ROLE:
            return self._percent(row) if column is Column.PROGRESS else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.SPEED, Column.ETA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- what the list shows ------------------------------------------------------------

    def _display(self, row: _Row, column: Column) -> str:
        job = row.job
        uploading = job.state is JobState.UPLOADING
        if column is Column.NAME:
            return job.name
        if column is Column.STATE:
            if self._batch_problem and job.state in _STALLED_BY_BATCH:
                return self._batch_problem.title
            return state_words(job, self._indexing_estimate(job.index_id))
        if column is Column.PROGRESS:
            percent = self._percent(row)
            return "" if percent is None else f"{percent}%"
        if column is Column.SPEED:
            return format_speed(row.speed) if uploading else ""
        if column is Column.ETA:
            return format_eta(row.eta) if uploading else ""
        if column is Column.INDEX:
            return self._index_names.get(job.index_id, job.index_id)
        if column is Column.IDS:
            return ids_words(job)
        if self._batch_problem and job.state in _STALLED_BY_BATCH:
            return f"{self._batch_problem.message} {self._batch_problem.hint}".strip()
        return row.notice or reason_words(job)

    def _tooltip(self, row: _Row, column: Column) -> str | None:
        if column is Column.NAME:
            return row.job.shown_source
        text = self._display(row, column)
        return text or None

    def _percent(self, row: _Row) -> int | None:
        """A bar only while bytes move (or wait to move on): never one parked at 100 % while
        the service indexes, because that reads as stuck (docs/task-list.md)."""
        state = row.job.state
        if state is JobState.UPLOADING or (
            state in (JobState.PAUSED, JobState.QUEUED) and row.sent > 0
        ):
            if not row.total:
                return 0
            return max(0, min(100, int(row.sent * 100 / row.total)))
        return None

    def _sort_key(self, row: _Row, column: Column) -> Any:
        job = row.job
        if column is Column.NAME:
            return job.name.casefold()
        if column is Column.STATE:
            return _STATE_ORDER[job.state]
        if column is Column.PROGRESS:
            percent = self._percent(row)
            return -1 if percent is None else percent
        if column is Column.SPEED:
            return row.speed or 0.0
        if column is Column.ETA:
            return row.eta if row.eta is not None else float("inf")
        return self._display(row, column).casefold()

    def _indexing_estimate(self, index_id: str) -> str:
        """How long indexing took for this index so far, else the vendor's typical range."""
        seen = self._indexing_seconds.get(index_id)
        if not seen:
            return INDEXING_TYPICAL
        low, high = format_minutes(min(seen)), format_minutes(max(seen))
        return f"usually about {low}" if low == high else f"usually {low[:-4]}–{high}"

    # -- feeding the model --------------------------------------------------------------

    def add_index_names(self, names: Mapping[str, str]) -> None:
        """Show these indexes by name in place of their ids (the window learns them from the
        index list)."""
        if all(self._index_names.get(k) == v for k, v in names.items()):
            return
        self._index_names.update(names)
        for entry in self._rows:
            entry.haystack = None
        if self._rows:
            self._emit_rows(range(len(self._rows)), Column.INDEX, Column.INDEX)

    def load(self, jobs: Iterable[Job]) -> None:
        """Add the jobs already in the store (earlier sessions) in one insert."""
        self._insert([job for job in jobs if job.id not in self._row_of])

    def apply_events(self, events: Sequence[EngineEvent]) -> None:
        """Fold a batch of engine events in: changes now, progress at the next flush."""
        new: list[Job] = []
        new_at: dict[int, int] = {}
        changed: set[int] = set()
        gone: list[int] = []
        for event in events:
            if isinstance(event, JobChanged):
                job = event.job
                if job.id in self._removed:
                    continue
                if job.id in self._row_of:
                    changed.add(self._update(job))
                elif job.id in new_at:
                    new[new_at[job.id]] = job
                else:
                    new_at[job.id] = len(new)
                    new.append(job)
            elif isinstance(event, JobProgress):
                if event.job_id in self._row_of:
                    self._pending[event.job_id] = event
                    if not self._flush.isActive():
                        self._flush.start()
            elif isinstance(event, JobNotice):
                row = self._row_of.get(event.job_id) if event.job_id is not None else None
                if row is not None:
                    self._rows[row].notice = event.message
                    changed.add(row)
            elif isinstance(event, BatchProblem | BatchProblemCleared):
                self._set_batch_problem(event if isinstance(event, BatchProblem) else None)
            elif isinstance(event, JobsRemoved):
                gone += event.ids
        for row in sorted(changed):
            self._emit_rows((row,))
        self._insert(new)
        # Last: removing rows renumbers them, and the changes above are by row.
        self.remove_jobs(gone)

    def apply_event(self, event: EngineEvent) -> None:
        self.apply_events((event,))

    def remove_jobs(self, ids: Iterable[int]) -> None:
        """Take jobs off the list (after the engine removed them); later events are ignored."""
        chosen = set(ids)
        rows = sorted((self._row_of[i] for i in chosen if i in self._row_of), reverse=True)
        if not rows:
            return
        for row in rows:
            job = self._rows[row].job
            self._removed.add(job.id)
            self._pending.pop(job.id, None)
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self._counts[category_of(job.state)] -= 1
            self._counts[Category.ALL] -= 1
            self.endRemoveRows()
        self._row_of = {r.job.id: n for n, r in enumerate(self._rows)}
        self._batch.difference_update(chosen)
        self._counts_moved()

    def flush_progress(self) -> None:
        """Apply the progress held since the last flush: one ``dataChanged`` per moved row."""
        pending, self._pending = self._pending, {}
        for job_id, progress in pending.items():
            row = self._row_of.get(job_id)
            if row is None:
                continue
            entry = self._rows[row]
            if entry.job.state not in (JobState.UPLOADING, JobState.QUEUED, JobState.CHECKING):
                continue  # a late event must not drag a finished row back
            entry.sent, entry.total = progress.sent, progress.total
            entry.speed, entry.eta = progress.speed, progress.eta
            self._emit_rows((row,), Column.STATE, Column.REASON)

    def _insert(self, jobs: Sequence[Job]) -> None:
        if not jobs:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(jobs) - 1)
        for offset, job in enumerate(jobs):
            self._row_of[job.id] = first + offset
            self._rows.append(
                _Row(
                    job,
                    job.bytes_sent,
                    job.size,
                    on_service_since=job.updated_at if job.state is JobState.ON_SERVICE else None,
                )
            )
            self._counts[category_of(job.state)] += 1
            self._counts[Category.ALL] += 1
            if category_of(job.state) is Category.ACTIVE:
                self._batch.add(job.id)
        self.endInsertRows()
        self._counts_moved()

    def _update(self, job: Job) -> int:
        row = self._row_of[job.id]
        entry = self._rows[row]
        before, entry.job = entry.job, job
        entry.haystack = None
        if before.state is not job.state:
            self._counts[category_of(before.state)] -= 1
            self._counts[category_of(job.state)] += 1
            entry.notice = ""
            self._note_indexing_time(entry, job)
            if category_of(job.state) is Category.ACTIVE:
                self._batch.add(job.id)
            self._counts_moved()
        # The stored bytes are the floor; live progress may already be ahead of them.
        if job.state is not JobState.UPLOADING or job.bytes_sent > entry.sent:
            entry.sent = job.bytes_sent
        entry.total = job.size or entry.total
        if job.state is not JobState.UPLOADING:
            entry.speed = entry.eta = None
        return row

    def _note_indexing_time(self, entry: _Row, job: Job) -> None:
        """Learn how long this index takes, for the "usually N min" of the rows still on it."""
        if job.state is JobState.ON_SERVICE:
            entry.on_service_since = job.updated_at
            return
        since, entry.on_service_since = entry.on_service_since, None
        if job.state is JobState.READY and since is not None and job.updated_at > since:
            self._indexing_seconds.setdefault(job.index_id, []).append(job.updated_at - since)
            waiting = [
                n
                for n, r in enumerate(self._rows)
                if r.job.state is JobState.ON_SERVICE and r.job.index_id == job.index_id
            ]
            self._emit_rows(waiting, Column.STATE, Column.STATE)

    def _counts_moved(self) -> None:
        if not self._counts[Category.ACTIVE]:
            self._batch.clear()
        self.counts_changed.emit()

    def _set_batch_problem(self, problem: BatchProblem | None) -> None:
        if problem == self._batch_problem:
            return
        self._batch_problem = problem
        stalled = [n for n, r in enumerate(self._rows) if r.job.state in _STALLED_BY_BATCH]
        self._emit_rows(stalled)

    def _emit_rows(
        self, rows: Iterable[int], first: Column = Column.NAME, last: Column = Column.REASON
    ) -> None:
        for row in rows:
            self.dataChanged.emit(self.index(row, first), self.index(row, last))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows by a column, in Python in one pass: a proxy comparing through
        ``data()`` took seconds on 10,000 rows (docs/task-list.md, "Sorting")."""
        if not 0 <= column < len(Column) or not self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        ids = [self._rows[i.row()].job.id for i in before]
        key = Column(column)
        self._rows.sort(
            key=lambda r: self._sort_key(r, key),
            reverse=order is Qt.SortOrder.DescendingOrder,
        )
        self._row_of = {r.job.id: n for n, r in enumerate(self._rows)}
        after = [
            self.index(self._row_of[i], old.column()) for i, old in zip(ids, before, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def category_at(self, row: int) -> Category:
        return category_of(self._rows[row].job.state)

    def haystack(self, row: int) -> str:
        """Everything the search box matches in one row, folded: path or address, index, ids."""
        entry = self._rows[row]
        job = entry.job
        if entry.haystack is None:
            # The source holds the name; plain fields, because 10,000 rows are built at once.
            index = self._index_names.get(job.index_id, "")
            parts = (job.source, job.index_id, index, job.video_id, job.task_id, job.asset_id)
            entry.haystack = " ".join(p for p in parts if p).casefold()
        return entry.haystack

    # -- reading it back ----------------------------------------------------------------

    def job_at(self, row: int) -> Job:
        return self._rows[row].job

    def row_of(self, job_id: int) -> int | None:
        return self._row_of.get(job_id)

    def jobs(self) -> list[Job]:
        return [r.job for r in self._rows]

    def counts(self) -> dict[Category, int]:
        return dict(self._counts)

    def batch_bytes(self) -> tuple[int, int]:
        """(sent, total) over the jobs of the running batch; a job past the upload counts whole,
        so the share only grows while the batch runs."""
        sent = total = 0
        for job_id in self._batch:
            row = self._row_of.get(job_id)
            if row is None:
                continue
            entry = self._rows[row]
            size = entry.total or entry.job.size or 0
            total += size
            moving = entry.job.state in (JobState.UPLOADING, JobState.QUEUED, JobState.PAUSED)
            sent += min(entry.sent, size) if moving else size
        return sent, total

    @property
    def batch_problem(self) -> BatchProblem | None:
        return self._batch_problem

    def live(self, job_id: int) -> tuple[int, int | None, float | None, float | None]:
        """(sent, total, speed, eta) as the list shows them now."""
        entry = self._rows[self._row_of[job_id]]
        return entry.sent, entry.total, entry.speed, entry.eta


class TaskFilterProxy(QSortFilterProxyModel):
    """Sorting on each column's own order, the category filter and the search box."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._category = Category.ALL
        self._search = ""
        self.setDynamicSortFilter(True)

    @property
    def category(self) -> Category:
        return self._category

    def set_category(self, category: Category) -> None:
        if category is not self._category:
            self.beginFilterChange()
            self._category = category
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search(self, text: str) -> None:
        text = text.strip().casefold()
        if text != self._search:
            self.beginFilterChange()
            self._search = text
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, TaskTableModel) or source_parent.isValid():
            return True
        if (
            self._category is not Category.ALL
            and model.category_at(source_row) is not self._category
        ):
            return False
        return not self._search or self._search in model.haystack(source_row)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """The table model sorts itself (fast, in Python); this proxy only filters, so rows
        also stay put while they update instead of jumping as their values change."""
        model = self.sourceModel()
        if isinstance(model, TaskTableModel):
            model.sort(column, order)
