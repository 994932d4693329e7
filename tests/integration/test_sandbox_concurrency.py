"""Requests that race each other: each check and the write it guards happen as one step."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_http import Client, terminal, together
from uploader_app.sandbox import indexed, indexes, records, tasks, transfers
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


def _lose_the_index_while_judging(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str, api: Client, index_id: str
) -> list[int]:
    """Wrap ``module.name`` (a judge) so DELETE /indexes/{index_id} lands while it runs.

    The create holds no lock while it judges, so the delete, a request of its own, goes
    through; the list gets its status code.
    """
    original = getattr(module, name)
    deleted: list[int] = []

    def judge_then_lose_the_index(*args: Any, **kwargs: Any) -> Any:
        verdict = original(*args, **kwargs)
        deleted.append(api.delete(f"/indexes/{index_id}").status_code)
        return verdict

    monkeypatch.setattr(module, name, judge_then_lose_the_index)
    return deleted


def _new_index(api: Client, name: str) -> str:
    if api.base.endswith("v1.2"):
        models = {"engines": [{"engine_name": "marengo2.6", "engine_options": ["visual"]}]}
    else:
        models = {"models": [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]}
    body = {"index_name": name, **models}
    answer = api.post("/indexes", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["_id"])


def _no_records_of(server: SandboxServer, index_id: str) -> None:
    store = server.sandbox.store
    assert store.all(TaskRecord, lambda t: t.index_id == index_id) == []
    assert store.all(records.IndexedAssetRecord, lambda i: i.index_id == index_id) == []


def test_a_task_judged_while_its_index_is_deleted_is_not_kept(
    sandbox: SandboxServer, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Client(sandbox)
    index_id = _new_index(api, "going")
    deletes = _lose_the_index_while_judging(monkeypatch, tasks, "judge_file", api, index_id)
    answer = api.upload(index_id, video("clip.mp4"))
    assert deletes == [200]
    assert answer.status_code == 400
    assert answer.json()["code"] == "resource_not_exist"
    _no_records_of(sandbox, index_id)
    kept = sandbox.sandbox.media / "tasks"
    assert not kept.exists() or list(kept.iterdir()) == []  # the video went with the task


def test_an_asset_indexed_while_its_index_is_deleted_is_not_kept(
    sandbox: SandboxServer, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Client(sandbox)
    clip = video("clip.mp4")
    with clip.open("rb") as fh:
        created = api.post("/assets", data={"method": "direct"}, files={"file": (clip.name, fh)})
    asset_id = created.json()["_id"]
    assert api.wait(f"/assets/{asset_id}", terminal)["status"] == "ready"
    index_id = _new_index(api, "going")
    deletes = _lose_the_index_while_judging(monkeypatch, indexed, "judge_file", api, index_id)
    answer = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset_id})
    assert deletes == [200]
    assert answer.status_code == 404
    assert answer.json()["code"] == "resource_not_exist"
    _no_records_of(sandbox, index_id)
    assert api.get(f"/assets/{asset_id}").json()["status"] == "ready"  # the asset stays


def test_a_transfer_judged_while_its_index_is_deleted_makes_no_task(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    v12 = Client(sandbox, "v1.2")
    index_id = _new_index(v12, "going")
    deletes = _lose_the_index_while_judging(monkeypatch, transfers, "_judge", v12, index_id)
    manifest = json.dumps([{"index_id": index_id, "object": "s3://bucket/01.mp4"}])
    answer = v12.post("/tasks/transfers", files={"file": ("list.json", manifest)})
    assert deletes == [200]
    assert answer.status_code == 400
    assert answer.json()["code"] == "resource_not_exist"
    _no_records_of(sandbox, index_id)
