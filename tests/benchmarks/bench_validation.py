"""Validation speed against the ``mediainfo`` command, measured in the same run.

1. Validate 1,000 short clips through ``scan`` (probe + rules) and compare files/second with
   running ``mediainfo --Output=JSON FILE`` once per file on the same files (target: at least
   2x). Ours (threads, then worker processes once the stream proves big) is printed beside
   threads only, two spawned processes only (start-up included) and sequential in-process, to
   back the pool's design (``uploader_app/validation/pool.py``).
2. A folder of 10,000 small files (a few videos, many non-videos): time to the first result and
   to all results for the same three pools, beside one ``mediainfo --Output=JSON FOLDER`` call
   over the same folder.

Run alone with ``python -m tests.benchmarks.bench_validation``.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from tests.benchmarks.report import print_table
from tests.media import VideoSpec, make_big_recording, make_video
from uploader_app.models import Target
from uploader_app.validation import pool
from uploader_app.validation.pool import default_workers
from uploader_app.validation.probe import probe_file
from uploader_app.validation.processes import enable_processes
from uploader_app.validation.rules import evaluate
from uploader_app.validation.scan import check_item, scan, walk

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


@contextmanager
def _threads_only() -> Iterator[None]:
    """The pool as it was before worker processes: threads, however big the stream."""
    saved = pool.PROCESS_THRESHOLD
    pool.PROCESS_THRESHOLD = sys.maxsize
    try:
        yield
    finally:
        pool.PROCESS_THRESHOLD = saved


def _scan_timings(paths: list[Path]) -> tuple[float, float, int]:
    """Time to the first and to the last Finding of ``scan``, and how many there were."""
    started = time.perf_counter()
    first = 0.0
    count = 0
    for _ in scan(paths, Target()):
        count += 1
        if count == 1:
            first = time.perf_counter() - started
    return first, time.perf_counter() - started, count


def _process_timings(paths: list[Path]) -> tuple[float, float, int]:
    """The same work on two spawned processes only (forking a Qt app is unsafe), start-up
    included, as a plain ``ProcessPoolExecutor.map`` in batches of 16 would run it."""
    work = partial(check_item, target=Target(), api_version=None)
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    first = 0.0
    count = 0
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as executor:
        for _ in executor.map(work, walk(paths), chunksize=16):
            count += 1
            if count == 1:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started, count


def _beside_a_recording(clips: list[Path], cache: Path) -> list[Row]:
    """Probe ``clips`` on one thread alone, then while another thread probes a ~100 MB live
    recording (no duration, unknown size), as one in a dropped folder would be: before its
    length came from its last clusters, its full parse ran alone and every clip waited."""
    recording = make_big_recording(cache, 10.0)
    os.utime(recording, (1, 1))  # long finished: no second look
    _sequential(clips)  # warm the file cache and MediaInfo first
    alone = _timed(partial(_sequential, clips))
    recording_time = 0.0

    def probe_recording() -> None:
        nonlocal recording_time
        recording_time = _timed(partial(probe_file, recording))

    def both() -> None:
        other = threading.Thread(target=probe_recording)
        other.start()
        _sequential(clips)
        other.join()

    beside = _timed(both)
    size = recording.stat().st_size / 1e6
    return [
        (
            f"  {len(clips)} clips on one thread: alone / beside a {size:,.0f} MB live recording",
            f"{alone * 1000:,.0f} ms / {beside * 1000:,.0f} ms",
            "",
        ),
        (f"  that live recording's probe ({size:,.0f} MB)", f"{recording_time * 1000:,.0f} ms", ""),
    ]


def _sequential(files: list[Path]) -> None:
    for path in files:
        _validate(path)


def _mediainfo_each(files: list[Path]) -> None:
    for path in files:
        subprocess.run(
            [MEDIAINFO, "--Output=JSON", str(path)], check=True, stdout=subprocess.DEVNULL
        )


def _compare(paths: list[Path], rounds: int) -> dict[str, tuple[float, float, int]]:
    """Hybrid, threads only and processes only over the same paths, in turn, ``rounds`` times
    (so machine noise hits all alike); the mean first-result and total times of each."""
    runs: dict[str, list[tuple[float, float, int]]] = {"ours": [], "threads": [], "processes": []}
    for _ in range(rounds):
        runs["ours"].append(_scan_timings(paths))
        with _threads_only():
            runs["threads"].append(_scan_timings(paths))
        runs["processes"].append(_process_timings(paths))
    return {
        name: (
            statistics.fmean(r[0] for r in timings),
            statistics.fmean(r[1] for r in timings),
            timings[0][2],
        )
        for name, timings in runs.items()
    }


def run(clips: int = 1_000, folder_files: int = 10_000, rounds: int = 2) -> list[Row]:
    # Measure what the app does: its entry point turns worker processes on (both ways this
    # module runs, alone or from tests.benchmarks, are behind a __main__ guard).
    enable_processes()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        root = Path(tmp)
        files = _clips(root / "clips", clips, root / "cache")
        workers = default_workers()
        # The mediainfo reference and the sequential run between the pool runs, in halves, so
        # machine noise hits every figure alike; each pool run sees all the clips, as the
        # switch to processes only pays on a stream that lasts.
        ref_time = seq_time = 0.0
        timings: list[dict[str, tuple[float, float, int]]] = []
        for half in (files[: clips // 2], files[clips // 2 :]):
            timings.append(_compare(files, rounds=max(1, rounds // 2)))
            ref_time += _timed(partial(_mediainfo_each, half))
            seq_time += _timed(partial(_sequential, half))
        ref_rate = clips / ref_time
        reference = f"{ref_rate:,.0f} (mediainfo CLI per file)"

        def rate(name: str) -> float:
            return clips / statistics.fmean(t[name][1] for t in timings)

        ours = rate("ours")
        rows += [
            (
                f"validate {clips} clips, ours: {workers} threads, then processes (files/s)",
                f"{ours:,.0f} ({ours / ref_rate:.1f}x)",
                reference,
            ),
            (
                f"  same clips, {workers} threads only (files/s)",
                f"{rate('threads'):,.0f} ({rate('threads') / ref_rate:.1f}x)",
                reference,
            ),
            (
                "  same clips, 2 spawned processes only, incl. start-up (files/s)",
                f"{rate('processes'):,.0f} ({rate('processes') / ref_rate:.1f}x)",
                reference,
            ),
            (
                "  same clips, in-process sequential (files/s)",
                f"{clips / seq_time:,.0f}",
                reference,
            ),
            (
                f"  {clips} clips: first result, ours / threads / processes",
                " / ".join(
                    f"{statistics.fmean(t[name][0] for t in timings) * 1000:,.0f} ms"
                    for name in ("ours", "threads", "processes")
                ),
                "",
            ),
        ]

        rows += _beside_a_recording(files[:100], root / "cache")

        big = root / "big"
        _big_folder(big, files[:10], folder_files)
        folder = _compare([big], rounds=rounds)
        ref_all = _timed(
            lambda: subprocess.run(
                [MEDIAINFO, "--Output=JSON", str(big)], check=True, stdout=subprocess.DEVNULL
            )
        )
        count = folder["ours"][2]
        labels = {"ours": "ours", "threads": "threads only", "processes": "2 processes only"}
        for name, label in labels.items():
            first, total, _ = folder[name]
            rows += [
                (
                    f"folder of {count:,} files, {label}: first result",
                    f"{first * 1000:,.0f} ms",
                    f"{ref_all * 1000:,.0f} ms (one mediainfo call; prints at the end)",
                ),
                (
                    f"folder of {count:,} files, {label}: all results",
                    f"{total:,.2f} s",
                    f"{ref_all:,.2f} s (one mediainfo call on the folder)",
                ),
            ]
    return rows


def main() -> int:
    print(f"bench_validation on {os.cpu_count()} CPUs ...", file=sys.stderr)
    print_table(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
