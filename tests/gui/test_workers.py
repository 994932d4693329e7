"""The engine host: events arrive on the GUI thread, concurrency follows the setting, and one-off
calls report back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThread
from pytestqt.qtbot import QtBot

from tests.conftest import StartSandbox
from tests.gui.conftest import MakeHost, first_index
from uploader_app.jobs import poller
from uploader_app.jobs.events import JobChanged
from uploader_app.models import JobState


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
