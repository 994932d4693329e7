"""Exactly once under faults: resets, 5xx, 429 and answers lost after the task was made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.cli_support import distinct_videos
from tests.integration.engine.support import (
    FAST_RETRY,
    TARGET,
    Events,
    client_factory,
    index_id,
    make_engine,
    running,
)
from uploader_app.api.client import ApiClient
from uploader_app.jobs.events import JobNotice
from uploader_app.models import JobState, Task

FAULTS = {
    "seed": 7,
    "rules": [
        {"method": "POST", "path": "/v1.3/tasks", "fault": "reset", "probability": 0.1},
        {
            "method": "POST",
            "path": "/v1.3/tasks",
            "fault": "status",
            "status": 500,
            "probability": 0.05,
        },
        {
            "method": "POST",
            "path": "/v1.3/tasks",
            "fault": "status",
            "status": 503,
            "probability": 0.05,
        },
        {"method": "POST", "path": "/v1.3/tasks", "fault": "lost_answer", "probability": 0.15},
        {"path": "/v1.3/tasks*", "fault": "rate_limit", "retry_after": 0, "probability": 0.05},
    ],
}


@pytest.mark.slow
def test_fifty_files_under_faults_give_exactly_fifty_videos(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(faults=FAULTS)
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", events=events, concurrent_uploads=4)
    index = index_id(sandbox)
    files = distinct_videos(tmp_path / "in", video_dir, 50)
    jobs = engine.add_paths(files, index, target=TARGET)
    assert len(jobs) == 50
    with running(engine, uploads=4) as runner:
        assert runner.wait(timeout=240)
    done = engine.jobs()
    assert {j.state for j in done} == {JobState.READY}, [
        (j.name, j.state, j.error_code) for j in done if j.state is not JobState.READY
    ]
    with client_factory(sandbox)() as client:
        tasks = list(client.iter_tasks(index, page_limit=50))
    assert len(tasks) == 50
    assert sorted(t.id for t in tasks) == sorted(j.task_id or "" for j in done)
    lost = [r for r in sandbox.requests if r.method == "POST" and r.path == "/v1.3/tasks"]
    assert len(lost) > 50  # the faults really fired
    assert events.of(JobNotice)  # and retries were told, so no bar looked frozen


class _SlowList(ApiClient):
    """A service that lists a new task only ``lag`` seconds after it made it."""

    lag = 3.0

    def iter_tasks(self, index_id: str | None = None, **filters: Any) -> Iterator[Task]:
        for task in super().iter_tasks(index_id, **filters):
            made = datetime.fromisoformat(task.created_at or "").timestamp()
            if time.time() - made >= self.lag:
                yield task


def test_a_lost_answer_whose_task_shows_up_3s_later_is_not_sent_twice(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(
        faults={
            "rules": [{"method": "POST", "path": "/v1.3/tasks", "fault": "lost_answer", "times": 1}]
        }
    )
    # With a single early look (grace 0) this test sees two tasks.
    engine = make_engine(
        sandbox,
        tmp_path / "home",
        grace=6.0,
        factory=lambda: _SlowList(sandbox.base_url(), TEST_API_KEY, retry=FAST_RETRY),
    )
    index = index_id(sandbox)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    assert engine.job(job.id).state is JobState.READY
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 1
