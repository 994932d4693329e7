"""The v1.3 multipart upload flow for large files, resumable (api notes §7, decision 3).

Each round asks the service which chunks it already has, sends the others straight from the
source file (no chunk files, unlike the vendor SDK), and reports them with their ETags in
batches. The same loop serves a fresh upload, a resume after a crash or cancel, and chunks the
service marked ``failed``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from uploader_app.api.body import FileRange, FileStamp, ProgressCallback
from uploader_app.api.errors import (
    ApiError,
    CancelledError,
    NotFoundError,
    StorageUrlError,
)
from uploader_app.api.types import (
    MAX_PRESIGNED_URLS,
    CompletedChunk,
    MultipartResult,
    PresignedUrl,
    UploadSession,
)
from uploader_app.models import UploadProgress

if TYPE_CHECKING:
    from uploader_app.api.client import ApiClient

logger = logging.getLogger(__name__)

REPORT_EVERY = 10  # chunks per report: few requests, little to redo after a crash
MAX_ROUNDS = 3  # upload what is missing, then at most twice more for chunks that failed
URL_MARGIN = 60.0  # seconds: a URL this close to expiring is replaced before use


def upload_file(
    client: ApiClient,
    path: Path,
    *,
    filename: str,
    asset_type: str,
    resume: UploadSession | None,
    on_session: Callable[[UploadSession], None] | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> MultipartResult:
    # Every chunk is checked against this stamp when sent: a file that grows or is rewritten
    # during the upload is never sent as a mix of two versions.
    stamp = FileStamp.of(path)
    urls: dict[int, PresignedUrl] = {}
    session = resume if resume is not None and _same_file(resume, stamp) else None
    if resume is not None and session is None:
        logger.info("file changed since upload %s started; starting over", resume.upload_id)

    def open_session() -> UploadSession:
        return _open(
            client,
            filename=filename,
            stamp=stamp,
            asset_type=asset_type,
            urls=urls,
            on_session=on_session,
        )

    just_opened = session is None
    if session is None:
        session = open_session()
    for _ in range(MAX_ROUNDS):
        # A session opened a moment ago has no chunks yet: no need to ask.
        state, completed = ("active", set()) if just_opened else _server_state(client, session)
        just_opened = False
        if state == "completed":
            return MultipartResult(session.upload_id, session.asset_id, None)
        if state != "active":
            if session is not resume:
                raise ApiError("upload_session_ended", f"upload {session.upload_id} is {state}")
            logger.info("upload %s is %s; starting a new session", session.upload_id, state)
            session = open_session()
            completed = set()
        result = _send_missing(
            client,
            path=path,
            stamp=stamp,
            session=session,
            completed=completed,
            urls=urls,
            progress=progress,
            cancel=cancel,
        )
        if result is not None:
            return result
    raise ApiError("upload_session_ended", f"upload {session.upload_id} did not complete")


def _same_file(session: UploadSession, stamp: FileStamp) -> bool:
    return session.total_size == stamp.size and session.source_mtime_ns in (None, stamp.mtime_ns)


def _open(
    client: ApiClient,
    *,
    filename: str,
    stamp: FileStamp,
    asset_type: str,
    urls: dict[int, PresignedUrl],
    on_session: Callable[[UploadSession], None] | None,
) -> UploadSession:
    session, first_urls = client.create_multipart_upload(
        filename, stamp.size, asset_type=asset_type
    )
    session = dataclasses.replace(session, source_mtime_ns=stamp.mtime_ns)
    urls.clear()
    urls.update((u.chunk_index, u) for u in first_urls)
    logger.info(
        "upload %s: %d chunks of %d bytes",
        session.upload_id,
        session.total_chunks,
        session.chunk_size,
    )
    if on_session is not None:
        on_session(session)
    return session


def _server_state(client: ApiClient, session: UploadSession) -> tuple[str, set[int]]:
    """The session's status and the chunks the service has (``missing`` if unknown)."""
    upload_id = session.upload_id
    try:
        status = client.get_multipart_status(upload_id)
    except NotFoundError:
        return "missing", set()
    completed = {c.index for c in status.chunks if c.status == "completed"}
    if status.page_info.total_page > 1:
        completed = {
            c.index for c in client.iter_multipart_chunks(upload_id) if c.status == "completed"
        }
    return status.status, completed


def _completed(client: ApiClient, upload_id: str) -> bool:
    try:
        return client.get_multipart_status(upload_id, page_limit=1).status == "completed"
    except ApiError:
        return False  # the report's own error says more


def _send_missing(
    client: ApiClient,
    *,
    path: Path,
    stamp: FileStamp,
    session: UploadSession,
    completed: set[int],
    urls: dict[int, PresignedUrl],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> MultipartResult | None:
    """Send and report every chunk not in ``completed``; the result once all are in."""

    def chunk_range(index: int) -> FileRange:
        offset = (index - 1) * session.chunk_size
        length = min(session.chunk_size, session.total_size - offset)
        return FileRange(path, offset, length, stamp)

    done_bytes = sum(chunk_range(i).length for i in completed)
    pending: list[CompletedChunk] = []
    result: MultipartResult | None = None

    def report() -> None:
        nonlocal result
        if not pending:
            return
        try:
            answer = client.report_chunks(session.upload_id, pending)
        except ApiError:
            # The service may have taken an earlier try whose answer was lost: the final
            # report then completed the session, and the retry is refused (or answered with
            # duplicates). Done now, without the URL: in the last round there is no next
            # status read to notice it.
            if not _completed(client, session.upload_id):
                raise
            logger.info("upload %s: report answer lost, session completed", session.upload_id)
            result = MultipartResult(session.upload_id, session.asset_id, None)
        else:
            if answer.url:
                result = MultipartResult(session.upload_id, session.asset_id, answer.url)
        pending.clear()

    if progress is not None:
        progress(UploadProgress(done_bytes, session.total_size))
    try:
        for index in range(1, session.total_chunks + 1):
            if index in completed:
                continue
            source = chunk_range(index)
            base = done_bytes

            def chunk_progress(p: UploadProgress, base: int = base) -> None:
                if progress is not None:
                    progress(UploadProgress(base + p.sent, session.total_size))

            etag = _put(
                client,
                session=session,
                index=index,
                source=source,
                urls=urls,
                progress=chunk_progress,
                cancel=cancel,
            )
            done_bytes += source.length
            pending.append(CompletedChunk(index, etag, source.length))
            if len(pending) >= REPORT_EVERY:
                report()
    except CancelledError:
        # Report what did reach storage, so a resume does not send it again.
        report()
        raise
    report()
    return result


def _put(
    client: ApiClient,
    *,
    session: UploadSession,
    index: int,
    source: FileRange,
    urls: dict[int, PresignedUrl],
    progress: ProgressCallback,
    cancel: threading.Event | None,
) -> str:
    """PUT one chunk; a presigned URL works once and for an hour, so a refused one is
    replaced by a fresh one and the chunk sent again, once."""
    url = _url_for(client, session, index, urls, force=False)
    try:
        return client.put_chunk(
            url.url, source, headers=session.upload_headers, progress=progress, cancel=cancel
        )
    except (StorageUrlError, NotFoundError):
        logger.info(
            "upload %s chunk %d: URL refused, asking for a new one", session.upload_id, index
        )
    url = _url_for(client, session, index, urls, force=True)
    return client.put_chunk(
        url.url, source, headers=session.upload_headers, progress=progress, cancel=cancel
    )


def _url_for(
    client: ApiClient,
    session: UploadSession,
    index: int,
    urls: dict[int, PresignedUrl],
    *,
    force: bool,
) -> PresignedUrl:
    known = urls.pop(index, None)
    if known is not None and not force and _usable(known):
        return known
    count = min(MAX_PRESIGNED_URLS, session.total_chunks - index + 1)
    urls.update(
        (u.chunk_index, u) for u in client.request_presigned_urls(session.upload_id, index, count)
    )
    return urls.pop(index)


def _usable(url: PresignedUrl) -> bool:
    if not url.expires_at:
        return True
    try:
        expires = datetime.fromisoformat(url.expires_at).timestamp()
    except ValueError:
        return True
    return expires - time.time() > URL_MARGIN
