"""The real app under Xvfb in demo mode, driven from the keyboard (tests/e2e/upload_run.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.upload_run import run
from uploader_app.models import JobState

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (make system-deps)"),
]


def test_every_video_reaches_ready_and_a_moved_file_fails_with_its_fix(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert [p.name for p in result.pictures] == [
        "uploads-in-progress.png",
        "upload-failed.png",
        "batch-finished.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in result.pictures)  # a window, not a black frame
    assert len(result.jobs) == 4
    assert {job.state for job in result.jobs} == {JobState.READY}
    assert all(job.video_id for job in result.jobs)
    assert result.failure.name == "workshop.mp4"
    assert result.failure.error_code == "source_missing"
    assert "Put the file back" in result.failure.error_hint
