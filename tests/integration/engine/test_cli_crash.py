"""kill -9 of the CLI mid-batch and mid-multipart, and two CLI runs on one folder at once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import (
    cli_env,
    distinct_videos,
    run_json,
    start_cli,
)
from tests.integration.engine.support import client_factory, index_id, wait_until
from tests.media import VideoSpec
from uploader_app.models import JobState
from uploader_app.store import Store

CHUNK = 8 * 1024


def _kill(proc: object) -> None:
    os.kill(proc.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    proc.wait(timeout=10)  # type: ignore[attr-defined]


def test_kill_mid_batch_then_the_same_command_finishes_it_once(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    slow = {"rules": [{"method": "POST", "path": "/v1.3/tasks", "fault": "slow", "delay": 0.4}]}
    sandbox = start_sandbox(faults=slow)
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    folder = tmp_path / "in"
    distinct_videos(folder, video_dir, 8)
    proc = start_cli(env, "upload", "--index", index, "--wait", str(folder))
    store_path = home / "jobs.sqlite3"
    wait_until(store_path.exists, timeout=30)
    store = Store(store_path)
    # Two tasks made and a next upload under way (two uploads that end together leave a
    # moment with none running: a kill then would cut nothing).
    wait_until(
        lambda: (
            sum(1 for j in store.jobs() if j.task_id) >= 2
            and any(j.state is JobState.UPLOADING for j in store.jobs())
        ),
        timeout=60,
    )
    _kill(proc)
    assert store.integrity_ok()
    assert any(j.state is JobState.UPLOADING for j in store.jobs())  # cut mid-way
    sandbox.set_faults(None)
    code, rows, err = run_json(env, "upload", "--index", index, "--wait", str(folder))
    assert code == 0, err
    assert [r["state"] for r in rows] == ["ready"] * 8
    with client_factory(sandbox)() as client:
        tasks = list(client.iter_tasks(index, page_limit=50))
    assert sorted(t.id for t in tasks) == sorted(r["task_id"] for r in rows)


def test_kill_mid_multipart_resumes_from_confirmed_chunks(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    slow = {"rules": [{"method": "PUT", "path": "/_uploads/*", "fault": "slow", "delay": 0.1}]}
    sandbox = start_sandbox(faults=slow, chunk_size=CHUNK)
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    spec = VideoSpec(width=1280, height=720, duration=6.0, fps=25.0, faststart=True)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1, spec)
    chunks = -(-path.stat().st_size // CHUNK)
    assert chunks >= 20
    args = ("upload", "--index", index, "--multipart-over", "1KB", "--wait", str(path))
    proc = start_cli(env, *args)
    store_path = home / "jobs.sqlite3"
    wait_until(store_path.exists, timeout=30)
    store = Store(store_path)
    wait_until(lambda: any(j.bytes_sent >= 8 * CHUNK for j in store.jobs()), timeout=60)
    _kill(proc)
    first = _chunk_puts(sandbox)
    sandbox.clear_requests()
    sandbox.set_faults(None)
    code, rows, err = run_json(env, *args)
    assert code == 0, err
    assert rows[0]["state"] == "ready"
    again = _chunk_puts(sandbox)
    resent = [index for index in again if index in first]
    assert len(resent) * CHUNK < 2 * CHUNK, (first, again)
    assert sorted(set(first) | set(again)) == list(range(1, chunks + 1))
    with client_factory(sandbox)() as client:
        assert len(list(client.iter_indexed_assets(index))) == 1


def _chunk_puts(sandbox: object) -> list[int]:
    return [
        int(r.path.rsplit("/", 1)[1])
        for r in sandbox.requests  # type: ignore[attr-defined]
        if r.method == "PUT" and r.path.startswith("/_uploads/")
    ]


def test_two_cli_runs_on_one_folder_upload_each_file_once(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    folder = tmp_path / "in"
    distinct_videos(folder, video_dir, 6)
    args = ("upload", "--index", index, "--wait", "--json", str(folder))
    procs = [start_cli(env, *args) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    with client_factory(sandbox)() as client:
        tasks = list(client.iter_tasks(index, page_limit=50))
    assert len(tasks) == 6
