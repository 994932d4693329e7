"""Background downloads: ``video_url`` tasks and ``method=url`` assets (http/https), and the
S3 objects of transfer rows when the sandbox has an ``s3_endpoint``.

The service fetches after answering, so the task sits in ``validating`` meanwhile and becomes
``failed`` when the source cannot be fetched or the video is rejected. Downloads cut off by a
restart start again when the sandbox starts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from uploader_app.models import Target, UploadKind, url_filename
from uploader_app.sandbox.judge import judge_asset, judge_file
from uploader_app.sandbox.lifecycle import ASSET_PROCESSING_SECONDS
from uploader_app.sandbox.records import AssetRecord, IndexRecord, MediaInfo, TaskRecord
from uploader_app.sandbox.service import Sandbox
from uploader_app.validation.limits import MAX_SIZE, MAX_URL_ASSET_SIZE
from uploader_app.validation.subtitles import check_subtitle

logger = logging.getLogger(__name__)

READ_SIZE = 1024 * 1024
MAX_TRANSCRIPTION_SIZE = 5 * 1024 * 1024
TIMEOUT = (10.0, 60.0)  # connect, read (seconds)


@dataclass(frozen=True)
class Download:
    path: Path | None  # None when it failed
    error: str = ""
    too_large: bool = False
    code: str | None = None  # the task's error code, when not the download's own


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def filename_of(url: str) -> str:
    """The name a URL upload gets (models.url_filename), or "video" when its path has none."""
    return url_filename(url) or "video"


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
    _settle(sandbox, task, download(sandbox, task.video_url, MAX_SIZE[UploadKind.URL]))


def fetch_object(sandbox: Sandbox, task_id: str) -> None:
    """A transfer row's object (and transcription) from the S3 endpoint, then judged."""
    task = sandbox.store.get(TaskRecord, task_id)
    if task is None or task.object_uri is None or sandbox.s3_endpoint is None:
        return
    got = download_s3(sandbox, task.object_uri, MAX_SIZE[UploadKind.URL])
    if got.path is not None and task.transcription is not None:
        problem = _transcription_problem(sandbox, task.transcription)
        if problem is not None:
            got.path.unlink(missing_ok=True)
            got = Download(None, problem, code="transcription_invalid")
    _settle(sandbox, task, got)


def _transcription_problem(sandbox: Sandbox, uri: str) -> str | None:
    got = download_s3(sandbox, uri, MAX_TRANSCRIPTION_SIZE)
    if got.path is None:
        return f"The transcription {uri} could not be read."
    named = got.path.with_name(f"{got.path.stem}{PurePosixPath(uri).suffix.lower()}")
    got.path.replace(named)
    try:
        verdict = check_subtitle(named)
    finally:
        named.unlink(missing_ok=True)
    return None if verdict.ok else f"The transcription {uri} cannot be used: {verdict.problem}."


def download_s3(sandbox: Sandbox, uri: str, max_size: int) -> Download:
    """``s3://bucket/key`` from the sandbox's S3 endpoint into the spool."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    target = sandbox.spool / f"{os.urandom(8).hex()}.download"
    try:
        answer = _s3_client(sandbox.s3_endpoint).get_object(Bucket=bucket, Key=key)
        if int(answer.get("ContentLength", 0)) > max_size:
            answer["Body"].close()
            return Download(None, f"The object {uri} is too large.", True)
        with target.open("wb") as out:
            for block in answer["Body"].iter_chunks(READ_SIZE):
                if sandbox.closing:
                    target.unlink(missing_ok=True)
                    return Download(None, "The sandbox stopped during the download.")
                out.write(block)
    except (ClientError, BotoCoreError) as exc:
        logger.info("reading %s failed: %r", uri, exc)
        target.unlink(missing_ok=True)
        return Download(None, f"The object {uri} could not be read.")
    return Download(target)


def _s3_client(endpoint: str | None) -> Any:
    """The sandbox reads as the vendor's integration role would; here any AWS_* credentials
    the emulator accepts, or unsigned requests when there are none."""
    session = boto3.Session()
    config = Config(signature_version=UNSIGNED) if session.get_credentials() is None else None
    return session.client("s3", endpoint_url=endpoint, region_name="us-west-2", config=config)


def _settle(sandbox: Sandbox, task: TaskRecord, got: Download) -> None:
    """Judge what was downloaded and move the task on to its next statuses."""
    if sandbox.closing:
        return
    index = sandbox.store.get(IndexRecord, task.index_id)
    if index is None:
        if got.path is not None:
            got.path.unlink(missing_ok=True)
        return
    media = task.media
    if got.path is None:
        code = got.code or ("video_filesize_too_large" if got.too_large else "video_file_broken")
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

    sandbox.store.update(TaskRecord, task.id, change)
    logger.info("task %s fetched: %s", task.id, "accepted" if accepted else code)


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
        work = fetch_object if task.object_uri is not None else fetch_task
        sandbox.background(partial(work, sandbox, task.id), f"fetch-{task.id}")
    for asset in sandbox.store.all(AssetRecord, lambda a: a.fetching):
        sandbox.background(partial(fetch_asset, sandbox, asset.id), f"fetch-{asset.id}")
