"""Folder scans: recursion, streaming, hidden files, symlink loops, vanishing files, subtitles."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import make_fifo
from uploader_app.models import Finding, Target, Verdict
from uploader_app.validation import scan as scan_module
from uploader_app.validation.probe import probe_file
from uploader_app.validation.scan import Candidate, check_candidate, scan, walk

Video = Callable[..., Path]


def by_relative(findings: list[Finding]) -> dict[str, Finding]:
    return {f.relative_path or "": f for f in findings}


def test_folder_is_walked_recursively_keeping_relative_paths(video: Video, tmp_path: Path) -> None:
    video("Holiday/day 1/beach.mp4")
    video("Holiday/day 2/Café.mov", container="mov")
    (tmp_path / "Holiday" / "notes.txt").write_text("packing list\n", encoding="utf-8")
    found = by_relative(list(scan([tmp_path / "Holiday"], Target())))
    assert set(found) == {"Holiday/day 1/beach.mp4", "Holiday/day 2/Café.mov", "Holiday/notes.txt"}
    assert found["Holiday/day 1/beach.mp4"].verdict is Verdict.OK
    assert found["Holiday/day 2/Café.mov"].verdict is Verdict.OK
    notes = found["Holiday/notes.txt"]
    assert (notes.verdict, notes.code) == (Verdict.SKIPPED, "not_a_video")
    assert notes.message == "Not a video: this file is a text document."


def test_dot_and_dot_dot_keep_the_folder_name(
    video: Video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video("drop/clip.mp4")
    (tmp_path / "drop" / "notes.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "drop" / "inner").mkdir()
    expected = {"drop/clip.mp4", "drop/notes.txt"}
    monkeypatch.chdir(tmp_path / "drop")
    here = by_relative(list(scan([Path()], Target())))  # `check .`
    assert set(here) == expected
    assert here["drop/clip.mp4"].path == Path("clip.mp4")  # shown as the user named it
    monkeypatch.chdir(tmp_path / "drop" / "inner")
    assert set(by_relative(list(scan([Path("..")], Target())))) == expected
    # A symlinked folder keeps the name it was dropped under, not its target's.
    (tmp_path / "shortcut").symlink_to(tmp_path / "drop")
    linked = by_relative(list(scan([tmp_path / "shortcut"], Target())))
    assert set(linked) == {"shortcut/clip.mp4", "shortcut/notes.txt"}


def test_hidden_and_system_files_are_left_out_quietly(video: Video, tmp_path: Path) -> None:
    video("drop/clip.mp4")
    for name in (".DS_Store", "Thumbs.db", "desktop.ini", "~$report.docx"):
        (tmp_path / "drop" / name).write_bytes(b"x")
    video("drop/.hidden folder/secret.mp4")
    video("drop/__MACOSX/clip.mp4")
    found = by_relative(list(scan([tmp_path / "drop"], Target())))
    assert set(found) == {"drop/clip.mp4"}


def test_non_video_named_like_a_video_is_rejected_not_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "clip.mp4").write_text("not really\n", encoding="utf-8")
    (folder / "empty.mov").touch()
    (folder / "empty.log").touch()
    found = by_relative(list(scan([folder], Target())))
    assert found["in/clip.mp4"].verdict is Verdict.REJECTED
    assert found["in/empty.mov"].verdict is Verdict.REJECTED
    assert found["in/empty.log"].verdict is Verdict.SKIPPED


def test_symlink_loops_are_listed_once(video: Video, tmp_path: Path) -> None:
    video("root/a/clip.mp4")
    (tmp_path / "root" / "a" / "back").symlink_to(tmp_path / "root")
    (tmp_path / "root" / "self").symlink_to(tmp_path / "root")
    found = list(scan([tmp_path / "root"], Target()))
    assert [f.relative_path for f in found] == ["root/a/clip.mp4"]


def test_broken_symlink_and_fifo_are_skipped(video: Video, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    make_fifo(folder / "pipe")
    found = by_relative(list(scan([folder], Target())))
    assert {k: (f.verdict, f.code) for k, f in found.items()} == {
        "odd/gone.mp4": (Verdict.SKIPPED, "unreadable"),
        "odd/pipe": (Verdict.SKIPPED, "unreadable"),
    }


def test_a_file_that_vanishes_mid_scan_is_skipped(video: Video, tmp_path: Path) -> None:
    clip = video("drop/clip.mp4")
    items = [i for i in walk([tmp_path / "drop"]) if isinstance(i, Candidate)]
    clip.unlink()  # listed, then deleted before it is probed
    finding = check_candidate(items[0], Target(), None)
    assert (finding.verdict, finding.code) == (Verdict.SKIPPED, "unreadable")
    assert finding.message == "This file could not be read: the file is no longer there."


def test_folder_that_cannot_be_listed_is_reported(
    video: Video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video("top/ok/clip.mp4")
    (tmp_path / "top" / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        # Tests run as root, where chmod 000 does not block reading: refuse like the OS would.
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = by_relative(list(scan([tmp_path / "top"], Target())))
    assert found["top/ok/clip.mp4"].verdict is Verdict.OK
    locked = found["top/locked"]
    assert (locked.verdict, locked.code) == (Verdict.SKIPPED, "folder_unreadable")
    assert "(you do not have permission to open it)" in locked.message


def test_first_result_arrives_before_a_big_folder_is_walked(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for sub in range(20):
        (folder / f"d{sub:02d}").mkdir(parents=True)
        for n in range(100):
            (folder / f"d{sub:02d}" / f"note{n}.txt").write_text("x\n", encoding="utf-8")
    pulled: list[Path] = []
    real_walk = scan_module.walk

    def counting_walk(paths: list[Path], cancel: threading.Event | None = None) -> object:
        for item in real_walk(paths, cancel):
            pulled.append(item.path)
            yield item

    scan_module.walk = counting_walk  # type: ignore[assignment]
    try:
        results = scan([folder], Target(), workers=2)
        started = time.perf_counter()
        first = next(results)
        elapsed = time.perf_counter() - started
        results.close()
    finally:
        scan_module.walk = real_walk
    assert first.verdict is Verdict.SKIPPED
    assert len(pulled) <= 2 * 2 * 2  # only the pool's small read-ahead, not 2,000 files
    assert elapsed < 1.0


def test_cancel_stops_the_scan(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(200):
        (folder / f"note{n}.txt").write_text("x\n", encoding="utf-8")
    cancel = threading.Event()
    seen = 0
    for _ in scan([folder], Target(), cancel=cancel, workers=2):
        seen += 1
        cancel.set()
    assert seen < 200


def test_subtitle_beside_a_video_travels_with_it(video: Video, tmp_path: Path) -> None:
    video("talk/clip.mp4")
    subtitle = tmp_path / "talk" / "clip.srt"
    subtitle.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n", encoding="utf-8")
    (tmp_path / "talk" / "orphan.vtt").write_text("WEBVTT\n", encoding="utf-8")
    found = by_relative(list(scan([tmp_path / "talk"], Target())))
    assert set(found) == {"talk/clip.mp4", "talk/orphan.vtt"}
    assert found["talk/clip.mp4"].transcription == subtitle
    assert found["talk/orphan.vtt"].code == "subtitle_without_video"


def test_broken_subtitle_turns_a_ready_video_into_a_warning(video: Video) -> None:
    clip = video("clip.mp4")
    clip.with_suffix(".vtt").write_text("", encoding="utf-8")
    [finding] = list(scan([clip], Target()))
    assert (finding.verdict, finding.code) == (Verdict.WARNING, "transcription_invalid")
    assert finding.message == "The subtitle file clip.vtt cannot be used: it is empty."
    assert finding.transcription is None


def test_explicit_missing_file_is_rejected(tmp_path: Path) -> None:
    [finding] = list(scan([tmp_path / "nope.mp4"], Target()))
    assert (finding.verdict, finding.code) == (Verdict.REJECTED, "unreadable")


def test_large_file_is_judged_for_the_route_the_uploader_would_take(
    video: Video, tmp_path: Path
) -> None:
    from tests.media import make_padded

    big = make_padded(video(faststart=True), tmp_path / "big.mp4", 3_000_000_000)
    assert probe_file(big).size == 3_000_000_000
    [v13] = list(scan([big], Target(), api_version="v1.3"))
    [v12] = list(scan([big], Target(), api_version="v1.2"))
    assert v13.verdict is Verdict.OK  # sent as a multipart asset (up to 10 GB)
    assert (v12.verdict, v12.code) == (Verdict.REJECTED, "video_filesize_too_large")
