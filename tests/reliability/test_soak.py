"""Soak: 1,000 small files through the sandbox with 5 % of requests broken at random.

The CLI uploads them in its own process, so its memory (RSS), open file descriptors and
threads can be read from /proc while it runs; they must stay flat from the start of the
uploads to the end, every job must end ready and every file must have one video (the shared
invariants). The figures are printed for the closing note."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import StartSandbox
from tests.integration.engine.cli_support import cli_env, distinct_videos, start_cli
from tests.integration.engine.support import index_id
from tests.reliability.invariants import check_invariants
from uploader_app.models import JobState
from uploader_app.settings import AppSettings, save_settings_file
from uploader_app.store import Store

pytestmark = [
    pytest.mark.soak,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]
FILES = 1000
UPLOADS = 4
# Five kinds of break, about 1 % of requests each (the first rule that fires decides).
FAULTS = {
    "seed": 1000,
    "rules": [
        {"path": "/v1.3/*", "fault": kind, "probability": 0.01, **extra}
        for kind, extra in [
            ("reset", {}),
            ("status", {"status": 500}),
            ("status", {"status": 503}),
            ("lost_answer", {}),
            ("rate_limit", {"retry_after": 1}),
        ]
    ],
}
# Allowed growth from the first uploads to the end (measured +2.3 MB, 0 and -4: docs/engine.md
# "Reliability proofs").
RSS_GROWTH_MB = 30.0
FD_GROWTH = 4
THREAD_GROWTH = 2


@dataclass
class Sample:
    at: float
    rss_mb: float
    fds: int
    threads: int
    sent: int  # jobs whose file reached the service
    ready: int


@dataclass
class Meter:
    """Samples a process's /proc figures twice a second until it ends."""

    pid: int
    store: Path
    samples: list[Sample] = field(default_factory=list)

    def run(self) -> None:
        proc = Path(f"/proc/{self.pid}")
        while True:
            try:
                status = (proc / "status").read_text()
                fds = len(list((proc / "fd").iterdir()))
            except (FileNotFoundError, ProcessLookupError):
                return
            if "State:\tZ" in status:
                return
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            self.samples.append(
                Sample(
                    time.monotonic(),
                    int(fields["VmRSS"].split()[0]) / 1024,
                    fds,
                    int(fields["Threads"]),
                    *self._progress(),
                )
            )
            time.sleep(0.5)

    def _progress(self) -> tuple[int, int]:
        if not self.store.exists():
            return 0, 0
        with Store(self.store) as store:
            jobs = store.jobs()
        return sum(1 for j in jobs if j.task_id), sum(1 for j in jobs if j.state is JobState.READY)


def test_a_thousand_files_under_random_faults_all_end_ready_with_flat_resources(
    start_sandbox: StartSandbox, video_dir: Path, tmp_path: Path
) -> None:
    sandbox = start_sandbox(faults=FAULTS, keep_log=True)
    home = tmp_path / "home"
    home.mkdir()
    save_settings_file(AppSettings(concurrent_uploads=UPLOADS), home / "settings.toml")
    env = cli_env(sandbox, home)
    index = index_id(sandbox)
    folder = tmp_path / "in"
    files = distinct_videos(folder, video_dir, FILES)
    started = time.monotonic()
    proc = start_cli(env, "upload", "--index", index, "--wait", str(folder))
    meter = Meter(proc.pid, home / "jobs.sqlite3")
    watcher = threading.Thread(target=meter.run)
    watcher.start()
    _out, err = proc.communicate(timeout=3000)
    watcher.join()
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, err[-3000:]
    with Store(home / "jobs.sqlite3") as store:
        outcome = check_invariants(store, sandbox, index, names=[f.name for f in files])
    assert outcome.count(JobState.READY) == FILES
    # "Start": once 50 uploads are done (the scan and start-up are behind); "end": the last
    # sample with the runner still running (the main thread, the uploaders and the poller;
    # the start has one more per upload under way, its lease heartbeat), every file sent. (The
    # poller marks hundreds ready per round, so the last running sample may show fewer.)
    first = next(s for s in meter.samples if s.sent >= 50)
    half = next(s for s in meter.samples if s.sent >= FILES // 2)
    last = [s for s in meter.samples if s.threads >= 1 + UPLOADS + 1][-1]
    assert last.sent == FILES, last
    peak = max(s.rss_mb for s in meter.samples)
    posts = sandbox.requests.count(("POST", "/v1.3/tasks"))
    broken = sandbox.app.faults.fired
    print(
        f"\nsoak: {FILES} files -> {outcome.count(JobState.READY)} ready, {elapsed:.0f} s, "
        f"{len(sandbox.requests)} requests ({posts} POST /tasks), {broken} broken\n"
        f"soak: start / half-way / end: RSS {first.rss_mb:.1f} / {half.rss_mb:.1f} / "
        f"{last.rss_mb:.1f} MB (peak {peak:.1f}), fds {first.fds} / {half.fds} / {last.fds}, "
        f"threads {first.threads} / {half.threads} / {last.threads}, "
        f"{len(meter.samples)} samples ({last.ready} ready at the end sample)"
    )
    assert last.rss_mb - first.rss_mb < RSS_GROWTH_MB
    assert last.fds - first.fds <= FD_GROWTH
    assert last.threads - first.threads <= THREAD_GROWTH
