"""probe_file on real files made by ffmpeg: containers, rotation, VFR, names, broken content."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from tests.media import make_fifo, make_png, make_truncated, refuse_to_open
from uploader_app.models import ProbeResult, Target, Verdict
from uploader_app.validation.probe import probe_file
from uploader_app.validation.rules import evaluate

Video = Callable[..., Path]


@pytest.mark.parametrize(
    ("container", "format_name"),
    [("mp4", "MPEG-4"), ("mov", "MPEG-4"), ("mkv", "Matroska"), ("webm", "WebM"), ("avi", "AVI")],
)
def test_each_container_reports_picture_length_and_sound(
    video: Video, container: str, format_name: str
) -> None:
    probe = probe_file(video(f"clip.{container}", container=container, duration=5.0))
    assert probe.error is None
    assert probe.container == format_name
    assert probe.has_video and probe.audio_tracks == 1
    assert (probe.width, probe.height) == (640, 360)
    assert probe.duration == pytest.approx(5.0, abs=0.25)  # AVI: mp3 priming adds frames
    assert probe.frame_rate == pytest.approx(10.0, abs=0.1)
    assert probe.display_aspect == pytest.approx(16 / 9, abs=0.01)
    assert probe.size == probe.path.stat().st_size


def test_a_track_without_its_own_duration_takes_the_containers(video: Video) -> None:
    # ffmpeg writes WebM/MKV video tracks without a duration element; MediaInfo then has it
    # only in the General track.
    probe = probe_file(video("clip.webm", container="webm", duration=6.0, audio=False))
    assert probe.duration == pytest.approx(6.0, abs=0.2)


def test_rotated_phone_video_is_judged_as_displayed(video: Video) -> None:
    probe = probe_file(video("phone.mp4", width=640, height=360, rotate=90))
    assert probe.rotation in (90.0, 270.0)
    assert (probe.width, probe.height) == (360, 640)
    assert probe.display_aspect == pytest.approx(9 / 16, abs=0.01)


def test_variable_frame_rate(video: Video) -> None:
    probe = probe_file(video("vfr.mp4", vfr=True, duration=6.0))
    assert probe.frame_rate_mode == "VFR"
    assert probe.has_video and probe.duration == pytest.approx(6.0, abs=0.3)


def test_content_not_extension_decides(video: Video, tmp_path: Path) -> None:
    mp4_named_mov = probe_file(video("really-mp4.mov", container="mp4"))
    assert mp4_named_mov.has_video and mp4_named_mov.container == "MPEG-4"
    mkv_named_txt = probe_file(video("notes.txt", container="mkv"))
    assert mkv_named_txt.has_video and mkv_named_txt.container == "Matroska"


def test_unicode_and_spaces_in_names(video: Video) -> None:
    probe = probe_file(video("Été à Zürich/ファイル 🎬 final cut.mp4"))
    assert probe.error is None and probe.has_video and probe.width == 640


def test_a_png_named_mp4_is_a_picture(tmp_path: Path) -> None:
    probe = probe_file(make_png(tmp_path / "holiday.mp4"))
    assert probe.is_image and not probe.has_video
    assert probe.content == "a PNG picture"


def test_text_and_empty_files(tmp_path: Path) -> None:
    text = tmp_path / "clip.mp4"
    text.write_text("This is not a video, it is a note about one.\n", encoding="utf-8")
    assert probe_file(text).content == "a text document"
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert probe_file(empty) == ProbeResult(path=empty, size=0, content="an empty file")


def test_sound_only_file(video: Video) -> None:
    probe = probe_file(video("podcast.mp4", video=False))
    assert not probe.has_video and probe.audio_tracks == 1
    assert probe.content == "a sound file (MPEG-4)"


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_cut_off_download_is_truncated(video: Video, tmp_path: Path, container: str) -> None:
    whole = video(container=container, faststart=True, duration=6.0)
    probe = probe_file(make_truncated(whole, tmp_path / f"partial.{container}", keep=0.6))
    assert probe.is_truncated


def test_cut_off_mp4_without_its_index_has_no_streams(video: Video, tmp_path: Path) -> None:
    # ffmpeg's default MP4 keeps the index ("moov") at the end: a cut-off copy has none.
    whole = video(container="mp4", duration=6.0)
    probe = probe_file(make_truncated(whole, tmp_path / "partial.mp4", keep=0.6))
    assert probe.container == "MPEG-4"
    assert not probe.has_video and probe.audio_tracks == 0


def test_missing_file(tmp_path: Path) -> None:
    probe = probe_file(tmp_path / "gone.mp4")
    assert probe.error == "the file is no longer there"


def test_folder_and_fifo_are_refused_without_blocking(tmp_path: Path) -> None:
    assert probe_file(tmp_path).error == "it is a folder, not a file"
    fifo = tmp_path / "pipe.mp4"
    make_fifo(fifo)
    # Opening a FIFO with no writer would block forever; probe_file must not try.
    assert probe_file(fifo).error == "it is a special system file, not a video"


@pytest.mark.parametrize(("call", "size_known"), [("open", True), ("stat", False)])
def test_file_without_permission(
    video: Video, monkeypatch: pytest.MonkeyPatch, call: Literal["open", "stat"], size_known: bool
) -> None:
    # Runs as root too: the refusal is simulated at the very call the probe makes.
    locked = video("locked.mp4")
    size = locked.stat().st_size
    refuse_to_open(monkeypatch, locked, call)
    probe = probe_file(locked)
    assert probe.error == "you do not have permission to open it"
    assert probe.size == (size if size_known else 0)
    finding = evaluate(probe, Target())
    assert (finding.verdict, finding.code) == (Verdict.REJECTED, "unreadable")
    assert finding.message == (
        "This file could not be read: you do not have permission to open it."
    )


@pytest.mark.skipif(
    sys.platform != "win32" and os.geteuid() == 0,
    reason="root reads files whatever their permissions",
)
def test_file_without_read_permission_for_real(video: Video, tmp_path: Path) -> None:
    locked = video("locked.mp4")
    copy = tmp_path / "locked-copy.mp4"
    copy.write_bytes(locked.read_bytes())
    copy.chmod(0)
    try:
        assert probe_file(copy).error == "you do not have permission to open it"
    finally:
        copy.chmod(0o644)


def test_a_broken_symlink_is_a_missing_file(tmp_path: Path) -> None:
    link = tmp_path / "link.mp4"
    link.symlink_to(tmp_path / "nowhere.mp4")
    assert probe_file(link).error == "the file is no longer there"


def test_a_symlink_loop_is_named_in_plain_words(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").symlink_to("b.mp4")
    (tmp_path / "b.mp4").symlink_to("a.mp4")
    assert probe_file(tmp_path / "a.mp4").error == (
        "it is a shortcut (link) that leads round in a circle, never to a file"
    )
