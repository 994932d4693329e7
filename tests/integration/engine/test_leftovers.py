"""Engine leftovers of issue 14: waits that end, retries that do something new."""

from __future__ import annotations

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
    assert "Retry" in stuck.error_hint
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 1  # nothing sent meanwhile
    [again] = second.retry([job.id])
    assert again.state is JobState.QUEUED
    with running(second):
        wait_until(lambda: second.job(job.id).state is JobState.ON_SERVICE)
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 2
