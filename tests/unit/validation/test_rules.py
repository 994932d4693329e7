"""The rule table on measured values: every code, both sides of every limit, plain wording."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from uploader_app.models import (
    Finding,
    Index,
    IndexModel,
    ModelFamily,
    ProbeResult,
    Target,
    UploadKind,
    Verdict,
)
from uploader_app.validation import limits
from uploader_app.validation.messages import format_duration
from uploader_app.validation.rules import evaluate, local_upload_kind

GOOD = ProbeResult(
    path=Path("clip.mp4"),
    size=5_000_000,
    container="MPEG-4",
    has_video=True,
    video_codec="AVC",
    width=1920,
    height=1080,
    display_aspect=16 / 9,
    duration=60.0,
    frame_rate=25.0,
    audio_tracks=1,
)
# A Marengo model older than 3.0: every source gives it the same limits, so each verdict is
# firm. Newer and unknown versions are covered in test_limits_by_version_and_route.py.
MARENGO = Target(models=("marengo2.7",))
PEGASUS = Target(families=frozenset({ModelFamily.PEGASUS}))
BOTH = Target(families=frozenset({ModelFamily.MARENGO, ModelFamily.PEGASUS}))


def judge(target: Target = MARENGO, /, **changes: object) -> Finding:
    return evaluate(replace(GOOD, **changes), target)  # type: ignore[arg-type]


def test_a_good_video_is_ready() -> None:
    finding = judge()
    assert (finding.verdict, finding.code, finding.message) == (
        Verdict.OK,
        None,
        "Ready to upload.",
    )
    assert finding.issues == ()
    assert finding.probe is not None and finding.probe.width == 1920


@pytest.mark.parametrize(
    ("width", "height", "code"),
    [
        (359, 360, "video_resolution_too_low"),
        (360, 359, "video_resolution_too_low"),
        (360, 360, None),
        (3840, 2160, None),
        (2160, 3840, None),  # portrait 4K
        (3841, 2160, "video_resolution_too_high"),
        (3840, 2161, "video_resolution_too_high"),
        (2160, 3841, "video_resolution_too_high"),
        (2161, 2161, "video_resolution_too_high"),  # square, short side over 2160
    ],
)
def test_resolution_limits_either_orientation(width: int, height: int, code: str | None) -> None:
    finding = judge(width=width, height=height, display_aspect=width / height)
    assert finding.code == code
    assert finding.verdict is (Verdict.REJECTED if code else Verdict.OK)


def test_resolution_message_names_the_size_and_the_fix() -> None:
    finding = judge(width=320, height=240, display_aspect=4 / 3)
    assert finding.message == (
        "Picture too small: 320x240 pixels. Videos must be at least 360x360 pixels."
    )
    assert "360p" in finding.hint


@pytest.mark.parametrize(
    ("aspect", "verdict", "code"),
    [
        (2.4, Verdict.WARNING, "near_aspect_ratio_limit"),
        (1 / 2.4, Verdict.WARNING, "near_aspect_ratio_limit"),
        (2.4005, Verdict.WARNING, "near_aspect_ratio_limit"),  # MediaInfo's 3-decimal rounding
        (2.41, Verdict.REJECTED, "video_resolution_invalid_aspect_ratio"),
        (1 / 2.41, Verdict.REJECTED, "video_resolution_invalid_aspect_ratio"),
        (2.27, Verdict.OK, None),
        (1.0, Verdict.OK, None),
    ],
)
def test_aspect_ratio_limits(aspect: float, verdict: Verdict, code: str | None) -> None:
    width = 1000
    finding = judge(width=width, height=round(width / aspect), display_aspect=aspect)
    assert (finding.verdict, finding.code) == (verdict, code)


def test_aspect_message_says_wide_or_narrow() -> None:
    assert "too wide" in judge(width=1000, height=400, display_aspect=2.5).message
    assert "too narrow" in judge(width=400, height=1000, display_aspect=0.4).message


@pytest.mark.parametrize(
    ("target", "duration", "verdict", "code"),
    [
        (MARENGO, 3.99, Verdict.REJECTED, "video_duration_too_short"),
        (MARENGO, 4.0, Verdict.WARNING, "near_duration_min"),
        (MARENGO, 4.19, Verdict.WARNING, "near_duration_min"),
        (MARENGO, 4.21, Verdict.OK, None),
        (MARENGO, 6_839.0, Verdict.OK, None),
        (MARENGO, 6_841.0, Verdict.WARNING, "near_duration_max"),
        (MARENGO, 7_200.0, Verdict.WARNING, "near_duration_max"),
        (MARENGO, 7_200.5, Verdict.REJECTED, "video_duration_too_long"),
        (PEGASUS, 3_600.0, Verdict.WARNING, "near_duration_max"),
        (PEGASUS, 3_601.0, Verdict.REJECTED, "video_duration_too_long"),
        (BOTH, 3_601.0, Verdict.REJECTED, "video_duration_too_long"),  # strictest wins
        (BOTH, 3.5, Verdict.REJECTED, "video_duration_too_short"),
    ],
)
def test_duration_limits_per_model(
    target: Target, duration: float, verdict: Verdict, code: str | None
) -> None:
    finding = judge(target, duration=duration)
    assert (finding.verdict, finding.code) == (verdict, code)


def test_duration_messages_are_plain_sentences() -> None:
    assert judge(duration=2.1).message == (
        "Too short: 2.1 seconds. Videos must be at least 4 seconds long."
    )
    long = judge(BOTH, duration=3_725.0)
    assert long.message == (
        "Too long: 1 hour 2 minutes 5 seconds. Videos for Pegasus can be at most 1 hour long."
    )
    assert long.hint == "Cut the video into parts shorter than 1 hour and send each part."


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (59.997, "1 minute"),
        (119.997, "2 minutes"),
        (3_599.997, "1 hour"),
        (3_659.996, "1 hour 1 minute"),
        (3_725.0, "1 hour 2 minutes 5 seconds"),
        (61.004, "1 minute 1 second"),
        (2.1, "2.1 seconds"),
    ],
)
def test_durations_are_rounded_before_they_are_split(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_duration_that_rounds_to_the_limit_is_shown_exactly() -> None:
    finding = judge(duration=3.999)
    assert finding.message.startswith("Too short: 3.999 seconds.")
    over = judge(duration=7_200.001)
    assert over.message.startswith("Too long: 7,200.001 seconds.")


@pytest.mark.parametrize(
    ("kind", "size", "verdict", "code"),
    [
        (UploadKind.TASK_FILE, 2 * limits.GB, Verdict.WARNING, "near_filesize_limit"),
        (UploadKind.TASK_FILE, 2 * limits.GB + 1, Verdict.REJECTED, "video_filesize_too_large"),
        (UploadKind.TASK_FILE, 1_899_000_000, Verdict.OK, None),
        (UploadKind.MULTIPART, 2 * limits.GB + 1, Verdict.OK, None),
        (UploadKind.MULTIPART, 10 * limits.GB, Verdict.WARNING, "near_filesize_limit"),
        (UploadKind.MULTIPART, 10 * limits.GB + 1, Verdict.REJECTED, "video_filesize_too_large"),
        (UploadKind.URL, 2 * limits.GB + 1, Verdict.REJECTED, "video_filesize_too_large"),
    ],
)
def test_size_limits_per_upload_route(
    kind: UploadKind, size: int, verdict: Verdict, code: str | None
) -> None:
    finding = judge(Target(kind=kind), size=size)
    assert (finding.verdict, finding.code) == (verdict, code)


def test_size_message() -> None:
    assert judge(size=2_500_000_000).message == (
        "File too large: 2.5 GB. Files sent this way can be at most 2 GB."
    )
    assert judge(size=2 * limits.GB + 1).message.startswith("File too large: 2,000,000,001 bytes.")


def test_local_upload_kind_switches_to_multipart_above_the_tasks_cap() -> None:
    assert local_upload_kind(2 * limits.GB, "v1.3") is UploadKind.TASK_FILE
    assert local_upload_kind(2 * limits.GB + 1, "v1.3") is UploadKind.MULTIPART
    assert local_upload_kind(2 * limits.GB + 1, "v1.2") is UploadKind.TASK_FILE  # no multipart


def test_audio_is_required_only_when_the_index_listens_only() -> None:
    silent = {"audio_tracks": 0}
    assert judge(**silent).verdict is Verdict.OK
    finding = judge(Target(require_audio=True), **silent)
    assert (finding.verdict, finding.code) == (Verdict.REJECTED, "no_audio_track")
    # The same sentence must fit an audio-only index and `check --audio` (any model).
    assert finding.message == "No sound: this video has no audio track, and this index needs sound."
    assert judge(Target(require_audio=True)).verdict is Verdict.OK


def test_a_silent_video_on_an_index_that_also_listens_gets_a_warning() -> None:
    listens = Target(listens_to_audio=True)
    finding = judge(listens, audio_tracks=0)
    assert (finding.verdict, finding.code) == (Verdict.WARNING, "no_audio_track")
    assert finding.message == (
        "No sound: this index also listens to speech and sound, so only the picture will be "
        "indexed."
    )
    assert finding.hint.startswith("Use a copy of the video with sound")
    assert judge(listens).verdict is Verdict.OK
    # Sound required wins over the warning.
    both = judge(Target(require_audio=True, listens_to_audio=True), audio_tracks=0)
    assert both.verdict is Verdict.REJECTED


@pytest.mark.parametrize(
    ("options", "require", "listens"),
    [
        ((("visual", "audio"),), False, True),
        ((("visual",),), False, False),
        ((("audio",),), True, True),
        ((("audio",), ("visual",)), False, True),  # one model listens, another watches
        ((("visual", "conversation"),), False, True),  # v1.2 words, folded by from_api
        ((("conversation",),), True, True),
    ],
)
def test_target_for_index_reads_the_audio_options(
    options: tuple[tuple[str, ...], ...], require: bool, listens: bool
) -> None:
    models = tuple(IndexModel.from_api(f"marengo{n}", o) for n, o in enumerate(options))
    target = Target.for_index(Index(id="i", name="x", models=models))
    assert (target.require_audio, target.listens_to_audio) == (require, listens)


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        (
            {"error": "the file is no longer there"},
            "unreadable",
            "This file could not be read: the file is no longer there.",
        ),
        (
            {"size": 0, "has_video": False},
            "not_a_video",
            "Not a video: this file is an empty file (0 bytes).",
        ),
        (
            {"has_video": False, "is_image": True, "content": "a PNG picture", "container": None},
            "not_a_video",
            "Not a video: this file is a PNG picture.",
        ),
        (
            {
                "has_video": False,
                "audio_tracks": 0,
                "container": None,
                "content": "a text document",
            },
            "not_a_video",
            "Not a video: this file is a text document.",
        ),
        (
            {"has_video": False, "content": "a sound file (MPEG Audio)"},
            "no_video_track",
            "No picture: this is a sound file (MPEG Audio), with no video in it.",
        ),
        (
            {"has_video": False, "audio_tracks": 0},
            "video_file_broken",
            "The file is damaged or incomplete: it looks like a video file (MPEG-4), "
            "but nothing in it can be read.",
        ),
        (
            {"is_truncated": True},
            "video_file_broken",
            "The file is damaged or incomplete: the end of the file is missing.",
        ),
        (
            {"duration": None},
            "video_file_broken",
            "The file is damaged or incomplete: its picture size or length cannot be read.",
        ),
    ],
)
def test_files_without_a_usable_video(changes: dict[str, object], code: str, message: str) -> None:
    finding = judge(**changes)
    assert (finding.verdict, finding.code, finding.message) == (Verdict.REJECTED, code, message)
    assert finding.hint  # every rejection says what to do
    assert len(finding.issues) == 1  # nothing else is measured on a file that is not a video


def test_every_problem_is_kept_rejections_first() -> None:
    finding = judge(
        PEGASUS, width=320, height=240, display_aspect=4 / 3, duration=3_500.0, size=3 * limits.GB
    )
    assert finding.code == "video_filesize_too_large"
    assert [i.code for i in finding.issues] == [
        "video_filesize_too_large",
        "video_resolution_too_low",
        "near_duration_max",
    ]
    assert finding.issues[2].verdict is Verdict.WARNING


def test_a_warning_keeps_its_advice() -> None:
    finding = judge(duration=4.1)
    assert finding.verdict is Verdict.WARNING
    assert (
        finding.message == "Almost too short: 4.1 seconds. Videos must be at least 4 seconds long."
    )
    assert "longer clip is safer" in finding.hint
