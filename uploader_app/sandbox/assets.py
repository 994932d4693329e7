"""v1.3 ``/assets``: direct and URL uploads, their list, details and deletion."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

from werkzeug.wrappers import Response

from uploader_app.sandbox.errors import (
    ApiError,
    parameter_invalid,
    parameter_not_provided,
    resource_not_exist,
)
from uploader_app.sandbox.fetch import fetch_asset, filename_of, is_web_url
from uploader_app.sandbox.formdata import FormData, parse_form
from uploader_app.sandbox.judge import judge_asset
from uploader_app.sandbox.lifecycle import ASSET_PROCESSING_SECONDS
from uploader_app.sandbox.paging import page_of
from uploader_app.sandbox.records import AssetRecord, IndexedAssetRecord, new_id
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
from uploader_app.sandbox.shapes import Json, rfc3339
from uploader_app.validation.limits import MAX_DIRECT_ASSET_SIZE, MB

logger = logging.getLogger(__name__)

_CONTAINER_MIME = {
    "MPEG-4": "video/mp4",
    "QuickTime": "video/quicktime",
    "Matroska": "video/x-matroska",
    "WebM": "video/webm",
    "AVI": "video/x-msvideo",
}


def status_of(sandbox: Sandbox, asset: AssetRecord) -> str:
    if asset.ready_at is None or sandbox.clock.now() < asset.ready_at:
        return "processing"
    return "failed" if asset.failed else "ready"


def file_type(asset: AssetRecord) -> str:
    container = asset.media.container if asset.media else None
    if container in _CONTAINER_MIME:
        return _CONTAINER_MIME[container]
    return mimetypes.guess_type(asset.filename)[0] or asset.file_type


def asset_shape(sandbox: Sandbox, asset: AssetRecord, *, detailed: bool = True) -> Json:
    status = status_of(sandbox, asset)
    body: Json = {
        "_id": asset.id,
        "method": asset.method,
        "status": status,
        "filename": asset.filename,
        "file_type": file_type(asset),
        "created_at": rfc3339(asset.created),
    }
    if asset.user_metadata is not None:
        body["user_metadata"] = asset.user_metadata
    if not detailed:
        return body
    if asset.enable_hls:
        body["hls"] = {"status": "ready" if status == "ready" else "pending"}
        if status == "ready":
            body["hls"]["manifest_url"] = sandbox.file_url("assets", asset.id)
    if asset.enable_thumbnail:
        body["thumbnail"] = {"status": "ready" if status == "ready" else "pending"}
    media = asset.media
    if status == "failed":
        body["error"] = {"message": asset.error or "The file could not be processed."}
    if media is not None and status != "processing":
        body["size"] = media.size
        body["duration"] = media.duration
        body["technical_metadata"] = _technical(asset)
    return body


def _technical(asset: AssetRecord) -> Json:
    media = asset.media
    assert media is not None
    meta: Json = {
        "file_size_bytes": media.size,
        "file_mime_type": file_type(asset),
        "has_audio": media.audio_tracks > 0,
        "total_audio_streams": media.audio_tracks,
        "total_video_streams": 1 if media.width else 0,
    }
    if media.container:
        meta["file_container_format"] = media.container
    if media.width:
        stream: Json = {
            "index": 0,
            "width": media.width,
            "height": media.height,
            "fps": media.fps,
            "duration_seconds": media.duration,
        }
        meta.update(video_width=media.width, video_height=media.height)
        meta.update(video_fps=media.fps, video_duration_seconds=media.duration)
        if media.video_codec:
            stream["codec"] = media.video_codec
            meta["video_codec"] = media.video_codec
        meta["video_streams"] = [stream]
    if media.audio_codec:
        meta["audio_codec"] = media.audio_codec
    return meta


def create(call: Call) -> Response:
    with parse_form(call.request, call.sandbox.spool, MAX_DIRECT_ASSET_SIZE) as form:
        return _create(call, form)


def _create(call: Call, form: FormData) -> Response:
    sandbox = call.sandbox
    fields = form.fields
    method = fields.get("method")
    if not method:
        raise parameter_not_provided("method")
    if method not in ("direct", "url"):
        raise parameter_invalid("method", detail="Use direct or url.")
    part = form.files.get("file")
    url = fields.get("url") or None
    if method == "direct" and part is None:
        raise parameter_not_provided("file")
    if method == "url" and url is None:
        raise parameter_not_provided("url")
    if url is not None and not is_web_url(url):
        raise parameter_invalid("url", detail="Use a public http or https URL.")
    if part is not None and part.oversize:
        raise ApiError(
            400,
            "media_filesize_too_large",
            f"The file is too large. Direct uploads take files up to "
            f"{MAX_DIRECT_ASSET_SIZE // MB} MB; use a multipart upload for larger files.",
        )
    default_name = Path(part.filename).name if part is not None else filename_of(url or "")
    filename = fields.get("filename") or default_name or "video"
    now = sandbox.clock.now()
    asset = AssetRecord(
        id=new_id(),
        method=method,
        created=now,
        filename=filename,
        file_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        url=url,
        enable_hls=bool_field(fields.get("enable_hls"), "enable_hls", False),
        enable_thumbnail=bool_field(fields.get("enable_thumbnail"), "enable_thumbnail", False),
        user_metadata=metadata_field(fields.get("user_metadata")),
    )
    if part is not None:
        path = sandbox.keep(part.path, "assets", asset.id, filename)
        verdict = judge_asset(path, filename, MAX_DIRECT_ASSET_SIZE)
        asset.media = verdict.media
        asset.failed = not verdict.accepted
        asset.error = verdict.message or None
        asset.ready_at = now + sandbox.clock.scaled(ASSET_PROCESSING_SECONDS)
        sandbox.store.put(asset)
    else:
        asset.fetching = True
        sandbox.store.put(asset)
        sandbox.background(lambda: fetch_asset(sandbox, asset.id), f"fetch-{asset.id}")
    return json_response(asset_shape(sandbox, asset, detailed=False), 201)


def list_assets(call: Call) -> Response:
    sandbox = call.sandbox
    args = call.request.args
    page = page_of(args)
    ids = set(args.getlist("asset_ids"))
    types = set(args.getlist("asset_types"))
    name = (args.get("filename") or "").lower()
    items = sandbox.store.all(
        AssetRecord,
        lambda a: (
            (not ids or a.id in ids)
            and (not types or file_type(a).split("/")[0] in types)
            and name in a.filename.lower()
        ),
    )
    items.sort(key=lambda a: a.created, reverse=True)
    data, info = page.cut(items)
    return json_response({"data": [asset_shape(sandbox, a) for a in data], "page_info": info})


def get_asset(sandbox: Sandbox, asset_id: str, status: int = 400) -> AssetRecord:
    asset = sandbox.store.get(AssetRecord, asset_id)
    if asset is None:
        raise resource_not_exist(asset_id, "assets", status)
    return asset


def retrieve(call: Call, asset_id: str) -> Response:
    return json_response(asset_shape(call.sandbox, get_asset(call.sandbox, asset_id)))


def delete(call: Call, asset_id: str) -> Response:
    sandbox = call.sandbox
    get_asset(sandbox, asset_id)
    force = bool_field(call.request.args.get("force"), "force", False)
    users = sandbox.store.read(
        IndexedAssetRecord, lambda items: [i.id for i in items if i.asset_id == asset_id]
    )
    if users and not force:
        raise ApiError(
            409,
            "asset_in_use",
            f"The asset {asset_id} is referenced by {len(users)} indexed asset(s). "
            "Delete them first or set force=true.",
        )
    sandbox.store.delete(AssetRecord, asset_id)
    sandbox.forget("assets", asset_id)
    return empty_response(200)


ROUTES = [
    Route("/assets", "POST", "assets.create", create, ONLY_V13),
    Route("/assets", "GET", "assets.list", list_assets, ONLY_V13),
    Route("/assets/<asset_id>", "GET", "assets.retrieve", retrieve, ONLY_V13),
    Route("/assets/<asset_id>", "DELETE", "assets.delete", delete, ONLY_V13),
]
