"""The sandbox's v1.2 ``POST /tasks/transfers`` reading objects from a real S3 emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import StartSandbox
from tests.s3_emulator import S3Emulator
from tests.sandbox_http import Client, terminal
from uploader_app.sandbox.records import TaskRecord

Video = Callable[..., Path]
SRT = b"1\n00:00:00,500 --> 00:00:02,000\nHello there.\n"


def test_transfer_rows_are_fetched_from_s3_judged_and_never_duplicated(
    s3: S3Emulator, video: Video, start_sandbox: StartSandbox
) -> None:
    bucket = s3.bucket("media-west")
    s3.put(bucket, "ok/01.mp4", video(duration=5))
    s3.put(bucket, "ok/01.srt", SRT)
    s3.put(bucket, "short.mp4", video(duration=2))  # under Marengo's 4 s
    s3.put(bucket, "bad-sub.mp4", video(duration=5))
    s3.put(bucket, "bad-sub.vtt", b"not a subtitle")
    server = start_sandbox(s3_endpoint=s3.url)
    v12 = Client(server, "v1.2")
    index_id = v12.index_id()

    def row(key: str, sub: str | None = None) -> dict[str, str]:
        made = {"index_id": index_id, "language": "en", "object": f"s3://{bucket}/{key}"}
        if sub:
            made["transcription"] = f"s3://{bucket}/{sub}"
        return made

    rows = [
        row("ok/01.mp4", "ok/01.srt"),
        row("short.mp4"),
        row("missing.mp4"),
        row("bad-sub.mp4", "bad-sub.vtt"),
    ]
    manifest = json.dumps(rows).encode()
    answer = v12.post("/tasks/transfers", files={"file": ("list.json", manifest)})
    assert answer.status_code == 200
    assert answer.json()["type"] == "index_task_create"
    tasks = v12.get("/tasks", params={"index_id": index_id}).json()["data"]
    assert len(tasks) == 4
    done = {t["metadata"]["filename"]: v12.wait(f"/tasks/{t['_id']}", terminal) for t in tasks}
    assert {name: t["status"] for name, t in done.items()} == {
        "01.mp4": "ready",
        "short.mp4": "failed",
        "missing.mp4": "failed",
        "bad-sub.mp4": "failed",
    }
    assert done["01.mp4"]["metadata"]["duration"] > 4  # probed from the bytes S3 served
    records = {t.object_uri: t for t in server.sandbox.store.all(TaskRecord)}
    assert records[f"s3://{bucket}/short.mp4"].error_code == "video_duration_too_short"
    assert records[f"s3://{bucket}/missing.mp4"].error_code == "video_file_broken"
    assert records[f"s3://{bucket}/bad-sub.mp4"].error_code == "transcription_invalid"
    assert records[f"s3://{bucket}/ok/01.mp4"].transcription == f"s3://{bucket}/ok/01.srt"

    again = v12.post("/tasks/transfers", files={"file": ("list.json", manifest)})
    assert again.status_code == 200
    assert len(v12.get("/tasks", params={"index_id": index_id}).json()["data"]) == 4
