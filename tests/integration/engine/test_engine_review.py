"""Regressions from the review of the engine branch: each test failed before its fix."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import distinct_videos
from tests.integration.engine.support import (
    TARGET,
    Events,
    index_id,
    make_engine,
    running,
    wait_until,
)
from tests.media import VideoSpec
from uploader_app.jobs.events import JobProgress, JobsRemoved
from uploader_app.models import JobState

CLIP = VideoSpec(width=640, height=360, duration=8.0, fps=25.0, faststart=True)


def test_a_resumed_upload_under_a_speed_limit_does_not_wait_for_the_bytes_sent_before(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(chunk_size=16 * 1024)
    home = tmp_path / "home"
    first = make_engine(sandbox, home, multipart_over=0, concurrent_uploads=1)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1, CLIP)
    size = path.stat().st_size
    [job] = first.add_paths([path], index_id(sandbox), target=TARGET)
    sandbox.set_faults({"rules": [{"method": "PUT", "fault": "slow", "delay": 0.05}]})
    with running(first, uploads=1):
        wait_until(lambda: first.job(job.id).bytes_sent > size // 2)
        first.pause([job.id])
        wait_until(lambda: not first._running)
    sandbox.set_faults(None)
    done = first.job(job.id).bytes_sent
    # The window opened again with a limit that lets the bytes sent before take many seconds.
    cap = done // 20  # the bytes sent before are 20 s at this speed
    second = make_engine(sandbox, home, multipart_over=0, concurrent_uploads=1, bandwidth_cap=cap)
    puts_before = sum(1 for r in sandbox.requests if r.method == "PUT")
    second.resume([job.id])
    started = time.monotonic()
    with running(second, uploads=1):
        # The next chunk goes out at once: only bytes sent from now on count against the limit.
        wait_until(lambda: sum(1 for r in sandbox.requests if r.method == "PUT") > puts_before)
        assert time.monotonic() - started < 8.0
    assert second.job(job.id).state is JobState.QUEUED  # stopped with the runner, goes on later


def test_a_waiting_file_changed_into_another_jobs_video_leaves_the_window_too(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", events=events)
    index = index_id(sandbox)
    a, b = distinct_videos(tmp_path / "in", video_dir, 2)
    stale, other = engine.add_paths([a, b], index, target=TARGET)
    shutil.copyfile(b, a)  # a.mp4 is now the same video as b.mp4, before either was sent
    [found] = engine.add_paths([a], index, target=TARGET)
    assert found.id == other.id
    assert [j.id for j in engine.store.jobs()] == [other.id]
    # The view is told, or the window keeps a row for a job that is gone.
    assert JobsRemoved((stale.id,)) in events.of(JobsRemoved)


def test_two_uploads_under_a_speed_limit_never_read_over_it_together(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    events = Events()
    cap = 50_000
    engine = make_engine(sandbox, tmp_path / "home", events=events, bandwidth_cap=cap)
    a, b = distinct_videos(tmp_path / "in", video_dir, 2, CLIP)
    assert a.stat().st_size > 1.5 * cap
    engine.add_paths([a, b], index_id(sandbox), target=TARGET)
    shown: list[float] = []  # the two speeds a person reads side by side, added up
    with running(engine):
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            latest: dict[int, float] = {}
            for event in events.of(JobProgress):
                if event.speed is not None:
                    latest[event.job_id] = event.speed
            if len(latest) == 2:
                shown.append(sum(latest.values()))
            time.sleep(0.1)
    assert shown
    # Was 2x the cap for seconds: a second of burst and the first piece read as speed.
    assert max(shown) <= 1.3 * cap, shown
