"""Manifest rows run by the engine's own runners (jobs/transfer.send_row): a v1.2 row that is
retried goes out as a one-row transfer; a v1.3 row whose link S3 cannot make fails plainly; a
v1.2 row whose transfer went out but whose task was not found yet is matched by the poller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.support import (
    Events,
    client_factory,
    index_id,
    make_engine,
    running,
    wait_until,
)
from tests.s3_emulator import S3Emulator
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import CancelledError
from uploader_app.jobs import engine as engine_module
from uploader_app.jobs import poller as poller_module
from uploader_app.jobs import transfer
from uploader_app.jobs.sending import state_words
from uploader_app.jobs.transfer import SendReport
from uploader_app.models import CUT_KEY, SENT_KEY, UNSURE_KEY, Job, JobState
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import Store

Video = Callable[..., Path]


def test_a_retried_v12_row_is_sent_as_a_one_row_transfer_and_tracked(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    s3.bucket("media-west")
    s3.put("media-west", "clips/01.mp4", video(duration=5))
    sandbox = start_sandbox(s3_endpoint=s3.url)
    engine = make_engine(sandbox, tmp_path, version="v1.2", events=Events())
    index = index_id(sandbox, "v1.2")
    row = {"index_id": index, "language": "en", "object": "s3://media-west/clips/01.mp4"}
    (job,) = transfer.enqueue_rows(engine.store, [row], "v1.2").jobs
    engine.store.update(job.id, state=JobState.FAILED)
    engine.retry([job.id])  # what the user's Retry does after "not started"
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.READY)
    done = engine.job(job.id)
    assert done.task_id and done.video_id and done.route == "transfer"
    assert sandbox.requests.count(("POST", "/v1.2/tasks/transfers")) == 1
    assert done.name == "01.mp4" and done.folder == "media-west"


def test_a_v13_row_without_aws_credentials_fails_with_a_plain_reason(
    s3: S3Emulator, start_sandbox: StartSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nobody-has-this-profile")
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path, events=Events())
    row = {"index_id": index_id(sandbox), "language": "en", "object": "s3://media-west/01.mp4"}
    (job,) = transfer.enqueue_rows(engine.store, [row], "v1.3").jobs
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.FAILED)
    failed = engine.job(job.id)
    assert failed.error_code == "s3_unreadable"
    assert "no AWS profile named 'nobody-has-this-profile'" in failed.error_message
    assert failed.error_hint
    assert [r for r in sandbox.requests if r[0] == "POST"] == []


def _v12_setup(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, seconds: float
) -> tuple[SandboxServer, dict[str, str]]:
    s3.bucket("media-west")
    s3.put("media-west", "clips/01.mp4", video(duration=seconds))
    sandbox = start_sandbox(s3_endpoint=s3.url)
    index = index_id(sandbox, "v1.2")
    return sandbox, {"index_id": index, "language": "en", "object": "s3://media-west/clips/01.mp4"}


def _send_with_listing_broken_after_the_post(
    sandbox: SandboxServer, store: Store, row: dict[str, str]
) -> SendReport:
    """The listing before the POST answers; every one after it (past the client's retries)
    meets a connection reset."""
    sandbox.set_faults(
        {"rules": [{"method": "GET", "path": "/v1.2/tasks", "fault": "reset", "skip": 1}]}
    )
    with client_factory(sandbox, "v1.2")() as client:
        report = transfer.send_manifest(client, store, [row])
    sandbox.set_faults(None)
    return report


def test_a_network_error_after_the_v12_post_leaves_the_row_waiting_until_it_is_matched(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    store = Store(tmp_path / "jobs.sqlite3")
    report = _send_with_listing_broken_after_the_post(sandbox, store, row)
    (job,) = report.jobs
    # The POST went through: the row waits for its task, it did not fail.
    assert (job.state, job.error_code) == (JobState.CHECKING, None)
    assert state_words(job) == "sent, waiting for the service"
    assert "the app keeps asking" in report.notes[0]
    # The next send of the list does not send it again: it is on its way.
    with client_factory(sandbox, "v1.2")() as client:
        again = transfer.send_manifest(client, store, [row])
    assert again.in_progress == [job.id] and again.sent == []
    store.close()
    engine = make_engine(sandbox, tmp_path, version="v1.2")  # a restart on the same job list
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.READY)
    done = engine.job(job.id)
    assert done.task_id and done.video_id
    assert sandbox.requests.count(("POST", "/v1.2/tasks/transfers")) == 1


def test_a_v12_row_left_waiting_is_not_started_when_the_window_ends(
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service skips an object it has seen (here its task failed: too short), so the
    second send makes no task: once the window ends the row is "not started"."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 2)
    with client_factory(sandbox, "v1.2")() as client:
        client.create_transfer([row])
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 1.0)
    engine = make_engine(sandbox, tmp_path, version="v1.2")
    (job,) = _send_with_listing_broken_after_the_post(sandbox, engine.store, row).jobs
    assert job.state is JobState.CHECKING
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.FAILED)
    failed = engine.job(job.id)
    assert failed.error_code == "transfer_not_started"
    assert "us-west-2" in failed.error_hint


def test_quitting_during_the_v12_post_leaves_the_rows_unsent_for_the_next_send(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Quitting cuts the POST off before its last byte (api/body.py), so nothing went out:
    the rows neither fail nor wait for a task; the next send of the list sends them."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    store = Store(tmp_path / "jobs.sqlite3")
    quitting = threading.Event()
    quitting.set()
    with client_factory(sandbox, "v1.2")() as client, pytest.raises(CancelledError):
        transfer.send_manifest(client, store, [row], cancel=quitting)
    (job,) = store.jobs()
    assert (job.state, job.error_code) == (JobState.CHECKING, None)
    assert SENT_KEY not in job.options
    # Not "Checking…" until then: the row says it was not sent and what to do.
    assert state_words(job) == "not sent (stopped while sending); send the list again"
    with client_factory(sandbox, "v1.2")() as client:
        again = transfer.send_manifest(client, store, [row])
    assert again.sent == [job.id]
    assert again.jobs[0].state is JobState.ON_SERVICE
    store.close()


def test_a_v12_post_whose_answer_is_lost_is_looked_for_not_failed(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The connection drops after the service made the transfer's tasks (every try): the
    rows are not known to be sent, so they are looked for, found and followed."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    store = Store(tmp_path / "jobs.sqlite3")
    sandbox.set_faults(
        {"rules": [{"method": "POST", "path": "/v1.2/tasks/transfers", "fault": "lost_answer"}]}
    )
    seen: list[Job] = []
    with client_factory(sandbox, "v1.2")() as client:
        report = transfer.send_manifest(client, store, [row], on_change=seen.append)
    assert sandbox.app.faults.fired >= 1
    sandbox.set_faults(None)
    (job,) = report.jobs
    assert job.state is JobState.ON_SERVICE and job.task_id, job
    assert "not known whether sent; asking the service" in [state_words(j) for j in seen]
    with client_factory(sandbox, "v1.2")() as client:
        assert [t.id for t in client.iter_tasks(row["index_id"])] == [job.task_id]
    store.close()


def test_a_v12_post_cut_off_with_no_task_after_the_window_was_not_sent(
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every try reset mid-request: nothing reached the service, which cannot be known from
    here; once the window ends with no task the row says it was not sent, and the next send
    of the list sends it."""
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 1.0)
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    store = Store(tmp_path / "jobs.sqlite3")
    sandbox.set_faults(
        {"rules": [{"method": "POST", "path": "/v1.2/tasks/transfers", "fault": "reset"}]}
    )
    with client_factory(sandbox, "v1.2")() as client:
        (job,) = transfer.send_manifest(client, store, [row]).jobs
    sandbox.set_faults(None)
    assert (job.state, job.error_code) == (JobState.FAILED, "transfer_not_sent")
    assert "most likely not sent" in job.error_message
    assert job.error_hint == transfer.NOT_SENT_HINT
    assert "Retry" not in job.error_hint  # the window's button is "Try again"
    with client_factory(sandbox, "v1.2")() as client:
        again = transfer.send_manifest(client, store, [row])
    assert again.sent == [job.id]
    assert again.jobs[0].state is JobState.ON_SERVICE
    store.close()


def test_a_v12_row_of_a_send_killed_during_its_post_is_resolved_by_the_poller(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Killed after the POST went out but before its answer was noted: the row is neither
    sent nor unsent in the store; once a send could no longer be under way, the poller
    looks for its task instead of leaving it "Checking…" for good."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    engine = make_engine(sandbox, tmp_path, version="v1.2")
    (job,) = transfer.enqueue_rows(engine.store, [row], "v1.2").jobs
    engine.store.update(job.id, create_started=time.time() - transfer.MATCH_WINDOW - 1)
    with client_factory(sandbox, "v1.2")() as client:
        client.create_transfer([row])
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.READY)
    assert sandbox.requests.count(("POST", "/v1.2/tasks/transfers")) == 1


def test_a_v12_post_whose_later_tries_are_refused_is_still_looked_for(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The first try made the tasks but lost its answer; the client's later tries were
    turned away (rate-limited) before the service acted. Whether the list went out is
    decided by every try, not the last one: the rows are looked for and followed, not failed
    with the last try's reason while their videos are on the service."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    store = Store(tmp_path / "jobs.sqlite3")
    post = {"method": "POST", "path": "/v1.2/tasks/transfers"}
    lost = {**post, "fault": "lost_answer", "times": 1}
    refused = {**post, "fault": "rate_limit_bare"}
    sandbox.set_faults({"rules": [lost, refused]})
    with client_factory(sandbox, "v1.2")() as client:
        report = transfer.send_manifest(client, store, [row])
    sandbox.set_faults(None)
    (job,) = report.jobs
    assert job.state is JobState.ON_SERVICE and job.task_id, job
    with client_factory(sandbox, "v1.2")() as client:
        assert [t.id for t in client.iter_tasks(row["index_id"])] == [job.task_id]
    store.close()


def test_a_v12_send_slow_to_start_its_post_is_left_to_it_by_the_poller(
    s3: S3Emulator,
    video: Video,
    start_sandbox: StartSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The send lists the index's tasks before its POST; a slow answer (429s, a slow
    service) keeps the rows unmarked past the window. This process's poller must not take
    them for a killed send's rows and fail them as "most likely not sent" while the send is
    still about to post them."""
    monkeypatch.setattr(transfer, "MATCH_WINDOW", 0.5)
    monkeypatch.setattr(engine_module, "MATCH_EVERY", 0.1)
    monkeypatch.setattr(poller_module, "IDLE", 0.1)
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    engine = make_engine(sandbox, tmp_path, version="v1.2")
    sandbox.set_faults(
        {
            "rules": [
                {"method": "GET", "path": "/v1.2/tasks", "fault": "slow", "delay": 2, "times": 1}
            ]
        }
    )
    with running(engine), client_factory(sandbox, "v1.2")() as client:
        (job,) = transfer.send_manifest(client, engine.store, [row]).jobs
        sandbox.set_faults(None)
        wait_until(lambda: engine.job(job.id).state in (JobState.READY, JobState.FAILED))
    done = engine.job(job.id)
    assert done.state is JobState.READY and done.task_id, done


def test_an_unanswered_v12_post_whose_look_up_fails_is_not_said_to_be_sent(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """No answer to the POST, then the service cannot be asked for its tasks: whether the
    list went out is not known, and the note must not tell the person it was sent."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    store = Store(tmp_path / "jobs.sqlite3")
    lost = {"method": "POST", "path": "/v1.2/tasks/transfers", "fault": "lost_answer"}
    # The listing before the POST answers; every one after it fails.
    listing = {"method": "GET", "path": "/v1.2/tasks", "fault": "status", "status": 500}
    sandbox.set_faults({"rules": [lost, {**listing, "skip": 1}]})
    with client_factory(sandbox, "v1.2")() as client:
        report = transfer.send_manifest(client, store, [row])
    sandbox.set_faults(None)
    (job,) = report.jobs
    assert job.state is JobState.CHECKING and UNSURE_KEY in job.options
    (note,) = report.notes
    assert "was sent" not in note and note.startswith("No answer came"), note
    store.close()


def test_a_v12_post_stopped_after_a_try_that_lost_its_answer_is_looked_for_later(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The first try made the tasks but lost its answer; the window closed while the client
    waited to try again. The rows may be on the service: they must not say "Not sent", and
    the poller finds and follows them."""
    sandbox, row = _v12_setup(s3, video, start_sandbox, 5)
    engine = make_engine(sandbox, tmp_path, version="v1.2")
    stop = threading.Event()

    def closed_while_waiting(seconds: float, cancel: threading.Event | None) -> None:
        stop.set()  # the window closes during the wait before the next try

    sandbox.set_faults(
        {"rules": [{"method": "POST", "path": "/v1.2/tasks/transfers", "fault": "lost_answer"}]}
    )
    client = ApiClient(sandbox.base_url("v1.2"), TEST_API_KEY, sleep=closed_while_waiting)
    with client:
        report = transfer.send_manifest(client, engine.store, [row], cancel=stop)
    sandbox.set_faults(None)
    (job,) = report.jobs
    assert transfer.awaits_match(job) and CUT_KEY not in job.options, job
    assert state_words(job) == "not known whether sent; asking the service"
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.READY)
    # The stopped second try was cut before its body: the first one's task is the only one.
    with client_factory(sandbox, "v1.2")() as lister:
        assert [t.id for t in lister.iter_tasks(row["index_id"])] == [engine.job(job.id).task_id]
