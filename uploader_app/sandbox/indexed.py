"""v1.3 ``/indexes/{id}/indexed-assets`` and the videos of an index (``/indexes/{id}/videos``).

Indexing an asset judges it against the index's models with the same rules as a task; a
rejected asset becomes a ``failed`` indexed asset (the request itself is accepted with 202).
Videos are the ready tasks and ready indexed assets of the index.
"""

from __future__ import annotations

import logging
from pathlib import Path

from werkzeug.wrappers import Response

from uploader_app.models import Target, UploadKind
from uploader_app.sandbox.assets import get_asset, status_of
from uploader_app.sandbox.errors import (
    parameter_invalid,
    parameter_not_provided,
    resource_not_exist,
)
from uploader_app.sandbox.judge import judge_file
from uploader_app.sandbox.lifecycle import READY, status_at
from uploader_app.sandbox.paging import page_of, sort_items
from uploader_app.sandbox.records import IndexedAssetRecord, TaskRecord, new_id
from uploader_app.sandbox.routing import (
    ONLY_V13,
    Call,
    Route,
    bool_field,
    empty_response,
    json_response,
    metadata_field,
)
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.shapes import Json, hls, indexed_asset_shape, rfc3339, system_metadata

logger = logging.getLogger(__name__)

STATUSES = frozenset({"ready", "pending", "queued", "indexing", "failed"})


def create(call: Call, index_id: str) -> Response:
    sandbox = call.sandbox
    index = sandbox.index(index_id, 404)
    body = call.json()
    asset_id = body.get("asset_id")
    if not asset_id:
        raise parameter_not_provided("asset_id")
    asset = get_asset(sandbox, str(asset_id))
    asset_status = status_of(sandbox, asset)
    if asset_status != READY or asset.media is None or asset.media.path is None:
        raise parameter_invalid(
            "asset_id", detail=f"The asset {asset_id} is {asset_status}; it must be ready."
        )
    stream = bool_field(body.get("enable_video_stream"), "enable_video_stream", False)
    metadata = metadata_field(body.get("user_metadata"))
    target = Target.for_index(index.as_index(), UploadKind.MULTIPART)
    verdict = judge_file(Path(asset.media.path), asset.filename, target)
    now = sandbox.clock.now()
    item = IndexedAssetRecord(
        id=new_id(),
        index_id=index.id,
        asset_id=asset.id,
        created=now,
        media=verdict.media,
        phases=sandbox.clock.task_phases(
            now, verdict.media.duration, failed=not verdict.accepted, validating=False
        ),
        enable_video_stream=stream,
        user_metadata=metadata,
        error_code=verdict.code,
        error_message=verdict.message or None,
    )
    sandbox.store.put(item)
    logger.info("indexing asset %s in %s as %s", asset.id, index.id, item.id)
    return json_response({"_id": item.id, "asset_id": asset.id}, 202)


def list_indexed(call: Call, index_id: str) -> Response:
    sandbox = call.sandbox
    sandbox.index(index_id, 404)
    args = call.request.args
    page = page_of(args)
    statuses = set(args.getlist("status"))
    if not statuses <= STATUSES:
        raise parameter_invalid("status", detail=f"Use one of: {', '.join(sorted(STATUSES))}.")
    now = sandbox.clock.now()
    items = [
        i
        for i in sandbox.store.all(IndexedAssetRecord)
        if i.index_id == index_id
        and (not statuses or status_at(i.phases, now)[0] in statuses)
        and args.get("filename") in (None, i.media.filename)
    ]
    items = sort_items(
        items,
        args,
        {"created_at": lambda i: i.created, "updated_at": lambda i: status_at(i.phases, now)[1]},
    )
    data, info = page.cut(items)
    return json_response(
        {
            "data": [indexed_asset_shape(sandbox, i, detailed=False) for i in data],
            "page_info": info,
        }
    )


def _indexed(sandbox: Sandbox, index_id: str, item_id: str) -> IndexedAssetRecord:
    sandbox.index(index_id, 404)
    item = sandbox.store.get(IndexedAssetRecord, item_id)
    if item is None or item.index_id != index_id:
        raise resource_not_exist(item_id, "indexed assets", 404)
    return item


def retrieve_indexed(call: Call, index_id: str, item_id: str) -> Response:
    item = _indexed(call.sandbox, index_id, item_id)
    return json_response(indexed_asset_shape(call.sandbox, item, detailed=True))


def delete_indexed(call: Call, index_id: str, item_id: str) -> Response:
    _indexed(call.sandbox, index_id, item_id)
    call.sandbox.store.delete(IndexedAssetRecord, item_id)
    return empty_response(200)


def _videos(
    sandbox: Sandbox, index_id: str
) -> list[tuple[str, TaskRecord | IndexedAssetRecord, float]]:
    """(video id, source record, indexed at) for every ready video of the index."""
    now = sandbox.clock.now()
    found: list[tuple[str, TaskRecord | IndexedAssetRecord, float]] = []
    for task in sandbox.store.all(TaskRecord):
        status, since = status_at(task.phases, now)
        if task.index_id == index_id and status == READY and not task.video_deleted:
            found.append((task.video_id, task, since))
    for item in sandbox.store.all(IndexedAssetRecord):
        status, since = status_at(item.phases, now)
        if item.index_id == index_id and status == READY:
            found.append((item.id, item, since))
    return found


def _video_shape(
    sandbox: Sandbox,
    video_id: str,
    source: TaskRecord | IndexedAssetRecord,
    indexed_at: float,
    *,
    detailed: bool,
) -> Json:
    body: Json = {
        "_id": video_id,
        "created_at": rfc3339(source.created),
        "updated_at": rfc3339(indexed_at),
        "indexed_at": rfc3339(indexed_at),
        "system_metadata": system_metadata(source.media, extended=not detailed),
    }
    if isinstance(source, IndexedAssetRecord):
        body["asset_id"] = source.asset_id
    if detailed:
        body["system_metadata"].pop("size", None)
        if source.user_metadata is not None:
            body["user_metadata"] = source.user_metadata
        if source.enable_video_stream:
            folder = "tasks" if isinstance(source, TaskRecord) else "indexed-assets"
            body["hls"] = hls(sandbox, folder, source.id, READY, indexed_at)
    return body


def list_videos(call: Call, index_id: str) -> Response:
    sandbox = call.sandbox
    sandbox.index(index_id, 404)
    args = call.request.args
    page = page_of(args)
    videos = [
        v for v in _videos(sandbox, index_id) if args.get("filename") in (None, v[1].media.filename)
    ]
    videos = sort_items(
        videos, args, {"created_at": lambda v: v[1].created, "updated_at": lambda v: v[2]}
    )
    data, info = page.cut(videos)
    return json_response(
        {
            "data": [_video_shape(sandbox, *v, detailed=False) for v in data],
            "page_info": info,
        }
    )


def retrieve_video(call: Call, index_id: str, video_id: str) -> Response:
    sandbox = call.sandbox
    sandbox.index(index_id, 404)
    for found in _videos(sandbox, index_id):
        if found[0] == video_id:
            return json_response(_video_shape(sandbox, *found, detailed=True))
    raise resource_not_exist(video_id, "videos", 404)


def delete_video(call: Call, index_id: str, video_id: str) -> Response:
    """Removes the video from the index; its ready task can then be deleted (spec)."""
    sandbox = call.sandbox
    sandbox.index(index_id, 404)
    for found_id, source, _ in _videos(sandbox, index_id):
        if found_id != video_id:
            continue
        if isinstance(source, TaskRecord):
            source.video_deleted = True
            sandbox.store.put(source)
        else:
            sandbox.store.delete(IndexedAssetRecord, source.id)
        return empty_response(200)
    raise resource_not_exist(video_id, "videos", 404)


ROUTES = [
    Route("/indexes/<index_id>/indexed-assets", "POST", "indexed_assets.create", create, ONLY_V13),
    Route(
        "/indexes/<index_id>/indexed-assets", "GET", "indexed_assets.list", list_indexed, ONLY_V13
    ),
    Route(
        "/indexes/<index_id>/indexed-assets/<item_id>",
        "GET",
        "indexed_assets.retrieve",
        retrieve_indexed,
        ONLY_V13,
    ),
    Route(
        "/indexes/<index_id>/indexed-assets/<item_id>",
        "DELETE",
        "indexed_assets.delete",
        delete_indexed,
        ONLY_V13,
    ),
    Route("/indexes/<index_id>/videos", "GET", "videos.list", list_videos),
    Route("/indexes/<index_id>/videos/<video_id>", "GET", "videos.retrieve", retrieve_video),
    Route("/indexes/<index_id>/videos/<video_id>", "DELETE", "videos.delete", delete_video),
]
