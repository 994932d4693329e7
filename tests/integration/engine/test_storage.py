"""Chunk PUTs as strict as S3: signed upload headers, unquoted ETags, XML errors; a pause
mid-multipart stops at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.support import (
    TARGET,
    client_factory,
    index_id,
    make_engine,
    running,
    wait_until,
)
from uploader_app.api.body import FileRange
from uploader_app.api.errors import StorageUrlError
from uploader_app.models import JobState, Route

CHUNK = 16 * 1024
SIGNED = {"Content-Type": "binary/octet-stream", "x-amz-server-side-encryption": "AES256"}


def _upload(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path, **sandbox: object
) -> tuple[object, object]:
    server = start_sandbox(chunk_size=CHUNK, **sandbox)
    engine = make_engine(server, tmp_path / "home", multipart_over=1000)
    [job] = engine.add_paths([video("big.mp4", duration=6.0)], index_id(server), target=TARGET)
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    return server, engine.job(job.id)


def test_the_services_upload_headers_are_sent_as_given(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    # Regression: our Content-Type replaced the one S3 signed (SignatureDoesNotMatch).
    _, job = _upload(start_sandbox, video, tmp_path, upload_headers=SIGNED)
    assert job.state is JobState.READY, job  # type: ignore[attr-defined]
    assert job.route is Route.ASSET  # type: ignore[attr-defined]


def test_etags_are_reported_without_quotes(
    start_sandbox: StartSandbox, video: Callable[..., Path]
) -> None:
    sandbox = start_sandbox(chunk_size=CHUNK)
    clip = video("a.mp4")
    with client_factory(sandbox)() as client:
        _, urls = client.create_multipart_upload(clip.name, clip.stat().st_size)
        etag = client.put_chunk(urls[0].url, FileRange(clip, 0, CHUNK))
    assert etag
    assert '"' not in etag


@pytest.mark.parametrize(
    ("code", "status"), [("SlowDown", 503), ("RequestTimeout", 400), ("InternalError", 500)]
)
def test_busy_storage_is_retried(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path, code: str, status: int
) -> None:
    rule = {"method": "PUT", "path": "/_uploads/*", "fault": "s3_error", "code": code}
    plan = {"rules": [{**rule, "status": status, "skip": 1, "times": 2}]}
    _, job = _upload(start_sandbox, video, tmp_path, faults=plan)
    assert job.state is JobState.READY, job  # type: ignore[attr-defined]
    assert job.attempts == 1  # type: ignore[attr-defined]  # retried inside the attempt


def test_a_refused_url_is_replaced_never_called_an_account_problem(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    rule = {"method": "PUT", "path": "/_uploads/*", "fault": "s3_error", "code": "AccessDenied"}
    plan = {"rules": [{**rule, "status": 403, "skip": 2, "times": 1}]}
    server, job = _upload(start_sandbox, video, tmp_path, faults=plan)
    assert job.state is JobState.READY, job  # type: ignore[attr-defined]
    fresh = [
        r
        for r in server.requests  # type: ignore[attr-defined]
        if r.method == "POST" and r.path.endswith("/presigned-urls")
    ]
    assert fresh  # a new URL was asked for
    error = StorageUrlError("storage_url_refused", "AccessDenied", status=403)
    assert "account" not in (error.user_message + error.hint).lower().replace(
        "your account is not affected", ""
    )


def test_pause_mid_multipart_stops_at_once_without_a_report_cycle(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    # Reports fail for good and PUTs are slow: the old flow reported on cancel, through a
    # whole retry cycle, before it stopped.
    slow = {"method": "PUT", "path": "/_uploads/*", "fault": "slow", "delay": 0.1}
    broken = {"method": "POST", "path": "/v1.3/assets/multipart-uploads/*", "fault": "status"}
    server = start_sandbox(chunk_size=CHUNK, faults={"rules": [slow, {**broken, "status": 503}]})
    engine = make_engine(server, tmp_path / "home", multipart_over=1000)
    [job] = engine.add_paths([video("big.mp4", duration=6.0)], index_id(server), target=TARGET)
    with running(engine):
        wait_until(lambda: engine.job(job.id).bytes_sent >= 3 * CHUNK)
        started = time.monotonic()
        engine.pause([job.id])
        wait_until(lambda: not engine._running, timeout=1.0)
        assert time.monotonic() - started < 1.0
    paused = engine.job(job.id)
    assert paused.state is JobState.PAUSED
    assert len(engine.store.internals(job.id).unreported) >= 3  # kept for the resume
