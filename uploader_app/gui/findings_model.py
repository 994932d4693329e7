"""The Files tab's table: one row per dropped file, filled in as its check arrives.

A QAbstractTableModel over a list of :class:`FileRow`, with a map from path to row, so 10,000
rows cost one list and one dict, and an update repaints only the row that changed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QIcon

from uploader_app.gui import text
from uploader_app.gui.check_table import CheckTableModel, Tickable, sentence, verdict_status
from uploader_app.gui.icons import verdict_icon
from uploader_app.gui.job_text import short_size
from uploader_app.models import Finding, Verdict
from uploader_app.validation.messages import printable

logger = logging.getLogger(__name__)


class Column(IntEnum):
    NAME = 0
    FOLDER = 1
    DURATION = 2
    RESOLUTION = 3
    SIZE = 4
    STATUS = 5


@dataclass(frozen=True)
class FileRow(Tickable):
    """A file in the list; ``finding`` is None while it is being checked."""

    path: Path
    relative: str  # "Holiday/day 1/a.mp4", or the bare name for a file dropped alone
    explicit: bool  # dropped by itself rather than found in a folder
    finding: Finding | None = None
    chosen: bool = True  # ticked to send (warnings and look-alikes start unticked)
    duplicate_of: str | None = None  # relative path of the row it looks identical to
    already_sent: bool = False  # a job for this file and index exists already

    @property
    def folder(self) -> str:
        parent = self.relative.rpartition("/")[0]
        return parent or str(self.path.parent)

    @property
    def status(self) -> str:
        """The reason and the fix in one line, or what is going on."""
        finding = self.finding
        if finding is None:
            return "Checking…"
        if not self.can_send:
            return verdict_status(finding.verdict, finding.message, finding.hint, self.chosen)
        if self.already_sent:
            return "Already sent to this index. Tick it to send it again."
        if self.duplicate_of:
            return (
                f"Same length and size as {self.duplicate_of}: probably the same video. "
                "Tick it to send it as well."
            )
        return verdict_status(finding.verdict, finding.message, finding.hint, self.chosen)


def _key(path: Path) -> str:
    return str(path.absolute())


@dataclass(frozen=True)
class Tally:
    checked: int
    total: int
    to_send: int
    ready: int
    warnings: int
    cannot: int
    skipped: int


class FindingsModel(CheckTableModel[FileRow]):
    """Rows are added with :meth:`add_found` and filled in with :meth:`apply_findings`."""

    HEADERS = ("Name", "Folder", "Length", "Picture", "Size", "Check")
    TICK_COLUMN = Column.NAME

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._by_path: dict[str, int] = {}
        # (size, rounded length, width, height) -> relative path of the first file seen
        self._lookalikes: dict[tuple[int, float, int | None, int | None], str] = {}
        # Kept up to date row by row, so the summary line costs nothing on a 10,000-row list.
        self._verdicts: Counter[Verdict | None] = Counter()
        self._ticked = 0
        self._unticked_warnings = 0

    # ---- Qt model ------------------------------------------------------------------------

    def _more_data(self, row: FileRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.STATUS:
                return self._details(row)
            return str(row.path) if column == Column.NAME else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            Column.DURATION,
            Column.RESOLUTION,
            Column.SIZE,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # ---- content -------------------------------------------------------------------------

    def add_found(self, found: Iterable[tuple[Path, str, bool]]) -> int:
        """Append rows for files just found (path, relative path, explicit); returns how many
        were new. A file already listed keeps its row."""
        new: list[FileRow] = []
        for path, relative, explicit in found:
            key = _key(path)
            if key in self._by_path:
                continue
            self._by_path[key] = len(self._rows) + len(new)
            new.append(FileRow(path, relative, explicit))
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(new)
            self._verdicts[None] += len(new)
            self.endInsertRows()
        return len(new)

    def apply_findings(self, findings: Iterable[Finding], already_sent: frozenset[str]) -> None:
        """Fill in the rows of checked files; a finding for an unlisted file adds its row.

        ``already_sent`` holds the paths (as given) with a job in the chosen index.
        """
        changed: list[int] = []
        for finding in findings:
            key = _key(finding.path)
            number = self._by_path.get(key)
            if number is None:
                self.add_found([(finding.path, finding.relative_path or finding.path.name, True)])
                number = self._by_path[key]
            row = self._rows[number]
            filled = replace(row, finding=finding, duplicate_of=None, already_sent=False)
            self._store(number, self._judge_sending(filled, already_sent))
            changed.append(number)
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), len(Column) - 1)
            )

    def _judge_sending(self, row: FileRow, already_sent: frozenset[str]) -> FileRow:
        if not row.can_send:
            return replace(row, chosen=False)
        if str(row.path) in already_sent or _key(row.path) in already_sent:
            return replace(row, already_sent=True, chosen=False)
        probe = row.finding.probe if row.finding else None
        if probe is not None:
            # Same size to the byte and the same length and picture: almost surely one video
            # copied twice (the engine still compares content before it sends).
            look = (probe.size, round(probe.duration or 0.0, 1), probe.width, probe.height)
            first = self._lookalikes.setdefault(look, row.relative)
            if first != row.relative:
                return replace(row, duplicate_of=first, chosen=False)
        return replace(row, chosen=row.verdict is Verdict.OK)

    def recheck(self) -> list[FileRow]:
        """Mark the rows whose verdict depends on the index as being checked again (the index
        changed), and return them. Files left out (not videos, unreadable folders) stay."""
        self._lookalikes.clear()
        again = []
        for number, row in enumerate(self._rows):
            if row.verdict is not Verdict.SKIPPED:
                self._store(number, replace(row, finding=None, duplicate_of=None))
                again.append(self._rows[number])
        if again:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(Column) - 1)
            )
        return again

    def accept_warnings(self) -> int:
        """Tick every file with a warning; returns how many were ticked."""
        ticked = 0
        for number, row in enumerate(self._rows):
            if row.verdict is Verdict.WARNING and not row.chosen:
                self._replace(number, replace(row, chosen=True))
                ticked += 1
        return ticked

    def remove_paths(self, paths: Iterable[Path]) -> None:
        """Drop the rows of these files (they were sent); rows after them move up."""
        gone = {_key(p) for p in paths}
        numbers = sorted((self._by_path[k] for k in gone if k in self._by_path), reverse=True)
        if not numbers:
            return
        # Runs of adjacent rows, last first, each removed in place: the rows that stay keep
        # their selection and the view its scroll position (a reset would lose both).
        runs: list[tuple[int, int]] = []
        for number in numbers:
            if runs and runs[-1][0] == number + 1:
                runs[-1] = (number, runs[-1][1])
            else:
                runs.append((number, number))
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            for row in self._rows[first : last + 1]:
                self._count(row, -1)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        self._by_path = {_key(r.path): n for n, r in enumerate(self._rows)}
        kept = {r.relative for r in self._rows}
        self._lookalikes = {k: v for k, v in self._lookalikes.items() if v in kept}

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._by_path = [], {}
        self._lookalikes.clear()
        self._recount()
        self.endResetModel()

    def to_send(self) -> list[Finding]:
        return [r.finding for r in self._rows if r.will_send and r.finding is not None]

    @property
    def unticked_warnings(self) -> int:
        return self._unticked_warnings

    def tally(self) -> Tally:
        verdicts = self._verdicts
        total = len(self._rows)
        return Tally(
            checked=total - verdicts[None],
            total=total,
            to_send=self._ticked,
            ready=verdicts[Verdict.OK],
            warnings=verdicts[Verdict.WARNING],
            cannot=verdicts[Verdict.REJECTED],
            skipped=verdicts[Verdict.SKIPPED],
        )

    # ---- helpers -------------------------------------------------------------------------

    def _store(self, number: int, row: FileRow) -> None:
        """Put ``row`` at ``number`` and keep the counts in step."""
        self._count(self._rows[number], -1)
        self._rows[number] = row
        self._count(row, 1)

    def _count(self, row: FileRow, sign: int) -> None:
        self._verdicts[row.verdict] += sign
        self._ticked += sign * row.will_send
        self._unticked_warnings += sign * (row.verdict is Verdict.WARNING and not row.chosen)

    def _recount(self) -> None:
        self._verdicts, self._ticked, self._unticked_warnings = Counter(), 0, 0
        for row in self._rows:
            self._count(row, 1)

    def _display(self, row: FileRow, column: int) -> str:
        probe = row.finding.probe if row.finding else None
        # A line break in a name would make its row two lines tall, and undecodable bytes
        # reach Qt as lone surrogates: shown as the check's lines show them.
        if column == Column.NAME:
            return printable(row.path.name)
        if column == Column.FOLDER:
            return printable(row.folder)
        if column == Column.STATUS:
            return row.status
        if probe is None:
            return ""
        if column == Column.DURATION:
            return text.clock(probe.duration)
        if column == Column.RESOLUTION:
            return text.resolution(probe.width, probe.height)
        # Size 0 with an error means the file could not even be looked at: size unknown.
        return short_size(probe.size) if probe.size or probe.error is None else ""

    @staticmethod
    def _details(row: FileRow) -> str:
        """Every problem found, not only the first, so fixing one does not reveal the next."""
        finding = row.finding
        if finding is None or len(finding.issues) < 2:
            return row.status
        return "\n".join(sentence(i.message, i.hint) for i in finding.issues)

    def _icon(self, row: FileRow) -> QIcon | None:
        if row.verdict is None:
            return None
        shown = Verdict.SKIPPED if row.already_sent or row.duplicate_of else row.verdict
        return verdict_icon(shown)
