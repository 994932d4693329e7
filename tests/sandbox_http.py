"""Plain-``requests`` access to a running sandbox for the sandbox's own tests.

Deliberately not ``uploader_app.api``: the sandbox is tested on the wire, so a bug shared by the
app's client and the emulator cannot hide.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.conftest import TEST_API_KEY
from uploader_app.sandbox.server import SandboxServer

TIMEOUT = 10.0
CHUNK = 8 * 1024  # the chunk size of multipart tests: a small video spans several chunks


class Client:
    def __init__(self, server: SandboxServer, version: str = "v1.3", key: str = TEST_API_KEY):
        self.base = server.base_url(version)
        self.session = requests.Session()
        self.session.headers["x-api-key"] = key

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, timeout=TIMEOUT, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.put(self.base + path, timeout=TIMEOUT, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.base + path, timeout=TIMEOUT, **kwargs)

    def index_id(self, family: str = "marengo") -> str:
        """The demo index of this model family (every fresh sandbox has one per family)."""
        param = "engine_family" if self.base.endswith("v1.2") else "model_family"
        answer = self.get("/indexes", params={param: family})
        answer.raise_for_status()
        return str(answer.json()["data"][0]["_id"])

    def upload(self, index_id: str, video: Path, **fields: str) -> requests.Response:
        with video.open("rb") as fh:
            return self.post(
                "/tasks",
                data={"index_id": index_id, **fields},
                files={"video_file": (video.name, fh, "application/octet-stream")},
            )

    def wait(self, path: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """GET ``path`` until ``done(body)``; fails the test after a few seconds."""
        deadline = time.monotonic() + 10
        while True:
            body: dict[str, Any] = self.get(path).json()
            if done(body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never got there: {body}")
            time.sleep(0.02)


def terminal(body: dict[str, Any]) -> bool:
    return body.get("status") in ("ready", "failed")


def start_upload(api: Client, total_size: int, count: int = 10) -> dict[str, Any]:
    """Open a multipart upload session with URLs for the first ``count`` chunks."""
    created = api.post(
        "/assets/multipart-uploads",
        json={"filename": "clip.mp4", "type": "video", "total_size": total_size},
    )
    assert created.status_code == 201, created.text
    session: dict[str, Any] = created.json()
    if count > len(session["upload_urls"]):
        more = api.post(
            f"/assets/multipart-uploads/{session['upload_id']}/presigned-urls",
            json={"start": 1, "count": count},
        )
        session["upload_urls"] = more.json()["upload_urls"]
    return session


def put_chunks(
    data: bytes, urls: list[dict[str, Any]], chunk_size: int = CHUNK
) -> list[dict[str, Any]]:
    """PUT each chunk to its presigned URL (no API key) and build the report entries."""
    done = []
    for item in urls:
        index = item["chunk_index"]
        part = data[(index - 1) * chunk_size : index * chunk_size]
        answer = requests.put(item["url"], data=part, timeout=TIMEOUT)
        assert answer.status_code == 200
        assert answer.headers["ETag"] == f'"{hashlib.md5(part).hexdigest()}"'
        done.append(
            {
                "chunk_index": index,
                "proof": answer.headers["ETag"].strip('"'),
                "proof_type": "etag",
                "chunk_size": len(part),
            }
        )
    return done


def together(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads released at the same moment; their results (or errors)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(slot: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[slot] = work()
        except Exception as exc:  # the test looks at every outcome
            results[slot] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
