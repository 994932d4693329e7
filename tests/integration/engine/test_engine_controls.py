"""Pause, resume and cancel within a second; vanished, renamed and growing files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import distinct_videos
from tests.integration.engine.support import (
    TARGET,
    Events,
    client_factory,
    index_id,
    lift_cap,
    make_engine,
    running,
    wait_until,
)
from tests.media import VideoSpec
from uploader_app.jobs.events import JobProgress
from uploader_app.models import JobState

# Seconds for a clip at this cap: long enough to act on it mid-upload.
CAP = 50_000
BIG = VideoSpec(width=640, height=360, duration=8.0, fps=25.0, faststart=True)


def _uploading(engine: object, job_id: int) -> bool:
    return engine.job(job_id).state is JobState.UPLOADING and engine.job(job_id).bytes_sent > 0  # type: ignore[attr-defined]


def test_pause_resume_and_cancel_act_within_a_second(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", events=events, bandwidth_cap=CAP)
    index = index_id(sandbox)
    a, b = distinct_videos(tmp_path / "in", video_dir, 2, BIG)
    assert a.stat().st_size > 2 * CAP
    job_a, job_b = engine.add_paths([a, b], index, target=TARGET)
    with running(engine) as runner:
        wait_until(lambda: _uploading(engine, job_a.id) and _uploading(engine, job_b.id))
        started = time.monotonic()
        engine.pause([job_a.id])
        engine.cancel([job_b.id])
        # Both uploads stop (their worker threads are free again) within a second.
        wait_until(lambda: not engine._running, timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert engine.job(job_a.id).state is JobState.PAUSED
        assert engine.job(job_b.id).state is JobState.CANCELLED
        sent = [e.sent for e in events.of(JobProgress) if e.job_id == job_a.id]
        time.sleep(0.5)
        assert [e.sent for e in events.of(JobProgress) if e.job_id == job_a.id] == sent
        lift_cap(engine)
        engine.resume([job_a.id])
        assert runner.wait(timeout=60)
    assert engine.job(job_a.id).state is JobState.READY
    assert engine.job(job_b.id).state is JobState.CANCELLED
    with client_factory(sandbox)() as client:
        assert [t.id for t in client.iter_tasks(index)] == [engine.job(job_a.id).task_id]


def test_pause_from_another_process_stops_the_upload(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home", bandwidth_cap=CAP)
    other = make_engine(sandbox, tmp_path / "home")  # a second Store on the same file
    [path] = distinct_videos(tmp_path / "in", video_dir, 1, BIG)
    [job] = engine.add_paths([path], index_id(sandbox), target=TARGET)
    with running(engine):
        wait_until(lambda: _uploading(engine, job.id))
        started = time.monotonic()
        other.pause([job.id])
        wait_until(lambda: not engine._running, timeout=1.5)
        assert time.monotonic() - started < 1.0
    assert engine.job(job.id).state is JobState.PAUSED


def test_vanished_renamed_and_growing_files_fail_alone_with_a_reason(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home", bandwidth_cap=CAP, concurrent_uploads=1)
    index = index_id(sandbox)
    vanished, renamed, growing, fine = distinct_videos(tmp_path / "in", video_dir, 4, BIG)
    jobs = engine.add_paths([vanished, renamed, growing, fine], index, target=TARGET)
    vanished.unlink()
    renamed.rename(renamed.with_name("other name.mp4"))
    stop = threading.Event()

    def grow() -> None:
        # Appends while the file is being sent, as a recorder still writing it would.
        wait_until(lambda: _uploading(engine, jobs[2].id) or stop.is_set(), timeout=60)
        with growing.open("ab") as fh:
            fh.write(b"\0" * 1000)
        lift_cap(engine)

    grower = threading.Thread(target=grow)
    grower.start()
    with running(engine, uploads=1) as runner:
        assert runner.wait(timeout=120)
    stop.set()
    grower.join()
    by_name = {j.name: engine.job(j.id) for j in jobs}
    for name in (vanished.name, renamed.name):
        job = by_name[name]
        assert job.state is JobState.FAILED
        assert job.error_code == "source_missing"
        assert name in job.error_message
        assert job.error_hint
    grown = by_name[growing.name]
    assert grown.state is JobState.FAILED
    assert grown.error_code == "file_changed"
    assert "Wait until" in grown.error_hint
    assert by_name[fine.name].state is JobState.READY


def test_progress_is_paced_and_carries_speed_and_eta(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", events=events, bandwidth_cap=CAP)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1, BIG)
    [job] = engine.add_paths([path], index_id(sandbox), target=TARGET)
    started = time.monotonic()
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    elapsed = time.monotonic() - started
    progress = [e for e in events.of(JobProgress) if e.job_id == job.id]
    # 16 KiB reads give dozens of pieces; the bar hears of at most 10 a second.
    assert 3 <= len(progress) <= 10 * elapsed + 2
    assert progress[-1].sent == progress[-1].total == path.stat().st_size
    assert any(e.speed and e.eta is not None for e in progress)
    assert [e.sent for e in progress] == sorted(e.sent for e in progress)
