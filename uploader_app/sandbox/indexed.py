"""v1.3 ``/indexes/{id}/indexed-assets`` and the videos of an index (``/indexes/{id}/videos``).

Indexing an asset judges it against the index's models with the same rules as a task; a
rejected asset becomes a ``failed`` indexed asset (the request itself is accepted with 202).
Videos are the ready tasks and ready indexed assets of the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
from uploader_app.sandbox.paging import media_filter, page_of, since_filter, sort_items
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
    sandbox.put_in_index(item, 404)  # the media stay: they are the asset's
    logger.info("indexing asset %s in %s as %s", asset.id, index.id, item.id)
    return json_response({"_id": item.id, "asset_id": asset.id}, 202)


def list_indexed(call: Call, index_id: str) -> Response:
    sandbox = call.sandbox
    sandbox.index(index_id)  # the spec lists 400, not 404, for this list
    args = call.request.args
    page = page_of(args)
    statuses = set(args.getlist("status"))
    if not statuses <= STATUSES:
        raise parameter_invalid("status", detail=f"Use one of: {', '.join(sorted(STATUSES))}.")
    keep = _list_filter(call)
    now = sandbox.clock.now()

    def rows(items: Iterable[IndexedAssetRecord]) -> list[tuple[str, float, float]]:
        """(id, created, updated) of the items the filters keep; the cache is only read."""
        kept = []
        for item in items:
            status, since = status_at(item.phases, now)
            if (not statuses or status in statuses) and keep(item, since):
                kept.append((item.id, item.created, since))
        return kept

    found = sandbox.store.read(IndexedAssetRecord, rows, index_id=index_id)
    found = sort_items(found, args, {"created_at": lambda r: r[1], "updated_at": lambda r: r[2]})
    data, info = page.cut(found)
    items = sandbox.store.many(IndexedAssetRecord, [r[0] for r in data])
    return json_response(
        {
            "data": [indexed_asset_shape(sandbox, i, detailed=False) for i in items],
            "page_info": info,
        }
    )


def _indexed(sandbox: Sandbox, index_id: str, item_id: str, status: int) -> IndexedAssetRecord:
    sandbox.index(index_id, status)
    item = sandbox.store.get(IndexedAssetRecord, item_id)
    if item is None or item.index_id != index_id:
        raise resource_not_exist(item_id, "indexed assets", status)
    return item


def retrieve_indexed(call: Call, index_id: str, item_id: str) -> Response:
    item = _indexed(call.sandbox, index_id, item_id, 404)
    return json_response(indexed_asset_shape(call.sandbox, item, detailed=True))


def delete_indexed(call: Call, index_id: str, item_id: str) -> Response:
    _indexed(call.sandbox, index_id, item_id, 400)  # the spec lists 400, not 404, here
    call.sandbox.store.delete(IndexedAssetRecord, item_id)
    return empty_response(200)


Source = TaskRecord | IndexedAssetRecord
Keep = Callable[[Source, float], bool]  # (video, when it became ready) -> listed?


def _list_filter(call: Call) -> Keep:
    """The filters the vendor documents for the lists of videos and indexed assets: file
    name, creation and update dates, ``{gte, lte}`` media ranges and user metadata."""
    args = call.request.args
    name = args.get("filename")
    created = since_filter(args, "created_at")
    updated = since_filter(args, "updated_at")
    media = media_filter(call.query)

    def keep(item: Source, since: float) -> bool:
        return (
            name in (None, item.media.filename)
            and created(item.created)
            and updated(since)
            and media(item.media, item.user_metadata)
        )

    return keep


@dataclass(frozen=True)
class _Entry:
    """A ready video of an index, read from the store without copying its record."""

    video_id: str
    kind: type[Source]
    record_id: str
    created: float
    indexed_at: float
    filename: str


class _Found(NamedTuple):
    video_id: str
    source: Source
    indexed_at: float


def _entries(sandbox: Sandbox, index_id: str, keep: Keep | None = None) -> list[_Entry]:
    """Every ready video of the index: its ready tasks (unless their video was deleted) and
    its ready indexed assets; only those ``keep`` takes, when given."""
    now = sandbox.clock.now()

    def ready(items: Iterable[Source]) -> list[_Entry]:
        found = []
        for item in items:
            status, since = status_at(item.phases, now)
            if status != READY or (isinstance(item, TaskRecord) and item.video_deleted):
                continue
            if keep is not None and not keep(item, since):
                continue
            video_id = item.video_id if isinstance(item, TaskRecord) else item.id
            found.append(
                _Entry(video_id, type(item), item.id, item.created, since, item.media.filename)
            )
        return found

    store = sandbox.store
    return [
        *store.read(TaskRecord, ready, index_id=index_id),
        *store.read(IndexedAssetRecord, ready, index_id=index_id),
    ]


def _video(sandbox: Sandbox, index_id: str, video_id: str, status: int) -> _Found:
    for entry in _entries(sandbox, index_id):
        if entry.video_id == video_id:
            source = sandbox.store.get(entry.kind, entry.record_id)
            if source is not None:
                return _Found(video_id, source, entry.indexed_at)
    raise resource_not_exist(video_id, "videos", status)


def _video_shape(sandbox: Sandbox, found: _Found, *, detailed: bool) -> Json:
    source, indexed_at = found.source, found.indexed_at
    body: Json = {
        "_id": found.video_id,
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
    sandbox.index(index_id)  # the spec lists 400, not 404, for this list
    args = call.request.args
    page = page_of(args)
    entries = _entries(sandbox, index_id, _list_filter(call))
    entries = sort_items(
        entries, args, {"created_at": lambda e: e.created, "updated_at": lambda e: e.indexed_at}
    )
    data, info = page.cut(entries)
    found = [
        _Found(e.video_id, source, e.indexed_at)
        for e in data
        if (source := sandbox.store.get(e.kind, e.record_id)) is not None
    ]
    return json_response(
        {"data": [_video_shape(sandbox, f, detailed=False) for f in found], "page_info": info}
    )


def retrieve_video(call: Call, index_id: str, video_id: str) -> Response:
    sandbox = call.sandbox
    sandbox.index(index_id, 404)
    found = _video(sandbox, index_id, video_id, 404)
    return json_response(_video_shape(sandbox, found, detailed=True))


def delete_video(call: Call, index_id: str, video_id: str) -> Response:
    """Removes the video from the index; its ready task can then be deleted (spec)."""
    sandbox = call.sandbox
    sandbox.index(index_id)
    found = _video(sandbox, index_id, video_id, 400)
    if isinstance(found.source, TaskRecord):

        def mark(task: TaskRecord) -> None:
            task.video_deleted = True

        # update, not get-then-put: a task deleted meanwhile (with its index) stays deleted
        if sandbox.store.update(TaskRecord, found.source.id, mark) is None:
            raise resource_not_exist(video_id, "videos")
    else:
        sandbox.store.delete(IndexedAssetRecord, found.source.id)
    return empty_response(200)


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
