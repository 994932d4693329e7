"""The URL tab: paste web addresses of videos, one a line; each is checked before it is queued.

Checks run in a :class:`Stream` worker, a few addresses at a time (each is a network round
trip or two), and every line gets its verdict in plain words with the fix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from uploader_app.gui import text
from uploader_app.gui.background import Stream
from uploader_app.gui.check_table import CheckTableModel, Tickable, verdict_status
from uploader_app.gui.controls import button, plain_enter, shortcut, show_upload, upload_button
from uploader_app.gui.files_tab import DEFAULT_TARGET
from uploader_app.gui.job_text import short_size
from uploader_app.jobs.urlcheck import check_url
from uploader_app.models import Target, UploadKind, UrlFinding, Verdict
from uploader_app.validation.messages import count

logger = logging.getLogger(__name__)

CHECKS_AT_ONCE = 4  # addresses checked in parallel: each mostly waits on its server


class Column(IntEnum):
    ADDRESS = 0
    DURATION = 1
    RESOLUTION = 2
    SIZE = 3
    STATUS = 4


@dataclass(frozen=True)
class UrlRow(Tickable):
    url: str
    finding: UrlFinding | None = None
    chosen: bool = True

    @property
    def status(self) -> str:
        finding = self.finding
        if finding is None:
            return "Checking…"
        return verdict_status(finding.verdict, finding.message, finding.hint, self.chosen)


def split_addresses(pasted: str) -> list[str]:
    """One address a line (blank lines and surrounding spaces ignored), first copy kept."""
    return list(dict.fromkeys(line.strip() for line in pasted.splitlines() if line.strip()))


def check_urls(
    urls: Sequence[str], target: Target, cancel: threading.Event, service_url: str | None = None
) -> Iterator[UrlFinding]:
    """Each address's finding, in the order they finish (``service_url``: see ``check_url``)."""
    with ThreadPoolExecutor(CHECKS_AT_ONCE, thread_name_prefix="urlcheck") as pool:
        waiting: set[Future[UrlFinding]] = set()
        queue = iter(urls)
        while True:
            while not cancel.is_set() and len(waiting) < CHECKS_AT_ONCE:
                url = next(queue, None)
                if url is None:
                    break
                waiting.add(pool.submit(check_url, url, target, service_url=service_url))
            if not waiting:
                return
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


class UrlModel(CheckTableModel[UrlRow]):
    HEADERS = ("Address", "Length", "Picture", "Size", "Check")
    TICK_COLUMN = Column.ADDRESS

    def _display(self, row: UrlRow, column: int) -> str:
        finding = row.finding
        if column == Column.ADDRESS:
            return row.url
        if column == Column.STATUS:
            return row.status
        if finding is None:
            return ""
        if column == Column.DURATION:
            return text.clock(finding.duration)
        if column == Column.RESOLUTION:
            return text.resolution(finding.width, finding.height)
        return short_size(finding.size) if finding.size is not None else ""

    def _more_data(self, row: UrlRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column in (Column.ADDRESS, Column.STATUS):
            return row.url if column == Column.ADDRESS else row.status
        return None

    def add(self, urls: Sequence[str]) -> list[str]:
        """Append rows for addresses not listed yet; returns those."""
        known = {r.url for r in self._rows}
        new = [u for u in urls if u not in known]
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(UrlRow(u) for u in new)
            self.endInsertRows()
        return new

    def apply(self, findings: Sequence[UrlFinding]) -> None:
        where = {r.url: n for n, r in enumerate(self._rows)}
        for finding in findings:
            number = where.get(finding.url)
            if number is not None:
                chosen = finding.verdict is Verdict.OK
                self._replace(number, UrlRow(finding.url, finding, chosen))

    def remove(self, urls: Sequence[str]) -> None:
        """Row by row, never a reset: the rows that stay keep their selection and place."""
        gone = set(urls)
        for number in reversed(range(len(self._rows))):
            if self._rows[number].url in gone:
                self.beginRemoveRows(QModelIndex(), number, number)
                del self._rows[number]
                self.endRemoveRows()

    def to_send(self) -> list[str]:
        return [r.url for r in self._rows if r.will_send]


class UrlTab(QWidget):
    """``upload_requested(urls)`` asks the window to queue the ticked, checked addresses."""

    upload_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._target = replace(DEFAULT_TARGET, kind=UploadKind.URL)
        self._service_url: str | None = None
        self._index_id: str | None = None
        self._streams: list[Stream] = []
        self._sending = False
        self.model = UrlModel(self)
        self._build()
        self.model.rowsInserted.connect(self._refresh)
        self.model.rowsRemoved.connect(self._refresh)
        self.model.dataChanged.connect(self._refresh)
        self._refresh()

    def _build(self) -> None:
        intro = QLabel(
            "Paste web addresses of videos the service can download, one a line. Each is "
            "checked before it can be sent."
        )
        intro.setWordWrap(True)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("urlEditor")
        self.editor.setAccessibleName("Web addresses, one a line")
        self.editor.setPlaceholderText("https://example.com/videos/interview-01.mp4")
        self.editor.setTabChangesFocus(True)
        self.editor.setMaximumHeight(110)
        self.check_button = button(
            "Check addresses",
            "Check the addresses",
            "Check every address typed or pasted above (Ctrl+Enter)",
            self.check_typed,
        )
        self.paste_button = button(
            "Paste addresses",
            "Paste addresses",
            "Paste addresses from the clipboard and check them (Ctrl+V)",
            self.paste,
        )
        for widget in (self.check_button, self.paste_button):
            widget.setAutoDefault(True)  # Enter on a focused button presses it, as Space does
        # In the text box Enter starts a new line; Ctrl+Enter checks what was typed, or with
        # nothing typed sends what was checked.
        for key in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut(key, self.editor, self._on_ctrl_enter, Qt.ShortcutContext.WidgetShortcut)
        self._enter_sends = False
        self.editor.installEventFilter(self)
        self.editor.textChanged.connect(self._on_typed)
        # Ctrl+V anywhere in the tab but the editor (which pastes as usual) adds and checks.
        shortcut(QKeySequence.StandardKey.Paste, self, self.paste)
        row = QHBoxLayout()
        row.addWidget(self.paste_button)
        row.addWidget(self.check_button)
        row.addStretch(1)

        self.table = QTableView(self)
        self.table.setObjectName("urlTable")
        self.table.setAccessibleName("Addresses to send")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(Column.ADDRESS, 320)

        self.summary = QLabel()
        self.summary.setAccessibleName("Check summary")
        self.upload_button = upload_button("queueUrlsButton", self.request_upload)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.upload_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.setTabOrder(self.editor, self.paste_button)
        self.setTabOrder(self.paste_button, self.check_button)
        self.setTabOrder(self.check_button, self.table)
        self.setTabOrder(self.table, self.upload_button)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter sends, as a dialog's default button would (a tab page has none): it reaches
        here from the list and the summary; the text box keeps it for a new line."""
        if plain_enter(event):
            self.request_upload()
            return
        super().keyPressEvent(event)

    @property
    def target(self) -> Target:
        """What the addresses are checked against: the index's models on the URL route."""
        return self._target

    def set_index(
        self, index_id: str | None, target: Target | None, service_url: str | None = None
    ) -> None:
        """Another index: its limits apply, so every address is checked again.

        A URL is fetched by the service, not uploaded from here, so the URL route's limits
        apply (``validation/limits.py``, by model version and route), not the file route's.
        ``service_url``, the API's address, says whether local addresses can be fetched.
        """
        checked_as = replace(target or DEFAULT_TARGET, kind=UploadKind.URL)
        changed = (index_id, checked_as, service_url) != (
            self._index_id,
            self._target,
            self._service_url,
        )
        self._index_id = index_id
        self._target = checked_as
        self._service_url = service_url
        if changed and self.model.rowCount():
            # The old index's checks still running would land on the rows after the new ones.
            self.shutdown()
            urls = [r.url for r in self.model.rows]
            self.model.remove(urls)
            self.add_urls(urls)
        self._refresh()

    def set_sending(self, sending: bool) -> None:
        self._sending = sending
        self._refresh()

    def mark_queued(self, urls: Sequence[str]) -> None:
        self.model.remove(urls)

    @Slot()
    def paste(self) -> None:
        """Ctrl+V: the clipboard's addresses are added and checked (the editor pastes as usual)."""
        if self.editor.hasFocus():
            self.editor.paste()
            return
        self.add_urls(split_addresses(QGuiApplication.clipboard().text()))

    @Slot()
    def _on_ctrl_enter(self) -> None:
        if self.editor.toPlainText().strip():
            self.check_typed()
            self._enter_sends = True  # until something is typed again
        else:
            self.request_upload()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """After a Ctrl+Enter check, Enter in the emptied text box sends what was checked.
        The focus stays in the box, so the next address typed at once lands there, never on
        a button; the first key typed makes Enter a new line again."""
        if (
            watched is self.editor
            and self._enter_sends
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and plain_enter(event)
        ):
            self.request_upload()
            return True
        return super().eventFilter(watched, event)

    @Slot()
    def _on_typed(self) -> None:
        self._enter_sends = False

    @Slot()
    def check_typed(self) -> None:
        urls = split_addresses(self.editor.toPlainText())
        if urls:
            self.editor.clear()
            self.add_urls(urls)

    def add_urls(self, urls: Sequence[str]) -> None:
        new = self.model.add(urls)
        if not new:
            return
        target, service_url = self._target, self._service_url
        stream = Stream(lambda cancel: check_urls(new, target, cancel, service_url), self)
        stream.batch.connect(self.model.apply)
        stream.finished.connect(lambda: self._on_finished(stream))
        self._streams.append(stream)
        stream.start()
        self._refresh()

    @Slot()
    def request_upload(self) -> None:
        urls = self.model.to_send()
        if urls and self.upload_button.isEnabled():
            self.upload_requested.emit(urls)

    def shutdown(self) -> None:
        """Stop the running checks; what they still find is dropped."""
        for stream in self._streams:
            stream.cancel()
            stream.batch.disconnect(self.model.apply)
        self._streams = []

    @property
    def checking(self) -> bool:
        return any(not s.done for s in self._streams)

    def _on_finished(self, stream: Stream) -> None:
        if stream in self._streams:
            self._streams.remove(stream)
        self._refresh()

    @Slot()
    def _refresh(self) -> None:
        rows = self.model.rows
        checked = sum(1 for r in rows if r.finding is not None)
        to_send = sum(1 for r in rows if r.will_send)
        cannot = sum(1 for r in rows if r.verdict is Verdict.REJECTED)
        if not rows:
            self.summary.setText("")
        elif checked < len(rows):
            self.summary.setText(f"Checking {checked:,} of {len(rows):,}…")
        else:
            parts = [f"{to_send:,} ready to send"]
            if cannot:
                parts.append(f"{cannot:,} can't be sent")
            self.summary.setText(f"{count(len(rows), 'address', 'addresses')}: " + ", ".join(parts))
        reason = None
        if self._sending:
            reason = "Adding the videos to the uploads…"
        elif self._index_id is None:
            reason = "Choose the index to send to first (at the top of the window)."
        elif not rows:
            reason = "Paste the web addresses of videos first."
        elif to_send == 0:
            reason = (
                "Still checking the addresses…"
                if self.checking
                else ("None of the addresses can be sent: each row says why.")
            )
        show_upload(self.upload_button, to_send, reason)
