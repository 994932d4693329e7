"""Every verdict code on a real ffmpeg-made file, with boundary values on both sides of a limit.

The rule table is tested on numbers in test_rules.py; this proves the probe measures real files
the way the rules expect (rotation, odd sizes, long durations, sparse multi-gigabyte files).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import (
    VideoSpec,
    long_spec,
    make_fifo,
    make_padded,
    make_png,
    make_truncated,
    make_video,
)
from uploader_app.models import Finding, ModelFamily, Target, UploadKind, Verdict
from uploader_app.validation.limits import GB
from uploader_app.validation.probe import probe_file
from uploader_app.validation.rules import evaluate

Video = Callable[..., Path]
# A Marengo model older than 3.0: every source gives it the same limits, so each verdict is
# firm. Newer and unknown versions are covered in test_limits_by_version_and_route.py.
MARENGO = Target(models=("marengo2.7",))
PEGASUS = Target(families=frozenset({ModelFamily.PEGASUS}))
BOTH = Target(families=frozenset({ModelFamily.MARENGO, ModelFamily.PEGASUS}))


def check(path: Path, target: Target = MARENGO) -> Finding:
    return evaluate(probe_file(path), target)


# Big pictures encode at 1 frame per second: a 4K frame costs ~0.2 s to generate.
@pytest.mark.parametrize(
    ("width", "height", "fps", "code"),
    [
        (359, 360, 10.0, "video_resolution_too_low"),
        (360, 359, 10.0, "video_resolution_too_low"),
        (360, 360, 10.0, None),
        (3840, 2160, 1.0, None),
        (3842, 2160, 1.0, "video_resolution_too_high"),
        (2160, 3840, 1.0, None),
        (2160, 3842, 1.0, "video_resolution_too_high"),
    ],
)
def test_resolution_boundaries(
    video: Video, width: int, height: int, fps: float, code: str | None
) -> None:
    finding = check(video(width=width, height=height, fps=fps, duration=5.0, audio=False))
    assert finding.code == code
    assert finding.verdict is (Verdict.REJECTED if code else Verdict.OK)


def test_rotation_is_applied_before_the_limits(video: Video) -> None:
    # Stored 1152x360 (3.2:1, too wide), shown portrait 360x1152 after rotation: still too
    # narrow, and the message must describe it as shown.
    finding = check(video(width=1152, height=360, rotate=90, audio=False))
    assert finding.code == "video_resolution_invalid_aspect_ratio"
    assert "too narrow" in finding.message
    phone = check(video(width=1280, height=720, rotate=90, audio=False))
    assert phone.verdict is Verdict.OK
    assert phone.probe is not None and (phone.probe.width, phone.probe.height) == (720, 1280)


@pytest.mark.parametrize(
    ("width", "height", "verdict", "code"),
    [
        (864, 360, Verdict.WARNING, "near_aspect_ratio_limit"),  # exactly 2.4:1
        (866, 360, Verdict.REJECTED, "video_resolution_invalid_aspect_ratio"),
        (360, 864, Verdict.WARNING, "near_aspect_ratio_limit"),  # exactly 1:2.4
        (360, 866, Verdict.REJECTED, "video_resolution_invalid_aspect_ratio"),
    ],
)
def test_aspect_ratio_boundaries(
    video: Video, width: int, height: int, verdict: Verdict, code: str
) -> None:
    finding = check(video(width=width, height=height, audio=False))
    assert (finding.verdict, finding.code) == (verdict, code)


@pytest.mark.parametrize(
    ("spec", "target", "verdict", "code"),
    [
        (
            VideoSpec(duration=3.9, audio=False),
            MARENGO,
            Verdict.REJECTED,
            "video_duration_too_short",
        ),
        (VideoSpec(duration=4.0, audio=False), MARENGO, Verdict.WARNING, "near_duration_min"),
        (long_spec(7_200.0), MARENGO, Verdict.WARNING, "near_duration_max"),
        (long_spec(7_201.0), MARENGO, Verdict.REJECTED, "video_duration_too_long"),
        (long_spec(3_600.0), PEGASUS, Verdict.WARNING, "near_duration_max"),
        (long_spec(3_601.0), PEGASUS, Verdict.REJECTED, "video_duration_too_long"),
        (long_spec(3_601.0), MARENGO, Verdict.OK, None),
        (long_spec(3_601.0), BOTH, Verdict.REJECTED, "video_duration_too_long"),
    ],
)
def test_duration_boundaries(
    video_dir: Path, spec: VideoSpec, target: Target, verdict: Verdict, code: str | None
) -> None:
    finding = check(make_video(video_dir, spec), target)
    assert (finding.verdict, finding.code) == (verdict, code)
    assert finding.probe is not None and finding.probe.duration == pytest.approx(spec.duration)


def test_too_short_message_on_a_real_clip(video: Video) -> None:
    finding = check(video(duration=2.1, audio=False))
    assert finding.message == "Too short: 2.1 seconds. Videos must be at least 4 seconds long."


@pytest.mark.parametrize(
    ("size", "kind", "expected"),
    [
        (2 * GB, UploadKind.TASK_FILE, (Verdict.WARNING, "near_filesize_limit")),
        (2 * GB + 1, UploadKind.TASK_FILE, (Verdict.REJECTED, "video_filesize_too_large")),
        (2 * GB + 1, UploadKind.MULTIPART, (Verdict.OK, None)),
        (10 * GB, UploadKind.MULTIPART, (Verdict.WARNING, "near_filesize_limit")),
        (10 * GB + 1, UploadKind.MULTIPART, (Verdict.REJECTED, "video_filesize_too_large")),
    ],
)
def test_size_boundaries_on_sparse_files(
    video: Video, tmp_path: Path, size: int, kind: UploadKind, expected: tuple[Verdict, str | None]
) -> None:
    big = make_padded(video(faststart=True), tmp_path / "big.mp4", size)
    finding = check(big, Target(kind=kind))
    assert (finding.verdict, finding.code) == expected
    assert finding.probe is not None and finding.probe.size == size


def test_audio_option_needs_a_sound_track(video: Video) -> None:
    listens_only = Target(require_audio=True)
    also_listens = Target(listens_to_audio=True)
    silent = video("silent.mp4", audio=False)
    talk = video("talk.mp4", audio=True)
    assert (check(silent, listens_only).verdict, check(silent, listens_only).code) == (
        Verdict.REJECTED,
        "no_audio_track",
    )
    assert (check(silent, also_listens).verdict, check(silent, also_listens).code) == (
        Verdict.WARNING,
        "no_audio_track",
    )
    assert check(silent).verdict is Verdict.OK
    assert check(talk, listens_only).verdict is Verdict.OK
    assert check(talk, also_listens).verdict is Verdict.OK


def test_not_a_video(tmp_path: Path) -> None:
    png = make_png(tmp_path / "poster.mp4")
    text = tmp_path / "script.mp4"
    text.write_text("INT. OFFICE - DAY\n", encoding="utf-8")
    empty = tmp_path / "empty.mp4"
    empty.touch()
    for path in (png, text, empty):
        finding = check(path)
        assert (finding.verdict, finding.code) == (Verdict.REJECTED, "not_a_video"), path


def test_sound_only_has_no_video_track(video: Video) -> None:
    finding = check(video("interview.mp4", video=False))
    assert (finding.verdict, finding.code) == (Verdict.REJECTED, "no_video_track")


@pytest.mark.parametrize(
    ("container", "faststart"), [("mp4", True), ("mp4", False), ("mkv", False)]
)
def test_cut_off_download_is_broken(
    video: Video, tmp_path: Path, container: str, faststart: bool
) -> None:
    whole = video(container=container, faststart=faststart, duration=6.0)
    partial = make_truncated(whole, tmp_path / f"partial.{container}", keep=0.6)
    finding = check(partial)
    assert (finding.verdict, finding.code) == (Verdict.REJECTED, "video_file_broken")
    assert check(whole).verdict is Verdict.OK


def test_unreadable(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    make_fifo(fifo)
    for path in (tmp_path / "missing.mp4", tmp_path, fifo):
        finding = check(path)
        assert (finding.verdict, finding.code) == (Verdict.REJECTED, "unreadable"), path
        assert finding.message.startswith("This file could not be read: ")
