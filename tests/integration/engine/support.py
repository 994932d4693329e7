"""Helpers for the engine's tests: an engine on a sandbox, event capture, waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.conftest import TEST_API_KEY
from uploader_app.api.client import ApiClient
from uploader_app.api.retry import RetryPolicy
from uploader_app.jobs.engine import Engine, EngineOptions
from uploader_app.jobs.events import EngineEvent, JobChanged
from uploader_app.jobs.runner import ThreadRunner
from uploader_app.models import Job, ModelFamily, Target
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import Store

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.1)
TARGET = Target(families=frozenset({ModelFamily.MARENGO}))


@dataclass
class Events:
    """Every event the engine emitted, in order (thread-safe)."""

    items: list[EngineEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: EngineEvent) -> None:
        with self.lock:
            self.items.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        with self.lock:
            return [e for e in self.items if isinstance(e, kind)]

    def states(self, job_id: int) -> list[str]:
        return [str(e.job.state) for e in self.of(JobChanged) if e.job.id == job_id]


def client_factory(
    sandbox: SandboxServer, version: str = "v1.3", retry: RetryPolicy = FAST_RETRY
) -> Callable[[], ApiClient]:
    # Small reads: a test can act between the pieces of a tiny clip.
    return lambda: ApiClient(
        sandbox.base_url(version), TEST_API_KEY, retry=retry, chunk_size=16 * 1024
    )


def make_engine(
    sandbox: SandboxServer,
    home: Path,
    *,
    version: str = "v1.3",
    events: Events | None = None,
    **options: Any,
) -> Engine:
    grace = options.pop("grace", 1.0)
    retry_delay = options.pop("retry_delay", 0.05)
    factory = options.pop("factory", None) or client_factory(sandbox, version)
    return Engine(
        Store(home / "jobs.sqlite3"),
        EngineOptions(**options),
        factory,
        events,
        grace=grace,
        retry_delay=retry_delay,
        keep_awake=False,
    )


def lift_cap(engine: Engine) -> None:
    """Take the speed limit off, as saving the settings does: a test's limit is there only so
    it can act mid-upload, and the rest of the upload need not crawl."""
    settings = engine.settings
    assert isinstance(settings, EngineOptions)  # make_engine's, and the GUI tests' hosts
    engine.settings = replace(settings, bandwidth_cap=None)


def index_id(sandbox: SandboxServer, version: str = "v1.3") -> str:
    with client_factory(sandbox, version)() as client:
        return next(i.id for i in client.iter_indexes() if "marengo" in i.name.lower())


@contextmanager
def running(engine: Engine, uploads: int = 2) -> Iterator[ThreadRunner]:
    runner = ThreadRunner(engine, uploads)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def states(jobs: list[Job]) -> list[str]:
    return [str(j.state) for j in jobs]
