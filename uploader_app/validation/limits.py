"""Every video limit the app checks, in one table.

The GUI, the CLI and the sandbox all read these numbers, so a local verdict and the sandbox's
answer can never disagree. Sources are in ``docs/limits.md`` (vendor docs and OpenAPI v1.3 as
read on 2026-11-25, model versions and routes on 2026-11-30). To follow a vendor change, edit the
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


# Legacy POST /tasks and indexing limits per model family (docs/limits.md: "Marengo 4 s–2 h,
# Pegasus 4 s–60 min"), for every model version. Newer models allow more on some routes: see
# NEWER_MODEL_LIMITS.
DURATION: dict[ModelFamily, DurationLimit] = {
    ModelFamily.MARENGO: DurationLimit(min_seconds=4.0, max_seconds=7_200.0),
    ModelFamily.PEGASUS: DurationLimit(min_seconds=4.0, max_seconds=3_600.0),
}


@dataclass(frozen=True)
class NewerLimits:
    """What the 2026 spec allows a newer model (docs/limits.md, "Model versions and routes")."""

    since_version: float  # model versions from this one on ("marengo3.0" is 3.0)
    label: str  # how the vendor's documents name it
    max_long_side: int
    max_short_side: int
    max_seconds: float  # equal to the legacy figure where the spec gives no other


# The 2026 spec: Marengo 3.0 takes 360x360–5184x2160 and 4 s–4 h; Pegasus 360x360–5184x2160
# (its 2 h is for analysis tasks, not indexing, so indexing keeps 1 h): docs/limits.md,
# "Model versions and routes".
NEWER_MODEL_LIMITS: dict[ModelFamily, NewerLimits] = {
    ModelFamily.MARENGO: NewerLimits(3.0, "Marengo 3.0", 5_184, 2_160, 14_400.0),
    ModelFamily.PEGASUS: NewerLimits(1.2, "Pegasus 1.2", 5_184, 2_160, 3_600.0),
}

# Largest file per upload route, in bytes (docs/limits.md: "/tasks ≤ 2 GB", "Multipart: ≤10 GB";
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
# (docs/limits.md: "360x360 to 3840x2160").
MIN_SIDE = 360  # both width and height at least 360
MAX_LONG_SIDE = 3840  # 3840x2160 landscape or 2160x3840 portrait at most
MAX_SHORT_SIDE = 2160

# Aspect ratio (long side / short side) between 1:1 and 2.4:1, either orientation
# (docs/limits.md: "between 1:1 and 1:2.4, or 2.4:1 and 1:1").
MAX_ASPECT_RATIO = 2.4

# A value within this fraction of a limit passes with a warning, so a file that is one
# re-encode away from rejection is not a silent pass. It applies to duration, size and aspect
# ratio, the values other tools measure slightly differently (container vs. stream duration,
# GB vs. GiB, rounded display ratios). Pixel counts are exact integers that every tool reads
# the same way, so resolution has no warning band.
NEAR_LIMIT_FRACTION = 0.05


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one target, resolved from the tables above.

    ``max_*`` and ``duration`` are where every source refuses (a rejection); ``agreed_*`` is
    where every source still accepts. In between the sources disagree: a warning that names
    them (``doubt_*``), never a refusal the vendor may not share.
    """

    min_side: int
    max_long_side: int
    max_short_side: int
    max_aspect_ratio: float
    duration: DurationLimit
    max_size: int
    require_audio: bool  # no sound: rejected (every model listens only, or --audio)
    listens_to_audio: bool  # no sound: a warning (a model listens, another one watches)
    agreed_long_side: int
    agreed_short_side: int
    agreed_max_seconds: float
    # The model documents that allow more than the upload instructions ("Marengo 3.0"), or ""
    # when the sources agree.
    doubt_resolution: str
    doubt_duration: str


def duration_limit(families: frozenset[ModelFamily]) -> DurationLimit:
    """The strictest legacy duration window over the index's models ("most restrictive wins")."""
    chosen = families or frozenset({ModelFamily.MARENGO})
    return DurationLimit(
        min_seconds=max(DURATION[f].min_seconds for f in chosen),
        max_seconds=min(DURATION[f].max_seconds for f in chosen),
    )


@dataclass(frozen=True)
class _Span:
    """One family's figures: ``agreed`` by every source, ``allowed`` by the most lenient."""

    agreed: tuple[int, int, float]  # long side, short side, seconds
    allowed: tuple[int, int, float]
    newer: NewerLimits


def _span(family: ModelFamily, versions: tuple[float | None, ...], kind: UploadKind) -> _Span:
    legacy = (MAX_LONG_SIDE, MAX_SHORT_SIDE, DURATION[family].max_seconds)
    newer = NEWER_MODEL_LIMITS[family]
    spec = (newer.max_long_side, newer.max_short_side, newer.max_seconds)
    # An unknown version (``check --model`` without an index) may be the newer model.
    known = bool(versions) and all(v is not None for v in versions)
    is_newer = [v is None or v >= newer.since_version for v in versions or (None,)]
    if not any(is_newer):
        return _Span(legacy, legacy, newer)
    if known and all(is_newer) and kind is UploadKind.MULTIPART:
        # The asset route is the one the 2026 spec describes; the /tasks figures are not its.
        return _Span(spec, spec, newer)
    return _Span(legacy, spec, newer)


def model_version(name: str) -> float | None:
    """``3.0`` from ``marengo3.0``, ``2.7`` from ``marengo2.7``; None when the name has none."""
    family = ModelFamily.of(name)
    digits = name.strip().lower().removeprefix(family.value if family else "")
    try:
        return float(digits)
    except ValueError:
        return None


def limits_for(target: Target) -> Limits:
    families = target.families or frozenset({ModelFamily.MARENGO})
    spans = []
    for family in sorted(families):
        versions = tuple(
            model_version(name) for name in target.models if ModelFamily.of(name) is family
        )
        spans.append(_span(family, versions, target.kind))
    agreed = tuple(min(s.agreed[i] for s in spans) for i in range(3))
    allowed = tuple(min(s.allowed[i] for s in spans) for i in range(3))
    window = duration_limit(families)
    labels = " and ".join(s.newer.label for s in spans if s.agreed != s.allowed)
    return Limits(
        min_side=MIN_SIDE,
        max_long_side=int(allowed[0]),
        max_short_side=int(allowed[1]),
        max_aspect_ratio=MAX_ASPECT_RATIO,
        duration=DurationLimit(window.min_seconds, allowed[2]),
        max_size=MAX_SIZE[target.kind],
        require_audio=target.require_audio,
        listens_to_audio=target.listens_to_audio,
        agreed_long_side=int(agreed[0]),
        agreed_short_side=int(agreed[1]),
        agreed_max_seconds=agreed[2],
        doubt_resolution=labels if agreed[:2] != allowed[:2] else "",
        doubt_duration=labels if agreed[2] != allowed[2] else "",
    )
