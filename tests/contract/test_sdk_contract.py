"""The vendor's own Python SDK (``twelvelabs``) works against the sandbox unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from twelvelabs import TwelveLabs
from twelvelabs.errors import BadRequestError
from twelvelabs.wrapper.multipart_upload_client_wrapper import MultipartUploadClientWrapper
from twelvelabs.wrapper.task_client_wrapper import TaskClientWrapper

from tests.conftest import TEST_API_KEY, StartSandbox
from uploader_app.sandbox.server import SandboxServer

Video = Callable[..., Path]


@pytest.fixture
def client(sandbox: SandboxServer) -> TwelveLabs:
    return TwelveLabs(api_key=TEST_API_KEY, base_url=sandbox.base_url())


def marengo_index(client: TwelveLabs) -> str:
    index = next(i for i in client.indexes.list() if (i.index_name or "").startswith("Demo - M"))
    assert index.id is not None
    return index.id


def test_the_sdk_lists_indexes(client: TwelveLabs) -> None:
    names = sorted(index.index_name or "" for index in client.indexes.list())
    assert names == ["Demo - Marengo (search)", "Demo - Pegasus (analyze)"]


def test_the_sdk_uploads_a_file_and_waits_for_ready(
    client: TwelveLabs, sandbox: SandboxServer, video: Video
) -> None:
    # The client's attributes are the SDK's wrappers at run time; its annotations say otherwise.
    tasks = cast(TaskClientWrapper, client.tasks)
    with video("clip.mp4").open("rb") as fh:
        task = tasks.create(
            index_id=marengo_index(client), video_file=fh, enable_video_stream=False
        )
    assert task.id and task.video_id
    done = tasks.wait_for_done(task.id, sleep_interval=0.02)
    assert done.status == "ready"
    assert done.system_metadata is not None
    assert done.system_metadata.filename == "clip.mp4"
    assert sandbox.requests.count(("POST", "/v1.3/tasks")) == 1


def test_the_sdk_sees_the_vendor_error_for_a_short_video(client: TwelveLabs, video: Video) -> None:
    with video("short.mp4", duration=2).open("rb") as fh, pytest.raises(BadRequestError) as err:
        client.tasks.create(index_id=marengo_index(client), video_file=fh)
    body = cast(dict[str, Any], err.value.body)
    assert body["code"] == "video_duration_too_short"


def test_the_sdk_multipart_helper_uploads_to_the_sandbox(
    video: Video, start_sandbox: StartSandbox
) -> None:
    server = start_sandbox(chunk_size=16 * 1024)
    client = TwelveLabs(api_key=TEST_API_KEY, base_url=server.base_url())
    uploads = cast(MultipartUploadClientWrapper, client.multipart_upload)
    result = uploads.upload_file(str(video("clip.mp4")), batch_size=4, max_workers=2)
    asset = client.assets.retrieve(result.asset_id)
    assert asset.filename == "clip.mp4"
    assert result.asset_url
    assert server.requests.count(("POST", "/v1.3/assets/multipart-uploads")) == 1
    assert sum(1 for method, _ in server.requests if method == "PUT") > 4  # several batches
