"""v1.2 ``POST /tasks/transfers``: a JSON manifest of S3 objects, one task per row.

Where the objects come from (docs/sandbox.md, "Transfers"):
- ``s3_endpoint``: an S3 API (an emulator in the tests). Each task is answered at once and
  sits in ``validating`` while ``fetch.fetch_object`` downloads the object (and its
  transcription) in the background, as the vendor does; then it is judged like any upload.
- ``s3_dir``: ``s3://bucket/key`` is read from ``s3_dir/bucket/key`` and judged at once.
- neither: each object is taken as a valid synthetic video (60 s, 1280x720).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from werkzeug.wrappers import Response

from uploader_app.models import Target, UploadKind
from uploader_app.sandbox.errors import parameter_invalid, parameter_not_provided
from uploader_app.sandbox.fetch import fetch_object
from uploader_app.sandbox.formdata import parse_form
from uploader_app.sandbox.judge import Judgement, judge_file
from uploader_app.sandbox.records import IndexRecord, MediaInfo, TaskRecord, new_id
from uploader_app.sandbox.routing import ONLY_V12, Call, Route, json_response
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.spec import loads
from uploader_app.validation.subtitles import SUBTITLE_SUFFIXES

logger = logging.getLogger(__name__)

MAX_MANIFEST_SIZE = 10 * 1024 * 1024
# The answer the vendor's transfer guide prints, typo included (docs/sandbox.md, "Transfers").
ANSWER = {"message": "Succesfully requested indexing task", "type": "index_task_create"}


@dataclass(frozen=True)
class Row:
    index_id: str
    language: str
    bucket: str
    key: str
    transcription: str | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def create(call: Call) -> Response:
    sandbox = call.sandbox
    with parse_form(call.request, sandbox.spool, MAX_MANIFEST_SIZE) as form:
        part = form.files.get("file")
        if part is None:
            raise parameter_not_provided("file")
        if part.oversize:
            raise parameter_invalid("file", detail="The manifest is larger than 10 MB.")
        try:
            # Standard JSON only, as for JSON bodies: NaN and Infinity are refused.
            manifest = loads(part.path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            raise parameter_invalid("file", detail="The file is not valid JSON.") from None
    rows = _rows(manifest)
    for row in rows:
        sandbox.index(row.index_id)
    made = 0
    for row in rows:
        made += _create_task(sandbox, row)
    logger.info("transfer: %d rows, %d new tasks", len(rows), made)
    return json_response(ANSWER, 200)


def _rows(manifest: Any) -> list[Row]:
    """Check every row before creating anything, so a bad manifest changes nothing."""
    if not isinstance(manifest, list) or not manifest:
        raise parameter_invalid("file", detail="The file must hold a JSON array of objects.")
    rows = []
    for number, raw in enumerate(manifest, 1):
        where = f"Row {number}:"
        if not isinstance(raw, dict):
            raise parameter_invalid("file", detail=f"{where} each entry must be an object.")
        index_id, obj = raw.get("index_id"), raw.get("object")
        language, transcription = raw.get("language", "en"), raw.get("transcription")
        if not isinstance(index_id, str) or not index_id:
            raise parameter_invalid("file", detail=f"{where} index_id is missing.")
        if not isinstance(obj, str) or not obj.startswith("s3://"):
            raise parameter_invalid("file", detail=f"{where} object must be an s3:// URI.")
        bucket, _, key = obj[len("s3://") :].partition("/")
        if not bucket or not key or key.endswith("/"):
            raise parameter_invalid("file", detail=f"{where} object must name a file in a bucket.")
        if not isinstance(language, str):
            raise parameter_invalid("file", detail=f"{where} language must be a string.")
        if transcription is not None and not (
            isinstance(transcription, str)
            and transcription.startswith("s3://")
            and transcription.lower().endswith(SUBTITLE_SUFFIXES)
        ):
            raise parameter_invalid(
                "file", detail=f"{where} transcription must be an s3:// URI of an SRT or VTT file."
            )
        rows.append(Row(index_id, language, bucket, key, transcription))
    return rows


def _create_task(sandbox: Sandbox, row: Row) -> int:
    """One task for the row; 0 when the index already has this object (the vendor skips
    duplicates within an index, by content hash; the sandbox compares the object URI)."""
    if _has_object(sandbox, row):
        return 0
    index = sandbox.index(row.index_id)
    now = sandbox.clock.now()
    task = TaskRecord(
        id=new_id(),
        index_id=row.index_id,
        video_id=new_id(),
        created=now,
        media=MediaInfo(filename=PurePosixPath(row.key).name),
        phases={"validating": now},
        source="transfer",
        language=row.language,
        transcription=row.transcription,
        object_uri=row.uri,
    )
    if sandbox.s3_endpoint is not None:
        task.fetching = True
    else:
        verdict = _judge(sandbox, index, row, task.id)
        task.media = verdict.media
        task.phases = sandbox.clock.task_phases(
            now, verdict.media.duration, failed=not verdict.accepted
        )
        task.error_code, task.error_message = verdict.code, verdict.message or None
    with sandbox.store.atomic():  # a transfer running alongside may have added it meanwhile
        if _has_object(sandbox, row):
            return 0
        sandbox.put_in_index(task)
    if task.fetching:
        sandbox.background(partial(fetch_object, sandbox, task.id), f"fetch-{task.id}")
    return 1


def _has_object(sandbox: Sandbox, row: Row) -> bool:
    return sandbox.store.read(
        TaskRecord, lambda tasks: any(t.object_uri == row.uri for t in tasks), index_id=row.index_id
    )


def _judge(sandbox: Sandbox, index: IndexRecord, row: Row, task_id: str) -> Judgement:
    filename = PurePosixPath(row.key).name
    if sandbox.s3_dir is None:
        synthetic = MediaInfo(filename=filename, duration=60.0, width=1280, height=720, fps=25.0)
        return Judgement(None, "", synthetic)
    source = _object_path(sandbox.s3_dir, row)
    if source is None or not source.is_file():
        message = f"The object {row.uri} could not be read."
        return Judgement("video_file_broken", message, MediaInfo(filename=filename))
    target = Target.for_index(index.as_index(), UploadKind.TASK_FILE)
    return judge_file(source, filename, target)


def _object_path(s3_dir: Path, row: Row) -> Path | None:
    """``s3_dir/bucket/key``, or None when the key climbs out of its bucket (``../``).

    S3 takes such a key literally, as a name that exists in no bucket folder here, so the row
    is accepted and its task fails as an object that cannot be read. Symlinks are followed
    as set up: only the ``..`` parts of the key are looked at.
    """
    bucket_dir = Path(os.path.normpath(s3_dir / row.bucket))
    source = Path(os.path.normpath(bucket_dir / row.key))
    if row.bucket in (".", "..") or not source.is_relative_to(bucket_dir):
        return None
    return source


ROUTES = [Route("/tasks/transfers", "POST", "tasks.transfers", create, ONLY_V12)]
