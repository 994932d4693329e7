"""Every sentence a verdict can show, in one table, for people who are not video experts.

Each entry says what is wrong with the measured value, the limit, and what to do. Codes are the
vendor's where one fits (docs/limits.md lists them), so the sandbox answers with the same
words and code.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from uploader_app.models import Issue, Verdict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wording:
    title: str  # a short heading for the GUI
    message: str  # str.format template: what is wrong, with the measured value and the limit
    hint: str  # what to do about it


# Keyed by code; a key "code/verdict" words that code when it has that verdict (see
# ``issue``). Vendor codes (docs/limits.md lists them) first, then ours, then warnings.
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
        "No picture: this is {content}, with no video in it.",
        "Choose the video file itself.",
    ),
    "video_protected": Wording(
        "Copy-protected video",
        "This video is copy-protected (DRM), so the service cannot play it.",
        "Use a copy without protection, such as the original recording or an export from "
        "your video editor.",
    ),
    "video_codec_unsupported": Wording(
        "Video format not readable",
        "This video cannot be played: {detail}.",
        "Export it again from your video editor as an MP4 (H.264) file.",
    ),
    "video_codec_unsupported/warning": Wording(
        "Video format not recognised",
        "Video format not recognised: its picture is stored in a format this app does not "
        "know ({fourcc}), so the service may not be able to play it.",
        "If it is refused, export it again from your video editor as an MP4 (H.264) file.",
    ),
    "video_still_writing": Wording(
        "File still being written",
        "This file is still being written or is incomplete: it changed while it was checked.",
        "Wait until the recording, copy or download finishes, then check it again.",
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
    # A pipe, a device or a file gone by its turn, found in a folder: nothing the user meant.
    "unreadable/skipped": Wording(
        "Left out",
        "This file could not be read: {reason}.",
        "It is left out; nothing needs doing unless you meant to send it.",
    ),
    "unreadable": Wording(
        "Cannot open the file",
        "This file could not be read: {reason}.",
        "Check that the file is still there and that you are allowed to open it, then try again.",
    ),
    "folder_unreadable/rejected": Wording(
        "Cannot open the folder",
        "This folder could not be opened: {reason}.",
        "Check that you are allowed to open the folder, or choose the videos in it one by one.",
    ),
    "folder_unreadable": Wording(
        "Cannot open the folder",
        "This folder could not be opened ({reason}), so the videos in it were not checked.",
        "Check that the folder is still there and that you are allowed to open it.",
    ),
    "subtitle_without_video": Wording(
        "Subtitle file on its own",
        "Subtitle file with no video: no video of the same name is beside it.",
        "Give the subtitle file the same name as its video, for example clip.mp4 and clip.srt.",
    ),
    # Sizes and lengths some of the vendor's sources accept and others do not, or that
    # another reading of the file would accept: warnings, never refusals.
    "video_resolution_too_high/warning": Wording(
        "Picture maybe too large",
        "Picture maybe too large: {width}x{height} pixels. The upload instructions allow at "
        "most {agreed_long}x{agreed_short}, but the vendor's {source} documents allow up to "
        "{max_long}x{max_short}.",
        "It may be refused. To be sure, export it at {agreed_long}x{agreed_short} or lower.",
    ),
    "video_duration_too_short/warning": Wording(
        "Maybe too short",
        "Maybe too short: {duration}. Videos must be at least {limit} long; {reason}.",
        "It may be refused. A longer clip is safer.",
    ),
    "video_duration_too_long/warning": Wording(
        "Maybe too long",
        "Maybe too long: {duration}. Videos for {models} can be at most {limit} long; {reason}.",
        "It may be refused. To be sure, cut it into parts shorter than {limit}.",
    ),
    # The store, the log, the CSV and the service's form field all need text: such a file
    # cannot be sent under its name (docs/validation.md, "Paths and names").
    "name_not_text": Wording(
        "Name this app cannot read",
        "The name “{name}” has characters this app cannot read (it was probably made on "
        "another system).",
        "Rename it, then add it again.",
    ),
    "windows_name": Wording(
        "Name Windows cannot use",
        "The name cannot be used on Windows: {reason}.",
        "It can be sent from here. Rename it if the folder is shared with Windows computers.",
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
# Appended to the headline when a Matroska header's length does not match its frames.
HEADER_NOTE = "Measured on its frames ({frames}); the file's header says {stated}."
# Appended to the headline when a file has several video tracks.
TRACK_NOTE = "Measured on video track {track} of {tracks} ({width}x{height}), the one indexed."
# Why a length between the upload instructions' limit and a newer model's is only a warning.
SOURCES_DIFFER = "the vendor's {source} documents allow up to {allowed}"
ZERO_TAIL_DETAIL = "its end is empty (only zero bytes), as when a download or copy stopped part way"


def issue(code: str, verdict: Verdict, **values: object) -> Issue:
    """An Issue worded from the table; ``values`` fill the message and hint templates."""
    chosen = WORDING.get(f"{code}/{verdict.value}") or WORDING[code]
    return Issue(
        code=code,
        verdict=verdict,
        message=chosen.message.format(**values),
        hint=chosen.hint.format(**values),
    )


def valid_text(text: str) -> str:
    """``text`` as valid UTF-8: a name in an old code page reaches Python with its
    undecodable bytes as surrogates, which no UTF-8 output can carry; they become U+FFFD."""
    # Windows names can also hold unpaired UTF-16 halves, which "surrogateescape" refuses.
    text = _UNPAIRED_HALF.sub("\ufffd", text)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# Surrogates other than the U+DC80-U+DCFF that stand for undecodable bytes.
_UNPAIRED_HALF = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def undecodable_part(path: str) -> str | None:
    """The first part of ``path`` (a folder or the file's name) that is not valid text, shown
    as :func:`printable` shows it, or None when the whole path is text."""
    for part in Path(path).parts:
        if valid_text(part) != part:
            return printable(part)
    return None


def printable(text: str) -> str:
    """``text`` as one line of valid UTF-8, for names shown to people.

    A line break or other control character in a name would split a one-line-per-file
    output: it is shown escaped (``\\n``).
    """
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in valid_text(text))


def _escaped(ch: str) -> str:
    # Control characters and the Unicode line and paragraph separators would break the line,
    # and a direction override or isolate reorders all that follows it on the line (the
    # message included; "clip\u202egnp.mp4" shows as "clip4pm.png"). Other invisible
    # characters (right-to-left marks, emoji joiners) belong to real names.
    if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _DIRECTION_SPANS:
        return repr(ch)[1:-1]
    return ch


# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) hold until their closing
# mark; the one-character marks (U+200E, U+200F, U+061C) change nothing after them.
_DIRECTION_SPANS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def format_duration(seconds: float) -> str:
    """``2.1 seconds``, ``4 seconds``, ``1 hour 2 minutes 5 seconds``.

    Rounded to hundredths first, then split, so 3,599.997 s reads "1 hour", never
    "59 minutes 60 seconds".
    """
    hundredths = _hundredths(seconds)
    if hundredths < 60 * 100:
        return count(_number(seconds), "second")
    whole_minutes, rest = divmod(hundredths, 60 * 100)
    hours, minutes = divmod(whole_minutes, 60)
    parts = []
    if hours:
        parts.append(count(str(hours), "hour"))
    if minutes:
        parts.append(count(str(minutes), "minute"))
    if rest:
        parts.append(count(_number(rest / 100), "second"))
    return " ".join(parts)


def format_size(size: int) -> str:
    """Decimal units, as the vendor writes its limits (``2 GB``, ``850 MB``)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{_number(size / factor)} {unit}"
    return count(str(size), "byte")


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


def count(amount: int | str, noun: str, plural: str | None = None) -> str:
    """``1 video``, ``1,240 videos``, ``2.5 seconds``: the one plural rule of the app."""
    figure = f"{amount:,}" if isinstance(amount, int) else amount
    return f"{figure} {noun}" if figure == "1" else f"{figure} {plural or noun + 's'}"
