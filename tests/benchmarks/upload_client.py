"""Uploads one file with our client in a process of its own and reports time and memory.

Run by bench_upload: ``python -m tests.benchmarks.upload_client BASE_URL KEY INDEX FILE``.
It prints one JSON line. Memory is the resident set sampled every 25 ms during the upload
(sampling every 5 ms cost the upload ~15 % against the sandbox, which keeps both cores busy),
minus the resident set just before it (after imports), so import costs do not count.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.models import UploadProgress

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1]) * _PAGE


def main(base_url: str, key: str, index_id: str, path: str) -> None:
    client = ApiClient(base_url, key)
    idle = _rss()
    peak = idle
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.025):
            peak = max(peak, _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    progress: list[UploadProgress] = []
    sampler.start()
    started = time.perf_counter()
    outcome = "created"
    try:
        client.create_task_from_file(index_id, Path(path), progress=progress.append)
    except ApiError as exc:  # the sandbox refuses a 1 GiB non-video after reading it all
        outcome = exc.code or type(exc).__name__
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "idle_rss": idle,
                "peak_above_idle": max(0, peak - idle),
                "progress_calls": len(progress),
                "progress_last": progress[-1].sent if progress else 0,
                "outcome": outcome,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
