"""The engine's figures (issue 14): polling 1,000 active jobs, 4 vs 1 concurrent uploads
against ``curl -F``, and the overhead of a 1,000-job queue.

- Polling runs the real poller against a sandbox holding 1,000 tasks that stay in progress,
  on a simulated clock (five minutes in a few seconds): every request is real HTTP, only the
  waits are skipped. Reference: the vendor SDK's ``wait_for_done`` polls each task every 5 s,
  12 requests per job per minute.
- Uploads go to the drain server (faster than any client), with the engine's runner at 1 and
  at 4 concurrent uploads, beside ``curl -F`` run 1 and 4 at a time on the same files.
- The queue figure adds 1,000 checked files (fingerprinted) to a fresh store.

Run alone: ``python -m tests.benchmarks.bench_engine``.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.benchmarks.bench_upload import KEY, MIB, Row, _make_file, _process
from tests.media import VideoSpec, make_video
from uploader_app.api.client import ApiClient
from uploader_app.api.retry import RetryPolicy
from uploader_app.jobs.engine import Engine, EngineOptions
from uploader_app.jobs.poller import Poller
from uploader_app.jobs.runner import ThreadRunner
from uploader_app.models import Finding, JobState, ProbeResult, SourceKind, Verdict
from uploader_app.sandbox.server import SandboxServer
from uploader_app.store import NewJob, Store

SDK_PER_JOB_PER_MINUTE = 12  # wait_for_done(sleep_interval=5)


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def bench_polling(work: Path, jobs: int = 1000, minutes: float = 5.0) -> list[Row]:
    server = SandboxServer(work / "sandbox", KEY, speed=0.0001)  # tasks stay in progress
    server.start()
    try:
        client = ApiClient(server.base_url(), KEY, retry=RetryPolicy(max_attempts=2))
        index = next(i.id for i in client.iter_indexes() if "marengo" in i.name.lower())
        clip = make_video(work / "videos", VideoSpec(duration=5.0, width=480, height=360, fps=5))
        store = Store(work / "poll.sqlite3")
        with ThreadPoolExecutor(4) as pool:
            created = list(
                pool.map(
                    lambda n: ApiClient(server.base_url(), KEY).create_task_from_file(
                        index, clip, filename=f"c{n}.mp4"
                    ),
                    range(jobs),
                )
            )
        added = store.add(
            [NewJob(SourceKind.FILE, f"/v/c{n}.mp4", index, dedup_key=str(n)) for n in range(jobs)]
        )
        for (job, _), task in zip(added, created, strict=True):
            store.update(job.id, state=JobState.ON_SERVICE, task_id=task.id)
        clock = _Clock()
        poller = Poller(store, lambda: client, lambda job: job, 60, clock=clock)
        start = clock.now
        stamps: deque[float] = deque()
        worst = 0
        while clock.now - start < minutes * 60:
            before = poller.requests
            wait = poller.poll_once()
            stamps.extend([clock.now] * (poller.requests - before))
            while stamps and clock.now - stamps[0] >= 60:
                stamps.popleft()
            worst = max(worst, len(stamps))
            clock.now += wait
        per_minute = poller.requests / minutes
    finally:
        server.stop()
    return [
        (
            f"polling {jobs:,} active jobs: requests per minute (mean over {minutes:g} min)",
            f"{per_minute:.0f} (busiest minute {worst})",
            f"SDK wait_for_done {SDK_PER_JOB_PER_MINUTE * jobs:,}; target ≤ 60",
        )
    ]


def _findings(paths: list[Path]) -> list[Finding]:
    return [
        Finding(p, Verdict.OK, None, "Ready to upload.", probe=ProbeResult(p, p.stat().st_size))
        for p in paths
    ]


def _engine_upload(drain: str, home: Path, paths: list[Path], uploads: int) -> float:
    store = Store(home / f"jobs-{uploads}.sqlite3")
    options = EngineOptions(concurrent_uploads=uploads, multipart_over=10**12)
    engine = Engine(store, options, lambda: ApiClient(f"{drain}/v1.3", KEY), keep_awake=False)
    engine.add_findings(_findings(paths), "drain-index", options={"force": "1"})
    runner = ThreadRunner(engine, uploads)
    started = time.perf_counter()
    runner.start()
    try:
        while any(j.state in (JobState.QUEUED, JobState.UPLOADING) for j in store.jobs()):
            time.sleep(0.02)
    finally:
        runner.stop()
    elapsed = time.perf_counter() - started
    failed = [j for j in store.jobs() if j.state is not JobState.ON_SERVICE]
    if failed:
        raise RuntimeError(f"uploads failed: {failed[0]}")
    return elapsed


def _curls(drain: str, paths: list[Path], at_once: int) -> float:
    def one(path: Path) -> None:
        subprocess.run(
            ["curl", "-sS", "-o", os.devnull, "-H", f"x-api-key: {KEY}", "-F",
             "index_id=drain-index", "-F", f"video_file=@{path}", f"{drain}/v1.3/tasks"],
            check=True,
        )  # fmt: skip

    started = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - started


def bench_concurrency(work: Path, files: int = 8, size_mib: int = 64) -> list[Row]:
    folder = work / "upload"
    folder.mkdir()
    source = _make_file(folder, size_mib * MIB)
    paths = []
    for n in range(files):
        # Distinct content: the engine keeps one job per content.
        path = folder / f"f{n}.bin"
        shutil.copyfile(source, path)
        with path.open("ab") as fh:
            fh.write(n.to_bytes(4, "big"))
        paths.append(path)
    total_mb = sum(p.stat().st_size for p in paths) / 1e6
    rows: list[Row] = []
    with _process(["-m", "tests.benchmarks.drain_server"], r"http://[\d.]+:\d+") as drain:
        for uploads in (1, 4):
            ours = _engine_upload(drain, work, paths, uploads)
            curl = _curls(drain, paths, uploads)
            rows.append(
                (
                    f"engine, {uploads} at a time, {files} × {size_mib} MiB → drain: MB/s",
                    f"{total_mb / ours:,.0f} ({curl / ours:.2f}× curl)",
                    f"curl -F {uploads} at a time {total_mb / curl:,.0f}; target ≥ 0.95×",
                )
            )
    return rows


def bench_routes(work: Path, files: int = 10) -> list[Row]:
    """What the asset route costs a small file over ``/tasks``: time to reach the service
    and requests made (the reasoning for the default threshold, docs/engine.md "Routes")."""
    server = SandboxServer(work / "routes-sandbox", KEY, speed=1000)
    server.start()
    try:
        client = ApiClient(server.base_url(), KEY)
        index = next(i.id for i in client.iter_indexes() if "marengo" in i.name.lower())
        source = make_video(work / "videos", VideoSpec(duration=5.0, faststart=True))
        figures = {}
        for label, threshold in (("task", 10**12), ("asset", 0)):
            paths = []
            for n in range(files):
                path = work / f"routes-{label}" / f"r{n}.mp4"
                path.parent.mkdir(exist_ok=True)
                shutil.copyfile(source, path)
                with path.open("ab") as fh:
                    fh.write(n.to_bytes(4, "big") + label.encode())
                paths.append(path)
            store = Store(work / f"routes-{label}.sqlite3")
            engine = Engine(
                store,
                EngineOptions(concurrent_uploads=1, multipart_over=threshold),
                lambda: ApiClient(server.base_url(), KEY),
                keep_awake=False,
            )
            engine.add_findings(_findings(paths), index, options={"force": "1"})
            server.clear_requests()
            runner = ThreadRunner(engine, 1)
            started = time.perf_counter()
            runner.start()
            try:
                while any(j.state in (JobState.QUEUED, JobState.UPLOADING) for j in store.jobs()):
                    time.sleep(0.005)
            finally:
                runner.stop()
            elapsed = time.perf_counter() - started
            sent = sum(1 for r in server.requests if not r.path.startswith("/v1.3/tasks/"))
            figures[label] = (elapsed / files, sent / files)
    finally:
        server.stop()
    (task_s, task_n), (asset_s, asset_n) = figures["task"], figures["asset"]
    return [
        (
            f"small file ({source.stat().st_size / 1000:.0f} kB) to the sandbox: asset route",
            f"{asset_s * 1000:.0f} ms, {asset_n:.1f} requests per file",
            f"/tasks route {task_s * 1000:.0f} ms, {task_n:.1f} requests per file",
        )
    ]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_queue(work: Path, jobs: int = 1000) -> list[Row]:
    folder = work / "queue"
    folder.mkdir()
    paths = []
    for n in range(jobs):
        path = folder / f"clip{n:04d}.mp4"
        path.write_bytes(os.urandom(1024))
        paths.append(path)
    store = Store(work / "queue.sqlite3")
    engine = Engine(store, EngineOptions(), lambda: ApiClient("http://127.0.0.1:9", KEY))
    findings = _findings(paths)
    engine.add_findings(findings[:100], "idx")
    rss_100 = _rss_mb()
    started = time.perf_counter()
    engine.add_findings(findings[100:], "idx")
    enqueue = time.perf_counter() - started
    rss_1000 = _rss_mb()
    started = time.perf_counter()
    engine.totals()
    listed = len(engine.jobs())
    query = time.perf_counter() - started
    size_kb = sum(p.stat().st_size for p in work.glob("queue.sqlite3*")) / 1024
    return [
        (
            f"queue of {listed:,} jobs: enqueue (hash + insert) per job",
            f"{enqueue / (jobs - 100) * 1000:.2f} ms",
            f"{enqueue:.2f} s for {jobs - 100}",
        ),
        (
            f"queue of {listed:,} jobs: store size",
            f"{size_kb:,.0f} KiB",
            f"≈ per job: {size_kb / listed:.2f} KiB",
        ),
        (
            f"queue of {listed:,} jobs: peak RSS growth from 100 to {jobs:,} jobs",
            f"{rss_1000 - rss_100:.1f} MB",
            "flat: no per-job state in memory",
        ),
        (f"queue of {listed:,} jobs: jobs() + totals()", f"{query * 1000:.0f} ms", ""),
    ]


def bench_fingerprint_cache(work: Path, files: int = 20, size_mib: int = 64) -> list[Row]:
    """Queueing the same folder twice, each time as a new process would (a new Engine on the
    store file): the first run reads every byte, the second finds the fingerprints in the
    store. Sparse files: the bytes are read, not stored on disk."""
    folder = work / "hashed"
    folder.mkdir()
    paths = []
    for n in range(files):
        path = folder / f"big{n:02d}.mp4"
        with path.open("wb") as fh:
            fh.truncate(size_mib * MIB - 1)
            fh.write(bytes([n]))
        paths.append(path)
    findings = _findings(paths)
    timings = []
    for _ in range(2):
        with Store(work / "hashed.sqlite3") as store:
            engine = Engine(store, EngineOptions(), lambda: ApiClient("http://127.0.0.1:9", KEY))
            started = time.perf_counter()
            engine.add_findings(findings, "idx")
            timings.append(time.perf_counter() - started)
    total = files * size_mib
    return [
        (
            f"enqueue {files} × {size_mib} MiB, first run (hashes {total:,} MiB)",
            f"{timings[0]:.2f} s",
            f"{total / timings[0]:,.0f} MiB/s",
        ),
        (
            f"enqueue {files} × {size_mib} MiB, second run (fingerprints from the store)",
            f"{timings[1] * 1000:.1f} ms",
            f"{timings[0] / timings[1]:,.0f}× faster",
        ),
    ]


def run() -> list[Row]:
    if not shutil.which("curl"):
        raise RuntimeError("curl is needed as the reference tool (make system-deps installs it)")
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        work = Path(tmp)
        return [
            *bench_queue(work),
            *bench_fingerprint_cache(work),
            *bench_routes(work),
            *bench_polling(work),
            *bench_concurrency(work),
        ]


if __name__ == "__main__":
    from tests.benchmarks.report import print_table

    threading.current_thread().name = "bench"
    print_table(run())
    sys.exit(0)
