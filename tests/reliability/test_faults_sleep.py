"""Fault matrix, the computer sleeps mid-upload: the CLI is stopped (SIGSTOP) with an upload
on the wire and woken (SIGCONT) later; 2 minutes in the soak run, 1 s by default. Its
leases ran out meanwhile; nothing may be lost or sent twice."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, start_cli
from tests.integration.engine.support import index_id, wait_until
from tests.reliability.faults_support import rule
from tests.reliability.invariants import check_invariants
from uploader_app.models import JobState
from uploader_app.store import Store


@pytest.mark.parametrize(
    "asleep",
    [
        pytest.param(1.0, id="1s"),
        pytest.param(120.0, id="2min", marks=[pytest.mark.soak, pytest.mark.timeout(600)]),
    ],
)
def test_sleeping_mid_upload_then_waking_finishes_every_file_once(
    asleep: float, start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: after the wake-up the same run goes on by itself (exit 0), every file ready,
    # and no upload sent twice: the one on the wire during the sleep was answered meanwhile.
    sandbox = start_sandbox(faults={"rules": [rule("slow", delay=0.5)]})
    home = tmp_path / "home"
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    folder = tmp_path / "in"
    files = distinct_videos(folder, video_dir, 3)
    proc = start_cli(env, "upload", "--index", index, "--wait", str(folder))
    wait_until((home / "jobs.sqlite3").exists, timeout=30)
    store = Store(home / "jobs.sqlite3")
    wait_until(
        lambda: (
            any(j.task_id for j in store.jobs())
            and any(j.state is JobState.UPLOADING for j in store.jobs())
        ),
        timeout=60,
    )
    os.kill(proc.pid, signal.SIGSTOP)
    asleep_at = time.monotonic()
    try:
        time.sleep(asleep)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert time.monotonic() - asleep_at >= asleep
    outcome = check_invariants(store, sandbox, index, names=[f.name for f in files])
    assert outcome.count(JobState.READY) == len(files), out
    assert sandbox.requests.count(("POST", "/v1.3/tasks")) == len(files)
