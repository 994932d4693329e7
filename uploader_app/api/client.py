"""``ApiClient``: every call the app makes to the Twelve Labs API, over one requests.Session.

One method per endpoint. Every request goes through :meth:`Requester.call` (requester.py), the
one place that sends, retries and waits. A POST that creates something takes the caller's
``recover`` look-up: after an ambiguous failure (the service may have acted but its answer was
lost) it is asked for the created object before anything is sent again; without one, such a
failure is raised, never sent twice. The look-ups and their state are the engine's
(jobs/recovery.py; docs/engine.md, "Exactly once").
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import requests

from uploader_app.api.body import (
    CHUNK_SIZE,
    FilePart,
    FileRange,
    ProgressCallback,
    StreamingBody,
    file_range_body,
    multipart_body,
)
from uploader_app.api.errors import (
    AuthError,
    InvalidRequestError,
    InvalidResponseError,
)
from uploader_app.api.requester import (
    Recover,
    Requester,
    RetryListener,
    Sleep,
    interruptible_sleep,
    iter_pages,
    json_object,
    object_parser,
    page_parser,
)
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.transport import Timeouts, make_session, versioned_base_url
from uploader_app.api.types import (
    FINGERPRINT_KEY,
    MAX_PAGE_LIMIT,
    MAX_PRESIGNED_URLS,
    Asset,
    ChunkReport,
    ChunkState,
    CompletedChunk,
    CreatedTask,
    IndexedAsset,
    Json,
    MultipartStatus,
    Page,
    PageInfo,
    PresignedUrl,
    TaskStatusCounts,
    UploadSession,
    Video,
    need_str,
    parse_asset,
    parse_index,
    parse_indexed_asset,
    parse_presigned,
    parse_task,
    parse_video,
)
from uploader_app.config import Settings
from uploader_app.models import Index, IndexModel, Task, TaskStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left unset (None or empty sequences)."""
    return {k: v for k, v in values.items() if v is not None and v not in ((), [])}


def _created_task(data: Json) -> CreatedTask:
    return CreatedTask(need_str(data, "_id"), data.get("video_id") or None)


def _url_filename(url: str) -> str:
    """The file name a URL upload gets: its last path segment, %-decoded (**assumption**, as
    the sandbox does; the vendor does not document it)."""
    return unquote(PurePosixPath(urlsplit(url).path).name)


class ApiClient:
    """The Twelve Labs API over HTTP; the API version is read from the base URL.

    A base URL without a version gets ``/v1.3``; one naming a version other than v1.2 or v1.3
    raises ConfigError, and an empty key AuthError (``no_api_key``), before anything is sent.
    ``retry`` defaults to the patient upload policy; pass ``RetryPolicy.interactive()`` for a
    one-off read someone waits on. ``sleep(seconds, cancel)`` is how the client waits between
    retries (tests pass a recording one). Methods that upload take ``progress`` (bytes of the
    file sent) and ``cancel`` (a ``threading.Event`` checked between chunks and during waits).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = interruptible_sleep,
        session: requests.Session | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if not api_key:
            raise AuthError("no_api_key", "no API key is set")
        self.base_url, self.version = versioned_base_url(base_url)
        self.chunk_size = chunk_size
        self._http = Requester(
            self.base_url,
            api_key,
            timeout=timeout or Timeouts(),
            retry=retry or RetryPolicy(),
            sleep=sleep,
            session=session or make_session(),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ApiClient:
        """``kwargs`` as for the constructor, e.g. ``retry=RetryPolicy.interactive()``."""
        return cls(settings.base_url, settings.api_key or "", **kwargs)

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r}, version={self.version!r})"

    def close(self) -> None:
        self._http.close()

    def set_retry_policy(self, policy: RetryPolicy) -> None:
        self._http.retry = policy

    def set_retry_listener(self, listener: RetryListener | None) -> None:
        """``listener(error, seconds)`` is called before each wait for a retry."""
        self._http.on_retry = listener

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- indexes ---------------------------------------------------------------------------

    def list_indexes(
        self,
        *,
        page: int = 1,
        page_limit: int = 10,
        name: str | None = None,
        family: str | None = None,
        options: Sequence[str] = (),
        sort_by: str | None = None,
        sort_option: str | None = None,
        created_at: str | None = None,
    ) -> Page[Index]:
        """One page of indexes. ``family`` is ``marengo``/``pegasus`` (v1.3 ``model_family``,
        v1.2 ``engine_family``); ``options`` filters on model (engine) options."""
        prefix = self._model_word()
        params = _params(
            page=page,
            page_limit=page_limit,
            index_name=name,
            sort_by=sort_by,
            sort_option=sort_option,
            created_at=created_at,
            **{f"{prefix}_family": family, f"{prefix}_options": ",".join(options) or None},
        )
        return self._http.call("GET", "/indexes", params=params, parse=page_parser(parse_index))

    def iter_indexes(self, **filters: Any) -> Iterator[Index]:
        return iter_pages(lambda page: self.list_indexes(page=page, **filters))

    def get_index(self, index_id: str) -> Index:
        return self._http.call("GET", f"/indexes/{index_id}", parse=object_parser(parse_index))

    def create_index(
        self, name: str, models: Sequence[IndexModel], *, addons: Sequence[str] = ()
    ) -> Index:
        """Create an index (v1.3 ``models``, v1.2 ``engines``) and return it as stored."""
        prefix = self._model_word()
        body: Json = {
            "index_name": name,
            f"{prefix}s": [
                {f"{prefix}_name": m.name, f"{prefix}_options": list(m.options)} for m in models
            ],
        }
        if addons:
            body["addons"] = list(addons)

        def recover(started: float) -> str | None:
            # Index names are unique, so a lost answer is found by name.
            for index in self.iter_indexes(name=name):
                if index.name == name:
                    return index.id
            return None

        index_id = self._http.call(
            "POST",
            "/indexes",
            json_body=body,
            parse=lambda r: need_str(json_object(r), "_id"),
            recover=recover,
            idempotent=False,
        )
        return self.get_index(index_id)

    # ---- tasks ------------------------------------------------------------------------------

    def create_task_from_file(
        self,
        index_id: str,
        path: Path,
        *,
        filename: str | None = None,
        enable_video_stream: bool = True,
        user_metadata: Mapping[str, Any] | None = None,
        language: str | None = None,
        transcription_file: Path | None = None,
        transcription_url: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        fingerprint: str | None = None,
        recover: Recover[CreatedTask] | None = None,
    ) -> CreatedTask:
        """``POST /tasks`` with the video streamed from disk (docs/api-notes.md, D2).

        ``language`` and ``transcription_*`` are v1.2 only; ``user_metadata`` is v1.3 only.
        ``duration_hint`` (seconds, from the local probe) and ``fingerprint`` (the file's
        content hash, ``validation.fingerprint.compute_fingerprint``) make the duplicate check
        tell same-named files apart. On v1.3 the fingerprint is sent in ``user_metadata``
        under ``uploader_fingerprint``, beside the caller's keys. ``recover`` replaces the
        look-up for a task a lost attempt created (the engine's keeps its state in the job
        store, docs/engine.md "Exactly once").
        """
        name = filename or path.name
        if fingerprint is not None and self.version != "v1.2":
            user_metadata = {**(user_metadata or {}), FINGERPRINT_KEY: fingerprint}
        fields = self._task_fields(
            index_id, enable_video_stream, user_metadata, language, transcription_url
        )
        files = [FilePart("video_file", self._file_range(path), name, self._mime(name))]
        if transcription_file is not None:
            self._require_version("v1.2", "transcription_file")
            fields["provide_transcription"] = "true"
            files.append(
                FilePart(
                    "transcription_file",
                    self._file_range(transcription_file),
                    transcription_file.name,
                    self._mime(transcription_file.name, "text/plain"),
                )
            )
        body = multipart_body(
            fields, files, progress=progress, cancel=cancel, chunk_size=self.chunk_size
        )
        return self._create("/tasks", body, _created_task, cancel, recover)

    def create_task_from_url(
        self,
        index_id: str,
        video_url: str,
        *,
        enable_video_stream: bool = True,
        user_metadata: Mapping[str, Any] | None = None,
        language: str | None = None,
        transcription_url: str | None = None,
        cancel: threading.Event | None = None,
        recover: Recover[CreatedTask] | None = None,
    ) -> CreatedTask:
        """``POST /tasks`` with ``video_url``: the service downloads it (docs/api-notes.md, D4).

        The duplicate check assumes the task's filename is the URL's last path segment.
        """
        fields = self._task_fields(
            index_id, enable_video_stream, user_metadata, language, transcription_url
        )
        fields["video_url"] = video_url
        body = multipart_body(fields, cancel=cancel)
        return self._create("/tasks", body, _created_task, cancel, recover)

    def get_task(self, task_id: str) -> Task:
        return self._http.call("GET", f"/tasks/{task_id}", parse=object_parser(parse_task))

    def list_tasks(
        self,
        index_id: str | None = None,
        *,
        status: Sequence[TaskStatus | str] = (),
        filename: str | None = None,
        page: int = 1,
        page_limit: int = 10,
        sort_by: str | None = None,
        sort_option: str | None = None,
        created_at: str | None = None,
    ) -> Page[Task]:
        """One page of tasks; ``status`` values are sent as repeated ``status=`` parameters."""
        params = _params(
            index_id=index_id,
            status=[str(s) for s in status],
            filename=filename,
            page=page,
            page_limit=page_limit,
            sort_by=sort_by,
            sort_option=sort_option,
            created_at=created_at,
        )
        return self._http.call("GET", "/tasks", params=params, parse=page_parser(parse_task))

    def iter_tasks(self, index_id: str | None = None, **filters: Any) -> Iterator[Task]:
        return iter_pages(lambda page: self.list_tasks(index_id, page=page, **filters))

    def delete_task(self, task_id: str) -> None:
        """Only allowed once the task is ``failed``, or ``ready`` with its video deleted first
        (``delete_video``); otherwise ``task_cannot_be_deleted``."""
        self._http.call("DELETE", f"/tasks/{task_id}", parse=lambda r: None)

    def get_video(self, index_id: str, video_id: str) -> Video:
        """An indexed video with its ``user_metadata``; NotFoundError until it is ready."""
        return self._http.call(
            "GET", f"/indexes/{index_id}/videos/{video_id}", parse=object_parser(parse_video)
        )

    def delete_video(self, index_id: str, video_id: str) -> None:
        """Removes an indexed video from its index (the step before deleting a ready task)."""
        self._http.call("DELETE", f"/indexes/{index_id}/videos/{video_id}", parse=lambda r: None)

    def task_status_counts(self, index_id: str) -> TaskStatusCounts:
        """v1.2 ``GET /tasks/status``: task counts per state for one index."""
        self._require_version("v1.2", "GET /tasks/status")

        def parse(response: requests.Response) -> TaskStatusCounts:
            data = json_object(response)
            return TaskStatusCounts(
                index_id=str(data.get("index_id") or index_id),
                ready=int(data.get("ready") or 0),
                validating=int(data.get("validating") or 0),
                pending=int(data.get("pending") or 0),
                failed=int(data.get("failed") or 0),
                total=int(data.get("total_result") or 0),
            )

        return self._http.call("GET", "/tasks/status", params={"index_id": index_id}, parse=parse)

    def create_transfer(
        self, manifest: Sequence[Mapping[str, Any]], *, cancel: threading.Event | None = None
    ) -> None:
        """v1.2 ``POST /tasks/transfers``: the JSON manifest as the multipart part ``file``.

        Answer: 200 with a message (the transfer guide) or 204 with no body (the v1.2
        reference); the body is not read, so both are accepted. Re-sending after a lost answer
        is safe: the service skips a file already in the index (it compares hashes;
        docs/api-notes.md §4).
        """
        self._require_version("v1.2", "POST /tasks/transfers")
        manifest_json = json.dumps(list(manifest)).encode()
        part = FilePart("file", manifest_json, "manifest.json", "application/json")
        body = multipart_body({}, [part], cancel=cancel)
        self._http.call("POST", "/tasks/transfers", body=body, parse=lambda r: None)

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
        name = filename or _url_filename(url)
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
            "PUT", url, body=body, extra_headers=headers, send_key=False, parse=parse
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

    # ---- request building helpers -----------------------------------------------------------

    def _task_fields(
        self,
        index_id: str,
        enable_video_stream: bool,
        user_metadata: Mapping[str, Any] | None,
        language: str | None,
        transcription_url: str | None,
    ) -> dict[str, str]:
        fields = {"index_id": index_id}
        if self.version == "v1.2":
            if user_metadata is not None:
                raise ValueError("user_metadata needs API v1.3")
            fields["disable_video_stream"] = _flag(not enable_video_stream)
            if language:
                fields["language"] = language
            if transcription_url:
                fields["transcription_url"] = transcription_url
                fields["provide_transcription"] = "true"
            return fields
        if language or transcription_url:
            raise ValueError("language and transcriptions are API v1.2 fields")
        fields["enable_video_stream"] = _flag(enable_video_stream)
        if user_metadata is not None:
            fields["user_metadata"] = json.dumps(dict(user_metadata))
        return fields

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

    def _create(
        self,
        path: str,
        body: StreamingBody,
        parse: Callable[[Json], T],
        cancel: threading.Event | None,
        recover: Recover[T] | None,
    ) -> T:
        """A POST that creates something: never sent again after an ambiguous failure unless
        ``recover`` (the caller's look-up) found nothing (docs/api-client.md, "Duplicates")."""
        return self._http.call(
            "POST",
            path,
            body=body,
            cancel=cancel,
            parse=lambda r: parse(json_object(r)),
            recover=recover,
            idempotent=False,
        )

    def _file_range(self, path: Path) -> FileRange:
        return FileRange.whole(path)

    @staticmethod
    def _mime(name: str, default: str = "application/octet-stream") -> str:
        return mimetypes.guess_type(name)[0] or default

    def _model_word(self) -> str:
        """v1.2 says ``engine`` where v1.3 says ``model`` (engines[], engine_family…)."""
        return "engine" if self.version == "v1.2" else "model"

    def _require_version(self, version: str, feature: str) -> None:
        if self.version != version:
            raise InvalidRequestError(
                "api_upgrade_required" if version > self.version else "parameter_unknown",
                f"{feature} needs API {version}; the server address uses {self.version}",
            )
