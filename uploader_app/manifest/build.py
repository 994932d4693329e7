"""Build a manifest from a bucket: its videos, each with ``name.srt``/``name.vtt`` beside it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from uploader_app.manifest.bucket import REQUIRED_REGION, S3Access
from uploader_app.manifest.checks import MAX_OBJECT_SIZE
from uploader_app.manifest.document import Row
from uploader_app.manifest.uris import S3Uri
from uploader_app.validation.scan import VIDEO_EXTENSIONS
from uploader_app.validation.subtitles import SUBTITLE_SUFFIXES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildNote:
    message: str
    hint: str


@dataclass
class BuildResult:
    rows: list[Row] = field(default_factory=list)
    notes: list[BuildNote] = field(default_factory=list)
    listed: int = 0  # objects seen under the prefix
    transcriptions: int = 0  # rows given a transcription
    left_out: int = 0  # videos not listed because they cannot be sent


def build_from_bucket(
    access: S3Access,
    bucket: str,
    prefix: str,
    index_id: str,
    language: str,
    *,
    on_progress: Callable[[int], None] | None = None,
    page_size: int = 1000,
) -> BuildResult:
    """List ``s3://bucket/prefix`` and make one row per video. Raises BucketError.

    ``on_progress`` gets the number of objects listed so far after each page.
    """
    result = BuildResult()
    region = access.bucket_region(bucket)
    if region is not None and region != REQUIRED_REGION:
        result.notes.append(
            BuildNote(
                f"The bucket {bucket!r} is in {region}; Twelve Labs transfers read buckets in "
                f"{REQUIRED_REGION} only.",
                f"Copy the videos to a bucket in {REQUIRED_REGION}, or send this list on API "
                "v1.3, which fetches each video through a private link from any region.",
            )
        )
    videos: list[tuple[str, int]] = []
    # Subtitle keys by their path without extension, lower-cased suffix kept for preference.
    subtitles: dict[str, dict[str, str]] = {}
    for page in access.list_pages(bucket, prefix, page_size):
        result.listed += len(page)
        if on_progress is not None:
            on_progress(result.listed)
        for item in page:
            path = PurePosixPath(item.key)
            suffix = path.suffix.lower()
            stem = item.key[: len(item.key) - len(path.suffix)]
            if suffix in SUBTITLE_SUFFIXES:
                subtitles.setdefault(stem, {})[suffix] = item.key
            elif suffix in VIDEO_EXTENSIONS and not item.key.endswith("/"):
                videos.append((item.key, item.size))
    for key, size in videos:
        uri = S3Uri(bucket, key)
        if size > MAX_OBJECT_SIZE:
            result.left_out += 1
            result.notes.append(
                BuildNote(
                    f"{uri} is {size / 1e9:.1f} GB, over the {MAX_OBJECT_SIZE / 1e9:.0f} GB a "
                    "transfer takes; it was left out.",
                    "Split or compress it, or send it from your computer as a large upload.",
                )
            )
            continue
        if size == 0:
            result.left_out += 1
            result.notes.append(
                BuildNote(f"{uri} is empty; it was left out.", "Upload the video again to S3.")
            )
            continue
        row: Row = {"index_id": index_id, "language": language, "object": str(uri)}
        beside = subtitles.get(key[: len(key) - len(PurePosixPath(key).suffix)], {})
        # .srt first, as for local files (validation.subtitles.find_subtitle).
        chosen = next((beside[s] for s in SUBTITLE_SUFFIXES if s in beside), None)
        if chosen is not None:
            row["transcription"] = str(S3Uri(bucket, chosen))
            result.transcriptions += 1
        result.rows.append(row)
    logger.info(
        "built from s3://%s/%s: %d objects, %d rows",
        bucket,
        prefix,
        result.listed,
        len(result.rows),
    )
    return result
