"""The Files tab: drop videos or folders, see each one checked, send the good ones.

Dropped folders are listed first (a 10,000-file folder in well under a second) so every row
appears at once, then probed on the validation pool; both happen in a :class:`Stream` worker
and reach the table in batches. Changing the index re-checks the list, because the limits
change with the index's models.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from uploader_app.gui.background import FLUSH, Stream
from uploader_app.gui.controls import (
    button,
    focus_unless_typing,
    plain_enter,
    shortcut,
    show_upload,
    upload_button,
)
from uploader_app.gui.findings_model import Column, FileRow, FindingsModel, Tally
from uploader_app.models import Finding, Target
from uploader_app.validation.messages import count

if TYPE_CHECKING:
    from PySide6.QtCore import QUrl

    from uploader_app.validation.scan import Candidate

logger = logging.getLogger(__name__)

LAST_FOLDER_KEY = "files/last_folder"
# Without an index yet, check as the CLI does without --index: Marengo with sight and sound.
DEFAULT_TARGET = Target(listens_to_audio=True)


def check_files(
    roots: Sequence[Path],
    again: Sequence[FileRow],
    target: Target,
    api_version: str | None,
    cancel: threading.Event,
) -> Iterator[Candidate | Finding | object]:
    """Every file found (a Candidate, so its row can appear), then one Finding per file.

    ``roots`` are dropped files and folders; ``again`` rows already listed that need a new
    verdict. Folders are listed in full before probing starts: listing is quick, and the user
    sees the whole list and a true "Checking 10 of 10,000" at once.
    """
    # The checks load with the first files, not with the window (docs/gui.md, "Start-up").
    from uploader_app.validation.pool import default_workers, imap_unordered  # noqa: PLC0415
    from uploader_app.validation.scan import Candidate, check_item, walk  # noqa: PLC0415
    from uploader_app.validation.subtitles import find_subtitle  # noqa: PLC0415

    items: list[Candidate | Finding] = []
    for item in walk(roots, cancel):
        items.append(item)
        if isinstance(item, Candidate):
            yield item
    for row in again:
        if cancel.is_set():
            return
        items.append(Candidate(row.path, row.relative, row.explicit, find_subtitle(row.path)))
    yield FLUSH  # every row on screen now, even if the first probe takes seconds
    work = partial(check_item, target=target, api_version=api_version)
    # Probe threads share this process with the window: one core fewer than the worker
    # processes, which run at a lower priority, so the window always has a core of its own
    # (docs/gui.md, "The GUI thread while uploads run").
    in_window = max(1, default_workers() - 1)
    yield from imap_unordered(work, items, thread_workers=in_window, yield_cpu=True, cancel=cancel)


def local_paths(urls: Iterable[QUrl]) -> list[Path]:
    """The local files and folders among dropped URLs (web links are the URL tab's)."""
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile() and u.toLocalFile()]


class DropZone(QFrame):
    """The dashed area that says where to drop; highlighted while something is dragged over."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAccessibleName("Drop videos or folders here")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.set_highlighted(False)

    def set_highlighted(self, on: bool) -> None:
        self.setProperty("highlighted", on)
        # The palette's own colours, so the highlight follows light and dark themes.
        border = "palette(highlight)" if on else "palette(mid)"
        background = "palette(alternate-base)" if on else "palette(base)"
        self.setStyleSheet(
            f"#dropZone {{ border: 2px dashed {border}; border-radius: 8px;"
            f" background: {background}; }}"
        )


class FilesTab(QWidget):
    """``upload_requested(findings)`` asks the window to queue the ticked, checked files."""

    upload_requested = Signal(list)
    busy_changed = Signal(bool)

    def __init__(self, state: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._target = DEFAULT_TARGET
        self._api_version: str | None = None
        self._index_id: str | None = None
        self._limits = ""
        self._streams: list[Stream] = []
        # index id -> paths with a job in that index (fed by the window from engine events)
        self._sent: dict[str, set[str]] = {}
        self._sending = False
        self._broken = ""  # a check that broke down, said until the list changes
        self._focus_upload = False
        self.model = FindingsModel(self)
        self.setAcceptDrops(True)
        self._build()
        self.model.rowsInserted.connect(self._refresh)
        self.model.rowsRemoved.connect(self._refresh)
        self.model.dataChanged.connect(self._refresh)
        self.model.modelReset.connect(self._refresh)
        self._refresh()

    # ---- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        style = self.style()
        intro = QLabel("Send videos from this computer: drop them or whole folders below.")
        intro.setWordWrap(True)

        self.add_files_action = QAction("Add &files…", self)
        self.add_files_action.setShortcut(QKeySequence.StandardKey.Open)
        self.add_files_action.triggered.connect(self.choose_files)
        self.add_folder_action = QAction("Add f&older…", self)
        self.add_folder_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.add_folder_action.triggered.connect(self.choose_folder)

        self.drop_zone = DropZone(self)
        picture = QLabel()
        picture.setPixmap(style.standardIcon(QStyle.StandardPixmap.SP_DirIcon).pixmap(48, 48))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._picture = picture
        self.drop_label = QLabel("Drop videos or folders here")
        self.drop_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.drop_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.drop_label.setFont(font)
        self.limits_label = QLabel()
        self.limits_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.limits_label.setAccessibleName("Limits of the chosen index")
        self.add_files_button = button(
            "Add files…", "Add files", "Choose videos to add (Ctrl+O)", self.choose_files
        )
        self.add_folder_button = button(
            "Add folder…",
            "Add folder",
            "Add every video in a folder (Ctrl+Shift+O)",
            self.choose_folder,
        )
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_folder_button)
        buttons.addStretch(1)
        zone = QVBoxLayout(self.drop_zone)
        zone.addStretch(1)
        zone.addWidget(picture)
        zone.addWidget(self.drop_label)
        zone.addWidget(self.limits_label)
        zone.addLayout(buttons)
        zone.addStretch(1)

        self.table = QTableView(self)
        self.table.setObjectName("filesTable")
        self.table.setAccessibleName("Files to send")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setAcceptDrops(False)  # drops land on the tab, which handles them
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in (
            (Column.NAME, 220),
            (Column.FOLDER, 160),
            (Column.DURATION, 70),
            (Column.RESOLUTION, 90),
            (Column.SIZE, 80),
        ):
            header.resizeSection(column, width)
        # Uniform row heights: the view never measures 10,000 rows one by one.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)

        self.summary = QLabel()
        self.summary.setAccessibleName("Check summary")
        self.summary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.accept_button = QPushButton("Send those with warnings too")
        self.accept_button.setAccessibleName("Send files with warnings too")
        self.accept_button.clicked.connect(self.model.accept_warnings)
        self.clear_button = QPushButton("Clear list")
        self.clear_button.setAccessibleName("Clear the list of files")
        self.clear_button.clicked.connect(self.clear)
        self.upload_button = upload_button("uploadButton", self.request_upload)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.clear_button)
        bottom.addWidget(self.accept_button)
        bottom.addWidget(self.upload_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.drop_zone, 1)
        layout.addWidget(self.table, 3)
        layout.addLayout(bottom)
        # Delete takes the selected files off this list (nothing on disk is touched).
        shortcut(
            QKeySequence.StandardKey.Delete,
            self.table,
            self.remove_selected,
            Qt.ShortcutContext.WidgetShortcut,
        )
        # Enter on a focused button presses that button (a shortcut on the tab took Enter
        # from it: "Clear list" sent the files); elsewhere in the tab it sends (keyPressEvent).
        for widget in (
            self.add_files_button,
            self.add_folder_button,
            self.clear_button,
            self.accept_button,
        ):
            widget.setAutoDefault(True)
        self.setTabOrder(self.add_files_button, self.add_folder_button)
        self.setTabOrder(self.add_folder_button, self.table)
        self.setTabOrder(self.table, self.clear_button)
        self.setTabOrder(self.clear_button, self.accept_button)
        self.setTabOrder(self.accept_button, self.upload_button)

    # ---- what the window tells us --------------------------------------------------------

    def set_index(
        self,
        index_id: str | None,
        target: Target | None,
        api_version: str | None,
        limits: str = "",
    ) -> None:
        """A new target index: re-check what is listed against its limits."""
        changed = (index_id, target) != (self._index_id, self._target)
        self._index_id = index_id
        self._target = target or DEFAULT_TARGET
        self._api_version = api_version
        self._limits = limits
        self.limits_label.setText(limits)
        if changed and self.model.rowCount():
            self._cancel_streams()
            again = self.model.recheck()
            self._start(roots=[], again=again)
        self._refresh()

    def note_sent(self, index_id: str, path: str) -> None:
        """A job for ``path`` exists in ``index_id`` (from the engine's events)."""
        self._sent.setdefault(index_id, set()).add(path)

    def set_sending(self, sending: bool) -> None:
        """While the window queues the files, the button waits."""
        self._sending = sending
        self._refresh()

    def mark_queued(self, paths: Iterable[Path]) -> None:
        """These files are in the upload list now: they leave this one."""
        listed = list(paths)
        for path in listed:
            if self._index_id is not None:
                self.note_sent(self._index_id, str(path))
        self.model.remove_paths(listed)

    # ---- actions -------------------------------------------------------------------------

    @Slot()
    def choose_files(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415 - a dialog loads when opened

        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Add videos",
            self._last_folder(),
            "Videos (*.mp4 *.mov *.m4v *.mkv *.webm *.avi *.wmv *.mpg *.mpeg *.mts *.m2ts *.ts"
            " *.3gp *.flv *.mxf);;All files (*)",
        )
        if names:
            self._remember_folder(Path(names[0]).parent)
            self.add_paths([Path(n) for n in names])

    @Slot()
    def choose_folder(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415 - a dialog loads when opened

        name = QFileDialog.getExistingDirectory(self, "Add a folder of videos", self._last_folder())
        if name:
            self._remember_folder(Path(name).parent)
            self.add_paths([Path(name)])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter sends, as a dialog's default button would (a tab page has none): it reaches
        here from the list; a focused button takes it itself."""
        if plain_enter(event):
            self.request_upload()
            return
        super().keyPressEvent(event)

    def add_paths(self, paths: Sequence[Path], *, focus_upload: bool = False) -> None:
        """List and check files and folders (dropped, chosen or given on the command line).

        ``focus_upload``: the files were handed over (command line, the app's icon), so no
        control has the focus yet; once the verdicts are in and the index is known, the Upload
        button takes it and Enter sends.
        """
        if paths:
            self._focus_upload = self._focus_upload or focus_upload
            self._start(roots=list(paths), again=[])

    @Slot()
    def request_upload(self) -> None:
        if not self.upload_button.isEnabled():
            return
        findings = self.model.to_send()
        if findings:
            self.upload_requested.emit(findings)

    @Slot()
    def remove_selected(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        self.model.remove_paths([self.model.rows[r].path for r in rows])

    @Slot()
    def clear(self) -> None:
        self._cancel_streams()
        self._broken = ""
        self.model.clear()

    @property
    def checking(self) -> bool:
        return any(not s.done for s in self._streams)

    @property
    def index_id(self) -> str | None:
        return self._index_id

    def shutdown(self) -> None:
        self._cancel_streams()

    # ---- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
            self.drop_zone.set_highlighted(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_zone.set_highlighted(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_zone.set_highlighted(False)
        paths = local_paths(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

    # ---- internals -----------------------------------------------------------------------

    def _start(self, roots: list[Path], again: list[FileRow]) -> None:
        self._broken = ""
        target, version = self._target, self._api_version
        stream = Stream(lambda cancel: check_files(roots, again, target, version, cancel), self)
        stream.batch.connect(self._on_batch)
        stream.failed.connect(self._on_failed)
        stream.finished.connect(lambda: self._on_stream_finished(stream))
        self._streams.append(stream)
        stream.start()
        self.busy_changed.emit(True)
        self._refresh()

    def _cancel_streams(self) -> None:
        for stream in self._streams:
            stream.cancel()
            stream.batch.disconnect(self._on_batch)
        self._streams = []

    @Slot(list)
    def _on_batch(self, items: list[Candidate | Finding]) -> None:
        found = [(c.path, c.relative_path, c.explicit) for c in items if not isinstance(c, Finding)]
        if found:
            self.model.add_found(found)
        findings = [f for f in items if isinstance(f, Finding)]
        if findings:
            sent = frozenset(self._sent.get(self._index_id or "", ()))
            self.model.apply_findings(findings, sent)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        logger.error("checking files failed: %r", error)
        self._broken = (
            "Checking stopped on an unexpected problem. Add the files again; if it happens "
            "again, the log file has the details."
        )
        self._refresh()

    def _on_stream_finished(self, stream: Stream) -> None:
        if stream in self._streams:
            self._streams.remove(stream)
        if not self._streams:
            self.busy_changed.emit(False)
        self._refresh()

    def _last_folder(self) -> str:
        value = self._state.value(LAST_FOLDER_KEY, "")
        return str(value) if value else str(Path.home())

    def _remember_folder(self, folder: Path) -> None:
        self._state.setValue(LAST_FOLDER_KEY, str(folder))

    @Slot()
    def _refresh(self) -> None:
        tally = self.model.tally()
        empty = tally.total == 0
        self.table.setVisible(not empty)
        self._picture.setVisible(empty)
        self.limits_label.setVisible(empty and bool(self._limits))
        self.drop_label.setText(
            "Drop videos or folders here" if empty else "Drop more videos or folders here"
        )
        self.clear_button.setEnabled(not empty)
        self.accept_button.setVisible(self.model.unticked_warnings > 0)
        self.summary.setText(self._broken or self._summary_text(tally))
        show_upload(self.upload_button, tally.to_send, self._why_not(tally.to_send))
        if self._focus_upload and self.upload_button.isEnabled() and not self.checking:
            self._focus_upload = False
            focus_unless_typing(self.upload_button)

    @staticmethod
    def _summary_text(tally: Tally) -> str:
        if tally.total == 0:
            return ""
        parts = [f"{tally.ready:,} ready"]
        if tally.warnings:
            parts.append(count(tally.warnings, "with a warning", "with warnings"))
        if tally.cannot:
            parts.append(f"{tally.cannot:,} can't be sent")
        if tally.skipped:
            parts.append(f"{tally.skipped:,} left out")
        done = ", ".join(parts)
        if tally.checked < tally.total:
            return f"Checking {tally.checked:,} of {tally.total:,}… {done}"
        return f"{count(tally.total, 'file')}: {done}"

    def _why_not(self, to_send: int) -> str | None:
        """Why the Upload button is disabled, in words; None when it can be pressed."""
        if self._sending:
            return "Adding the videos to the uploads…"
        if self._index_id is None:
            return "Choose the index to send to first (at the top of the window)."
        if to_send == 0:
            if self.model.rowCount() == 0:
                return "Add videos first: drop them here or use Add files…"
            if self.checking:
                return "Still checking the files…"
            return "None of the listed files can be sent: each row says why."
        return None
