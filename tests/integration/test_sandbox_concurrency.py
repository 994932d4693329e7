"""Requests that race each other: each check and the write it guards happen as one step."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_http import Client, terminal, together
from uploader_app.sandbox import indexes, records
from uploader_app.sandbox.records import TaskRecord
from uploader_app.sandbox.server import SandboxServer
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.store import Store

Video = Callable[..., Path]


def test_concurrent_creates_of_one_index_name_make_one_index(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def new_id() -> str:
        time.sleep(0.05)  # widen the gap between the name check and the insert
        return records.new_id()

    monkeypatch.setattr(indexes, "new_id", new_id)
    api = Client(sandbox)
    body = {
        "index_name": "same",
        "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
    }
    answers = together(4, lambda: api.post("/indexes", json=body))
    assert sorted(a.status_code for a in answers) == [201, 400, 400, 400]
    listed = api.get("/indexes", params={"index_name": "same"}).json()["data"]
    assert len(listed) == 1


def test_deleting_a_video_while_its_index_goes_does_not_bring_the_task_back(
    sandbox: SandboxServer, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Client(sandbox)
    models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
    index_id = api.post("/indexes", json={"index_name": "gone", "models": models}).json()["_id"]
    task = api.upload(index_id, video("clip.mp4")).json()
    api.wait(f"/tasks/{task['_id']}", terminal)

    original = Store.put
    deleting = threading.Event()

    def slow_put(store: Store, record: Any) -> None:
        if isinstance(record, TaskRecord) and threading.current_thread().name != "index-delete":
            deleting.set()
            time.sleep(0.2)  # the index is deleted meanwhile, unless the store lock is held
        original(store, record)

    monkeypatch.setattr(Store, "put", slow_put)

    def delete_index() -> None:
        deleting.wait(5)
        api.delete(f"/indexes/{index_id}")

    remover = threading.Thread(target=delete_index, name="index-delete")
    remover.start()
    api.delete(f"/indexes/{index_id}/videos/{task['video_id']}")
    remover.join(10)
    assert sandbox.sandbox.store.get(TaskRecord, task["_id"]) is None


def test_background_threads_are_all_tracked_when_started_at_once(tmp_path: Path) -> None:
    """close() joins only the threads it knows of; none may be lost to a racing start."""
    sandbox = Sandbox(tmp_path / "bg", "key")
    release = threading.Event()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose the race
    try:
        starters = [
            threading.Thread(target=sandbox.background, args=(release.wait, f"bg-{n}"))
            for n in range(100)
        ]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
    finally:
        sys.setswitchinterval(interval)
    tracked = sandbox.background_threads()
    release.set()
    sandbox.close()
    assert len(tracked) == 100
    assert not any(thread.is_alive() for thread in tracked)
