"""The tray icon: progress while videos move, a notification when a batch ends or one fails.

Quiet when fine (no dialog for success), so the person can leave the app working in the
background (docs/task-list.md, "Tray").
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSystemTrayIcon

from uploader_app.gui.places import app_icon
from uploader_app.gui.task_model import Category, TaskTableModel
from uploader_app.gui.workers import EngineHost
from uploader_app.jobs.events import EngineEvent, JobChanged
from uploader_app.models import JobState
from uploader_app.validation.messages import count

logger = logging.getLogger(__name__)

# The tray redraws its progress ring at most this often: a tray icon is not a progress bar.
REDRAW_SECONDS = 1.0
_ICON_SIZE = 64


class Tray(QObject):
    """Follows the engine's events; ``notified`` carries every notification it raised."""

    notified = Signal(str, str)  # title, message

    def __init__(
        self, host: EngineHost, model: TaskTableModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        # The app's own icon (resources/icon.svg, found in the bundle too): without one the
        # platform shows no tray icon, and so no notification either.
        self._base = app_icon()
        self._icon = QSystemTrayIcon(self._base, self)
        self._icon.setToolTip("Video Indexing Uploader")
        self._notifications = True
        self._finished: dict[JobState, int] = {}
        self._drawn_at = 0.0
        self._percent: int | None = None
        # The batch's end is judged once the list and this tray have both taken in a burst of
        # events, whichever of them Qt calls first.
        self._check = QTimer(self)
        self._check.setSingleShot(True)
        self._check.setInterval(0)
        self._check.timeout.connect(self._check_batch_end)
        host.events.connect(self._on_events)
        model.counts_changed.connect(self._check.start)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._icon.show()

    @property
    def icon(self) -> QSystemTrayIcon:
        return self._icon

    def set_notifications(self, enabled: bool) -> None:
        """The notifications setting: off means no pop-ups; the icon still shows progress."""
        self._notifications = enabled

    def _on_events(self, events: list[EngineEvent]) -> None:
        for event in events:
            if not isinstance(event, JobChanged):
                continue
            job = event.job
            if job.state.is_terminal and job.state is not JobState.REJECTED:
                self._finished[job.state] = self._finished.get(job.state, 0) + 1
            if job.state is JobState.FAILED:
                reason = job.error_message or "The service could not index it."
                self._notify(f"{job.name} was not indexed", reason)
        self._show_progress()
        self._check.start()

    def _check_batch_end(self) -> None:
        """A batch ends when nothing is left to do; say how it went, once."""
        counts = self._model.counts()
        if counts[Category.ACTIVE] or not self._finished:
            return
        done = self._finished.get(JobState.READY, 0) + self._finished.get(
            JobState.ALREADY_IN_INDEX, 0
        )
        failed = self._finished.get(JobState.FAILED, 0)
        stopped = self._finished.get(JobState.CANCELLED, 0)
        self._finished.clear()
        parts = []
        if done:
            parts.append(f"{count(done, 'video')} {'is' if done == 1 else 'are'} in the index.")
        if failed:
            parts.append(
                f"{failed if parts else count(failed, 'video')} failed: the list says why."
            )
        if stopped:
            parts.append(f"{stopped if parts else count(stopped, 'video')} stopped.")
        self._notify("Uploads finished", " ".join(parts))
        self._set_percent(None)

    def _notify(self, title: str, message: str) -> None:
        if not self._notifications:
            return
        self.notified.emit(title, message)
        if self._icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self._icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information)

    def _show_progress(self) -> None:
        """The share of this batch's bytes sent, drawn as a ring and said in the tooltip."""
        now = time.monotonic()
        if now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        sent, total = self._model.batch_bytes()
        self._set_percent(int(sent * 100 / total) if total else None)

    def _set_percent(self, percent: int | None) -> None:
        if percent == self._percent:
            return
        self._percent = percent
        if percent is None:
            self._icon.setIcon(self._base)
            self._icon.setToolTip("Video Indexing Uploader")
            return
        active = self._model.counts()[Category.ACTIVE]
        self._icon.setToolTip(f"Video Indexing Uploader: {active} on their way, {percent}% sent")
        self._icon.setIcon(_ring(self._base, percent))

    @property
    def percent(self) -> int | None:
        return self._percent


def _ring(base: QIcon, percent: int) -> QIcon:
    """The app icon with a progress ring around it, so the tray shows how far the batch is."""
    pixmap = QPixmap(_ICON_SIZE, _ICON_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    base.paint(painter, 8, 8, _ICON_SIZE - 16, _ICON_SIZE - 16)
    rect = QRectF(3, 3, _ICON_SIZE - 6, _ICON_SIZE - 6)
    painter.setPen(QPen(QColor(128, 128, 128, 90), 5))
    painter.drawEllipse(rect)
    arc = QPen(QColor(46, 160, 67), 5)
    arc.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(arc)
    painter.drawArc(rect, 90 * 16, -int(percent * 360 * 16 / 100))
    painter.end()
    return QIcon(pixmap)
