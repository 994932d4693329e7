"""Regressions found in a review of the engine: each test failed before its fix."""

from __future__ import annotations

import os
import shutil
import signal
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import (
    cli_env,
    distinct_videos,
    run_cli,
    run_json,
    start_cli,
)
from tests.integration.engine.support import (
    TARGET,
    client_factory,
    index_id,
    make_engine,
    running,
    wait_until,
)
from uploader_app.api import requester as requester_module
from uploader_app.api.retry import RetryPolicy
from uploader_app.jobs import engine as engine_module
from uploader_app.models import JobState


def test_a_file_name_that_is_not_valid_text_is_reported_and_the_others_go(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    folder = tmp_path / "in"
    [good, other] = distinct_videos(folder, video_dir, 2)
    # A name written by another system in Latin-1: its bytes are not UTF-8.
    odd = os.fsencode(folder) + b"/caf\xe9.mp4"
    shutil.move(other, os.fsdecode(odd))
    code, rows, err = run_json(env, "upload", "--index", index_id(sandbox), "--wait", str(folder))
    assert "Traceback" not in err
    assert code == 1, err
    by_state = {r["state"]: r for r in rows}
    assert by_state["ready"]["path"] == str(good)
    assert by_state["rejected"]["code"] == "name_not_text"
    assert "rename" in by_state["rejected"]["hint"].lower()
    code, out, err = run_cli(env, "status")
    assert code == 0 and "Traceback" not in err
    assert "caf\N{REPLACEMENT CHARACTER}.mp4" in out
    code, _, err = run_cli(env, "export", str(tmp_path / "jobs.csv"))
    assert code == 0 and "Traceback" not in err


def test_retry_of_a_job_cancelled_on_the_service_follows_its_video_instead_of_a_second(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(speed=0.01)  # indexing takes minutes: the video is not ready yet
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.ON_SERVICE)
        engine.cancel([job.id])
        [again] = engine.retry([job.id])
        assert again.state is JobState.QUEUED
        wait_until(lambda: engine.job(job.id).state is JobState.ON_SERVICE)
        time.sleep(1.5)  # long enough for a second upload to show
    with client_factory(sandbox)() as client:
        tasks = list(client.iter_tasks(index))
    assert [t.id for t in tasks] == [engine.job(job.id).task_id]


def test_a_place_that_cannot_be_written_is_said_in_words(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    env = cli_env(sandbox, tmp_path / "home")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run_cli(env, "export", str(blocker / "jobs.csv"))
    assert (code, "Traceback" in err) == (1, False), err
    assert "jobs.csv" in err
    # The app's folder itself is not usable: a configuration problem.
    code, _, err = run_cli({**env, "UPLOADER_APP_HOME": str(blocker)}, "status")
    assert (code, "Traceback" in err) == (3, False), err


BUSY_STORAGE = {"method": "PUT", "path": "/_uploads/*", "fault": "s3_error", "code": "SlowDown"}
BUSY_ASSET = {"method": "GET", "path": "/v1.3/assets/*", "fault": "status", "status": 503}
BUSY_REPORT = {
    "method": "POST",
    "path": "/v1.3/assets/multipart-uploads/*",
    "fault": "status",
    "status": 503,
}


@pytest.mark.parametrize(
    "rule", [BUSY_STORAGE, BUSY_REPORT, BUSY_ASSET], ids=["chunk", "report", "asset-status"]
)
def test_pause_acts_within_a_second_while_a_multipart_call_waits_for_its_retry(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path, rule: dict[str, object]
) -> None:
    sandbox = start_sandbox(chunk_size=16 * 1024)
    # Every chunk PUT (or every report of chunks) fails, and the client waits 5 s to retry.
    sandbox.set_faults({"rules": [rule]})
    slow = RetryPolicy(max_attempts=5, base_delay=5.0, max_delay=5.0)
    engine = make_engine(
        sandbox,
        tmp_path / "home",
        multipart_over=0,
        factory=client_factory(sandbox, retry=slow),
    )
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    [job] = engine.add_paths([path], index_id(sandbox), target=TARGET)
    with running(engine):
        wait_until(lambda: any(fnmatch(r.path, str(rule["path"])) for r in sandbox.requests))
        time.sleep(0.2)  # the client is now in its 5 s wait
        started = time.monotonic()
        engine.pause([job.id])
        wait_until(lambda: not engine._running, timeout=3.0)
        assert time.monotonic() - started < 1.0
    assert engine.job(job.id).state is JobState.PAUSED


def test_ctrl_c_stops_the_command_in_words_and_the_job_waits_for_the_next_run(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(speed=0.001)  # indexing never ends during the test
    env = cli_env(sandbox, tmp_path / "home")
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    proc = start_cli(env, "upload", "--index", index_id(sandbox), "--wait", str(path))
    wait_until(
        lambda: any(r.method == "POST" and r.path == "/v1.3/tasks" for r in sandbox.requests)
    )
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    assert proc.returncode == 1
    assert "same command" in err
    code, rows, _ = run_json(env, "status")
    assert code == 0
    assert [r["state"] for r in rows] == ["on_service"]
    watch = start_cli(env, "status", "--watch")
    time.sleep(2.0)
    watch.send_signal(signal.SIGINT)
    _, err = watch.communicate(timeout=60)
    assert (watch.returncode, "Traceback" in err) == (0, False), err


class _ClockAhead:
    """The ``time`` module as seen on a computer whose clock is two minutes ahead."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return time.time() + 120.0


def test_a_lost_answer_is_found_when_this_computer_clock_is_ahead_of_the_service(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up takes tasks created since the request began: "since" must be read on the
    service's clock, or a clock 2 min ahead rules out the task the lost request made."""
    monkeypatch.setattr(engine_module, "time", _ClockAhead())
    monkeypatch.setattr(requester_module, "time", _ClockAhead())
    lost = {"method": "POST", "path": "/v1.3/tasks", "fault": "lost_answer", "times": 1}
    sandbox = start_sandbox(faults={"rules": [lost]})
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine):
        wait_until(lambda: engine.job(job.id).state is JobState.ON_SERVICE)
    with client_factory(sandbox)() as client:
        assert [t.id for t in client.iter_tasks(index)] == [engine.job(job.id).task_id]


def test_resume_right_after_pause_waits_for_the_request_still_on_the_wire(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    """Paused while the service works on the whole sent file, resumed at once: the answer of
    the first request is still to come, so a second runner must not send the file again."""
    slow = {"method": "POST", "path": "/v1.3/tasks", "fault": "slow", "delay": 3.0}
    sandbox = start_sandbox(faults={"rules": [slow]})
    engine = make_engine(sandbox, tmp_path / "home")
    index = index_id(sandbox)
    [path] = distinct_videos(tmp_path / "in", video_dir, 1)
    [job] = engine.add_paths([path], index, target=TARGET)
    with running(engine):
        wait_until(lambda: ("POST", "/v1.3/tasks") in sandbox.requests)
        time.sleep(0.3)  # the whole file is sent; the answer comes in 3 s
        engine.pause([job.id])
        engine.resume([job.id])
        wait_until(lambda: engine.job(job.id).state in (JobState.ON_SERVICE, JobState.READY))
        time.sleep(4.0)  # long enough for a second request to make its task
    with client_factory(sandbox)() as client:
        assert [t.id for t in client.iter_tasks(index)] == [engine.job(job.id).task_id]
