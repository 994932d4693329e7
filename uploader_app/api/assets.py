"""v1.3 asset endpoints: assets, multipart uploads and indexed assets (one method each).

The multipart flow that strings them together is the engine's (jobs/multipart.py).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uploader_app.api.base import ClientBase, _flag, _params
from uploader_app.api.body import (
    FilePart,
    FileRange,
    ProgressCallback,
    file_range_body,
    multipart_body,
)
from uploader_app.api.errors import (
    InvalidResponseError,
)
from uploader_app.api.requester import (
    Recover,
    iter_pages,
    json_object,
    object_parser,
    page_parser,
)
from uploader_app.api.types import (
    FINGERPRINT_KEY,
    MAX_PAGE_LIMIT,
    MAX_PRESIGNED_URLS,
    Asset,
    ChunkReport,
    ChunkState,
    CompletedChunk,
    IndexedAsset,
    Json,
    MultipartStatus,
    Page,
    PageInfo,
    PresignedUrl,
    UploadSession,
    need_str,
    parse_asset,
    parse_indexed_asset,
    parse_presigned,
)
from uploader_app.models import url_filename

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)


class AssetEndpoints(ClientBase):
    """The v1.3 asset endpoints of :class:`uploader_app.api.client.ApiClient`."""

    # ---- assets (v1.3) ----------------------------------------------------------------------

    def create_asset_from_file(
        self,
        path: Path,
        *,
        filename: str | None = None,
        enable_hls: bool = False,
        enable_thumbnail: bool = False,
        user_metadata: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        fingerprint: str | None = None,
        recover: Recover[Asset] | None = None,
    ) -> Asset:
        """``POST /assets`` with ``method=direct`` (files up to 200 MB).

        ``fingerprint`` (the file's content hash) is sent in ``user_metadata`` under
        ``uploader_fingerprint``, beside the caller's keys. ``recover`` as for tasks.
        """
        name = filename or path.name
        if fingerprint is not None:
            user_metadata = {**(user_metadata or {}), FINGERPRINT_KEY: fingerprint}
        fields = self._asset_fields("direct", name, enable_hls, enable_thumbnail, user_metadata)
        part = FilePart("file", self._file_range(path), name, self._mime(name))
        body = multipart_body(
            fields, [part], progress=progress, cancel=cancel, chunk_size=self.chunk_size
        )
        return self._create("/assets", body, parse_asset, cancel, recover)

    def create_asset_from_url(
        self,
        url: str,
        *,
        filename: str | None = None,
        enable_hls: bool = False,
        enable_thumbnail: bool = False,
        user_metadata: Mapping[str, Any] | None = None,
        cancel: threading.Event | None = None,
        recover: Recover[Asset] | None = None,
    ) -> Asset:
        """``POST /assets`` with ``method=url``: the service downloads the file."""
        name = filename or url_filename(url)
        fields = self._asset_fields("url", name, enable_hls, enable_thumbnail, user_metadata)
        fields["url"] = url
        body = multipart_body(fields, cancel=cancel)
        return self._create("/assets", body, parse_asset, cancel, recover)

    def get_asset(self, asset_id: str) -> Asset:
        self._require_version("v1.3", "assets")
        return self._http.call("GET", f"/assets/{asset_id}", parse=object_parser(parse_asset))

    def list_assets(
        self,
        *,
        page: int = 1,
        page_limit: int = 10,
        filename: str | None = None,
        asset_types: Sequence[str] = (),
        asset_ids: Sequence[str] = (),
    ) -> Page[Asset]:
        self._require_version("v1.3", "assets")
        params = _params(
            page=page,
            page_limit=page_limit,
            filename=filename,
            asset_types=list(asset_types),
            asset_ids=list(asset_ids),
        )
        return self._http.call("GET", "/assets", params=params, parse=page_parser(parse_asset))

    def iter_assets(self, **filters: Any) -> Iterator[Asset]:
        return iter_pages(lambda page: self.list_assets(page=page, **filters))

    # ---- multipart uploads (v1.3) -----------------------------------------------------------

    def create_multipart_upload(
        self,
        filename: str,
        total_size: int,
        *,
        asset_type: str = "video",
        enable_hls: bool = False,
        enable_thumbnail: bool = False,
        user_metadata: Mapping[str, Any] | None = None,
    ) -> tuple[UploadSession, tuple[PresignedUrl, ...]]:
        """Open a session; the service picks the chunk size and gives the first URLs.

        Retried freely: a session orphaned by a lost answer holds nothing and expires in 24 h.
        """
        self._require_version("v1.3", "multipart uploads")
        body: Json = {
            "filename": filename,
            "type": asset_type,
            "total_size": total_size,
            "enable_hls": enable_hls,
            "enable_thumbnail": enable_thumbnail,
        }
        if user_metadata is not None:
            body["user_metadata"] = dict(user_metadata)

        def parse(response: requests.Response) -> tuple[UploadSession, tuple[PresignedUrl, ...]]:
            data = json_object(response)
            session = UploadSession(
                upload_id=need_str(data, "upload_id"),
                asset_id=need_str(data, "asset_id"),
                chunk_size=int(data["chunk_size"]),
                total_chunks=int(data["total_chunks"]),
                total_size=total_size,
                upload_headers={
                    str(k): str(v) for k, v in (data.get("upload_headers") or {}).items()
                },
                expires_at=data.get("expires_at"),
            )
            return session, parse_presigned(data.get("upload_urls"))

        return self._http.call("POST", "/assets/multipart-uploads", json_body=body, parse=parse)

    def get_multipart_status(
        self, upload_id: str, *, page: int = 1, page_limit: int = MAX_PAGE_LIMIT
    ) -> MultipartStatus:
        """One page of the session's chunk states."""

        def parse(response: requests.Response) -> MultipartStatus:
            data = json_object(response)
            chunks = tuple(
                ChunkState(int(c["index"]), str(c.get("status") or ""), c.get("error"))
                for c in data.get("uploaded_chunks") or ()
            )
            return MultipartStatus(
                upload_id=str(data.get("upload_id") or upload_id),
                status=str(data.get("status") or ""),
                chunks=chunks,
                chunks_completed=int(data.get("chunks_completed") or 0),
                chunks_failed=int(data.get("chunks_failed") or 0),
                chunks_pending=int(data.get("chunks_pending") or 0),
                total_size=int(data.get("total_size") or 0),
                uploaded_size=int(data.get("uploaded_size") or 0),
                page_info=PageInfo.from_api(data.get("page_info"), items=len(chunks)),
            )

        params = {"page": page, "page_limit": page_limit}
        return self._http.call(
            "GET", f"/assets/multipart-uploads/{upload_id}", params=params, parse=parse
        )

    def iter_multipart_chunks(self, upload_id: str) -> Iterator[ChunkState]:
        """Every chunk state of a session, across status pages."""
        page = 1
        while True:
            status = self.get_multipart_status(upload_id, page=page)
            yield from status.chunks
            if not status.chunks or page >= status.page_info.total_page:
                return
            page += 1

    def report_chunks(self, upload_id: str, chunks: Sequence[CompletedChunk]) -> ChunkReport:
        """Report sent chunks with their ETags; duplicates are ignored, so it retries freely."""
        body = {
            "completed_chunks": [
                {
                    "chunk_index": c.chunk_index,
                    "proof": c.proof,
                    "proof_type": "etag",
                    "chunk_size": c.chunk_size,
                }
                for c in chunks
            ]
        }

        def parse(response: requests.Response) -> ChunkReport:
            data = json_object(response)
            return ChunkReport(
                asset_id=need_str(data, "asset_id"),
                processed_chunks=int(data.get("processed_chunks") or 0),
                duplicate_chunks=int(data.get("duplicate_chunks") or 0),
                total_completed=int(data.get("total_completed") or 0),
                url=data.get("url"),
            )

        return self._http.call(
            "POST", f"/assets/multipart-uploads/{upload_id}", json_body=body, parse=parse
        )

    def request_presigned_urls(
        self, upload_id: str, start: int, count: int
    ) -> tuple[PresignedUrl, ...]:
        """Fresh URLs for chunks ``start`` … ``start+count-1`` (1-based, at most 50)."""
        if not 1 <= count <= MAX_PRESIGNED_URLS:
            raise ValueError(f"count must be 1..{MAX_PRESIGNED_URLS}, not {count}")
        return self._http.call(
            "POST",
            f"/assets/multipart-uploads/{upload_id}/presigned-urls",
            json_body={"start": start, "count": count},
            parse=lambda r: parse_presigned(json_object(r).get("upload_urls")),
        )

    def put_chunk(
        self,
        url: str,
        source: FileRange,
        *,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        """PUT one chunk, read from the source file at its offset, to its presigned URL.

        Returns the ETag (the proof to report). The key is never sent to storage URLs.
        """
        body = file_range_body(source, progress=progress, cancel=cancel, chunk_size=self.chunk_size)

        def parse(response: requests.Response) -> str:
            # Reported without its quotes, as the vendor's SDK does (docs/engine.md).
            etag = (response.headers.get("ETag") or "").strip().strip('"')
            if not etag:
                raise InvalidResponseError("invalid_response", "chunk upload answer has no ETag")
            return etag

        return self._http.call(
            "PUT",
            url,
            body=body,
            extra_headers=headers,
            send_key=False,
            parse=parse,
            cancel=cancel,  # also ends a wait between retries at once
        )

    # ---- indexed assets (v1.3) --------------------------------------------------------------

    def create_indexed_asset(
        self,
        index_id: str,
        asset_id: str,
        *,
        enable_video_stream: bool = False,
        user_metadata: Mapping[str, Any] | None = None,
        recover: Recover[str] | None = None,
    ) -> str:
        """Index a ``ready`` asset (202); returns the indexed asset's id to poll.

        ``recover`` looks up what a lost attempt created, as for tasks.
        """
        self._require_version("v1.3", "indexed assets")
        body: Json = {"asset_id": asset_id, "enable_video_stream": enable_video_stream}
        if user_metadata is not None:
            body["user_metadata"] = dict(user_metadata)

        return self._http.call(
            "POST",
            f"/indexes/{index_id}/indexed-assets",
            json_body=body,
            parse=lambda r: need_str(json_object(r), "_id"),
            recover=recover,
            idempotent=False,
        )

    def get_indexed_asset(self, index_id: str, indexed_asset_id: str) -> IndexedAsset:
        return self._http.call(
            "GET",
            f"/indexes/{index_id}/indexed-assets/{indexed_asset_id}",
            parse=object_parser(parse_indexed_asset),
        )

    def list_indexed_assets(
        self,
        index_id: str,
        *,
        status: Sequence[str] = (),
        filename: str | None = None,
        page: int = 1,
        page_limit: int = 10,
        sort_option: str | None = None,
    ) -> Page[IndexedAsset]:
        params = _params(
            status=list(status),
            filename=filename,
            page=page,
            page_limit=page_limit,
            sort_option=sort_option,
        )
        return self._http.call(
            "GET",
            f"/indexes/{index_id}/indexed-assets",
            params=params,
            parse=page_parser(parse_indexed_asset),
        )

    def iter_indexed_assets(self, index_id: str, **filters: Any) -> Iterator[IndexedAsset]:
        return iter_pages(lambda page: self.list_indexed_assets(index_id, page=page, **filters))

    def _asset_fields(
        self,
        method: str,
        filename: str,
        enable_hls: bool,
        enable_thumbnail: bool,
        user_metadata: Mapping[str, Any] | None,
    ) -> dict[str, str]:
        self._require_version("v1.3", "assets")
        fields = {
            "method": method,
            "filename": filename,
            "enable_hls": _flag(enable_hls),
            "enable_thumbnail": _flag(enable_thumbnail),
        }
        if user_metadata is not None:
            fields["user_metadata"] = json.dumps(dict(user_metadata))
        return fields
