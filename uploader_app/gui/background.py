"""Blocking work off the GUI thread: a QObject worker moved to a QThread
(docs/ux.md, "How the window's code is built").

:class:`Stream` runs a producer (a function returning an iterable) in its own thread and hands
its items to the GUI thread in batches, at most every ``BATCH_INTERVAL`` seconds, so a scan of
10,000 files repaints a few times a second instead of once per file. :func:`run_in_background`
is the one-off case: one call, its result or its exception delivered to the GUI thread.

Cancel goes through a ``threading.Event`` the producer checks, never through a queued signal:
the worker thread is busy in the producer and would only see the signal when it is done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

logger = logging.getLogger(__name__)

T = TypeVar("T")

BATCH_INTERVAL = 0.05  # seconds: 20 repaints a second at most, yet a person sees no delay

Producer = Callable[[threading.Event], Iterable[Any]]

# A producer yields this to hand over what it has now, before it starts on something slow
# (the files listed before the first probe), instead of waiting for the next batch time.
FLUSH = object()

# Streams still running: a Stream must outlive the caller's local variable until its thread
# has finished, or Qt destroys a running QThread.
_RUNNING: set[Stream] = set()
# While the window is built and painted for the first time, streams asked for wait here and
# start after (docs/gui.md, "Start-up"): their threads would take the interpreter lock from the
# first frame. None when nothing is held.
_HELD: list[Stream] | None = None


class _Worker(QObject):
    """Runs the producer on its thread; items go to ``put``, the GUI thread collects them."""

    flush = Signal()
    failed = Signal(object)
    finished = Signal()

    def __init__(
        self, producer: Producer, cancel: threading.Event, put: Callable[[Any], None]
    ) -> None:
        super().__init__()
        self._producer = producer
        self._cancel = cancel
        self._put = put

    @Slot()
    def run(self) -> None:
        try:
            for item in self._producer(self._cancel):
                if item is FLUSH:
                    self.flush.emit()
                else:
                    self._put(item)
        except Exception as exc:
            # Handed to the GUI thread, which words it for the user. A service's answer is an
            # expected outcome; anything else gets its traceback for the person who helps.
            from uploader_app.api.errors import ApiError  # noqa: PLC0415 - loaded by a call

            if isinstance(exc, ApiError):
                logger.info("background work failed: %r", exc)
            else:
                logger.exception("background work failed")
            self.failed.emit(exc)
        finally:
            self.finished.emit()
            # Quit from here, not from the GUI thread's slot, so wait() at shutdown cannot
            # deadlock on a GUI thread that is itself waiting.
            thread = self.thread()
            thread.quit()


class Stream(QObject):
    """A producer running in its own QThread; ``batch`` carries lists of its items.

    Items wait in a list the GUI thread empties every ``BATCH_INTERVAL`` on a timer, so none
    waits for the next one to be produced (a slow probe or URL check after a quick one), and
    the view repaints at most 20 times a second. ``finished`` is emitted once, after the last
    batch, whether the producer ended, failed or was cancelled.
    """

    batch = Signal(list)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, producer: Producer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._timer = QTimer(self)
        self._timer.setInterval(round(BATCH_INTERVAL * 1000))
        self._timer.timeout.connect(self._hand_over)
        self._thread = QThread()
        self._thread.setObjectName("stream")
        self._worker = _Worker(producer, self.cancel_event, self._put)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # Queued: these arrive in this (the GUI) thread's event loop.
        self._worker.flush.connect(self._hand_over)
        self._worker.failed.connect(self._on_worker_failed)
        self._worker.finished.connect(self._on_worker_finished)
        self._done = False

    def start(self, *, now: bool = False) -> None:
        """Start the producer, or, while the first frame holds work, queue it; ``now`` starts
        it anyway (what the held work itself waits for)."""
        if _HELD is not None and not now:
            _HELD.append(self)
            return
        _RUNNING.add(self)
        self._timer.start()
        self._thread.start()

    def cancel(self) -> None:
        """Ask the producer to stop; ``finished`` still follows."""
        self.cancel_event.set()

    @property
    def done(self) -> bool:
        return self._done

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Block until the thread has ended (shutdown and tests only, never in a slot)."""
        return self._thread.wait(timeout_ms)

    def _put(self, item: Any) -> None:
        """Called on the worker thread."""
        with self._lock:
            self._pending.append(item)

    @Slot()
    def _hand_over(self) -> None:
        with self._lock:
            items, self._pending = self._pending, []
        if items:
            self.batch.emit(items)

    @Slot(object)
    def _on_worker_failed(self, error: object) -> None:
        self._hand_over()  # what came before the failure arrives before it
        self.failed.emit(error)

    @Slot()
    def _on_worker_finished(self) -> None:
        self._thread.wait()
        self._timer.stop()
        self._hand_over()
        self._done = True
        _RUNNING.discard(self)
        self.finished.emit()


def run_in_background(
    fn: Callable[[], T],
    on_done: Callable[[T], None],
    on_error: Callable[[BaseException], None],
    parent: QObject | None = None,
    *,
    now: bool = False,
) -> Stream:
    """Call ``fn`` in a worker thread; ``on_done(result)`` or ``on_error(exc)`` in this one.
    Held while the first frame is drawn, unless ``now`` (see :meth:`Stream.start`)."""
    stream = Stream(lambda _cancel: (fn(),), parent)
    stream.batch.connect(lambda items: on_done(items[0]))
    stream.failed.connect(on_error)
    stream.start(now=now)
    return stream


def hold() -> None:
    """Streams started from now on wait until :func:`release`."""
    global _HELD  # noqa: PLW0603 - one start-up gate for the GUI thread
    if _HELD is None:
        _HELD = []


def release() -> None:
    """Start the streams that waited since :func:`hold`, in the order they were asked for."""
    global _HELD
    held, _HELD = _HELD or [], None
    for stream in held:
        stream.start()


def cancel_all(timeout_ms: int = 5000) -> None:
    """Cancel every running stream and wait for its thread (at quit, so none is destroyed
    while it runs); streams still held are dropped unstarted."""
    global _HELD  # noqa: PLW0603
    _HELD = None
    for stream in list(_RUNNING):
        stream.cancel()
    for stream in list(_RUNNING):
        stream.wait(timeout_ms)
