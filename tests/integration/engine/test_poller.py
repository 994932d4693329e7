"""The poller: list pages for many jobs, a request budget, 429, unknown statuses."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.support import client_factory, index_id, make_engine
from tests.media import VideoSpec, make_video
from uploader_app.api.client import ApiClient
from uploader_app.api.types import Page, PageInfo, parse_task
from uploader_app.jobs import poller as poller_module
from uploader_app.jobs.poller import Poller, _Status
from uploader_app.jobs.poller import interval_for as app_interval_for  # before any test patches it
from uploader_app.models import Job, JobState, SourceKind, Task, TaskStatus
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import NewJob, Store


def _on_service(sandbox: SandboxServer, store: Store, index: str, clip: Path, count: int) -> None:
    """``count`` tasks made on the sandbox, each held by an on_service job."""
    with client_factory(sandbox)() as client:
        for n in range(count):
            created = client.create_task_from_file(index, clip, filename=f"c{n}.mp4")
            [(job, _)] = store.add(
                [NewJob(SourceKind.FILE, f"/v/c{n}.mp4", index, dedup_key=str(n))]
            )
            store.update(job.id, state=JobState.ON_SERVICE, task_id=created.id)


def _poller(sandbox: SandboxServer, store: Store, budget: int = 60) -> Poller:
    client = client_factory(sandbox)()
    return Poller(store, lambda: client, lambda job: job, budget)


def _gets(sandbox: SandboxServer) -> tuple[int, int]:
    """(list requests, one-task requests) for tasks."""
    lists = sum(1 for r in sandbox.requests if r.method == "GET" and r.path == "/v1.3/tasks")
    ones = sum(
        1 for r in sandbox.requests if r.method == "GET" and r.path.startswith("/v1.3/tasks/")
    )
    return lists, ones


@pytest.fixture
def clip(video_dir: Path) -> Path:
    return make_video(video_dir, VideoSpec(duration=5.0))


def test_many_jobs_are_read_from_list_pages(
    start_sandbox: StartSandbox, clip: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    store = Store(tmp_path / "jobs.sqlite3")
    index = index_id(sandbox)
    _on_service(sandbox, store, index, clip, 60)
    time.sleep(0.5)  # the sandbox's clock at 1000x: every task is ready
    sandbox.clear_requests()
    poller = _poller(sandbox, store)
    poller.poll_once()
    assert {j.state for j in store.jobs()} == {JobState.READY}
    assert all(j.video_id for j in store.jobs())
    assert _gets(sandbox) == (2, 0)  # two pages of 50, not 60 requests
    assert poller.requests == 2


def test_a_few_jobs_are_read_one_by_one(
    start_sandbox: StartSandbox, clip: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    store = Store(tmp_path / "jobs.sqlite3")
    _on_service(sandbox, store, index_id(sandbox), clip, 2)
    time.sleep(0.5)
    sandbox.clear_requests()
    _poller(sandbox, store).poll_once()
    assert _gets(sandbox) == (0, 2)
    assert {j.state for j in store.jobs()} == {JobState.READY}


def test_the_budget_per_minute_is_never_passed(
    start_sandbox: StartSandbox, clip: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(speed=0.001)  # tasks stay in progress
    store = Store(tmp_path / "jobs.sqlite3")
    _on_service(sandbox, store, index_id(sandbox), clip, 3)
    sandbox.clear_requests()
    poller = _poller(sandbox, store, budget=4)
    waits = []
    for _ in range(5):
        store.update(1, not_before=None)  # make every job due at once
        store.update(2, not_before=None)
        store.update(3, not_before=None)
        waits.append(poller.poll_once())
    assert poller.requests == 4
    assert sum(_gets(sandbox)) == 4
    assert waits[-1] > 50  # the next round waits for the minute to roll over


def test_a_429_pauses_polling_for_as_long_as_asked(
    start_sandbox: StartSandbox, clip: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(speed=0.001)
    store = Store(tmp_path / "jobs.sqlite3")
    _on_service(sandbox, store, index_id(sandbox), clip, 1)
    sandbox.set_faults(
        {
            "rules": [
                {
                    "method": "GET",
                    "path": "/v1.3/tasks/*",
                    "fault": "rate_limit",
                    "retry_after": 3600,
                }
            ]
        }
    )
    poller = _poller(sandbox, store)
    assert poller.poll_once() == pytest.approx(3600, abs=5)
    sandbox.clear_requests()
    assert poller.poll_once() > 3500  # paused: nothing sent
    assert sandbox.requests == []


def test_an_unknown_status_is_in_progress_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task = parse_task({"_id": "t1", "index_id": "i", "status": "transcoding"})
    assert task.status is TaskStatus.UNKNOWN
    assert task.status_label == "transcoding"
    assert not task.status.is_terminal
    store = Store(tmp_path / "jobs.sqlite3")
    [(job, _)] = store.add([NewJob(SourceKind.FILE, "/v/a.mp4", "i", dedup_key="a")])
    store.update(job.id, state=JobState.ON_SERVICE, task_id="t1")
    changed: list[Job | None] = []

    def on_change(changed_job: Job | None) -> Job | None:
        changed.append(changed_job)
        return changed_job

    poller = Poller(store, _no_client, on_change, 60)
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        poller._apply(store.get(job.id), _Status("transcoding", None, True, False))
    assert store.get(job.id).state is JobState.ON_SERVICE
    assert store.get(job.id).server_status == "transcoding"
    assert caplog.text.count("transcoding") == 1
    assert len(changed) == 1  # the view hears of the new word once


def _no_client() -> ApiClient:
    raise AssertionError("no request expected")


def test_the_interval_grows_while_a_video_indexes(tmp_path: Path) -> None:
    """A job long on the service is looked at every 15 s, round after round: the poller's own
    bookkeeping must not make it look new again."""
    store = Store(tmp_path / "jobs.sqlite3")
    [(job, _)] = store.add([NewJob(SourceKind.FILE, "/v/a.mp4", "i", dedup_key="a")])
    store.update(job.id, state=JobState.ON_SERVICE, task_id="t1", server_status="indexing")
    with store.transaction() as db:  # on the service, unchanged, for ten minutes
        db.execute("UPDATE jobs SET updated_at = updated_at - 600 WHERE id = ?", (job.id,))
    poller = Poller(store, _no_client, lambda changed: changed, 60)
    for _ in range(3):
        now = time.time()
        poller._apply(store.get(job.id), _Status("indexing", None, True, False))
        not_before = store.internals(job.id).not_before
        assert not_before is not None
        assert not_before - now == pytest.approx(15.0, abs=1.0)


def test_the_app_looks_at_a_new_video_every_second_then_less_often() -> None:
    """The suite looks at young tasks every 0.2 s (tests/conftest.py): this is the app's own
    schedule, which no other test in this process sees (docs/engine.md, "Polling")."""
    assert poller_module.interval_for is not app_interval_for  # the suite's, for the others
    assert [app_interval_for(age) for age in (0, 29.9, 30, 299.9, 300, 86_400)] == [
        1.0, 1.0, 5.0, 5.0, 15.0, 15.0
    ]  # fmt: skip


def test_the_budget_counts_every_request_the_engine_polls_with(
    start_sandbox: StartSandbox, clip: Path, tmp_path: Path
) -> None:
    """The engine's poller sends each request once (its next round is the retry), so a failing
    or rate-limiting service sees no more requests than the budget allows."""
    sandbox = start_sandbox(speed=0.001)
    engine = make_engine(sandbox, tmp_path / "home", poll_budget_per_minute=3)
    _on_service(sandbox, engine.store, index_id(sandbox), clip, 1)
    sandbox.set_faults(
        {"rules": [{"method": "GET", "path": "/v1.3/tasks/*", "fault": "status", "status": 503}]}
    )
    sandbox.clear_requests()
    waits = []
    for _ in range(3):
        engine.store.update(1, not_before=None)
        waits.append(engine.poll_once())
    assert sum(_gets(sandbox)) == 3
    assert min(waits) >= 5.0  # a failed round is followed by a pause, not a burst
    assert engine.job(1).state is JobState.ON_SERVICE


@dataclass
class _ListedTasks:
    """What GET /tasks lists for one index, in the service's clock (sorted as asked)."""

    tasks: list[Task]

    def list_tasks(self, index_id: str, *, page: int, page_limit: int, **_: object) -> Page[Task]:
        ordered = sorted(self.tasks, key=lambda t: t.updated_at or "", reverse=True)
        start = (page - 1) * page_limit
        total = -(-len(ordered) // page_limit)
        return Page(
            tuple(ordered[start : start + page_limit]),
            PageInfo(page, page_limit, total, len(ordered)),
        )


def _service_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def test_a_computer_clock_ahead_of_the_service_misses_no_change_on_later_pages(
    tmp_path: Path,
) -> None:
    """The list pages stop at items older than the last round: "older" must be judged by the
    service's clock, or a computer a minute ahead stops at page 1 and 10 of 60 jobs wait."""
    service_now = time.time()
    store = Store(tmp_path / "jobs.sqlite3")
    listed = _ListedTasks([])
    for n in range(60):
        [(job, _)] = store.add([NewJob(SourceKind.FILE, f"/v/c{n}.mp4", "i", dedup_key=str(n))])
        store.update(job.id, state=JobState.ON_SERVICE, task_id=f"t{n}")
        listed.tasks.append(
            Task(f"t{n}", "i", TaskStatus.INDEXING, updated_at=_service_time(service_now - 100))
        )
    ahead = Poller(store, lambda: listed, lambda j: j, 60, clock=lambda: time.time() + 60)  # type: ignore[arg-type,return-value]
    ahead.poll_once()
    assert {j.server_status for j in store.jobs()} == {"indexing"}
    listed.tasks = [  # every video is ready a second later, by the service's clock
        Task(
            t.id,
            "i",
            TaskStatus.READY,
            video_id=f"v{t.id}",
            updated_at=_service_time(service_now + 1),
        )
        for t in listed.tasks
    ]
    for job in store.jobs():
        store.update(job.id, not_before=None)
    ahead.poll_once()
    assert {j.state for j in store.jobs()} == {JobState.READY}


def test_a_429_with_retry_after_zero_pauses_a_second_not_a_minute(
    start_sandbox: StartSandbox, clip: Path, tmp_path: Path
) -> None:
    """Regression: the pause was ``retry_after or 60``, so "Retry-After: 0" waited 60 s (an
    ``upload --wait`` took 63 s instead of 5 in tests/reliability)."""
    sandbox = start_sandbox(speed=0.001)
    store = Store(tmp_path / "jobs.sqlite3")
    _on_service(sandbox, store, index_id(sandbox), clip, 1)
    rule = {"method": "GET", "path": "/v1.3/tasks/*", "fault": "rate_limit", "retry_after": 0}
    sandbox.set_faults({"rules": [rule]})
    assert _poller(sandbox, store).poll_once() == pytest.approx(1.0, abs=0.2)
