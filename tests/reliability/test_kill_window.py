"""kill -9 of the window at random points of a batch, under Xvfb, against a test sandbox.

The real app gets the files on its command line, as a desktop hands them over, and is told to
upload them from the keyboard; then it is killed and started again (without files) at random
instants, each start continuing the unfinished jobs by itself. After each kill the store
passes ``PRAGMA integrity_check`` and no file has a second video; at the end every file has
one video (the shared invariants). Seeded like test_kill_cli.py (``UPLOADER_KILL_SEED``)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.e2e.window_screens import app
from tests.e2e.xdisplay import virtual_display
from tests.integration.engine.cli_support import distinct_videos
from tests.integration.engine.support import index_id
from tests.reliability.faults_support import rule
from tests.reliability.invariants import check_invariants, index_videos
from tests.reliability.test_kill_cli import SEED
from uploader_app.models import Job, JobState
from uploader_app.settings import AppSettings, save_settings_file
from uploader_app.store import Store

pytestmark = [
    pytest.mark.soak,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (make system-deps)"),
]
TITLE = "Video Indexing Uploader"
FILES = 100
KILLS = 20


def _jobs(path: Path) -> list[Job]:
    if not path.exists():
        return []
    with Store(path) as store:
        return store.jobs()


def _done(path: Path) -> int:
    """Steps done: one per file on the service, one more per video ready."""
    return sum(bool(j.task_id) + (j.state is JobState.READY) for j in _jobs(path))


def _progress(path: Path) -> Callable[[], bool]:
    """True once the batch moved on from where it is now."""
    before = _done(path)
    return lambda: _done(path) > before


def _wait(what: str, check: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app did not get there in {timeout:.0f} s: {what}")
        time.sleep(0.05)


def test_killing_the_window_at_random_points_loses_nothing_and_sends_nothing_twice(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    print(f"\nwindow kill run: seed {SEED}, {FILES} files, {KILLS} kills")
    sandbox = start_sandbox(faults={"rules": [rule("slow", delay=0.3)]})
    index = index_id(sandbox)
    home = tmp_path / "home"
    home.mkdir()
    save_settings_file(AppSettings(concurrent_uploads=2), home / "settings.toml")
    files = distinct_videos(tmp_path / "in", video_dir, FILES)
    path = home / "jobs.sqlite3"
    env = {
        "TWELVELABS_API_KEY": TEST_API_KEY,
        "TWELVELABS_BASE_URL": sandbox.base_url(),
        "UPLOADER_APP_LOOKUP_GRACE": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    kills = mid_upload = 0
    started = time.monotonic()
    with virtual_display() as screen:
        for launch in range(KILLS * 2):
            args = [str(f) for f in files] if launch == 0 else []
            with app(screen, home, *args, **env) as process:
                window = screen.wait_for_window(TITLE, timeout=60)
                if launch == 0:
                    time.sleep(8.0)  # the Files tab checks them
                    screen.focus(window)

                    # Once the files are checked, "Upload N videos" has the focus: Enter
                    # sends them (pressed again while the checks may still be running).
                    def queued() -> bool:
                        screen.press("Return")
                        time.sleep(2.0)
                        return len(_jobs(path)) == FILES

                    _wait("the batch queued", queued)
                if kills == KILLS:
                    _wait("every video ready", lambda: _done(path) == 2 * FILES, timeout=300)
                    break
                # Somewhere after this start has moved the batch on by itself.
                _wait("progress", _progress(path))
                time.sleep(rng.uniform(0.0, 1.5))
                mid_upload += any(j.state is JobState.UPLOADING for j in _jobs(path))
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                kills += 1
            with Store(path) as store:
                assert store.integrity_ok(), f"kill {kills}: integrity_check failed"
            per_name = Counter(index_videos(sandbox, index).values())
            assert max(per_name.values(), default=0) <= 1, f"kill {kills}: {per_name}"
    assert kills == KILLS
    with Store(path) as store:
        outcome = check_invariants(store, sandbox, index, names=[f.name for f in files])
    assert outcome.count(JobState.READY) == FILES
    print(
        f"window kill run: {kills} kills ({mid_upload} mid-upload), {FILES} files -> "
        f"{FILES} videos, {sandbox.requests.count(('POST', '/v1.3/tasks'))} POST /tasks, "
        f"{time.monotonic() - started:.0f} s"
    )
