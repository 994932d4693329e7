"""Plain threads that run the engine's units of work (the CLI's runner; the window has its
own QThread workers looping over the same units)."""

from __future__ import annotations

import logging
import threading
import time

from uploader_app.jobs.engine import Engine

logger = logging.getLogger(__name__)

IDLE_WAIT = 0.2  # seconds an upload thread waits when nothing is queued


class ThreadRunner:
    """``uploads`` threads loop claim_upload/run_upload; one thread loops poll_once."""

    def __init__(self, engine: Engine, uploads: int) -> None:
        self.engine = engine
        self.uploads = uploads
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._cancels: list[threading.Event] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._stop.clear()
        for n in range(self.uploads):
            self._spawn(self._upload_loop, f"upload-{n}")
        self._spawn(self._poll_loop, "poller")

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop every thread; running uploads go back to the queue for the next start."""
        self._stop.set()
        self.engine.wake_poller()
        with self._lock:
            for cancel in self._cancels:
                cancel.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is left for a runner to move on (all terminal, or waiting for
        the user: paused, needs attention) or a batch problem stops everything; False on
        timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.engine.problem is not None:
                return True
            if not any(job.state.is_active for job in self.engine.jobs()):
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def _upload_loop(self) -> None:
        worker = self.engine.store.worker_id(f"{threading.current_thread().name}-{id(self)}")
        while not self._stop.is_set():
            try:
                job = self.engine.claim_upload(worker)
            except Exception:
                logger.exception("claiming a job failed")
                job = None
            if job is None:
                self._stop.wait(IDLE_WAIT)
                continue
            cancel = threading.Event()
            with self._lock:
                self._cancels.append(cancel)
            try:
                self.engine.run_upload(job.id, cancel)
            finally:
                with self._lock:
                    self._cancels.remove(cancel)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.engine.poll_once()
            except Exception:
                logger.exception("polling failed")
                wait = 5.0
            if not self._stop.is_set():
                self.engine.wait_poll(min(wait, 5.0))
