"""Upload throughput and memory: our client against ``curl -F`` to the same server, same run.

Two servers: the sandbox (what users demo against) and a drain server that is faster than any
client, so the second comparison shows the client's own limit. Rounds are interleaved, who
goes first alternating, so a noisy neighbour hurts both alike; the ratio is the median of the
per-round ratios. Each of our uploads runs in a fresh process, as a user's first upload does.
Target (issue 3): ours ≥ 0.95× curl, < 60 MB above idle RSS.

Run alone: ``python -m tests.benchmarks.bench_upload [SIZE_MIB] [ROUNDS]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

KEY = "bench-key-not-a-secret"
MIB = 1 << 20
Row = tuple[str, str, str]


@contextmanager
def _process(args: list[str], pattern: str) -> Iterator[str]:
    """Start a server process and yield the URL it prints on its first line."""
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(pattern, first)
        if not match:
            raise RuntimeError(f"server did not start: {first!r}")
        yield match.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _make_file(directory: Path, size: int) -> Path:
    path = directory / "big.bin"
    chunk = os.urandom(MIB)
    with path.open("wb") as fh:
        for _ in range(size // MIB):
            fh.write(chunk)
    return path


def _curl(url: str, index_id: str, path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            os.devnull,
            "-H",
            f"x-api-key: {KEY}",
            "-F",
            f"index_id={index_id}",
            "-F",
            f"video_file=@{path}",
            f"{url}/tasks",
        ],
        check=True,
    )
    return time.perf_counter() - started


def _ours(base_url: str, index_id: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.upload_client",
            base_url,
            KEY,
            index_id,
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["progress_last"] != path.stat().st_size:
        raise RuntimeError(f"progress stopped at {result['progress_last']} bytes")
    return result


def _compare(label: str, base_url: str, index_id: str, path: Path, rounds: int) -> list[Row]:
    size_mb = path.stat().st_size / 1e6
    curl_times: list[float] = []
    our_times: list[float] = []
    ratios: list[float] = []
    peaks: list[float] = []
    for round_no in range(rounds):
        # Alternate who goes first, so neither always gets the colder cache or the busier disk.
        if round_no % 2:
            ours = _ours(base_url, index_id, path)
            curl_s = _curl(base_url, index_id, path)
        else:
            curl_s = _curl(base_url, index_id, path)
            ours = _ours(base_url, index_id, path)
        curl_times.append(curl_s)
        our_times.append(ours["seconds"])
        ratios.append(curl_s / ours["seconds"])
        peaks.append(ours["peak_above_idle"] / MIB)
    curl_med, our_med = statistics.median(curl_times), statistics.median(our_times)
    return [
        (
            f"upload {size_mb / 1000:.1f} GB → {label}: MB/s",
            f"{size_mb / our_med:,.0f}",
            f"curl -F {size_mb / curl_med:,.0f}",
        ),
        (
            f"upload → {label}: speed ÷ curl -F (median of {rounds} paired rounds)",
            f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})",
            "target ≥ 0.95×",
        ),
        (
            f"upload → {label}: peak RSS above idle",
            f"{max(peaks):.1f} MB",
            "target < 60 MB; curl 0 MB",
        ),
    ]


def run(size_mib: int = 1024, rounds: int = 7) -> list[Row]:
    if not shutil.which("curl"):
        raise RuntimeError("curl is needed as the reference tool (make system-deps installs it)")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        work = Path(tmp)
        path = _make_file(work, size_mib * MIB)
        with _process(
            [
                "-m",
                "uploader_app",
                "sandbox",
                "--port",
                "0",
                "--speed",
                "1000",
                "--api-key",
                KEY,
                "--data-dir",
                str(work / "sandbox"),
            ],
            r"http://[\d.]+:\d+/v1\.3",
        ) as sandbox_url:
            indexes = requests.get(
                f"{sandbox_url}/indexes", headers={"x-api-key": KEY}, timeout=10
            ).json()["data"]
            rows += _compare("sandbox", sandbox_url, indexes[0]["_id"], path, rounds)
        with _process(["-m", "tests.benchmarks.drain_server"], r"http://[\d.]+:\d+") as drain:
            rows += _compare("drain server", f"{drain}/v1.3", "drain-index", path, rounds)
    return rows


if __name__ == "__main__":
    from tests.benchmarks.report import print_table

    args = [int(a) for a in sys.argv[1:3]]
    print_table(run(*args))
