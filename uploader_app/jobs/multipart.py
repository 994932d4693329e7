"""The v1.3 multipart upload of one job's file, resumable from the job store.

Each round asks the service which chunks it has, sends the others straight from the source
file, and reports them with their ETags in batches (docs/engine.md, "Resume"). What a crash
would lose is in the store: the session (id, chunk size, the file's size and mtime) from the
moment it exists, and every chunk storage accepted but the service was not told of yet, so a
restart reports those instead of sending them again. A file changed since the session opened
starts a new session, never a mix of two versions.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from uploader_app.api.body import FileRange, FileStamp, ProgressCallback
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError, CancelledError, NotFoundError, StorageUrlError
from uploader_app.api.types import MAX_PRESIGNED_URLS, CompletedChunk, PresignedUrl, UploadSession
from uploader_app.models import Job, UploadProgress
from uploader_app.store import Store

logger = logging.getLogger(__name__)

REPORT_EVERY = 10  # chunks per report: few requests; unreported ones are in the store anyway
MAX_ROUNDS = 3  # send what is missing, then at most twice more for chunks that failed
URL_MARGIN = 60.0  # seconds: a URL this close to expiring is replaced before use


@dataclasses.dataclass
class MultipartUpload:
    """Sends one job's file; ``on_notice`` tells the user about a restart."""

    client: ApiClient
    store: Store
    job: Job
    path: Path
    stamp: FileStamp
    progress: ProgressCallback
    cancel: threading.Event
    on_notice: Callable[[str], None]
    user_metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    _urls: dict[int, PresignedUrl] = dataclasses.field(default_factory=dict)

    def run(self) -> str:
        """Upload until the service has every chunk; the asset id."""
        session = self._stored_session()
        fresh = session is None
        if session is None:
            session = self._open()
        else:
            self._report_unreported(session)
        for _ in range(MAX_ROUNDS):
            state, completed = ("active", set[int]()) if fresh else self._server_state(session)
            fresh = False
            if state == "completed":
                return session.asset_id
            if state != "active":
                logger.info("upload %s is %s; opening a new session", session.upload_id, state)
                self.on_notice("The upload session ran out; starting this file over.")
                session, completed = self._open(), set()
            if self._send_missing(session, completed):
                return session.asset_id
        raise ApiError("upload_session_ended", f"upload {session.upload_id} did not complete")

    # ---- the session in the store ------------------------------------------------------------

    def _stored_session(self) -> UploadSession | None:
        data = self.store.internals(self.job.id).upload_session
        if data is None:
            return None
        session = UploadSession(**data)
        if session.total_size == self.stamp.size and session.source_mtime_ns == self.stamp.mtime_ns:
            logger.info("job %d: resuming upload %s", self.job.id, session.upload_id)
            return session
        logger.info("job %d: file changed since upload %s began", self.job.id, session.upload_id)
        self.on_notice("The file changed since its upload began; sending it again from the start.")
        return None

    def _open(self) -> UploadSession:
        session, first_urls = self.client.create_multipart_upload(
            self.job.name, self.stamp.size, user_metadata=self.user_metadata or None
        )
        session = dataclasses.replace(session, source_mtime_ns=self.stamp.mtime_ns)
        # Stored before any chunk is sent: a crash from here on resumes this session.
        self.store.update(
            self.job.id,
            upload_session=dataclasses.asdict(session),
            unreported=[],
            upload_id=session.upload_id,
            asset_id=session.asset_id,
            bytes_sent=0,
        )
        self._urls = {u.chunk_index: u for u in first_urls}
        logger.info(
            "job %d: upload %s, %d chunks of %d bytes",
            self.job.id,
            session.upload_id,
            session.total_chunks,
            session.chunk_size,
        )
        return session

    def _report_unreported(self, session: UploadSession) -> None:
        """Tell the service about chunks storage took before the last stop."""
        unreported = self.store.internals(self.job.id).unreported
        pending = [CompletedChunk(i, e, s) for i, e, s in unreported]
        if not pending:
            return
        try:
            self.client.report_chunks(session.upload_id, pending)
        except NotFoundError:
            return  # the session is gone; the status read says so next
        self.store.update(self.job.id, unreported=[])

    def _server_state(self, session: UploadSession) -> tuple[str, set[int]]:
        try:
            status = self.client.get_multipart_status(session.upload_id)
        except NotFoundError:
            return "missing", set()
        completed = {c.index for c in status.chunks if c.status == "completed"}
        if status.page_info.total_page > 1:
            completed = {
                c.index
                for c in self.client.iter_multipart_chunks(session.upload_id)
                if c.status == "completed"
            }
        return status.status, completed

    def _completed(self, session: UploadSession) -> bool:
        try:
            status = self.client.get_multipart_status(session.upload_id, page_limit=1)
        except ApiError:
            return False  # the report's own error says more
        return status.status == "completed"

    # ---- sending ----------------------------------------------------------------------------

    def _send_missing(self, session: UploadSession, completed: set[int]) -> bool:
        """Send and report every chunk not in ``completed``; True once the service has all."""

        def chunk_range(index: int) -> FileRange:
            offset = (index - 1) * session.chunk_size
            length = min(session.chunk_size, session.total_size - offset)
            return FileRange(self.path, offset, length, self.stamp)

        done = sum(chunk_range(i).length for i in completed)
        pending: list[CompletedChunk] = []
        finished = False

        def report() -> None:
            nonlocal finished
            if not pending:
                return
            try:
                answer = self.client.report_chunks(session.upload_id, pending)
            except CancelledError:
                raise  # the chunks stay in the store as unreported; the next run reports them
            except ApiError:
                # An earlier try whose answer was lost may have completed the session: the
                # retry is then refused or answered with duplicates. Done, if the service
                # says so (there may be no next round to notice it).
                if not self._completed(session):
                    raise
                logger.info("upload %s: report answer lost, session completed", session.upload_id)
                finished = True
            else:
                finished = finished or bool(answer.url)
            pending.clear()
            self.store.update(self.job.id, unreported=[])

        self.progress(UploadProgress(done, session.total_size))
        for index in range(1, session.total_chunks + 1):
            if index in completed:
                continue
            source = chunk_range(index)

            def chunk_progress(p: UploadProgress, base: int = done) -> None:
                self.progress(UploadProgress(base + p.sent, session.total_size))

            etag = self._put(session, index, source, chunk_progress)
            done += source.length
            pending.append(CompletedChunk(index, etag, source.length))
            # One transaction per chunk: a crash after this line re-sends nothing of it.
            self.store.update(
                self.job.id,
                unreported=[[c.chunk_index, c.proof, c.chunk_size] for c in pending],
                bytes_sent=done,
            )
            if len(pending) >= REPORT_EVERY:
                report()
        report()
        return finished or self._server_state(session)[0] == "completed"

    def _put(
        self,
        session: UploadSession,
        index: int,
        source: FileRange,
        progress: ProgressCallback,
    ) -> str:
        """PUT one chunk; a URL storage refuses (expired, used, bad signature) is replaced
        by a fresh one and the chunk sent again, once."""
        url = self._url_for(session, index, force=False)
        try:
            return self.client.put_chunk(
                url.url,
                source,
                headers=session.upload_headers,
                progress=progress,
                cancel=self.cancel,
            )
        except StorageUrlError as exc:
            logger.info("job %d chunk %d: URL refused (%s)", self.job.id, index, exc.code)
        url = self._url_for(session, index, force=True)
        return self.client.put_chunk(
            url.url, source, headers=session.upload_headers, progress=progress, cancel=self.cancel
        )

    def _url_for(self, session: UploadSession, index: int, *, force: bool) -> PresignedUrl:
        known = self._urls.pop(index, None)
        if known is not None and not force and _usable(known):
            return known
        count = min(MAX_PRESIGNED_URLS, session.total_chunks - index + 1)
        fresh = self.client.request_presigned_urls(session.upload_id, index, count)
        self._urls.update((u.chunk_index, u) for u in fresh)
        return self._urls.pop(index)


def _usable(url: PresignedUrl) -> bool:
    if not url.expires_at:
        return True
    try:
        expires = datetime.fromisoformat(url.expires_at).timestamp()
    except ValueError:
        return True
    return expires - time.time() > URL_MARGIN
