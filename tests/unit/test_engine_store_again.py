"""Try again after a full disk (``Engine.try_store_again``) against writes refused meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from uploader_app.api.client import ApiClient
from uploader_app.jobs.engine import STORE_PROBLEM, Engine
from uploader_app.jobs.events import BatchProblem, BatchProblemCleared, EngineEvent
from uploader_app.models import Job, JobState, SourceKind
from uploader_app.settings import AppSettings
from uploader_app.store import NewJob, Store, StoreWriteError

STORE_CODE = STORE_PROBLEM[0]


def _never() -> ApiClient:
    raise AssertionError("no request expected")


class _Disk(Store):
    """A real job list whose writes can be refused, as by a full disk, and whose releases
    can run something first (another thread's write, timed to land mid-Try-again)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.full = False
        self.on_release: Callable[[], object] | None = None

    def update(
        self, job_id: int, *, only_if: Sequence[JobState] | None = None, **fields: Any
    ) -> Job | None:
        if self.full:
            raise StoreWriteError("database or disk is full")
        return super().update(job_id, only_if=only_if, **fields)

    def release(self, job_id: int, worker: str) -> None:
        if self.on_release is not None:
            self.on_release()
        super().release(job_id, worker)


def _stopped_engine(tmp_path: Path) -> tuple[Engine, _Disk, list[EngineEvent]]:
    """An engine stopped by a full disk, holding the lease of the upload it could not start."""
    store = _Disk(tmp_path / "jobs.sqlite3")
    store.add([NewJob(SourceKind.FILE, "/videos/a.mp4", "idx1", dedup_key="a.mp4")])
    events: list[EngineEvent] = []
    engine = Engine(store, AppSettings(), _never, events.append)
    store.full = True
    assert engine.claim_upload("w1") is None  # claimed, then its attempt could not be saved
    assert engine.problem is not None and engine.problem.code == STORE_CODE
    store.full = False
    return engine, store, events


def _in_another_thread(action: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        thread = threading.Thread(target=action)
        thread.start()
        thread.join()

    return run


def test_try_again_lifts_the_stop_and_frees_the_held_lease(tmp_path: Path) -> None:
    engine, store, events = _stopped_engine(tmp_path)
    assert engine.try_store_again() is True
    assert engine.problem is None
    assert events[-1] == BatchProblemCleared()
    assert store.internals(1).lease_owner is None


def test_a_write_refused_while_try_again_runs_keeps_the_stop(tmp_path: Path) -> None:
    engine, store, events = _stopped_engine(tmp_path)
    # An upload thread's write fails again (the disk filled up again) between Try again's
    # look at the stop and its clearing: the stop must stay, or uploads resume on a full disk.
    store.on_release = _in_another_thread(
        lambda: engine._store_failed(StoreWriteError("database or disk is full"))
    )
    assert engine.try_store_again() is False
    assert engine.problem is not None and engine.problem.code == STORE_CODE
    assert BatchProblemCleared() not in events
    store.on_release = None
    assert engine.try_store_again() is True  # the next Try again, on a disk with room
    assert engine.problem is None


def test_a_problem_raised_in_place_of_the_full_disk_is_not_lifted_by_try_again(
    tmp_path: Path,
) -> None:
    engine, store, events = _stopped_engine(tmp_path)
    refused = ("api_key_invalid", "API key not accepted", "The key was refused.", "Enter it.")
    store.on_release = _in_another_thread(lambda: engine._raise_problem(*refused))
    assert engine.try_store_again() is False
    assert engine.problem == BatchProblem(*refused)
    assert BatchProblemCleared() not in events


def test_two_try_agains_at_once_lift_the_stop_once(tmp_path: Path) -> None:
    engine, store, events = _stopped_engine(tmp_path)
    both_in = threading.Barrier(2, timeout=10)
    store.on_release = both_in.wait  # each call is past its look at the stop before either clears
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(engine.try_store_again())) for _ in "ab"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False, True]
    assert engine.problem is None
    assert events.count(BatchProblemCleared()) == 1
