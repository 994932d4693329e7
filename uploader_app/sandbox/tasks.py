"""``/tasks``: video indexing tasks from a file or a URL, their list, status and deletion."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from werkzeug.wrappers import Response

from uploader_app.models import Target, TaskStatus, UploadKind
from uploader_app.sandbox.errors import (
    ApiError,
    parameter_invalid,
    parameter_not_provided,
    resource_not_exist,
    task_cannot_be_deleted,
)
from uploader_app.sandbox.fetch import fetch_task, filename_of, is_web_url
from uploader_app.sandbox.formdata import FormData, UploadedFile, parse_form
from uploader_app.sandbox.judge import judge_file, size_error
from uploader_app.sandbox.lifecycle import READY, TERMINAL, status_at
from uploader_app.sandbox.paging import number_arg, page_of, since_filter, sort_items
from uploader_app.sandbox.records import IndexRecord, MediaInfo, TaskRecord, new_id
from uploader_app.sandbox.routing import (
    ONLY_V12,
    V12,
    Call,
    Route,
    bool_field,
    empty_response,
    json_response,
    metadata_field,
)
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.shapes import task_shape
from uploader_app.validation.limits import MAX_SIZE
from uploader_app.validation.subtitles import SUBTITLE_SUFFIXES

logger = logging.getLogger(__name__)

STATUSES = frozenset(s.value for s in TaskStatus if s is not TaskStatus.UNKNOWN)


def create(call: Call) -> Response:
    sandbox = call.sandbox
    with parse_form(call.request, sandbox.spool, MAX_SIZE[UploadKind.TASK_FILE]) as form:
        return _create(call, form)


def _create(call: Call, form: FormData) -> Response:
    sandbox = call.sandbox
    fields = form.fields
    index_id = fields.get("index_id")
    if not index_id:
        raise parameter_not_provided("index_id")
    index = sandbox.index(index_id)
    video = form.files.get("video_file")
    video_url = fields.get("video_url") or None
    if video is None and video_url is None:
        raise parameter_not_provided("video_file", "video_url")
    if video is not None and video_url is not None:
        raise parameter_invalid(
            "video_file", "video_url", detail="Send either video_file or video_url, not both."
        )
    if call.version == V12:
        stream = not bool_field(fields.get("disable_video_stream"), "disable_video_stream", False)
        metadata = None
    else:
        stream = bool_field(fields.get("enable_video_stream"), "enable_video_stream", True)
        metadata = metadata_field(fields.get("user_metadata"))
    if video_url is not None and not is_web_url(video_url):
        raise parameter_invalid("video_url", detail="Use a public http or https URL.")
    now = sandbox.clock.now()
    task = TaskRecord(
        id=new_id(),
        index_id=index.id,
        video_id=new_id(),
        created=now,
        media=MediaInfo(filename=filename_of(video_url) if video_url else "video"),
        phases={"validating": now},
        source="url" if video_url else "file",
        video_url=video_url,
        enable_video_stream=stream,
        user_metadata=metadata,
    )
    if call.version == V12:
        task.language = fields.get("language") or "en"
        task.transcription = _transcription(sandbox, form, task.id)
    if video is not None:
        _accept_file(sandbox, index, task, video)
        sandbox.put_in_index(task, media_folder="tasks")
    else:
        task.fetching = True
        sandbox.put_in_index(task, media_folder="tasks")  # a transcription file may be kept
        sandbox.background(lambda: fetch_task(sandbox, task.id), f"fetch-{task.id}")
    logger.info("created task %s in index %s (%s)", task.id, index.id, task.source)
    body = {"_id": task.id} if call.version == V12 else {"_id": task.id, "video_id": task.video_id}
    return json_response(body, 200)


def _accept_file(
    sandbox: Sandbox, index: IndexRecord, task: TaskRecord, video: UploadedFile
) -> None:
    """Judge the uploaded file now: a rejected video is a 400, and no task is made."""
    filename = Path(video.filename).name or "video"
    too_large = size_error(video.size, UploadKind.TASK_FILE)
    if too_large is not None:
        raise ApiError(400, "video_filesize_too_large", too_large)
    path = sandbox.keep(video.path, "tasks", task.id, filename)
    verdict = judge_file(path, filename, Target.for_index(index.as_index(), UploadKind.TASK_FILE))
    if not verdict.accepted:
        sandbox.forget("tasks", task.id)
        raise ApiError(400, verdict.code or "video_file_broken", verdict.message)
    task.media = verdict.media
    task.phases = sandbox.clock.task_phases(task.created, verdict.media.duration, failed=False)


def _transcription(sandbox: Sandbox, form: FormData, task_id: str) -> str | None:
    """v1.2 only: an SRT/VTT file or URL given with the video (docs/api-notes.md §1)."""
    part = form.files.get("transcription_file")
    url = form.fields.get("transcription_url") or None
    if part is not None and url is not None:
        raise parameter_invalid("transcription_file", "transcription_url")
    if part is not None:
        if not part.filename.lower().endswith(SUBTITLE_SUFFIXES):
            raise parameter_invalid("transcription_file", detail="Use an SRT or VTT file.")
        return str(sandbox.keep(part.path, "tasks", task_id, part.filename))
    if url is not None:
        if not (is_web_url(url) and url.lower().endswith(SUBTITLE_SUFFIXES)):
            raise parameter_invalid(
                "transcription_url", detail="Use the URL of an SRT or VTT file."
            )
        return url
    return None


def list_tasks(call: Call) -> Response:
    sandbox = call.sandbox
    args = call.request.args
    page = page_of(args)
    statuses = set(args.getlist("status"))
    if not statuses <= STATUSES:
        raise parameter_invalid("status", detail=f"Use one of: {', '.join(sorted(STATUSES))}.")
    created = since_filter(args, "created_at")
    updated = since_filter(args, "updated_at")
    numbers = {n: number_arg(args, n) for n in ("duration", "width", "height")}
    now = sandbox.clock.now()
    wanted = {n: args.get(n) for n in ("_id", "filename")}

    def rows(tasks: Iterable[TaskRecord]) -> list[tuple[str, float, float]]:
        """(id, created, updated) of the tasks the filters keep; the cache is only read."""
        kept = []
        for task in tasks:
            status, since = status_at(task.phases, now)
            media = task.media
            measured = {"duration": media.duration, "width": media.width, "height": media.height}
            if (
                wanted["_id"] in (None, task.id)
                and wanted["filename"] in (None, media.filename)
                and (not statuses or status in statuses)
                and all(v is None or measured[n] == v for n, v in numbers.items())
                and created(task.created)
                and updated(since)
            ):
                kept.append((task.id, task.created, since))
        return kept

    # A client polls one index's tasks every few seconds: read only that index's tasks, and
    # copy only the page it gets.
    found = sandbox.store.read(TaskRecord, rows, index_id=args.get("index_id"))
    found = sort_items(found, args, {"created_at": lambda r: r[1], "updated_at": lambda r: r[2]})
    data, info = page.cut(found)
    tasks = sandbox.store.many(TaskRecord, [r[0] for r in data])
    return json_response(
        {
            "data": [task_shape(sandbox, t, call.version, detailed=False) for t in tasks],
            "page_info": info,
        }
    )


def _task(sandbox: Sandbox, task_id: str) -> TaskRecord:
    task = sandbox.store.get(TaskRecord, task_id)
    if task is None:
        raise resource_not_exist(task_id, "tasks")
    return task


def retrieve(call: Call, task_id: str) -> Response:
    return json_response(task_shape(call.sandbox, _task(call.sandbox, task_id), call.version))


def delete(call: Call, task_id: str) -> Response:
    sandbox = call.sandbox
    task = _task(sandbox, task_id)
    status, _ = status_at(task.phases, sandbox.clock.now())
    # The spec: only ready or failed tasks, and a ready task only once its video is deleted.
    if status not in TERMINAL or (status == READY and not task.video_deleted):
        raise task_cannot_be_deleted(task_id, status)
    sandbox.store.delete(TaskRecord, task_id)
    sandbox.forget("tasks", task_id)
    return empty_response(200)


def status_counts(call: Call) -> Response:
    """v1.2 ``GET /tasks/status?index_id=``: how many tasks of the index are in each status."""
    sandbox = call.sandbox
    index_id = call.request.args.get("index_id")
    if not index_id:
        raise parameter_not_provided("index_id")
    sandbox.index(index_id)
    now = sandbox.clock.now()

    def count(tasks: Iterable[TaskRecord]) -> Counter[str]:
        return Counter(status_at(t.phases, now)[0] for t in tasks)

    by_status = sandbox.store.read(TaskRecord, count, index_id=index_id)
    counts = {s: by_status[s] for s in ("ready", "validating", "pending", "failed")}
    return json_response({"index_id": index_id, **counts, "total_result": by_status.total()})


ROUTES = [
    Route("/tasks", "POST", "tasks.create", create),
    Route("/tasks", "GET", "tasks.list", list_tasks),
    Route("/tasks/status", "GET", "tasks.status", status_counts, ONLY_V12),
    Route("/tasks/<task_id>", "GET", "tasks.retrieve", retrieve),
    Route("/tasks/<task_id>", "DELETE", "tasks.delete", delete),
]
