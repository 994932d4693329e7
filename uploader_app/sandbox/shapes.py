"""How each resource looks on the wire, per API version (v1.3 per the vendor's OpenAPI
document; v1.2 per the v1.2-era SDK models, docs/api-notes.md §1-§3)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from uploader_app.models import IndexModel, ModelFamily
from uploader_app.sandbox.lifecycle import READY, TERMINAL, progress, status_at
from uploader_app.sandbox.records import IndexedAssetRecord, IndexRecord, MediaInfo, TaskRecord
from uploader_app.sandbox.service import Sandbox

logger = logging.getLogger(__name__)

Json = dict[str, Any]

# v1.3 option words as a v1.2 client knows them: "conversation" became "audio"
# (docs/api-notes.md §2).
# text_in_video and logo were folded into visual, so an index made on v1.3 shows plain visual.
V12_OPTIONS = {"audio": "conversation"}


def rfc3339(epoch: float) -> str:
    """``2026-11-25T08:54:01.123Z``, the vendor's timestamp format."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def index_shape(sandbox: Sandbox, index: IndexRecord, version: str) -> Json:
    count, total = sandbox.index_stats(index.id)
    body: Json = {
        "_id": index.id,
        "index_name": index.name,
        "created_at": rfc3339(index.created),
        "updated_at": rfc3339(index.updated),
        "video_count": count,
        "total_duration": total,
        "addons": list(index.addons),
    }
    if version == "v1.2":
        # engine_name is the model's real name, even for a model newer than v1.2 (docs/sandbox.md)
        body["engines"] = [
            {"engine_name": m["name"], "engine_options": model_options(m, version)}
            for m in index.models
        ]
    else:
        body["models"] = [
            {"model_name": m["name"], "model_options": model_options(m, version)}
            for m in index.models
        ]
    return body


def model_options(model: dict[str, Any], version: str) -> list[str]:
    """A stored model's options in the words of ``version``, whichever version created it."""
    if version == "v1.2":
        return list(dict.fromkeys(V12_OPTIONS.get(o, o) for o in model["options"]))
    return list(IndexModel.from_api(model["name"], model["options"]).options)


def family_of(index: IndexRecord) -> set[str]:
    return {f.value for m in index.models if (f := ModelFamily.of(m["name"])) is not None}


def system_metadata(media: MediaInfo, *, extended: bool = False) -> Json:
    """What the probe found; fields stay absent until the video has been validated."""
    meta: Json = {"filename": media.filename}
    if media.width and media.height:
        meta.update(duration=media.duration, width=media.width, height=media.height)
        if extended:
            meta.update(fps=media.fps, size=float(media.size))
    return meta


def hls(sandbox: Sandbox, folder: str, record_id: str, status: str, since: float) -> Json:
    """The stream the vendor would make; the sandbox serves the uploaded file as is."""
    body: Json = {
        "status": "COMPLETE" if status == READY else "PROCESSING",
        "thumbnail_urls": [],
        "updated_at": rfc3339(since),
    }
    if status == READY:
        body["video_url"] = sandbox.file_url(folder, record_id)
    return body


def task_shape(sandbox: Sandbox, task: TaskRecord, version: str, *, detailed: bool = True) -> Json:
    """A task; list entries (``detailed=False``) leave out ``hls``, as the spec's do."""
    now = sandbox.clock.now()
    status, since = status_at(task.phases, now)
    body: Json = {
        "_id": task.id,
        "index_id": task.index_id,
        "video_id": task.video_id,
        "status": status,
        "created_at": rfc3339(task.created),
        "updated_at": rfc3339(since),
    }
    if detailed and task.enable_video_stream and task.media.path and status != "failed":
        body["hls"] = hls(sandbox, "tasks", task.id, status, since)
    if version != "v1.2":
        body["system_metadata"] = system_metadata(task.media)
        return body
    # v1.2: "metadata" instead of system_metadata, plus the progress the service reported.
    body["type"] = "index_task_info"
    body["metadata"] = system_metadata(task.media)
    percentage, remain, end = progress(task.phases, now)
    if end is not None:
        body["estimated_time"] = rfc3339(end)
    if status not in TERMINAL:
        body["process"] = {"percentage": percentage, "remain_seconds": remain}
    return body


def indexed_asset_shape(sandbox: Sandbox, item: IndexedAssetRecord, *, detailed: bool) -> Json:
    status, since = status_at(item.phases, sandbox.clock.now())
    body: Json = {
        "_id": item.id,
        "asset_id": item.asset_id,
        "status": status,
        "created_at": rfc3339(item.created),
        "updated_at": rfc3339(since),
        "system_metadata": system_metadata(item.media, extended=True),
    }
    if status == READY:
        body["indexed_at"] = rfc3339(since)
    if detailed:
        if item.user_metadata is not None:
            body["user_metadata"] = item.user_metadata
        if item.enable_video_stream and status != "failed":
            body["hls"] = hls(sandbox, "indexed-assets", item.id, status, since)
    return body
