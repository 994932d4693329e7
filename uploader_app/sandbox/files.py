"""``/_files/{folder}/{id}``: the stored video behind an HLS ``video_url`` or an asset ``url``.

The vendor would serve an HLS stream; the sandbox serves the uploaded file itself (with range
requests), which players and ``video_url`` tasks pointing back at the sandbox can both use.
"""

from __future__ import annotations

import logging
from pathlib import Path

from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from uploader_app.sandbox.records import AssetRecord, IndexedAssetRecord, MediaInfo, TaskRecord
from uploader_app.sandbox.routing import Call, Route
from uploader_app.sandbox.service import Sandbox

logger = logging.getLogger(__name__)


def _media(sandbox: Sandbox, folder: str, record_id: str) -> MediaInfo | None:
    store = sandbox.store
    record: TaskRecord | AssetRecord | IndexedAssetRecord | None
    if folder == "tasks":
        record = store.get(TaskRecord, record_id)
    elif folder == "assets":
        record = store.get(AssetRecord, record_id)
    elif folder == "indexed-assets":
        record = store.get(IndexedAssetRecord, record_id)
    else:
        return None
    return record.media if record is not None else None


def download(call: Call, folder: str, record_id: str) -> Response:
    media = _media(call.sandbox, folder, record_id)
    if media is None or media.path is None or not Path(media.path).is_file():
        return Response(b"Not found", status=404, content_type="text/plain")
    return send_file(
        Path(media.path),
        call.request.environ,
        download_name=media.filename,
        conditional=True,
        max_age=None,
    )


ROUTES = [Route("/_files/<folder>/<record_id>", "GET", "files.get", download, api=False)]
