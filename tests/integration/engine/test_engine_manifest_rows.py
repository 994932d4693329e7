"""Manifest rows run by the engine's own runners (jobs/transfer.send_row): a v1.2 row that is
retried goes out as a one-row transfer; a v1.3 row whose link S3 cannot make fails plainly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.support import (
    Events,
    index_id,
    make_engine,
    running,
    wait_until,
)
from tests.s3_emulator import S3Emulator
from uploader_app.jobs import transfer
from uploader_app.models import JobState

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
