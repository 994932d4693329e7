"""The audit trail: every job as one CSV row, in words and ids a person can look up."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from uploader_app.files import write_atomically
from uploader_app.models import Job, SourceKind

COLUMNS = (
    "job",
    "file",
    "folder",
    "url",
    "size_bytes",
    "duration_s",
    "index_id",
    "route",
    "status",
    "server_status",
    "task_id",
    "video_id",
    "asset_id",
    "indexed_asset_id",
    "error_code",
    "message",
    "hint",
    "attempts",
    "added",
    "finished",
)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def row_of(job: Job) -> dict[str, str]:
    is_url = job.source_kind is SourceKind.URL
    values: dict[str, object] = {
        "job": job.id,
        "file": job.name,
        "folder": "" if is_url else job.folder,
        "url": job.shown_source if is_url else "",
        "size_bytes": job.size,
        "duration_s": f"{job.duration:.3f}" if job.duration is not None else None,
        "index_id": job.index_id,
        "route": job.route,
        "status": job.state,
        "server_status": job.server_status,
        "task_id": job.task_id,
        "video_id": job.video_id,
        "asset_id": job.asset_id,
        "indexed_asset_id": job.indexed_asset_id,
        "error_code": job.error_code,
        "message": job.error_message,
        "hint": job.error_hint,
        "attempts": job.attempts,
        "added": _when(job.created_at),
        "finished": _when(job.finished_at),
    }
    return {k: "" if v is None else str(v) for k, v in values.items()}


def write_csv(jobs: Sequence[Job], path: Path) -> int:
    """Write ``jobs`` to ``path`` (replaced whole, never half-written); the row count.

    UTF-8 with a BOM so spreadsheet programs read accented file names right.
    """
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    for job in jobs:
        writer.writerow(row_of(job))
    write_atomically(path, text.getvalue().encode("utf-8-sig"))
    return len(jobs)
