"""The engine host: events arrive on the GUI thread, concurrency follows the setting, and one-off
calls report back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThread
from pytestqt.qtbot import QtBot

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.gui.conftest import MakeHost, first_index
from uploader_app.api.client import ApiClient
from uploader_app.gui import workers
from uploader_app.jobs import poller
from uploader_app.jobs.engine import Engine
from uploader_app.jobs.events import JobChanged
from uploader_app.models import Job, JobState, SourceKind
from uploader_app.store import NewJob, Store


def test_events_come_out_on_the_gui_thread_and_uploads_follow_the_setting(
    qtbot: QtBot, start_sandbox: StartSandbox, make_host: MakeHost, video: Callable[..., Path]
) -> None:
    server = start_sandbox()
    host = make_host(server, uploads=2)
    gui = QCoreApplication.instance()
    assert gui is not None
    threads: set[bool] = set()
    states: list[JobState] = []

    def seen(event: object) -> None:
        threads.add(QThread.currentThread() is gui.thread())
        if isinstance(event, JobChanged):
            states.append(event.job.state)

    host.event.connect(seen)
    [job] = host.engine.add_paths([video("clip.mp4")], first_index(server))
    host.wake()
    qtbot.waitUntil(lambda: JobState.READY in states, timeout=30_000)
    assert threads == {True}  # every event, though sent from worker threads
    assert states[0] is JobState.QUEUED

    host.set_concurrency(3)
    assert host.upload_workers == 3
    assert host.engine.settings.concurrent_uploads == 3
    host.set_concurrency(1)
    assert host.engine.settings.concurrent_uploads == 1
    qtbot.waitUntil(lambda: host.upload_workers == 1, timeout=5000)  # the others left
    assert host.engine.job(job.id).state is JobState.READY


def test_one_off_calls_report_back_on_the_gui_thread(
    qtbot: QtBot, start_sandbox: StartSandbox, make_host: MakeHost
) -> None:
    host = make_host(start_sandbox())
    gui = QCoreApplication.instance()
    assert gui is not None
    results: list[tuple[object, bool]] = []
    errors: list[tuple[str, bool]] = []

    def fail() -> None:
        raise OSError("disk full")

    host.run_in_background(
        lambda: QThread.currentThread() is gui.thread(),
        lambda value: results.append((value, QThread.currentThread() is gui.thread())),
    )
    host.run_in_background(
        fail, on_error=lambda e: errors.append((str(e), QThread.currentThread() is gui.thread()))
    )
    qtbot.waitUntil(lambda: bool(results and errors), timeout=5000)
    assert results == [(False, True)]  # ran off the GUI thread, answered on it
    assert errors == [("disk full", True)]


def test_a_job_that_reaches_the_service_is_looked_at_without_waiting_out_the_pollers_rest(
    qtbot: QtBot,
    start_sandbox: StartSandbox,
    make_host: MakeHost,
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With nothing on the service the poller rests (2 s); a minute here, so only a wake at
    # the job's arrival on the service lets it reach ready within the wait below.
    monkeypatch.setattr(poller, "IDLE", 60.0)
    server = start_sandbox()
    host = make_host(server)
    [job] = host.engine.add_paths([video("clip.mp4")], first_index(server))
    host.wake()
    qtbot.waitUntil(lambda: host.engine.job(job.id).state is JobState.READY, timeout=20_000)


def test_news_from_the_service_does_not_send_the_upload_workers_to_the_job_list(
    qtbot: QtBot,
    start_sandbox: StartSandbox,
    make_host: MakeHost,
    video: Callable[..., Path],
    *,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the poller wants to hear that a job is on the service: every status the poller
    reads (validating, indexing...) is such news, and waking the upload workers for each one
    had them each open a write transaction on the job list, against the poller's own writes,
    once per status of every video of a batch."""
    monkeypatch.setattr(workers, "IDLE_WAIT", 60.0)  # no claim but the first, unless woken
    claims: list[str] = []
    claim = Engine.claim_upload

    def counted(engine: Engine, worker: str) -> Job | None:
        claims.append(worker)
        return claim(engine, worker)

    monkeypatch.setattr(Engine, "claim_upload", counted)
    server = start_sandbox(speed=0.001)  # the videos stay in progress on the service
    index = first_index(server)
    path = tmp_path / "jobs.sqlite3"
    store = Store(path)
    with ApiClient(server.base_url(), TEST_API_KEY) as client:
        for n in range(3):
            task = client.create_task_from_file(index, video("clip.mp4"), filename=f"c{n}.mp4")
            new = NewJob(SourceKind.FILE, f"/v/c{n}.mp4", index, dedup_key=str(n))
            [(job, _)] = store.add([new])
            # A word the service never says: the poller's first look reports a change.
            store.update(job.id, state=JobState.ON_SERVICE, task_id=task.id, server_status="sent")
    news: list[int] = []

    def heard(event: object) -> None:
        if isinstance(event, JobChanged) and event.job.state is JobState.ON_SERVICE:
            news.append(event.job.id)

    host = make_host(server, uploads=2, store=path)
    host.event.connect(heard)
    qtbot.waitUntil(lambda: len(set(news)) == 3, timeout=10_000)
    qtbot.wait(300)
    assert len(claims) == 2  # each upload worker's first look for work, and no more
