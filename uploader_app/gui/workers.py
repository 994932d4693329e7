"""The engine's blocking work on QThreads, and its events back on the GUI thread.

Each worker is a QObject moved to its own QThread that loops one unit of the engine
(``claim_upload``/``run_upload``, or ``poll_once``). While an upload runs its thread sits in
``requests``, so a queued cancel signal would wait; instead the GUI sets a ``threading.Event``
that the engine checks between pieces (docs/task-list.md, "Workers").
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import is_dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from uploader_app.gui.background import Stream, run_in_background
from uploader_app.jobs.events import EngineEvent, JobChanged
from uploader_app.models import Job, JobState

if TYPE_CHECKING:
    from uploader_app.jobs.engine import Engine, EngineSettings, Totals

logger = logging.getLogger(__name__)

# An idle upload worker looks for new work this often even if nobody wakes it: another
# process (the CLI) may have queued jobs in the same store.
IDLE_WAIT = 1.0
# After an unexpected error a worker waits this long before it tries again, so a broken
# store or network never spins a core.
ERROR_WAIT = 5.0
# How long shutdown waits for a worker thread to leave its loop; the engine answers a cancel
# within 1 s (docs/engine.md), the rest is slack for a slow disk.
JOIN_TIMEOUT_MS = 10_000
# Jobs in these states have not reached the service yet: closing the window asks about them.
UNSENT = frozenset({JobState.QUEUED, JobState.CHECKING, JobState.UPLOADING, JobState.PAUSED})


class _LoopWorker(QObject):
    """A loop run on its own thread until ``stop``; ``wake`` cuts an idle wait short."""

    finished = Signal()

    def __init__(self, engine: Engine, name: str) -> None:
        super().__init__()
        self.engine = engine
        self.name = name
        self._stop = threading.Event()
        self._wake = threading.Event()

    @Slot()
    def run(self) -> None:
        logger.debug("%s started", self.name)
        try:
            while not self._stop.is_set():
                try:
                    wait = self.step()
                except Exception:
                    logger.exception("%s: unexpected error; trying again shortly", self.name)
                    wait = ERROR_WAIT
                if wait > 0 and self._wake.wait(wait):
                    self._wake.clear()
        finally:
            logger.debug("%s stopped", self.name)
            self.finished.emit()
            # Quit from this thread: a queued quit would wait for the GUI thread, which may
            # itself be waiting for this thread in shutdown().
            self.thread().quit()

    def step(self) -> float:
        """One unit of work; returns how long to wait before the next."""
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Leave the loop after the current unit."""
        self._stop.set()
        self._wake.set()


class UploadWorker(_LoopWorker):
    """Claims the next queued job and uploads it, one at a time."""

    def __init__(self, engine: Engine, name: str) -> None:
        super().__init__(engine, name)
        self._lock = threading.Lock()
        self._cancel: threading.Event | None = None

    def step(self) -> float:
        job = self.engine.claim_upload(self.name)
        if job is None:
            return IDLE_WAIT
        # A fresh event per upload: the engine sets it to pause or cancel this one job, and a
        # set event must not stop the next job this worker claims.
        cancel = threading.Event()
        with self._lock:
            if self._stop.is_set():
                cancel.set()  # shutdown came between the claim and now: hand the job back
            self._cancel = cancel
        try:
            self.engine.run_upload(job.id, cancel)
        finally:
            with self._lock:
                self._cancel = None
        return 0.0

    def cancel(self) -> None:
        """Interrupt the running upload now (the engine keeps it resumable) and stop."""
        with self._lock:
            self.stop()
            if self._cancel is not None:
                self._cancel.set()


class PollWorker(_LoopWorker):
    """Asks the service how the jobs on it are doing, as often as the engine says."""

    def step(self) -> float:
        wait: float = self.engine.poll_once()
        return max(0.05, wait)


class EngineHost(QObject):
    """Owns the engine and its worker threads; every engine event comes out of ``event`` on
    the GUI thread (``events`` carries the same events a burst at a time)."""

    # The contract's name; it hides QObject.event() only for type checkers, Qt still finds
    # the C++ virtual (a queued call to this object is delivered, tests/gui prove it).
    event = Signal(object)  # type: ignore[assignment]
    events = Signal(list)
    _arrived = Signal()

    def __init__(
        self,
        make_engine: Callable[[Callable[[EngineEvent], None]], Engine],
        *,
        uploads: int = 2,
        parent: QObject | None = None,
    ) -> None:
        """``make_engine(on_event)`` builds the engine with the host's event callback, at the
        first use of :attr:`engine` (:meth:`start`, after the window's first frame)."""
        super().__init__(parent)
        self._lock = threading.Lock()
        self._incoming: list[EngineEvent] = []
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._make_engine = make_engine
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._uploads = max(1, uploads)
        self._workers: list[tuple[_LoopWorker, QThread]] = []
        self._names = itertools.count(1)
        self._calls: set[Stream] = set()
        self._started = False

    @property
    def engine(self) -> Engine:
        """Built on first use, from any thread: the engine's modules and its job list are
        loaded after the window is shown, not before (docs/gui.md, "Start-up")."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._make_engine(self._on_engine_event)
            return self._engine

    @property
    def running(self) -> bool:
        return self._started

    @property
    def upload_workers(self) -> int:
        return sum(isinstance(w, UploadWorker) for w, _ in self._workers)

    def start(self) -> None:
        """Start the upload workers and the poller; jobs left from last time continue."""
        if self._started:
            return
        self._started = True
        self._launch(PollWorker(self.engine, "poller"))
        self.set_concurrency(self._uploads)

    def set_concurrency(self, uploads: int) -> None:
        """Run ``uploads`` uploads at once; extra workers finish their upload, then leave."""
        self._uploads = max(1, uploads)
        # The engine reads this limit at every claim, across every process on the store.
        if self._engine is not None:  # else start() gives it to the engine it builds
            self._engine.settings = _with_uploads(self._engine.settings, self._uploads)
        if not self._started:
            return
        uploaders = [w for w, _ in self._workers if isinstance(w, UploadWorker)]
        for worker in uploaders[self._uploads :]:
            worker.stop()
        for _ in range(self._uploads - len(uploaders)):
            # The lease owner must be unique across processes sharing the store.
            name = f"{os.getpid()}-gui-upload-{next(self._names)}-{id(self)}"
            self._launch(UploadWorker(self.engine, name))

    def wake(self) -> None:
        """Look for work now (after jobs were added), not at the next idle tick."""
        for worker, _ in self._workers:
            worker.wake()

    def jobs(self) -> list[Job]:
        """The engine's jobs; blocking (and it builds the engine on first use): call it in a
        worker, e.g. through :meth:`run_in_background`."""
        return self.engine.jobs()

    def totals(self) -> Totals:
        """The engine's totals; blocking, as :meth:`jobs` is."""
        return self.engine.totals()

    def unsent_jobs(self) -> list[int]:
        """Ids of jobs whose video has not reached the service yet (asked about on close)."""
        return [job.id for job in self.jobs() if job.state in UNSENT]

    def shutdown(self, keep: bool) -> None:
        """Stop every worker. ``keep`` leaves unfinished jobs to continue next time; otherwise
        they are cancelled first (they stay in the list, and Try again sends them later)."""
        if not keep:
            unsent = self.unsent_jobs()
            if unsent:
                self.engine.cancel(unsent)
        for worker, _ in self._workers:
            if isinstance(worker, UploadWorker):
                worker.cancel()
            else:
                worker.stop()
        for worker, thread in list(self._workers):
            if not thread.wait(JOIN_TIMEOUT_MS):
                logger.warning("%s did not stop in time", worker.name)
        self._workers.clear()
        for call in list(self._calls):
            call.wait(JOIN_TIMEOUT_MS)
        self._started = False
        self._deliver()

    def run_in_background(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a blocking call off the GUI thread; ``on_done``/``on_error`` run on it."""
        call = run_in_background(fn, on_done or _ignore, on_error or _log_error, self)
        self._calls.add(call)
        call.finished.connect(lambda: self._calls.discard(call))

    def control(
        self,
        method: Callable[[list[int]], Any],
        ids: Sequence[int],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """``method(ids)`` (an engine control such as ``engine.pause``) in the background,
        then wake the workers so a resumed or retried job starts at once."""
        chosen = list(ids)

        def done(result: Any) -> None:
            self.wake()
            if on_done is not None:
                on_done(result)

        self.run_in_background(lambda: method(chosen), done, on_error)

    # -- events from worker threads --------------------------------------------------------

    def _on_engine_event(self, event: EngineEvent) -> None:
        """Called on any thread: queue the event and, once per burst, nudge the GUI thread."""
        with self._lock:
            self._incoming.append(event)
            first = len(self._incoming) == 1
        if first:
            self._arrived.emit()
        if not isinstance(event, JobChanged):
            return
        if event.job.state is JobState.QUEUED:
            self.wake()
        elif event.job.state is JobState.ON_SERVICE:
            # The poller only, for its quick first look (Engine.wait_poll), as the command
            # line's runner is (it slept out its idle wait before). Every status the poller
            # reads is such news: waking the upload workers too cost each a write on the job
            # list per status of every video.
            for worker, _ in self._workers:
                if isinstance(worker, PollWorker):
                    worker.wake()

    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            batch, self._incoming = self._incoming, []
        if not batch:
            return
        self.events.emit(batch)
        for event in batch:
            self.event.emit(event)

    def _launch(self, worker: _LoopWorker) -> None:
        thread = QThread(self)
        thread.setObjectName(worker.name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        thread.finished.connect(self._prune)
        self._workers.append((worker, thread))
        thread.start()

    @Slot()
    def _prune(self) -> None:
        """Drop workers whose thread ended (fewer uploads asked for); runs on the GUI thread."""
        for worker, thread in [(w, t) for w, t in self._workers if t.isFinished()]:
            self._workers.remove((worker, thread))
            worker.deleteLater()
            thread.deleteLater()


def _with_uploads(settings: EngineSettings, uploads: int) -> EngineSettings:
    """The same settings with another number of concurrent uploads."""
    if settings.concurrent_uploads == uploads:
        return settings
    plain: object = settings  # the protocol says nothing of dataclasses; the objects are
    if not is_dataclass(plain) or isinstance(plain, type):
        raise TypeError("engine settings must be a dataclass to change them while running")
    return cast("EngineSettings", replace(plain, concurrent_uploads=uploads))


def _ignore(_result: object) -> None:
    """The default ``on_done``: nothing to do with the result."""


def _log_error(error: BaseException) -> None:
    logger.warning("background call failed: %s", error)
