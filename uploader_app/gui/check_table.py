"""What the Files and URL tabs' tables share: rows that were checked and can be ticked to send.

Each tab keeps its own row type (a file has a folder and look-alikes, an address has neither)
and its own columns; the verdict, the tick and the Qt model plumbing are written once here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import Field, replace
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

from uploader_app.gui.icons import verdict_icon
from uploader_app.models import Verdict

logger = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex


class Judged(Protocol):
    """A check's outcome: a file's ``Finding`` or an address's ``UrlFinding``."""

    @property
    def verdict(self) -> Verdict: ...


class Tickable:
    """Mixed into a frozen row dataclass with ``finding`` and ``chosen`` fields."""

    finding: Judged | None
    chosen: bool

    @property
    def verdict(self) -> Verdict | None:
        return self.finding.verdict if self.finding else None

    @property
    def can_send(self) -> bool:
        return self.verdict in (Verdict.OK, Verdict.WARNING)

    @property
    def will_send(self) -> bool:
        return self.can_send and self.chosen


def sentence(message: str, hint: str) -> str:
    """A problem and its fix as one line."""
    return f"{message} {hint}".strip() if hint else message


def verdict_status(verdict: Verdict, message: str, hint: str, chosen: bool) -> str:
    """What the Check column says for a checked row, with the fix and how to send it anyway."""
    if verdict is Verdict.REJECTED:
        return sentence(f"Can't be sent: {message}", hint)
    if verdict is Verdict.SKIPPED:
        return sentence(f"Left out: {message}", hint)
    if verdict is Verdict.WARNING:
        return sentence(message, hint) + ("" if chosen else " Tick it to send it anyway.")
    return "Ready to upload"


class TickRow(Protocol):
    """A frozen row dataclass with :class:`Tickable` mixed in (``replace`` makes a new one)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def chosen(self) -> bool: ...

    @property
    def verdict(self) -> Verdict | None: ...

    @property
    def can_send(self) -> bool: ...


Row = TypeVar("Row", bound=TickRow)


class CheckTableModel(QAbstractTableModel, Generic[Row]):
    """Rows with a tick in the first column, for those whose verdict lets them be sent.

    Subclasses give ``HEADERS`` and ``_display``; a row's change repaints that row only.
    """

    HEADERS: ClassVar[tuple[str, ...]] = ()
    TICK_COLUMN: ClassVar[int] = 0

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []

    @property
    def rows(self) -> Sequence[Row]:
        return self._rows

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(row, column)
        if column == self.TICK_COLUMN:
            if role == Qt.ItemDataRole.DecorationRole:
                return self._icon(row)
            if role == Qt.ItemDataRole.CheckStateRole and row.can_send:
                return Qt.CheckState.Checked if row.chosen else Qt.CheckState.Unchecked
        return self._more_data(row, column, role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if (
            index.isValid()
            and index.column() == self.TICK_COLUMN
            and self._rows[index.row()].can_send
        ):
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not (index.isValid() and role == Qt.ItemDataRole.CheckStateRole):
            return False
        row = self._rows[index.row()]
        if not row.can_send:
            return False
        chosen = Qt.CheckState(value) == Qt.CheckState.Checked
        self._replace(index.row(), replace(row, chosen=chosen))
        return True

    def _replace(self, number: int, row: Row) -> None:
        self._store(number, row)
        self.dataChanged.emit(self.index(number, 0), self.index(number, len(self.HEADERS) - 1))

    def _store(self, number: int, row: Row) -> None:
        self._rows[number] = row

    def _display(self, row: Row, column: int) -> str:
        """A cell's text: each table (files, addresses) gives its own. Abstract, as
        ``_LoopWorker.step`` is: Qt's metaclass does not mix with ABCMeta."""
        raise NotImplementedError

    def _icon(self, row: Row) -> QIcon | None:
        return verdict_icon(row.verdict) if row.verdict else None

    def _more_data(self, row: Row, column: int, role: int) -> Any:
        """Roles beyond text, icon and tick (tooltips, alignment), for a subclass to give."""
        return None
