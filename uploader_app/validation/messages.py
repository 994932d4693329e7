"""Every sentence a verdict can show, in one table, for people who are not video experts.

Each entry says what is wrong with the measured value, the limit, and what to do. Codes are the
vendor's where one fits (api notes §5), so the sandbox answers with the same words and code.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from uploader_app.models import Issue, Verdict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wording:
    title: str  # a short heading for the GUI
    message: str  # str.format template: what is wrong, with the measured value and the limit
    hint: str  # what to do about it


# Keyed by code; a key "code/verdict" words that code when it has that verdict (see
# ``issue``). Vendor codes (api notes §5) first, then ours, then warnings.
WORDING: dict[str, Wording] = {
    "video_resolution_too_low": Wording(
        "Picture too small",
        "Picture too small: {width}x{height} pixels. "
        "Videos must be at least {min_side}x{min_side} pixels.",
        "Use a better-quality copy of the video (360p or higher).",
    ),
    "video_resolution_too_high": Wording(
        "Picture too large",
        "Picture too large: {width}x{height} pixels. "
        "Videos can be at most {max_long}x{max_short} pixels (4K).",
        "Export the video again at 4K (3840x2160) or lower.",
    ),
    "video_resolution_invalid_aspect_ratio": Wording(
        "Picture too wide or too narrow",
        "Picture too {shape}: its sides are {ratio} to 1. "
        "Videos can be at most {max_ratio} times wider than tall, or taller than wide.",
        "Crop the video to a usual shape such as 16:9 or 9:16 and export it again.",
    ),
    "video_duration_too_short": Wording(
        "Video too short",
        "Too short: {duration}. Videos must be at least {limit} long.",
        "Use a longer clip.",
    ),
    "video_duration_too_long": Wording(
        "Video too long",
        "Too long: {duration}. Videos for {models} can be at most {limit} long.",
        "Cut the video into parts shorter than {limit} and send each part.",
    ),
    "video_filesize_too_large": Wording(
        "File too large",
        "File too large: {size}. Files sent this way can be at most {limit}.",
        "Export the video again at a lower quality, or cut it into parts.",
    ),
    "video_file_broken": Wording(
        "File damaged",
        "The file is damaged or incomplete: {detail}.",
        "Copy or download it again, or export it again from your video editor.",
    ),
    "no_video_track": Wording(
        "No picture",
        "No picture: this is {content}, with sound but no video.",
        "Choose the video file itself.",
    ),
    # Rejected: every model of the index only listens, or ``check --audio`` said sound is
    # required. The sentence fits both reasons, so it names neither.
    "no_audio_track": Wording(
        "No sound",
        "No sound: this video has no audio track, and this index needs sound.",
        "Use a copy of the video with sound, or send it to an index that also uses the picture.",
    ),
    "not_a_video": Wording(
        "Not a video",
        "Not a video: this file is {content}.",
        "Choose a video file, for example an MP4 or MOV file.",
    ),
    "unreadable": Wording(
        "Cannot open the file",
        "This file could not be read: {reason}.",
        "Check that the file is still there and that you are allowed to open it, then try again.",
    ),
    "folder_unreadable": Wording(
        "Cannot open the folder",
        "This folder could not be opened, so the videos in it were not checked.",
        "Check that the folder is still there and that you are allowed to open it.",
    ),
    "subtitle_without_video": Wording(
        "Subtitle file on its own",
        "Subtitle file with no video: no video of the same name is beside it.",
        "Give the subtitle file the same name as its video, for example clip.mp4 and clip.srt.",
    ),
    # The same code as a warning: a model listens, but another one watches the picture.
    "no_audio_track/warning": Wording(
        "No sound",
        "No sound: this index also listens to speech and sound, "
        "so only the picture will be indexed.",
        "Use a copy of the video with sound if what is said in it matters; "
        "otherwise it can be sent as it is.",
    ),
    "near_duration_min": Wording(
        "Almost too short",
        "Almost too short: {duration}. Videos must be at least {limit} long.",
        "It should be accepted, but a slightly different measurement could reject it. "
        "A slightly longer clip is safer.",
    ),
    "near_duration_max": Wording(
        "Almost too long",
        "Almost too long: {duration}. Videos for {models} can be at most {limit} long.",
        "It should be accepted, but a slightly different measurement could reject it. "
        "Trimming a little is safer.",
    ),
    "near_filesize_limit": Wording(
        "Almost too large",
        "Almost too large: {size}. Files sent this way can be at most {limit}.",
        "It should be accepted; a file only slightly larger would not be.",
    ),
    "near_aspect_ratio_limit": Wording(
        "Almost too wide or too narrow",
        "Almost too {shape}: its sides are {ratio} to 1; the limit is {max_ratio} to 1.",
        "It should be accepted, but a slightly different measurement could reject it.",
    ),
    "transcription_invalid": Wording(
        "Subtitle file unusable",
        "The subtitle file {name} cannot be used: {reason}.",
        "Fix or remove the subtitle file; the video itself can still be sent.",
    ),
}

READY = "Ready to upload."


def issue(code: str, verdict: Verdict, **values: object) -> Issue:
    """An Issue worded from the table; ``values`` fill the message and hint templates."""
    chosen = WORDING.get(f"{code}/{verdict.value}") or WORDING[code]
    return Issue(
        code=code,
        verdict=verdict,
        message=chosen.message.format(**values),
        hint=chosen.hint.format(**values),
    )


def format_duration(seconds: float) -> str:
    """``2.1 seconds``, ``4 seconds``, ``1 hour 2 minutes 5 seconds``.

    Rounded to hundredths first, then split, so 3,599.997 s reads "1 hour", never
    "59 minutes 60 seconds".
    """
    hundredths = _hundredths(seconds)
    if hundredths < 60 * 100:
        return _plural(_number(seconds), "second")
    whole_minutes, rest = divmod(hundredths, 60 * 100)
    hours, minutes = divmod(whole_minutes, 60)
    parts = []
    if hours:
        parts.append(_plural(str(hours), "hour"))
    if minutes:
        parts.append(_plural(str(minutes), "minute"))
    if rest:
        parts.append(_plural(_number(rest / 100), "second"))
    return " ".join(parts)


def format_size(size: int) -> str:
    """Decimal units, as the vendor writes its limits (``2 GB``, ``850 MB``)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{_number(size / factor)} {unit}"
    return _plural(str(size), "byte")


def format_ratio(ratio: float) -> str:
    return _number(ratio)


def distinct(measured: str, limit: str, exact: str) -> str:
    """The measured text, made exact when rounding would make it read like the limit itself."""
    return exact if measured == limit else measured


def _number(value: float) -> str:
    """Up to two decimals, no trailing zeros: 2.1, 4, 3.98."""
    text = f"{_hundredths(value) / 100:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _hundredths(value: float) -> int:
    """``value`` rounded half up to a whole number of hundredths."""
    return math.floor(value * 100 + 0.5)


def _plural(amount: str, unit: str) -> str:
    return f"{amount} {unit}" if amount == "1" else f"{amount} {unit}s"
