"""Subtitle checks, the content fingerprint and its cache, and the streaming pool."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from uploader_app.validation.fingerprint import FingerprintCache, compute_fingerprint
from uploader_app.validation.pool import imap_unordered
from uploader_app.validation.subtitles import check_subtitle, find_subtitle

GOOD_SRT = "1\n00:00:01,000 --> 00:00:02,500\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n"
GOOD_VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello\n"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("a.srt", GOOD_SRT, None),
        ("a.vtt", GOOD_VTT, None),
        ("a.srt", "\ufeff" + GOOD_SRT, None),  # UTF-8 with a byte-order mark
        ("a.srt", "", "it is empty"),
        ("a.vtt", "  \n\n", "it is empty"),
        (
            "a.srt",
            "Hello there\nno times here\n",
            "line 1 is not in SRT format (number, times, text)",
        ),
        (
            "a.vtt",
            "00:00:01.000 --> 00:00:02.000\nHi\n",
            "it is not a WebVTT file (the first line must be WEBVTT)",
        ),
        ("a.vtt", "WEBVTT\n", "it contains no subtitles"),
        (
            "a.srt",
            "1\n00:00:03,000 --> 00:00:02,000\nBackwards\n",
            "subtitle 1 ends before it starts (0:00:03.000 to 0:00:02.000)",
        ),
        (
            "a.vtt",
            "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nBackwards\n",
            "subtitle 1 ends before it starts (0:00:05.000 to 0:00:04.000)",
        ),
    ],
)
def test_subtitle_checks(tmp_path: Path, name: str, content: str, problem: str | None) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    checked = check_subtitle(path)
    assert checked.problem == problem
    assert checked.ok is (problem is None)


def test_malformed_vtt_cue_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> soon\nHi\n", encoding="utf-8")
    problem = check_subtitle(path).problem or ""
    assert problem.startswith("a subtitle in it is not written as a start and end time")
    assert "soon" not in problem  # no quoting of the library's own words


def test_subtitle_after_the_end_of_the_video(tmp_path: Path) -> None:
    path = tmp_path / "a.srt"
    path.write_text(GOOD_SRT, encoding="utf-8")
    assert check_subtitle(path, video_duration=10.0).ok
    assert check_subtitle(path, video_duration=1.5).problem == (
        "subtitle 2 starts at 0:00:03.000, after the video ends (0:00:01.500)"
    )


def test_non_utf8_subtitle(tmp_path: Path) -> None:
    path = tmp_path / "a.srt"
    path.write_bytes("1\n00:00:01,000 --> 00:00:02,000\nCafé\n".encode("latin-1"))
    assert check_subtitle(path).problem == "it is not saved as UTF-8 text"


def test_find_subtitle_beside_a_video(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.touch()
    assert find_subtitle(video) is None
    (tmp_path / "clip.VTT").touch()
    assert find_subtitle(video) == tmp_path / "clip.VTT"
    (tmp_path / "clip.srt").touch()
    assert find_subtitle(video) == tmp_path / "clip.srt"  # SRT first when both exist


def test_fingerprint_is_the_content_hash(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"abc" * 100_000)
    expected = "sha256:" + hashlib.sha256(b"abc" * 100_000).hexdigest()
    assert compute_fingerprint(path) == expected
    assert FingerprintCache().fingerprint(path) == expected


def test_fingerprint_cache_hashes_once_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uploader_app.validation import fingerprint as module

    path = tmp_path / "clip.mp4"
    path.write_bytes(b"one")
    calls: list[Path] = []
    real = module.compute_fingerprint

    def counting(p: Path) -> str:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(module, "compute_fingerprint", counting)
    cache = FingerprintCache()
    first = cache.fingerprint(path)
    assert cache.fingerprint(path) == first
    assert len(calls) == 1
    path.write_bytes(b"two!")  # new size and mtime: hashed again
    os.utime(path, ns=(1, 1))
    assert cache.fingerprint(path) != first
    assert len(calls) == 2


def test_fingerprint_cache_is_bounded(tmp_path: Path) -> None:
    cache = FingerprintCache(max_entries=2)
    for n in range(3):
        path = tmp_path / f"{n}.bin"
        path.write_bytes(bytes([n]))
        cache.fingerprint(path)
    assert len(cache) == 2


def test_pool_runs_everything_and_reads_ahead_only_a_little() -> None:
    pulled: list[int] = []
    gate = threading.Event()

    def source() -> object:
        for n in range(100):
            pulled.append(n)
            yield n

    def slow_square(n: int) -> int:
        gate.wait(5)
        return n * n

    results = imap_unordered(slow_square, source(), workers=2)  # type: ignore[arg-type]
    gate.set()
    assert sorted(results) == [n * n for n in range(100)]
    gate.clear()
    pulled.clear()
    stream = imap_unordered(slow_square, source(), workers=2)  # type: ignore[arg-type]
    threading.Timer(0.2, gate.set).start()
    next(stream)
    assert len(pulled) <= 4 + 1  # workers x queue depth, plus the one that finished
    stream.close()


def test_pool_reraises_a_worker_error() -> None:
    def boom(n: int) -> int:
        raise ValueError(n)

    with pytest.raises(ValueError):
        list(imap_unordered(boom, [1, 2, 3]))
