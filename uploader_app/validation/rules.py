"""Judge a probed file against a target's limits: one verdict, every problem, plain words.

The numbers come from :mod:`uploader_app.validation.limits` and the sentences from
:mod:`uploader_app.validation.messages`; this module only decides which apply. The sandbox
calls :func:`evaluate` too, so the app and its stand-in server always agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
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
    HEADER_NOTE,
    READY,
    SOURCES_DIFFER,
    TRACK_NOTE,
    ZERO_TAIL_DETAIL,
    distinct,
    format_duration,
    format_ratio,
    format_size,
    issue,
)

logger = logging.getLogger(__name__)

# Codes that mean "this file holds no video at all" (as opposed to a video that breaks a limit).
NOT_VIDEO_CODES = frozenset({"not_a_video", "no_video_track"})


def evaluate(probe: ProbeResult, target: Target, *, api_version: str | None = None) -> Finding:
    """The verdict on one probed file for one target. Never raises.

    With ``api_version``, a local file is judged for the route the uploader sends it by
    (:func:`local_upload_kind`) instead of ``target.kind``.
    """
    if api_version is not None:
        kind = local_upload_kind(probe.size, api_version)
        if kind is not target.kind:
            target = replace(target, kind=kind)
    found = list(_content_issues(probe))
    if not found:
        limits = limits_for(target)
        for rule in _RULES:
            found.extend(rule(probe, limits, target))
        if api_version not in (None, "v1.2") and target.kind is UploadKind.TASK_FILE:
            # A slightly larger file would go by the multipart route, not be refused.
            found = [i for i in found if i.code != "near_filesize_limit"]
    # Rejections first, in rule order; the first one is the headline.
    found.sort(key=lambda i: i.verdict is not Verdict.REJECTED)
    finding = finding_of(probe.path, found, probe)
    if probe.video_tracks > 1 and probe.video_track is not None:
        note = TRACK_NOTE.format(
            track=probe.video_track,
            tracks=probe.video_tracks,
            width=probe.width,
            height=probe.height,
        )
        finding = replace(finding, message=f"{finding.message} {note}")
    if probe.header_duration is not None and probe.duration is not None:
        # Judged on the frames, which the service decodes; say so, since a player showing
        # the header's length would make the verdict look wrong.
        note = HEADER_NOTE.format(
            frames=format_duration(probe.duration), stated=format_duration(probe.header_duration)
        )
        finding = replace(finding, message=f"{finding.message} {note}")
    return finding


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
    elif probe.still_writing:
        # Checked before damage: a file being written looks cut off until it is finished.
        yield issue("video_still_writing", rejected)
    elif not probe.has_video:
        if probe.audio_tracks or probe.text_tracks:
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
    elif probe.encrypted:
        yield issue("video_protected", rejected)
    elif probe.codec_problem is not None:
        yield issue("video_codec_unsupported", rejected, detail=probe.codec_problem)
    elif probe.is_truncated:
        yield issue("video_file_broken", rejected, detail="the end of the file is missing")
    elif probe.zero_tail:
        yield issue("video_file_broken", rejected, detail=ZERO_TAIL_DETAIL)
    elif not (probe.width and probe.height and probe.duration):
        yield issue(
            "video_file_broken", rejected, detail="its picture size or length cannot be read"
        )


def _codec_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    if probe.codec_unrecognised is not None:
        yield issue("video_codec_unsupported", Verdict.WARNING, fourcc=probe.codec_unrecognised)


def _size_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    limit = limits.max_size
    size_text, limit_text = format_size(probe.size), format_size(limit)
    size_text = distinct(size_text, limit_text, f"{probe.size:,} bytes")
    if probe.size > limit:
        yield issue("video_filesize_too_large", Verdict.REJECTED, size=size_text, limit=limit_text)
    elif probe.size > limit * (1 - table.NEAR_LIMIT_FRACTION):
        yield issue("near_filesize_limit", Verdict.WARNING, size=size_text, limit=limit_text)


def _resolution_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    # Stored pixels (rotation applied), not the shape a player stretches them to: see
    # docs/validation.md, "One reading of size and length".
    width, height = probe.width or 0, probe.height or 0
    short, long = sorted((width, height))
    values = {
        "width": width,
        "height": height,
        "min_side": limits.min_side,
        "max_long": limits.max_long_side,
        "max_short": limits.max_short_side,
        "agreed_long": limits.agreed_long_side,
        "agreed_short": limits.agreed_short_side,
        "source": limits.doubt_resolution,
    }
    if short < limits.min_side:
        yield issue("video_resolution_too_low", Verdict.REJECTED, **values)
    elif long > limits.max_long_side or short > limits.max_short_side:
        yield issue("video_resolution_too_high", Verdict.REJECTED, **values)
    elif long > limits.agreed_long_side or short > limits.agreed_short_side:
        # Only some of the vendor's documents allow this size: say so, do not refuse.
        yield issue("video_resolution_too_high", Verdict.WARNING, **values)


def _aspect_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    aspect = (probe.width or 1) / (probe.height or 1)
    ratio = max(aspect, 1 / aspect)
    values = {
        "shape": "wide" if aspect >= 1 else "narrow",
        "ratio": format_ratio(ratio),
        "max_ratio": format_ratio(limits.max_aspect_ratio),
    }
    # Pixel counts are exact; the small allowance covers a service that rounds the ratio.
    if ratio > limits.max_aspect_ratio + 0.0005:
        if values["ratio"] == values["max_ratio"]:
            values["ratio"] = f"{ratio:.3f}"
        yield issue("video_resolution_invalid_aspect_ratio", Verdict.REJECTED, **values)
    elif ratio > limits.max_aspect_ratio * (1 - table.NEAR_LIMIT_FRACTION):
        yield issue("near_aspect_ratio_limit", Verdict.WARNING, **values)


def _duration_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    duration = probe.duration or 0.0
    window = limits.duration
    agreed = limits.agreed_max_seconds
    low, high = format_duration(window.min_seconds), format_duration(agreed)
    exact = f"{duration:,.3f} seconds"
    models = _models_limiting(target, window.max_seconds)
    band = table.NEAR_LIMIT_FRACTION
    too_short = duration < window.min_seconds
    too_long = duration > window.max_seconds
    doubt = _duration_doubt(probe, window)
    if too_short or too_long:
        limit = low if too_short else format_duration(window.max_seconds)
        measured = distinct(format_duration(duration), limit, exact)
        code = "video_duration_too_short" if too_short else "video_duration_too_long"
        # A length another reading would accept is a warning with the reason, not a refusal.
        verdict = Verdict.REJECTED if doubt is None else Verdict.WARNING
        yield issue(code, verdict, duration=measured, limit=limit, models=models, reason=doubt)
    elif duration > agreed:
        reason = SOURCES_DIFFER.format(
            source=limits.doubt_duration, allowed=format_duration(window.max_seconds)
        )
        measured = distinct(format_duration(duration), high, exact)
        yield issue(
            "video_duration_too_long",
            Verdict.WARNING,
            duration=measured,
            limit=high,
            models=models,
            reason=reason,
        )
    elif duration < window.min_seconds * (1 + band):
        yield issue(
            "near_duration_min", Verdict.WARNING, duration=format_duration(duration), limit=low
        )
    elif duration > agreed * (1 - band):
        yield issue(
            "near_duration_max",
            Verdict.WARNING,
            duration=format_duration(duration),
            limit=high,
            models=models,
        )


def _duration_doubt(probe: ProbeResult, window: table.DurationLimit) -> str | None:
    """Why the length may be read otherwise by the service, or None when it cannot."""
    if probe.duration_note is not None:
        return probe.duration_note
    whole = probe.container_duration
    if whole is not None and window.min_seconds <= whole <= window.max_seconds:
        return (
            f"the picture lasts {format_duration(probe.duration or 0.0)} while the whole file, "
            f"with its sound, lasts {format_duration(whole)}, and the service may go by either"
        )
    return None


def _audio_rule(probe: ProbeResult, limits: Limits, target: Target) -> Iterator[Issue]:
    if probe.audio_tracks:
        return
    if limits.require_audio:
        yield issue("no_audio_track", Verdict.REJECTED)
    elif limits.listens_to_audio:
        # Still indexed by its picture, so not rejected; but the user should know the speech
        # and sound half of the index will have nothing from this video.
        yield issue("no_audio_track", Verdict.WARNING)


def _models_limiting(target: Target, max_seconds: float) -> str:
    """Name the model(s) whose limit is the binding one: "Pegasus", "Marengo"."""
    chosen = target.families or frozenset({ModelFamily.MARENGO})
    names = sorted(
        f.value.capitalize()
        for f in chosen
        if limits_for(replace(target, families=frozenset({f}))).duration.max_seconds == max_seconds
    )
    return " and ".join(names)


Rule = Callable[[ProbeResult, Limits, Target], Iterator[Issue]]

# The order here is the order problems are listed in; the first rejection is the headline.
_RULES: tuple[Rule, ...] = (
    _codec_rule,
    _size_rule,
    _resolution_rule,
    _aspect_rule,
    _duration_rule,
    _audio_rule,
)
