"""Background downloads of ``video_url`` tasks and ``method=url`` assets (http/https only).

The service fetches the URL after answering, so the task sits in ``validating`` meanwhile and
becomes ``failed`` when the URL cannot be fetched or the video is rejected. Downloads cut off
by a restart start again when the sandbox starts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import requests

from uploader_app.models import Target, UploadKind
from uploader_app.sandbox.judge import judge_asset, judge_file
from uploader_app.sandbox.lifecycle import ASSET_PROCESSING_SECONDS
from uploader_app.sandbox.records import AssetRecord, IndexRecord, MediaInfo, TaskRecord
from uploader_app.sandbox.service import Sandbox
from uploader_app.validation.limits import MAX_SIZE, MAX_URL_ASSET_SIZE

logger = logging.getLogger(__name__)

READ_SIZE = 1024 * 1024
TIMEOUT = (10.0, 60.0)  # connect, read (seconds)


@dataclass(frozen=True)
class Download:
    path: Path | None  # None when it failed
    error: str = ""
    too_large: bool = False


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def filename_of(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name or "video"


def download(sandbox: Sandbox, url: str, max_size: int) -> Download:
    target = sandbox.spool / f"{os.urandom(8).hex()}.download"
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT) as answer:
            if answer.status_code >= 400:
                return Download(None, f"The URL answered HTTP {answer.status_code}.")
            size = 0
            with target.open("wb") as out:
                for block in answer.iter_content(READ_SIZE):
                    size += len(block)
                    if size > max_size:
                        target.unlink(missing_ok=True)
                        return Download(None, "The file at the URL is too large.", True)
                    if sandbox.closing:
                        target.unlink(missing_ok=True)
                        return Download(None, "The sandbox stopped during the download.")
                    out.write(block)
    except requests.RequestException as exc:
        target.unlink(missing_ok=True)
        return Download(None, f"The URL could not be fetched ({type(exc).__name__}).")
    return Download(target)


def fetch_task(sandbox: Sandbox, task_id: str) -> None:
    task = sandbox.store.get(TaskRecord, task_id)
    if task is None or task.video_url is None:
        return
    got = download(sandbox, task.video_url, MAX_SIZE[UploadKind.URL])
    if sandbox.closing:
        return
    index = sandbox.store.get(IndexRecord, task.index_id)
    if index is None:
        if got.path is not None:
            got.path.unlink(missing_ok=True)
        return
    media = task.media
    if got.path is None:
        code = "video_filesize_too_large" if got.too_large else "video_file_broken"
        accepted, message = False, got.error
    else:
        path = sandbox.keep(got.path, "tasks", task.id, media.filename)
        target = Target.for_index(index.as_index(), UploadKind.URL)
        verdict = judge_file(path, media.filename, target)
        media, code, message = verdict.media, verdict.code or "", verdict.message
        accepted = verdict.accepted
    done = sandbox.clock.now()

    def change(record: TaskRecord) -> None:
        phases = sandbox.clock.task_phases(done, media.duration, failed=not accepted)
        phases["validating"] = record.created  # validating lasted through the download
        record.phases = phases
        record.media = media
        record.fetching = False
        if not accepted:
            record.error_code, record.error_message = code, message

    sandbox.store.update(TaskRecord, task_id, change)
    logger.info("task %s fetched: %s", task_id, "accepted" if accepted else code)


def fetch_asset(sandbox: Sandbox, asset_id: str) -> None:
    asset = sandbox.store.get(AssetRecord, asset_id)
    if asset is None or asset.url is None:
        return
    got = download(sandbox, asset.url, MAX_URL_ASSET_SIZE)
    if sandbox.closing:
        return
    media: MediaInfo | None = None
    error = got.error
    if got.path is not None:
        path = sandbox.keep(got.path, "assets", asset_id, asset.filename)
        verdict = judge_asset(path, asset.filename, MAX_URL_ASSET_SIZE)
        media, error = verdict.media, verdict.message
    ready_at = sandbox.clock.now() + sandbox.clock.scaled(ASSET_PROCESSING_SECONDS)

    def change(record: AssetRecord) -> None:
        record.media = media
        record.fetching = False
        record.ready_at = ready_at
        record.failed = bool(error)
        record.error = error or None

    sandbox.store.update(AssetRecord, asset_id, change)


def resume(sandbox: Sandbox) -> None:
    """Start again the downloads a previous run did not finish."""
    for task in sandbox.store.all(TaskRecord, lambda t: t.fetching):
        sandbox.background(partial(fetch_task, sandbox, task.id), f"fetch-{task.id}")
    for asset in sandbox.store.all(AssetRecord, lambda a: a.fetching):
        sandbox.background(partial(fetch_asset, sandbox, asset.id), f"fetch-{asset.id}")
