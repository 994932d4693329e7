"""Probe an uploaded video and judge it with the app's own rules, worded as the vendor would.

The sandbox never has its own idea of the limits: it calls ``probe_file`` and ``evaluate``
from :mod:`uploader_app.validation`, so the local check and the sandbox always agree. Only the
wording differs: the app explains in plain words, the sandbox answers with the vendor's codes
and message templates (docs/api-notes.md §5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from uploader_app.models import ProbeResult, Target, UploadKind, Verdict
from uploader_app.sandbox.records import MediaInfo
from uploader_app.validation.limits import MAX_SIZE, limits_for
from uploader_app.validation.probe import probe_file
from uploader_app.validation.rules import evaluate

logger = logging.getLogger(__name__)

# Our own codes have no vendor twin; the service reports them all as a broken file. A missing
# audio track on an audio-only index is also reported as ``video_file_broken`` (the vendor
# documents no dedicated code for it; see docs/sandbox.md).
_VENDOR_CODE = {
    "not_a_video": "video_file_broken",
    "no_video_track": "video_file_broken",
    "unreadable": "video_file_broken",
    "no_audio_track": "video_file_broken",
    "video_protected": "video_file_broken",
    "video_codec_unsupported": "video_file_broken",
    "video_still_writing": "video_file_broken",
}


# Codes that mean the file is no usable video at all, whatever the index.
_BROKEN = frozenset(
    {
        "not_a_video",
        "no_video_track",
        "unreadable",
        "video_file_broken",
        "video_protected",
        "video_codec_unsupported",
        "video_still_writing",
    }
)


@dataclass(frozen=True)
class Judgement:
    code: str | None  # the vendor's error code, None when the video is accepted
    message: str
    media: MediaInfo

    @property
    def accepted(self) -> bool:
        return self.code is None


def media_of(probe: ProbeResult, filename: str, path: Path) -> MediaInfo:
    return MediaInfo(
        filename=filename,
        size=probe.size,
        duration=round(probe.duration or 0.0, 3),
        width=probe.width or 0,
        height=probe.height or 0,
        fps=round(probe.frame_rate or 0.0, 3),
        container=probe.container,
        video_codec=probe.video_codec,
        audio_codec=probe.audio_codec,
        audio_tracks=probe.audio_tracks,
        path=str(path),
    )


def size_error(size: int, kind: UploadKind) -> str | None:
    """The vendor's message when ``size`` is over the route's cap, else None."""
    limit = MAX_SIZE[kind]
    if size <= limit:
        return None
    return (
        f"The video is too large. Please use a video with a size less than {_gb(limit)}. "
        f"Current file size is {_gb(size)} ({size} bytes)."
    )


def judge_file(path: Path, filename: str, target: Target) -> Judgement:
    """Probe ``path`` and judge it for ``target`` (the index's models and the upload route)."""
    probe = probe_file(path)
    media = media_of(probe, filename, path)
    too_large = size_error(probe.size, target.kind)
    if too_large is not None:
        return Judgement("video_filesize_too_large", too_large, media)
    finding = evaluate(probe, target)
    if finding.verdict in (Verdict.OK, Verdict.WARNING):
        return Judgement(None, "", media)
    own = finding.code or "video_file_broken"
    code = _VENDOR_CODE.get(own, own if own.startswith("video_") else "video_file_broken")
    logger.info("rejected %s: %s (%s)", filename, code, finding.message)
    return Judgement(code, _vendor_message(code, own, probe, target), media)


def judge_asset(path: Path, filename: str, max_size: int) -> Judgement:
    """An asset is checked for being a readable video only; each model applies its own
    duration and resolution limits when the asset is indexed (OpenAPI ``POST /assets``)."""
    probe = probe_file(path)
    media = media_of(probe, filename, path)
    if probe.size > max_size:
        return Judgement(
            "video_filesize_too_large",
            f"The file is too large. The maximum is {_gb(max_size)}; "
            f"this file is {_gb(probe.size)} ({probe.size} bytes).",
            media,
        )
    finding = evaluate(probe, Target(kind=UploadKind.MULTIPART))
    if finding.verdict is Verdict.REJECTED and finding.code in _BROKEN:
        return Judgement(
            "video_file_broken", _vendor_message("video_file_broken", "", probe, Target()), media
        )
    return Judgement(None, "", media)


def _vendor_message(code: str, own: str, probe: ProbeResult, target: Target) -> str:
    limits = limits_for(target)
    resolution = f"{probe.width or 0}x{probe.height or 0}"
    allowed = (
        f"between {limits.min_side}x{limits.min_side} and "
        f"{limits.max_long_side}x{limits.max_short_side}"
    )
    window = limits.duration
    durations = (
        f"between {window.min_seconds:g} seconds and {window.max_seconds:g} seconds. "
        f"Current duration is {probe.duration or 0:.2f} seconds."
    )
    ratio = f"{limits.max_aspect_ratio:g}"
    messages = {
        "video_resolution_too_low": "The resolution of the video is too low. Please upload a "
        f"video with resolution {allowed}. Current resolution is {resolution}.",
        "video_resolution_too_high": "The resolution of the video is too high. Please upload a "
        f"video with resolution {allowed}. Current resolution is {resolution}.",
        "video_resolution_invalid_aspect_ratio": "The aspect ratio of the video is invalid. "
        f"Please upload a video with an aspect ratio between 1:{ratio} and {ratio}:1. "
        f"Current resolution is {resolution}.",
        "video_duration_too_short": f"The video is too short. Please use a video with duration "
        f"{durations}",
        "video_duration_too_long": f"The video is too long. Please use a video with duration "
        f"{durations}",
    }
    if own == "no_audio_track":
        return (
            "The video has no audio track, but the models of this index only index audio. "
            "Please upload a video with an audio track."
        )
    return messages.get(
        code,
        "The video file is broken or is not a video file that can be decoded. "
        "Please check the file and try again.",
    )


def _gb(size: int) -> str:
    return f"{size / 1_000_000_000:g} GB"
