"""The engine end to end on the sandbox: both routes, both API versions, controls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.support import (
    TARGET,
    Events,
    client_factory,
    index_id,
    make_engine,
    running,
    states,
)
from uploader_app.jobs.engine import ENABLE_VIDEO_STREAM
from uploader_app.jobs.events import JobChanged, JobProgress
from uploader_app.models import JobState, Route
from uploader_app.sandbox.records import IndexedAssetRecord, TaskRecord


@pytest.mark.parametrize("version", ["v1.3", "v1.2"])
def test_files_reach_ready_by_the_task_route(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path, version: str
) -> None:
    sandbox = start_sandbox()
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", version=version, events=events)
    index = index_id(sandbox, version)
    files = [video(f"clip{n}.mp4", duration=5.0 + n) for n in range(3)]
    jobs = engine.add_paths(files, index, target=TARGET, options={"language": "en"})
    assert states(jobs) == ["queued"] * 3
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    done = engine.jobs()
    assert states(done) == ["ready"] * 3
    assert all(j.route is Route.TASK and j.task_id and j.video_id for j in done)
    assert {"queued", "uploading", "on_service", "ready"} <= set(events.states(done[0].id))
    with client_factory(sandbox, version)() as client:
        tasks = list(client.iter_tasks(index))
    assert sorted(t.id for t in tasks) == sorted(j.task_id or "" for j in done)


def test_big_file_takes_the_asset_route(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox(chunk_size=16 * 1024)
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", events=events, multipart_over=1000)
    index = index_id(sandbox)
    path = video("big.mp4", duration=6.0)
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    done = engine.job(job.id)
    assert done.state is JobState.READY, done
    assert done.route is Route.ASSET
    assert done.asset_id and done.upload_id and done.indexed_asset_id
    assert done.video_id == done.indexed_asset_id
    assert done.bytes_sent == path.stat().st_size
    progress = events.of(JobProgress)
    assert progress[-1].sent == progress[-1].total == path.stat().st_size
    with client_factory(sandbox)() as client:
        items = list(client.iter_indexed_assets(index))
        assert [i.id for i in items] == [done.indexed_asset_id]


def test_same_file_twice_is_one_job_and_a_copy_is_already_in_the_index(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    path = video("a.mp4")
    [first] = engine.add_paths([path], index, target=TARGET)
    [again] = engine.add_paths([path], index, target=TARGET)
    assert again.id == first.id
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    assert engine.job(first.id).state is JobState.READY
    # The same content elsewhere, in a second store (another computer): already there.
    copy = tmp_path / "copy" / "a.mp4"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    other = make_engine(sandbox, tmp_path / "home2")
    [dup] = other.add_paths([copy], index, target=TARGET)
    with running(other) as runner:
        assert runner.wait(timeout=60)
    found = other.job(dup.id)
    assert found.state is JobState.ALREADY_IN_INDEX
    assert found.video_id == engine.job(first.id).video_id
    # Forcing a re-send makes a second video, on purpose.
    other.resend([dup.id])
    with running(other) as runner:
        assert runner.wait(timeout=60)
    assert other.job(dup.id).state is JobState.READY
    assert other.job(dup.id).video_id != found.video_id


def test_rejected_file_is_a_rejected_job_and_not_sent(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    short = video("short.mp4", duration=1.0)
    [job] = engine.add_paths([short], index, target=TARGET)
    assert job.state is JobState.REJECTED
    assert job.error_code and job.error_message and job.error_hint
    with running(engine) as runner:
        assert runner.wait(timeout=10)
    with client_factory(sandbox)() as client:
        assert list(client.iter_tasks(index)) == []


def test_events_carry_snapshots(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    events = Events()
    engine = make_engine(sandbox, tmp_path / "home", events=events)
    [job] = engine.add_paths([video("a.mp4")], index_id(sandbox), target=TARGET)
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    last = [e.job for e in events.of(JobChanged) if e.job.id == job.id][-1]
    assert last == engine.job(job.id)


def test_urls_are_checked_then_fetched_by_the_service(
    start_sandbox: StartSandbox,
    video: Callable[..., Path],
    web: tuple[str, Path],
    tmp_path: Path,
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    base, folder = web
    video("remote.mp4").replace(folder / "remote.mp4")
    good = f"{base}/remote.mp4"
    page = "https://www.youtube.com/watch?v=abc"
    jobs = engine.add_urls([good, page], index)
    assert [j.state for j in jobs] == [JobState.QUEUED, JobState.REJECTED]
    assert jobs[1].error_message and jobs[1].error_hint
    assert engine.add_urls([good], index)[0].id == jobs[0].id  # the same URL is one job
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    done = engine.job(jobs[0].id)
    assert done.state is JobState.READY, done
    assert done.route is Route.URL
    assert done.name == "remote.mp4"


def test_video_stream_is_one_explicit_choice_on_both_routes(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    # /tasks defaults to streaming and indexed assets do not: the engine says which, always.
    sandbox = start_sandbox(chunk_size=16 * 1024)
    index = index_id(sandbox)
    small = make_engine(sandbox, tmp_path / "a")
    big = make_engine(sandbox, tmp_path / "b", multipart_over=1000)
    [task_job] = small.add_paths([video("a.mp4")], index, target=TARGET)
    [asset_job] = big.add_paths([video("b.mp4", duration=6.0)], index, target=TARGET)
    for engine in (small, big):
        with running(engine) as runner:
            assert runner.wait(timeout=60)
    store = sandbox.sandbox.store
    task = store.get(TaskRecord, small.job(task_job.id).task_id or "")
    indexed = store.get(IndexedAssetRecord, big.job(asset_job.id).indexed_asset_id or "")
    assert task is not None
    assert indexed is not None
    assert task.enable_video_stream is ENABLE_VIDEO_STREAM
    assert indexed.enable_video_stream is ENABLE_VIDEO_STREAM


def test_a_file_sent_by_the_asset_route_elsewhere_is_already_in_the_index(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox(chunk_size=16 * 1024)
    index = index_id(sandbox)
    path = video("big.mp4", duration=6.0)
    first = make_engine(sandbox, tmp_path / "a", multipart_over=1000)
    [sent] = first.add_paths([path], index, target=TARGET)
    with running(first) as runner:
        assert runner.wait(timeout=60)
    # Another job list (another computer) with the same file.
    second = make_engine(sandbox, tmp_path / "b", multipart_over=1000)
    [again] = second.add_paths([path], index, target=TARGET)
    with running(second) as runner:
        assert runner.wait(timeout=60)
    found = second.job(again.id)
    assert found.state is JobState.ALREADY_IN_INDEX, found
    assert found.video_id == first.job(sent.id).video_id
    posts = [
        r for r in sandbox.requests if r.method == "POST" and r.path.endswith("multipart-uploads")
    ]
    assert len(posts) == 1  # not uploaded a second time
