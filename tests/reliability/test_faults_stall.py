"""Fault matrix, a stalled connection with the app's real timeouts (soak: minutes). The fast
variant with a 1 s timeout is in test_faults_network.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.engine.support import FAST_RETRY
from tests.reliability.faults_support import TASKS, batch, rule
from uploader_app.api.client import ApiClient
from uploader_app.api.transport import Timeouts
from uploader_app.models import JobState

pytestmark = [pytest.mark.soak, pytest.mark.timeout(900)]


def test_no_bytes_for_65s_times_out_at_60s_and_the_retry_finishes_once(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    # Outcome: the service sends nothing for 65 s on a status read: the read gives up at the
    # 60 s timeout (Timeouts.read) and the next round reads it; after an upload is sent the
    # app waits up to 300 s for the service's answer (Timeouts.upload_read: it checks the
    # video first), so a 65 s silence there is waited out, not sent twice. One video, ready.
    faults = [rule("slow", delay=65), rule("slow", f"{TASKS}/*", "GET", delay=65, times=1)]
    run = batch(
        start_sandbox,
        video_dir,
        tmp_path,
        faults=[{**faults[0], "times": 1}, faults[1]],
        count=1,
        clients=lambda sandbox: (
            lambda: ApiClient(
                sandbox.base_url(), TEST_API_KEY, retry=FAST_RETRY, timeout=Timeouts()
            )
        ),
    )
    started = time.monotonic()
    run.run(timeout=600)
    elapsed = time.monotonic() - started
    assert run.check().count(JobState.READY) == 1
    assert run.requests("POST") == 1
    assert elapsed >= 65 + 60, elapsed
    print(f"stall: ready after {elapsed:.0f} s (65 s silent upload answer, 60 s read timeout)")
