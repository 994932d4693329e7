"""Helpers shared by the client's integration tests: a fast-retrying client and waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tests.conftest import TEST_API_KEY
from uploader_app.api.client import ApiClient
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.types import Asset
from uploader_app.models import IndexModel, Task
from uploader_app.sandbox.server import SandboxServer

T = TypeVar("T")
MARENGO = IndexModel("marengo3.0", ("visual", "audio"))


def make_client(sandbox: SandboxServer, version: str = "v1.3") -> ApiClient:
    return ApiClient(
        sandbox.base_url(version),
        TEST_API_KEY,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
    )


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 20.0) -> T:
    """Poll ``fetch`` until ``done`` (the sandbox runs its clock 1000x faster)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def wait_task(client: ApiClient, task_id: str) -> Task:
    return wait_for(lambda: client.get_task(task_id), lambda t: t.status.is_terminal)


def wait_asset(client: ApiClient, asset_id: str) -> Asset:
    return wait_for(lambda: client.get_asset(asset_id), lambda a: a.status != "processing")


class Sleeps(list[float]):
    """A ``sleep`` that records the waits and does not wait."""

    def __call__(self, seconds: float, cancel: threading.Event | None) -> None:
        self.append(seconds)
