"""Engine leftovers of issue 14: waits that end, retries that do something new."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.cli_support import distinct_videos
from tests.integration.engine.support import (
    TARGET,
    client_factory,
    index_id,
    make_engine,
    running,
    wait_until,
)
from uploader_app.cli import main
from uploader_app.jobs import engine as engine_module
from uploader_app.models import JobState


def test_a_twin_stuck_on_its_way_ends_the_wait_and_a_retry_sends_the_file(
    start_sandbox: StartSandbox,
    video: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine_module, "TWIN_WAIT", 0.2)
    monkeypatch.setattr(engine_module, "TWIN_WAIT_LIMIT", 1.5)
    monkeypatch.setattr(engine_module, "TWIN_WAIT_PER_SECOND", 0.0)
    sandbox = start_sandbox(speed=0.001)  # the first copy stays "validating" for the test
    index = index_id(sandbox)
    first = make_engine(sandbox, tmp_path / "home")
    path = video("a.mp4")
    [sent] = first.add_paths([path], index, target=TARGET)
    with running(first):
        wait_until(lambda: first.job(sent.id).state is JobState.ON_SERVICE)
    # Another computer (another job list) sends a file of the same name: it cannot tell yet.
    other = video("b/a.mp4", duration=6.0)
    second = make_engine(sandbox, tmp_path / "home2")
    [job] = second.add_paths([other], index, target=TARGET)
    with running(second) as runner:
        assert runner.wait(timeout=30), "the job kept waiting for the other video"
    stuck = second.job(job.id)
    assert stuck.state is JobState.FAILED, stuck
    assert stuck.error_code == "twin_undecided"
    assert "a.mp4" in stuck.error_message and "cannot tell" in stuck.error_message
    # Names what there is: the window's "Try again" (the CLI's retry), not a "Retry" button.
    assert "try this row again" in stuck.error_hint and "Retry" not in stuck.error_hint
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 1  # nothing sent meanwhile
    # Added again (the same folder dropped, the same upload command run again): a second
    # video is never made without the person's say, so it asks again.
    [readded] = second.add_paths([other], index, target=TARGET)
    assert readded.id == job.id and readded.state is JobState.QUEUED
    with running(second) as runner:
        assert runner.wait(timeout=30)
    assert second.job(job.id).error_code == "twin_undecided"
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 1
    [again] = second.retry([job.id])
    assert again.state is JobState.QUEUED
    with running(second):
        wait_until(lambda: second.job(job.id).state is JobState.ON_SERVICE)
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 2


def test_a_retry_of_a_file_that_became_another_jobs_video_says_why_it_cannot(
    start_sandbox: StartSandbox,
    video_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = start_sandbox()
    index = index_id(sandbox)
    home = tmp_path / "home"
    engine = make_engine(sandbox, home, concurrent_uploads=1)
    edited, other = distinct_videos(tmp_path / "in", video_dir, 2)
    earlier = edited.read_bytes()
    first, second = engine.add_paths([edited, other], index, target=TARGET)
    # Edited while queued into the very content of the other file (a copy saved over it).
    edited.write_bytes(other.read_bytes())
    stat = edited.stat()
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with running(engine, uploads=1) as runner:
        assert runner.wait(timeout=60)
    refused = engine.job(first.id)
    assert refused.state is JobState.FAILED and refused.error_code == "same_as_other_job"
    assert engine.job(second.id).state is JobState.READY
    # Retried, it would only be refused the same way: it stays, saying which upload sends it.
    assert engine.retry([first.id]) == []
    told = engine.job(first.id)
    assert told.state is JobState.FAILED
    assert str(other) in told.error_message and "cannot send it" in told.error_message
    assert "Remove this row" in told.error_hint
    # The CLI's retry prints that reason instead of a bare "0 job(s) changed".
    engine.store.close()
    monkeypatch.setenv("TWELVELABS_BASE_URL", sandbox.base_url())
    monkeypatch.setenv("TWELVELABS_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("UPLOADER_APP_HOME", str(home))
    assert main(["retry", str(first.id)]) == 0
    out = capsys.readouterr().out
    assert "0 job(s) changed" in out and f"{first.id}\t" in out and "Remove this row" in out
    # Put back as it was, the file is new again: the retry queues it and it is sent.
    engine = make_engine(sandbox, home, concurrent_uploads=1)
    edited.write_bytes(earlier)
    [again] = engine.retry([first.id])
    assert again.state is JobState.QUEUED
    with running(engine, uploads=1) as runner:
        assert runner.wait(timeout=60)
    assert engine.job(first.id).state is JobState.READY
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 2
