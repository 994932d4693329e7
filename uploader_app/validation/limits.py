"""Every video limit the app checks, in one table.

The GUI, the CLI and the sandbox all read these numbers, so a local verdict and the sandbox's
answer can never disagree. Sources are in ``docs/limits.md`` (vendor docs and OpenAPI v1.3 as
read on 2026-11-25; see ``../shared/api/README.md`` §7). To follow a vendor change, edit the
numbers here and the table in ``docs/limits.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from uploader_app.models import ModelFamily, Target, UploadKind

GB = 1_000_000_000  # the vendor says "GB"; decimal is the stricter reading
MB = 1_000_000


@dataclass(frozen=True)
class DurationLimit:
    min_seconds: float
    max_seconds: float


# Legacy POST /tasks and indexing limits per model family (api notes §7: "Marengo 4 s–2 h,
# Pegasus 4 s–60 min"). Marengo 3.0 assets allow 4 h, but /tasks documents 2 h: we keep the
# stricter figure until the vendor states the indexing limit for 3.0 plainly.
DURATION: dict[ModelFamily, DurationLimit] = {
    ModelFamily.MARENGO: DurationLimit(min_seconds=4.0, max_seconds=7_200.0),
    ModelFamily.PEGASUS: DurationLimit(min_seconds=4.0, max_seconds=3_600.0),
}

# Largest file per upload route, in bytes (api notes §7: "/tasks ≤ 2 GB", "Multipart: ≤10 GB";
# a video_url task is fetched by the service under the same 2 GB /tasks cap).
MAX_SIZE: dict[UploadKind, int] = {
    UploadKind.TASK_FILE: 2 * GB,
    UploadKind.MULTIPART: 10 * GB,
    UploadKind.URL: 2 * GB,
}

# v1.3 assets API (OpenAPI POST /assets and multipart uploads): a direct upload takes video or
# audio up to 200 MB, one fetched from a URL up to 4 GB, an image up to 32 MB; larger local
# videos go through the multipart route.
MAX_DIRECT_ASSET_SIZE = 200 * MB
MAX_URL_ASSET_SIZE = 4 * GB
MAX_IMAGE_SIZE = 32 * MB

# Resolution, checked on the picture as displayed (rotation applied), either orientation
# (api notes §7: "360x360 to 3840x2160").
MIN_SIDE = 360  # both width and height at least 360
MAX_LONG_SIDE = 3840  # 3840x2160 landscape or 2160x3840 portrait at most
MAX_SHORT_SIDE = 2160

# Aspect ratio (long side / short side) between 1:1 and 2.4:1, either orientation
# (api notes §7: "between 1:1 and 1:2.4, or 2.4:1 and 1:1").
MAX_ASPECT_RATIO = 2.4

# A value within this fraction of a limit passes with a warning, so a file that is one
# re-encode away from rejection is not a silent pass. It applies to duration, size and aspect
# ratio, the values other tools measure slightly differently (container vs. stream duration,
# GB vs. GiB, rounded display ratios). Pixel counts are exact integers that every tool reads
# the same way, so resolution has no warning band.
NEAR_LIMIT_FRACTION = 0.05


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one target, resolved from the tables above."""

    min_side: int
    max_long_side: int
    max_short_side: int
    max_aspect_ratio: float
    duration: DurationLimit
    max_size: int
    require_audio: bool  # no sound: rejected (every model listens only, or --audio)
    listens_to_audio: bool  # no sound: a warning (a model listens, another one watches)


def duration_limit(families: frozenset[ModelFamily]) -> DurationLimit:
    """The strictest duration window over the index's models ("most restrictive wins")."""
    chosen = families or frozenset({ModelFamily.MARENGO})
    return DurationLimit(
        min_seconds=max(DURATION[f].min_seconds for f in chosen),
        max_seconds=min(DURATION[f].max_seconds for f in chosen),
    )


def limits_for(target: Target) -> Limits:
    return Limits(
        min_side=MIN_SIDE,
        max_long_side=MAX_LONG_SIDE,
        max_short_side=MAX_SHORT_SIDE,
        max_aspect_ratio=MAX_ASPECT_RATIO,
        duration=duration_limit(target.families),
        max_size=MAX_SIZE[target.kind],
        require_audio=target.require_audio,
        listens_to_audio=target.listens_to_audio,
    )
