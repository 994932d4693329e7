"""Validation speed against the ``mediainfo`` command, measured in the same run.

1. Validate 1,000 short clips (probe + rules) and compare files/second with running
   ``mediainfo --Output=JSON FILE`` once per file on the same files (target: at least 2x).
   Also printed: sequential in-process, and a 2-process pool, to back the choice of threads.
2. A folder of 10,000 small files (a few videos, many non-videos): time to the first result and
   to all results, beside one ``mediainfo --Output=JSON FOLDER`` call over the same folder.

Run alone with ``python -m tests.benchmarks.bench_validation``.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from tests.benchmarks.report import print_table
from tests.media import VideoSpec, make_video
from uploader_app.models import Target
from uploader_app.validation.pool import default_workers
from uploader_app.validation.probe import probe_file
from uploader_app.validation.rules import evaluate
from uploader_app.validation.scan import scan

Row = tuple[str, str, str]
MEDIAINFO = shutil.which("mediainfo") or "mediainfo"

# Non-video files as they appear in real folders: first bytes of each kind (content is what
# the validator reads, so each file starts with its format's real signature).
NON_VIDEOS: tuple[tuple[str, bytes], ...] = (
    ("notes.txt", b"Shot list for Monday\n" * 20),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(400)),
    ("still.png", b"\x89PNG\r\n\x1a\n" + bytes(400)),
    ("brief.pdf", b"%PDF-1.7\n" + bytes(400)),
    ("report.docx", b"PK\x03\x04" + bytes(400)),
    ("captions.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHello\n"),
)


def _clips(folder: Path, count: int, cache: Path) -> list[Path]:
    """``count`` short clips: ten distinct encodes, copied (real files, not links)."""
    sources = [
        make_video(cache, VideoSpec(duration=4.0 + n / 10, width=640, height=360))
        for n in range(10)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for n in range(count):
        clip = folder / f"clip{n:04d}.mp4"
        shutil.copyfile(sources[n % len(sources)], clip)
        clips.append(clip)
    return clips


def _big_folder(folder: Path, videos: list[Path], total: int) -> None:
    for n in range(total):
        sub = folder / f"shoot{n // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        if n % 500 == 0 and videos:
            shutil.copyfile(videos[(n // 500) % len(videos)], sub / f"take{n}.mp4")
            continue
        name, data = NON_VIDEOS[n % len(NON_VIDEOS)]
        (sub / f"{n}-{name}").write_bytes(data)


def _timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def _validate(path: Path) -> str:
    return evaluate(probe_file(path), Target()).verdict.value


def _scan_all(files: list[Path]) -> None:
    for _ in scan(files, Target()):
        pass


def _sequential(files: list[Path]) -> None:
    for path in files:
        _validate(path)


def _mediainfo_each(files: list[Path]) -> None:
    for path in files:
        subprocess.run(
            [MEDIAINFO, "--Output=JSON", str(path)], check=True, stdout=subprocess.DEVNULL
        )


def _process_pool(files: list[Path]) -> float:
    """Two spawned processes (forking a Qt app is unsafe), including their start-up."""
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        list(pool.map(_validate, files, chunksize=16))
    return time.perf_counter() - started


def _scan_timings(folder: Path) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = 0.0
    count = 0
    for _ in scan([folder], Target()):
        count += 1
        if count == 1:
            first = time.perf_counter() - started
    return first, time.perf_counter() - started, count


def run(clips: int = 1_000, folder_files: int = 10_000) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        root = Path(tmp)
        files = _clips(root / "clips", clips, root / "cache")
        workers = default_workers()
        # Interleave ours and the reference so machine noise hits both alike.
        ours_time = ref_time = seq_time = 0.0
        halves = (files[: clips // 2], files[clips // 2 :])
        for half in halves:
            ours_time += _timed(partial(_scan_all, half))
            ref_time += _timed(partial(_mediainfo_each, half))
            seq_time += _timed(partial(_sequential, half))
        process_time = _process_pool(files)
        rate = clips / ours_time
        ref_rate = clips / ref_time
        rows.append(
            (
                f"validate {clips} clips, {workers} threads (files/s)",
                f"{rate:,.0f} ({rate / ref_rate:.1f}x)",
                f"{ref_rate:,.0f} (mediainfo CLI per file)",
            )
        )
        rows.append(
            (
                "  same clips, in-process sequential (files/s)",
                f"{clips / seq_time:,.0f}",
                f"{ref_rate:,.0f}",
            )
        )
        rows.append(
            (
                "  same clips, 2 spawned processes incl. start-up (files/s)",
                f"{clips / process_time:,.0f}",
                f"{ref_rate:,.0f}",
            )
        )

        big = root / "big"
        _big_folder(big, files[:10], folder_files)
        first, total, count = _scan_timings(big)
        ref_all = _timed(
            lambda: subprocess.run(
                [MEDIAINFO, "--Output=JSON", str(big)], check=True, stdout=subprocess.DEVNULL
            )
        )
        rows.append(
            (
                f"folder of {count:,} files: first result",
                f"{first * 1000:,.0f} ms",
                f"{ref_all * 1000:,.0f} ms (one mediainfo call; prints at the end)",
            )
        )
        rows.append(
            (
                f"folder of {count:,} files: all results",
                f"{total:,.2f} s",
                f"{ref_all:,.2f} s (one mediainfo call on the folder)",
            )
        )
    return rows


def main() -> int:
    print(f"bench_validation on {os.cpu_count()} CPUs ...", file=sys.stderr)
    print_table(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
