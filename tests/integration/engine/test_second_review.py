"""Regressions from the engine's second review: each test failed before its fix."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, run_cli, run_json
from tests.integration.engine.support import (
    TARGET,
    Events,
    client_factory,
    index_id,
    make_engine,
    running,
    wait_until,
)
from tests.media import make_padded
from uploader_app.jobs import engine as engine_module
from uploader_app.jobs.events import JobNotice
from uploader_app.models import IndexModel, JobState, SourceKind
from uploader_app.store import NewJob, Store
from uploader_app.validation import fingerprint as fingerprint_module


def test_a_vanished_upload_restarts_that_job_and_the_others_go(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(chunk_size=16 * 1024)
    events = Events()
    engine = make_engine(
        sandbox, tmp_path / "home", events=events, multipart_over=0, concurrent_uploads=1
    )
    index = index_id(sandbox)
    big, other = distinct_videos(tmp_path / "in", video_dir, 2)
    first, second = engine.add_paths([big, other], index, target=TARGET)
    # Slow chunk PUTs, so the first upload can be stopped half-way.
    sandbox.set_faults({"rules": [{"method": "PUT", "fault": "slow", "delay": 0.1}]})
    with running(engine, uploads=1):
        wait_until(lambda: engine.job(first.id).bytes_sent > 0)
        engine.pause([first.id])
        wait_until(lambda: not engine._running)
    asset_id = engine.job(first.id).asset_id
    assert asset_id
    sandbox.set_faults(None)
    # The service drops the asset (an expired session does the same): "resource_not_exist".
    gone = requests.delete(
        f"{sandbox.base_url()}/assets/{asset_id}",
        headers={"x-api-key": TEST_API_KEY},
        timeout=10,
    )
    assert gone.ok, gone.text
    engine.resume([first.id])
    with running(engine, uploads=1) as runner:
        assert runner.wait(timeout=60)
    assert engine.problem is None
    done = engine.job(first.id)
    assert done.state is JobState.READY, done
    assert done.asset_id != asset_id  # sent again under a new upload
    assert engine.job(second.id).state is JobState.READY
    assert any("starting the file over" in e.message for e in events.of(JobNotice))


def test_a_deleted_index_still_stops_the_uploads(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home")
    with client_factory(sandbox)() as client:
        gone = client.create_index("soon gone", [IndexModel("marengo3.0", ("visual",))]).id
    [job] = engine.add_paths([video("a.mp4")], gone, target=TARGET)
    requests.delete(
        f"{sandbox.base_url()}/indexes/{gone}", headers={"x-api-key": TEST_API_KEY}, timeout=10
    ).raise_for_status()
    with running(engine) as runner:
        assert runner.wait(timeout=30)
    assert engine.problem is not None and engine.problem.code == "index_missing"
    assert engine.job(job.id).state is JobState.NEEDS_ATTENTION


def test_a_queued_file_edited_then_added_again_is_one_job_with_its_new_content(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    [before] = engine.add_paths([path], index, target=TARGET)
    make_padded(path, tmp_path / "edited.mp4", path.stat().st_size + 7).replace(path)
    [after] = engine.add_paths([path], index, target=TARGET)
    assert after.id == before.id
    assert after.fingerprint != before.fingerprint
    assert after.size == path.stat().st_size
    assert len(engine.jobs()) == 1
    with running(engine) as runner:
        assert runner.wait(timeout=60)
    assert engine.job(before.id).state is JobState.READY
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_tasks(index))) == 1


@pytest.mark.parametrize("version", ["v1.3", "v1.2"])
def test_a_copy_sent_while_the_first_is_still_indexing_is_already_in_the_index(
    start_sandbox: StartSandbox,
    video: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: str,
) -> None:
    monkeypatch.setattr(engine_module, "TWIN_WAIT", 0.3)
    sandbox = start_sandbox(speed=4.0)  # indexing takes a few seconds
    index = index_id(sandbox, version)
    first = make_engine(sandbox, tmp_path / "home", version=version)
    path = video("a.mp4")
    [sent] = first.add_paths([path], index, target=TARGET)
    with running(first):
        wait_until(lambda: first.job(sent.id).state is JobState.ON_SERVICE)
    # Another computer (another store) sends the same file while the first is indexing.
    copy = tmp_path / "copy" / "a.mp4"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    second = make_engine(sandbox, tmp_path / "home2", version=version)
    [dup] = second.add_paths([copy], index, target=TARGET)
    with running(second) as runner:
        assert runner.wait(timeout=60)
    found = second.job(dup.id)
    assert found.state is JobState.ALREADY_IN_INDEX, found
    with client_factory(sandbox, version)() as client:
        [task] = client.iter_tasks(index)
    assert found.video_id == task.video_id


def test_url_jobs_failed_or_cancelled_are_queued_again_like_files(
    start_sandbox: StartSandbox,
    video: Callable[..., Path],
    web: tuple[str, Path],
    tmp_path: Path,
) -> None:
    sandbox = start_sandbox()
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    base, folder = web
    video("one.mp4").replace(folder / "one.mp4")
    video("two.mp4", duration=6.0).replace(folder / "two.mp4")
    cancelled, failed = engine.add_urls([f"{base}/one.mp4", f"{base}/two.mp4"], index)
    engine.cancel([cancelled.id])
    engine.store.update(failed.id, state=JobState.FAILED, error_code="x", error_message="x")
    again = engine.add_urls([f"{base}/one.mp4", f"{base}/two.mp4"], index)
    assert [j.id for j in again] == [cancelled.id, failed.id]
    assert [j.state for j in again] == [JobState.QUEUED, JobState.QUEUED]


def test_fingerprints_are_kept_across_runs_and_a_replaced_file_is_read_again(
    start_sandbox: StartSandbox,
    video_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox()
    index = index_id(sandbox)
    files = distinct_videos(tmp_path / "in", video_dir, 3)
    reads: list[Path] = []
    real = fingerprint_module.compute_fingerprint

    def counting(path: Path) -> str:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(fingerprint_module, "compute_fingerprint", counting)
    seen: list[tuple[int, int, str]] = []
    first = make_engine(sandbox, tmp_path / "home")
    first.add_paths(files, index, target=TARGET, progress=lambda *a: seen.append(a))
    assert len(reads) == 3
    assert seen[-1][:2] == (3, 3)
    first.store.close()
    # A second run (a new process: nothing in memory) reads no byte of unchanged files.
    second = make_engine(sandbox, tmp_path / "home")
    jobs = second.add_paths(files, index, target=TARGET)
    assert len(reads) == 3
    assert len({j.id for j in jobs}) == 3
    # Same size and mtime but another file (a new inode): read again.
    stat = files[0].stat()
    replacement = tmp_path / "replacement.mp4"
    replacement.write_bytes(files[0].read_bytes())
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    replacement.replace(files[0])
    second.add_paths(files[:1], index, target=TARGET)
    assert reads[3:] == [files[0].resolve()] or reads[3:] == [files[0]]


def test_the_cli_runs_and_reports_only_the_jobs_it_named(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    ours, theirs = distinct_videos(tmp_path / "in", video_dir, 2)
    # The window queued a file for an index that is gone, and another for this index.
    with Store(home / "jobs.sqlite3") as store:
        added = store.add(
            [
                NewJob(SourceKind.FILE, str(theirs), "6a0000000000000000000000"),
                NewJob(SourceKind.FILE, str(theirs), index, dedup_key="window's"),
            ]
        )
    others = [job.id for job, _ in added]
    started = time.monotonic()
    code, rows, err = run_json(env, "upload", "--index", index, str(ours))
    assert code == 0, err
    assert [r["path"] for r in rows] == [str(ours.absolute())]
    with Store(home / "jobs.sqlite3") as store:
        assert [j.state for j in store.jobs(ids=others)] == [JobState.QUEUED] * 2
    assert time.monotonic() - started < 60
    # Plain output says how the content check goes; --json kept stdout for the array.
    code, out, err = run_cli(env, "upload", "--index", index, str(ours))
    assert code == 0, err
    assert "Checking files: 1 of 1" in out


def test_on_v12_another_picture_size_under_the_same_name_and_length_is_not_a_copy(
    start_sandbox: StartSandbox, video: Callable[..., Path], tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    index = index_id(sandbox, "v1.2")
    first = make_engine(sandbox, tmp_path / "home", version="v1.2")
    [sent] = first.add_paths([video("a.mp4")], index, target=TARGET)
    with running(first) as runner:
        assert runner.wait(timeout=60)
    assert first.job(sent.id).state is JobState.READY
    # Another video, same name and length, another picture size: not the same video.
    other = video("other/a.mp4", width=854, height=480)
    second = make_engine(sandbox, tmp_path / "home2", version="v1.2")
    [job] = second.add_paths([other], index, target=TARGET)
    with running(second) as runner:
        assert runner.wait(timeout=60)
    done = second.job(job.id)
    assert done.state is JobState.READY, done
    with client_factory(sandbox, "v1.2")() as client:
        assert len(list(client.iter_tasks(index))) == 2
