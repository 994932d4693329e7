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
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uploader_app.api.assets import AssetEndpoints
from uploader_app.api.base import _flag, _params
from uploader_app.api.body import (
    FilePart,
    ProgressCallback,
    multipart_body,
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
    CreatedTask,
    Json,
    Page,
    TaskStatusCounts,
    Video,
    need_str,
    parse_index,
    parse_task,
    parse_video,
)
from uploader_app.models import Index, IndexModel, Task, TaskStatus, upload_filename

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)


def _created_task(data: Json) -> CreatedTask:
    return CreatedTask(need_str(data, "_id"), data.get("video_id") or None)


class ApiClient(AssetEndpoints):
    """The Twelve Labs API over HTTP: every endpoint group in one object.

    How it is built (the API version from the base URL, the checks made before anything is
    sent, retry, sleep, ``progress`` and ``cancel``) is :class:`uploader_app.api.base.ClientBase`'s.
    """

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
        ``fingerprint`` (the file's content hash, ``validation.fingerprint``) is sent on v1.3
        in ``user_metadata`` under ``uploader_fingerprint``, beside the caller's keys, so a
        look-up can tell same-named files apart. ``recover`` is the look-up for a task a lost
        attempt created; without it an ambiguous failure is raised, never sent again (the
        engine's keeps its state in the job store, docs/engine.md "Exactly once").
        """
        name = upload_filename(filename or path.name)
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
