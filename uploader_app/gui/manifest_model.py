"""The Manifest tab's table: one row per manifest entry, each cell marked with its problems.

A view over a :class:`ManifestDocument`: edits go through the document (so they can be undone)
and every change re-runs the checks, which take milliseconds even for 1,000 rows
(docs/manifests.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from uploader_app.gui.icons import verdict_icon
from uploader_app.manifest.checks import Problem, Severity, check_document, is_valid
from uploader_app.manifest.document import ManifestDocument
from uploader_app.models import Verdict

AnyIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    OBJECT = 0
    TRANSCRIPTION = 1
    INDEX = 2
    LANGUAGE = 3
    CHECK = 4


HEADERS = ("Video in S3", "Transcription", "Index id", "Language", "Check")
FIELDS = {
    Column.OBJECT: "object",
    Column.TRANSCRIPTION: "transcription",
    Column.INDEX: "index_id",
    Column.LANGUAGE: "language",
}
COLUMN_OF = {name: column for column, name in FIELDS.items()}
ERROR_BACKGROUND = QColor(192, 57, 43, 40)  # a light wash of the banner's red, in both palettes
WARNING_BACKGROUND = QColor(243, 156, 18, 40)


class ManifestModel(QAbstractTableModel):
    """``checked()`` after every change of rows or problems (the tab updates its summary)."""

    checked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.document = ManifestDocument()
        # The account's index ids as the window last listed them; None until it has.
        self.account_indexes: frozenset[str] | None = None
        self.problems: list[Problem] = []
        self._cells: dict[tuple[int, int], list[Problem]] = {}
        self._rows: dict[int, list[Problem]] = {}

    # ---- the document --------------------------------------------------------------------

    def set_document(self, document: ManifestDocument) -> None:
        self.beginResetModel()
        self.document = document
        self._check()
        self.endResetModel()
        self.checked.emit()

    def set_account_indexes(self, ids: frozenset[str] | None) -> None:
        """Mark index ids that are not in the account (from the window's list: no request)."""
        if ids != self.account_indexes:
            self.account_indexes = ids
            self.recheck()

    def recheck(self) -> None:
        """Check again after the rows changed (an edit, undo, redo, add or remove)."""
        self.beginResetModel()  # rows may come and go; a manifest is small enough to redraw
        self._check()
        self.endResetModel()
        self.checked.emit()

    def _check(self) -> None:
        self.problems = check_document(self.document, indexes=self.account_indexes)
        cells: dict[tuple[int, int], list[Problem]] = defaultdict(list)
        rows: dict[int, list[Problem]] = defaultdict(list)
        for problem in self.problems:
            if problem.row is None:
                continue
            rows[problem.row - 1].append(problem)
            column = COLUMN_OF.get(problem.field or "")
            cells[(problem.row - 1, column if column is not None else Column.CHECK)].append(problem)
        self._cells, self._rows = dict(cells), dict(rows)

    @property
    def valid(self) -> bool:
        return is_valid(self.problems)

    def first_error(self) -> Problem | None:
        return next((p for p in self.problems if p.severity is Severity.ERROR), None)

    def cell_of(self, problem: Problem) -> QModelIndex:
        """Where a problem shows: its field's cell, or the row's Check cell."""
        if problem.row is None:
            return QModelIndex()
        column = COLUMN_OF.get(problem.field or "", Column.CHECK)
        return self.index(problem.row - 1, column)

    # ---- edits (each one undoable) -------------------------------------------------------

    def set_field(self, rows: Sequence[int], name: str, value: str | None) -> None:
        self.document.set_field(rows, name, value)
        self.recheck()

    def add_row(self, row: dict[str, str], at: int | None = None) -> None:
        self.document.add_rows([row], at)
        self.recheck()

    def remove_rows(self, rows: Sequence[int]) -> None:
        self.document.remove_rows(rows)
        self.recheck()

    def undo(self) -> None:
        self.document.undo()
        self.recheck()

    def redo(self) -> None:
        self.document.redo()
        self.recheck()

    # ---- Qt model ------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.document.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return str(section + 1)  # row numbers as the messages count them

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        entry = self._entry(index.row())
        if index.column() in FIELDS and isinstance(entry, dict):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), Column(index.column())
        entry = self._entry(row)
        problems = self._cells.get((row, column), [])
        if column is Column.CHECK:
            problems = self._rows.get(row, [])
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column is Column.CHECK:
                return _check_words(problems)
            if not isinstance(entry, dict):
                return "(not an entry)" if column is Column.OBJECT else ""
            value = entry.get(FIELDS[column])
            return "" if value is None else value if isinstance(value, str) else repr(value)
        if role == Qt.ItemDataRole.ToolTipRole and problems:
            return "\n".join(f"{p.message} {p.hint}" for p in problems)
        if role == Qt.ItemDataRole.DecorationRole and problems:
            return verdict_icon(_verdict(problems))
        if role == Qt.ItemDataRole.BackgroundRole and problems and column is not Column.CHECK:
            error = _verdict(problems) is Verdict.REJECTED
            return QBrush(ERROR_BACKGROUND if error else WARNING_BACKGROUND)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole and problems:
            return "; ".join(p.message for p in problems)
        return None

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() not in FIELDS:
            return False
        name = FIELDS[Column(index.column())]
        text = str(value)
        # An emptied transcription means "none"; an emptied required field stays, empty,
        # so its check says what belongs there.
        new = None if name == "transcription" and not text.strip() else text
        entry = self._entry(index.row())
        if not isinstance(entry, dict) or entry.get(name) == new:
            return False
        self.set_field([index.row()], name, new)
        return True

    def _entry(self, row: int) -> Any:
        rows = self.document.rows
        return rows[row] if 0 <= row < len(rows) else None


def _verdict(problems: Sequence[Problem]) -> Verdict:
    if any(p.severity is Severity.ERROR for p in problems):
        return Verdict.REJECTED
    return Verdict.WARNING


def _check_words(problems: Sequence[Problem]) -> str:
    if not problems:
        return "Ready"
    first = next((p for p in problems if p.severity is Severity.ERROR), problems[0])
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return first.message + more
