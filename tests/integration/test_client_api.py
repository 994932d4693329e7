"""Every endpoint of ApiClient, over real HTTP against the sandbox (v1.2 and v1.3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.integration.client_support import (
    MARENGO,
    make_client,
    wait_asset,
    wait_for,
    wait_task,
)
from uploader_app.api.client import ApiClient
from uploader_app.api.errors import (
    InvalidRequestError,
    NotFoundError,
    VideoRejectedError,
)
from uploader_app.api.types import FINGERPRINT_KEY
from uploader_app.models import IndexModel, TaskStatus, UploadProgress
from uploader_app.sandbox.app import ReceivedRequest
from uploader_app.sandbox.records import TaskRecord
from uploader_app.sandbox.server import SandboxServer

MARENGO_V12 = IndexModel("marengo2.6", ("visual", "conversation"))


# ---- indexes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "model"), [("v1.3", MARENGO), ("v1.2", MARENGO_V12)])
def test_create_get_and_list_indexes(
    sandbox: SandboxServer, version: str, model: IndexModel
) -> None:
    client = make_client(sandbox, version)
    created = client.create_index(f"films {version}", [model])
    assert created.name == f"films {version}"
    # v1.2 engines[] fold into IndexModel too, their options in v1.3 words (conversation: audio)
    assert created.models == (IndexModel(model.name, ("visual", "audio")),)
    fetched = client.get_index(created.id)
    assert fetched == created
    page = client.list_indexes(name=f"films {version}")
    assert [i.id for i in page.items] == [created.id]
    assert page.page_info.total_results == 1


def test_index_paging_and_family_filter(sandbox: SandboxServer) -> None:
    client = make_client(sandbox)
    made = {client.create_index(f"idx {n}", [MARENGO]).id for n in range(5)}
    pegasus = client.create_index("peg", [IndexModel("pegasus1.2", ("visual", "audio"))])
    first = client.list_indexes(page_limit=2)
    assert len(first.items) == 2
    assert first.has_next
    everything = {i.id for i in client.iter_indexes(page_limit=2)}
    assert made | {pegasus.id} <= everything
    pegasus_only = {i.id for i in client.iter_indexes(family="pegasus")}
    assert pegasus.id in pegasus_only
    assert not made & pegasus_only


def test_base_url_without_a_version_speaks_v13(sandbox: SandboxServer) -> None:
    # TWELVELABS_BASE_URL=https://api.twelvelabs.io used to send /indexes, and every call 404'd.
    client = ApiClient(sandbox.url, TEST_API_KEY)
    index = client.create_index("no version", [MARENGO])
    assert client.get_index(index.id).name == "no version"
    assert ReceivedRequest("POST", "/v1.3/indexes") in sandbox.requests


def test_missing_index_is_not_found(sandbox: SandboxServer) -> None:
    with pytest.raises((NotFoundError, InvalidRequestError)) as caught:
        make_client(sandbox).get_index("0123456789abcdef01234567")
    assert caught.value.hint


# ---- tasks ---------------------------------------------------------------------------------


def test_task_from_file_reaches_ready_with_progress(
    sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    client = make_client(sandbox)
    index = client.create_index("uploads", [MARENGO])
    clip = video("holiday clip.mp4", duration=5.0)
    seen: list[UploadProgress] = []
    created = client.create_task_from_file(
        index.id, clip, user_metadata={"trip": "alps", "day": 3}, progress=seen.append
    )
    assert not created.reused
    assert created.video_id
    size = clip.stat().st_size
    assert seen[0] == UploadProgress(0, size)
    assert seen[-1] == UploadProgress(size, size)
    task = wait_task(client, created.id)
    assert task.status is TaskStatus.READY
    assert task.filename == "holiday clip.mp4"
    assert task.duration == pytest.approx(5.0, abs=0.2)
    stored = sandbox.sandbox.store.get(TaskRecord, created.id)
    assert stored is not None
    assert stored.user_metadata == {"trip": "alps", "day": 3}
    assert stored.enable_video_stream is True


def test_fingerprint_travels_in_user_metadata_beside_the_callers(
    sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    client = make_client(sandbox)
    index = client.create_index("fingerprints", [MARENGO])
    created = client.create_task_from_file(
        index.id, video("print.mp4"), user_metadata={"shot": 7}, fingerprint="sha256:abc"
    )
    assert created.video_id
    assert wait_task(client, created.id).status is TaskStatus.READY
    video_obj = client.get_video(index.id, created.video_id)
    assert video_obj.user_metadata == {"shot": 7, FINGERPRINT_KEY: "sha256:abc"}
    assert video_obj.filename == "print.mp4"


def test_list_tasks_filters_and_delete(sandbox: SandboxServer, video: Callable[..., Path]) -> None:
    client = make_client(sandbox)
    index = client.create_index("many", [MARENGO])
    other = client.create_index("other", [MARENGO])
    ids = [client.create_task_from_file(index.id, video(f"c{n}.mp4")).id for n in range(3)]
    client.create_task_from_file(other.id, video("elsewhere.mp4"))
    for task_id in ids:
        wait_task(client, task_id)
    assert {t.id for t in client.iter_tasks(index.id, page_limit=2)} == set(ids)
    ready = client.list_tasks(index.id, status=[TaskStatus.READY, TaskStatus.FAILED])
    assert {t.id for t in ready.items} == set(ids)
    assert client.list_tasks(index.id, status=[TaskStatus.PENDING]).items == ()
    named = client.list_tasks(index.id, filename="c1.mp4")
    assert [t.id for t in named.items] == [ids[1]]
    with pytest.raises(InvalidRequestError) as refused:
        client.delete_task(ids[0])  # a ready task keeps its video until that is deleted
    assert refused.value.code == "task_cannot_be_deleted"
    first = client.get_task(ids[0])
    assert first.video_id is not None
    client.delete_video(index.id, first.video_id)
    client.delete_task(ids[0])
    with pytest.raises(NotFoundError) as caught:
        client.get_task(ids[0])
    assert caught.value.title == "Not found"


def test_task_from_url(
    sandbox: SandboxServer, video: Callable[..., Path], web: tuple[str, Path]
) -> None:
    url, root = web
    video("from-web.mp4").replace(root / "from-web.mp4")
    client = make_client(sandbox)
    index = client.create_index("web", [MARENGO])
    created = client.create_task_from_url(
        index.id, f"{url}/from-web.mp4", enable_video_stream=False
    )
    task = wait_task(client, created.id)
    assert task.status is TaskStatus.READY
    assert task.filename == "from-web.mp4"
    stored = sandbox.sandbox.store.get(TaskRecord, created.id)
    assert stored is not None
    assert stored.enable_video_stream is False


def test_v12_language_and_transcription_fields(
    sandbox: SandboxServer, video: Callable[..., Path], tmp_path: Path
) -> None:
    client = make_client(sandbox, "v1.2")
    index = client.create_index("v12", [MARENGO_V12])
    subtitles = tmp_path / "talk.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello\n", encoding="utf-8")
    created = client.create_task_from_file(
        index.id,
        video("talk.mp4"),
        language="fr",
        transcription_file=subtitles,
        enable_video_stream=False,
    )
    stored = sandbox.sandbox.store.get(TaskRecord, created.id)
    assert stored is not None
    assert (stored.language, stored.enable_video_stream) == ("fr", False)
    assert stored.transcription is not None
    assert stored.transcription.endswith("talk.srt")
    with_url = client.create_task_from_file(
        index.id, video("talk2.mp4"), transcription_url="https://example.com/talk.vtt"
    )
    stored = sandbox.sandbox.store.get(TaskRecord, with_url.id)
    assert stored is not None
    assert stored.transcription == "https://example.com/talk.vtt"
    assert wait_task(client, created.id).status is TaskStatus.READY


def test_v12_task_status_counts_and_transfer(sandbox: SandboxServer) -> None:
    client = make_client(sandbox, "v1.2")
    index = client.create_index("transfers", [MARENGO_V12])
    client.create_transfer(
        [
            {"index_id": index.id, "language": "en", "object": "s3://bucket/a.mp4"},
            {
                "index_id": index.id,
                "language": "en",
                "object": "s3://bucket/b.mp4",
                "transcription": "s3://bucket/b.srt",
            },
        ]
    )
    assert ("POST", "/v1.2/tasks/transfers") in sandbox.requests
    names = {t.filename for t in client.iter_tasks(index.id)}
    assert names == {"a.mp4", "b.mp4"}
    counts = wait_for(
        lambda: client.task_status_counts(index.id), lambda c: c.ready + c.failed == 2
    )
    assert (counts.index_id, counts.total) == (index.id, 2)


def test_version_only_endpoints_are_refused_before_sending(sandbox: SandboxServer) -> None:
    v13 = make_client(sandbox, "v1.3")
    with pytest.raises(InvalidRequestError):
        v13.task_status_counts("idx")
    with pytest.raises(ValueError, match=r"v1\.2"):
        v13.create_task_from_url("idx", "https://example.com/a.mp4", language="en")
    with pytest.raises(InvalidRequestError) as caught:
        make_client(sandbox, "v1.2").get_asset("a1")
    assert caught.value.code == "api_upgrade_required"
    assert sandbox.requests == []


def test_rejected_video_fails_at_once_in_plain_words(
    sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    client = make_client(sandbox)
    index = client.create_index("strict", [MARENGO])
    with pytest.raises(VideoRejectedError) as caught:
        client.create_task_from_file(index.id, video("short.mp4", duration=1.0))
    error = caught.value
    assert (error.code, error.status) == ("video_duration_too_short", 400)
    assert error.title == "Video too short"
    assert error.hint
    assert sandbox.requests.count(ReceivedRequest("POST", "/v1.3/tasks")) == 1  # not retried


# ---- assets, multipart, indexed assets (v1.3) ----------------------------------------------


def test_asset_from_file_and_url(
    sandbox: SandboxServer, video: Callable[..., Path], web: tuple[str, Path]
) -> None:
    client = make_client(sandbox)
    seen: list[UploadProgress] = []
    direct = client.create_asset_from_file(video("direct.mp4"), progress=seen.append)
    assert direct.filename == "direct.mp4"
    assert seen[-1].sent == seen[-1].total > 0
    url, root = web
    video("remote.mp4").replace(root / "remote clip.mp4")
    remote = client.create_asset_from_url(f"{url}/remote%20clip.mp4?x=1")
    # Named after the URL's last path segment, %-decoded (models.url_filename).
    assert remote.filename == "remote clip.mp4"
    for asset_id in (direct.id, remote.id):
        assert wait_asset(client, asset_id).status == "ready"
    listed = {a.id for a in client.iter_assets(page_limit=1)}
    assert {direct.id, remote.id} <= listed


@pytest.fixture
def small_chunk_sandbox(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox that asks for 16 KiB chunks, so a test video has many of them."""
    return start_sandbox(chunk_size=16 * 1024)


def test_multipart_status_pages_and_presigned_urls(
    small_chunk_sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    client = make_client(small_chunk_sandbox)
    clip = video("paged.mp4", duration=6.0, width=854, height=480)
    session, first_urls = client.create_multipart_upload(clip.name, clip.stat().st_size)
    assert first_urls
    more = client.request_presigned_urls(session.upload_id, 2, 3)
    assert [u.chunk_index for u in more] == [2, 3, 4]
    with pytest.raises(ValueError):
        client.request_presigned_urls(session.upload_id, 1, 51)
    page = client.get_multipart_status(session.upload_id, page=1, page_limit=2)
    assert page.status == "active"
    assert page.page_info.limit_per_page == 2
