"""Judge a probed file against a target's limits: one verdict, every problem, plain words.

The numbers come from :mod:`uploader_app.validation.limits` and the sentences from
:mod:`uploader_app.validation.messages`; this module only decides which apply. The sandbox
calls :func:`evaluate` too, so the app and its stand-in server always agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from uploader_app.models import (
    Finding,
    Issue,
    ModelFamily,
    ProbeResult,
    Target,
    UploadKind,
    Verdict,
)
from uploader_app.validation import limits as table
from uploader_app.validation.limits import Limits, limits_for
from uploader_app.validation.messages import (
    READY,
    distinct,
    format_duration,
    format_ratio,
    format_size,
    issue,
)

logger = logging.getLogger(__name__)

# Codes that mean "this file holds no video at all" (as opposed to a video that breaks a limit).
NOT_VIDEO_CODES = frozenset({"not_a_video", "no_video_track"})


def evaluate(probe: ProbeResult, target: Target) -> Finding:
    """The verdict on one probed file for one target. Never raises."""
    found = list(_content_issues(probe))
    if not found:
        limits = limits_for(target)
        for rule in _RULES:
            found.extend(rule(probe, limits, target))
    # Rejections first, in rule order; the first one is the headline.
    found.sort(key=lambda i: i.verdict is not Verdict.REJECTED)
    return finding_of(probe.path, found, probe)


def finding_of(path: Path, found: Sequence[Issue], probe: ProbeResult | None) -> Finding:
    """A Finding headed by the first of ``found`` (worst first), or "Ready" when it is empty."""
    if not found:
        return Finding(path=path, verdict=Verdict.OK, code=None, message=READY, probe=probe)
    head = found[0]
    return Finding(
        path=path,
        verdict=head.verdict,
        code=head.code,
        message=head.message,
        hint=head.hint,
        probe=probe,
        issues=tuple(found),
    )


def size_issues(size: int, target: Target) -> list[Issue]:
    """The size rule alone, for a video whose content could not be read but whose size is
    known (a remote file on a server that refuses range requests)."""
    return list(_size_rule(ProbeResult(path=Path(), size=size), limits_for(target), target))


def local_upload_kind(size: int, api_version: str) -> UploadKind:
    """The route a local file takes: ``/tasks`` up to its cap, multipart above it (v1.3 only)."""
    if size > table.MAX_SIZE[UploadKind.TASK_FILE] and api_version != "v1.2":
        return UploadKind.MULTIPART
    return UploadKind.TASK_FILE


def _content_issues(probe: ProbeResult) -> Iterator[Issue]:
    """Is there a readable, complete video at all? If not, no limit is worth measuring."""
    rejected = Verdict.REJECTED
    if probe.error is not None:
        yield issue("unreadable", rejected, reason=probe.error)
    elif probe.size == 0:
        yield issue("not_a_video", rejected, content="an empty file (0 bytes)")
    elif probe.is_image:
        yield issue("not_a_video", rejected, content=probe.content or "a picture")
    elif not probe.has_video:
        if probe.audio_tracks:
            yield issue("no_video_track", rejected, content=probe.content or "a sound file")
        elif probe.is_truncated or probe.container:
            # MediaInfo knows the container but found no stream in it: a download cut off
            # before the index (an MP4 whose "moov" box never arrived) looks like this.
            detail = (
                f"it looks like a video file ({probe.container}), but nothing in it can be read"
            )
            yield issue("video_file_broken", rejected, detail=detail)
        else:
            content = probe.content or "in a format that is not a video"
            yield issue("not_a_video", rejected, content=content)
    elif probe.is_truncated:
        yield issue("video_file_broken", rejected, detail="the end of the file is missing")
    elif not (probe.width and probe.height and probe.duration):
        yield issue(
            "video_file_broken", rejected, detail="its picture size or length cannot be read"
        )


def _size_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    limit = limits.max_size
    size_text, limit_text = format_size(probe.size), format_size(limit)
    size_text = distinct(size_text, limit_text, f"{probe.size:,} bytes")
    if probe.size > limit:
        yield issue("video_filesize_too_large", Verdict.REJECTED, size=size_text, limit=limit_text)
    elif probe.size > limit * (1 - table.NEAR_LIMIT_FRACTION):
        yield issue("near_filesize_limit", Verdict.WARNING, size=size_text, limit=limit_text)


def _resolution_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    width, height = probe.width or 0, probe.height or 0
    short, long = sorted((width, height))
    values = {
        "width": width,
        "height": height,
        "min_side": limits.min_side,
        "max_long": limits.max_long_side,
        "max_short": limits.max_short_side,
    }
    if short < limits.min_side:
        yield issue("video_resolution_too_low", Verdict.REJECTED, **values)
    elif long > limits.max_long_side or short > limits.max_short_side:
        yield issue("video_resolution_too_high", Verdict.REJECTED, **values)


def _aspect_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    aspect = probe.display_aspect or (probe.width or 1) / (probe.height or 1)
    ratio = max(aspect, 1 / aspect)
    values = {
        "shape": "wide" if aspect >= 1 else "narrow",
        "ratio": format_ratio(ratio),
        "max_ratio": format_ratio(limits.max_aspect_ratio),
    }
    # MediaInfo rounds the display ratio to 3 decimals; allow that rounding before rejecting.
    if ratio > limits.max_aspect_ratio + 0.0005:
        if values["ratio"] == values["max_ratio"]:
            values["ratio"] = f"{ratio:.3f}"
        yield issue("video_resolution_invalid_aspect_ratio", Verdict.REJECTED, **values)
    elif ratio > limits.max_aspect_ratio * (1 - table.NEAR_LIMIT_FRACTION):
        yield issue("near_aspect_ratio_limit", Verdict.WARNING, **values)


def _duration_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    duration = probe.duration or 0.0
    window = limits.duration
    low, high = format_duration(window.min_seconds), format_duration(window.max_seconds)
    exact = f"{duration:,.3f} seconds"
    models = _models_limiting(target.families, window.max_seconds)
    band = table.NEAR_LIMIT_FRACTION
    if duration < window.min_seconds:
        measured = distinct(format_duration(duration), low, exact)
        yield issue("video_duration_too_short", Verdict.REJECTED, duration=measured, limit=low)
    elif duration > window.max_seconds:
        measured = distinct(format_duration(duration), high, exact)
        yield issue(
            "video_duration_too_long",
            Verdict.REJECTED,
            duration=measured,
            limit=high,
            models=models,
        )
    elif duration < window.min_seconds * (1 + band):
        yield issue(
            "near_duration_min", Verdict.WARNING, duration=format_duration(duration), limit=low
        )
    elif duration > window.max_seconds * (1 - band):
        yield issue(
            "near_duration_max",
            Verdict.WARNING,
            duration=format_duration(duration),
            limit=high,
            models=models,
        )


def _audio_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    if probe.audio_tracks:
        return
    if limits.require_audio:
        yield issue("no_audio_track", Verdict.REJECTED)
    elif limits.listens_to_audio:
        # Still indexed by its picture, so not rejected; but the user should know the speech
        # and sound half of the index will have nothing from this video.
        yield issue("no_audio_track", Verdict.WARNING)


def _models_limiting(families: frozenset[ModelFamily], max_seconds: float) -> str:
    """Name the model(s) whose limit is the binding one: "Pegasus", "Marengo"."""
    chosen = families or frozenset({ModelFamily.MARENGO})
    names = sorted(
        f.value.capitalize() for f in chosen if table.DURATION[f].max_seconds == max_seconds
    )
    return " and ".join(names)


Rule = Callable[[ProbeResult, Limits, Target], Iterator[Issue]]

# The order here is the order problems are listed in; the first rejection is the headline.
_RULES: tuple[Rule, ...] = (
    _size_rule,
    _resolution_rule,
    _aspect_rule,
    _duration_rule,
    _audio_rule,
)
