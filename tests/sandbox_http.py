"""Plain-``requests`` access to a running sandbox for the sandbox's own tests.

Deliberately not ``uploader_app.api``: the sandbox is tested on the wire, so a bug shared by the
app's client and the emulator cannot hide.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.conftest import TEST_API_KEY
from uploader_app.sandbox.server import SandboxServer

TIMEOUT = 10.0


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
