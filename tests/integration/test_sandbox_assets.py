"""v1.3 assets, multipart uploads with small chunks, indexed assets, over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import StartSandbox
from tests.sandbox_http import CHUNK, Client, put_chunks, start_upload, terminal, together
from uploader_app.sandbox import multipart
from uploader_app.sandbox.server import SandboxServer

Video = Callable[..., Path]


@pytest.fixture
def chunked(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox with 8 KiB chunks, so a small test video spans several of them."""
    return start_sandbox(chunk_size=CHUNK)


def asset_settled(body: dict[str, Any]) -> bool:
    return body.get("status") in ("ready", "failed")


def test_multipart_upload_end_to_end(chunked: SandboxServer, video: Video) -> None:
    api = Client(chunked)
    data = video("clip.mp4").read_bytes()
    total_chunks = -(-len(data) // CHUNK)
    assert total_chunks > 10  # more than the first batch of URLs
    created = api.post(
        "/assets/multipart-uploads",
        json={"filename": "clip.mp4", "type": "video", "total_size": len(data)},
    )
    assert created.status_code == 201
    session = created.json()
    upload_id, asset_id = session["upload_id"], session["asset_id"]
    assert session["chunk_size"] == CHUNK
    assert session["total_chunks"] == total_chunks
    assert [u["chunk_index"] for u in session["upload_urls"]] == list(range(1, 11))
    assert [u["upload_id"] for u in api.get("/assets/multipart-uploads").json()["data"]] == [
        upload_id
    ]

    first = put_chunks(data, session["upload_urls"])
    reported = api.post(f"/assets/multipart-uploads/{upload_id}", json={"completed_chunks": first})
    assert reported.json() == {
        "asset_id": asset_id,
        "processed_chunks": 10,
        "duplicate_chunks": 0,
        "total_completed": 10,
    }
    status = api.get(f"/assets/multipart-uploads/{upload_id}", params={"page_limit": 50}).json()
    assert status["status"] == "active"
    assert (status["chunks_completed"], status["chunks_pending"]) == (10, total_chunks - 10)
    assert status["uploaded_size"] == 10 * CHUNK
    assert status["uploaded_chunks"][0]["index"] == 1
    assert api.get(f"/assets/{asset_id}").json()["status"] == "processing"

    more = api.post(
        f"/assets/multipart-uploads/{upload_id}/presigned-urls",
        json={"start": 11, "count": 50},
    ).json()
    assert more["start_index"] == 11
    assert more["count"] == total_chunks - 10
    rest = put_chunks(data, more["upload_urls"])
    final = api.post(
        f"/assets/multipart-uploads/{upload_id}",
        json={"completed_chunks": [first[0], *rest]},
    ).json()
    assert final["duplicate_chunks"] == 1
    assert final["processed_chunks"] == total_chunks - 10
    assert final["total_completed"] == total_chunks
    assert final["url"].startswith(chunked.url)
    assert api.get(f"/assets/multipart-uploads/{upload_id}").json()["status"] == "completed"
    assert api.get("/assets/multipart-uploads").json()["data"] == []

    asset = api.wait(f"/assets/{asset_id}", asset_settled)
    assert asset["status"] == "ready"
    assert asset["method"] == "multipart"
    assert asset["technical_metadata"]["video_width"] == 640
    assert requests.get(final["url"], timeout=10).content == data  # assembled in order

    index_id = api.index_id()
    indexed = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset_id})
    assert indexed.status_code == 202
    item_id = indexed.json()["_id"]
    assert indexed.json()["asset_id"] == asset_id
    body = api.wait(f"/indexes/{index_id}/indexed-assets/{item_id}", terminal)
    assert body["status"] == "ready"
    assert body["system_metadata"]["duration"] == 5.0
    listed = api.get(f"/indexes/{index_id}/indexed-assets", params={"status": "ready"}).json()
    assert [i["_id"] for i in listed["data"]] == [item_id]
    assert api.delete(f"/assets/{asset_id}").status_code == 409  # still indexed
    assert api.delete(f"/assets/{asset_id}", params={"force": "true"}).status_code == 200


def test_a_judge_that_crashes_fails_the_asset_instead_of_leaving_it_processing(
    chunked: SandboxServer, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_judge(*args: object) -> None:
        raise RuntimeError("mediainfo fell over")

    monkeypatch.setattr(multipart, "judge_asset", broken_judge)
    api = Client(chunked)
    data = video("clip.mp4").read_bytes()[: 3 * CHUNK]
    session = start_upload(api, len(data))
    report = put_chunks(data, session["upload_urls"])
    answer = api.post(
        f"/assets/multipart-uploads/{session['upload_id']}", json={"completed_chunks": report}
    )
    assert answer.status_code == 500
    asset = api.get(f"/assets/{session['asset_id']}").json()
    assert asset["status"] == "failed"
    assert "Upload the file again" in asset["error"]["message"]
    status = api.get(f"/assets/multipart-uploads/{session['upload_id']}").json()
    assert status["status"] == "failed"


def test_chunk_urls_are_signed_and_single_use(chunked: SandboxServer) -> None:
    api = Client(chunked)
    session = api.post(
        "/assets/multipart-uploads",
        json={"filename": "a.mp4", "type": "video", "total_size": CHUNK + 1},
    ).json()
    url = session["upload_urls"][0]["url"]
    assert requests.put(url.replace("sig=", "sig=0"), data=b"x", timeout=10).status_code == 403
    assert requests.put(url, data=b"x" * CHUNK, timeout=10).status_code == 200
    again = requests.put(url, data=b"x" * CHUNK, timeout=10)
    assert again.status_code == 403
    assert b"AccessDenied" in again.content


def test_a_wrong_proof_marks_the_chunk_failed(chunked: SandboxServer) -> None:
    api = Client(chunked)
    session = api.post(
        "/assets/multipart-uploads",
        json={"filename": "a.mp4", "type": "video", "total_size": 2 * CHUNK},
    ).json()
    upload_id = session["upload_id"]
    report = put_chunks(b"y" * 2 * CHUNK, session["upload_urls"][:1])
    report[0]["proof"] = '"0000"'
    answer = api.post(f"/assets/multipart-uploads/{upload_id}", json={"completed_chunks": report})
    assert answer.json()["processed_chunks"] == 0
    status = api.get(f"/assets/multipart-uploads/{upload_id}").json()
    assert status["chunks_failed"] == 1
    assert status["uploaded_chunks"][0]["status"] == "failed"
    assert "ETag" in status["uploaded_chunks"][0]["error"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"filename": "a.mp4", "type": "video"}, "parameter_not_provided"),
        ({"filename": "a.mp4", "type": "text", "total_size": 5}, "parameter_invalid"),
        ({"filename": "a.mp4", "type": "video", "total_size": 10**11}, "video_filesize_too_large"),
    ],
)
def test_multipart_create_checks_its_body(
    chunked: SandboxServer, body: dict[str, object], code: str
) -> None:
    answer = Client(chunked).post("/assets/multipart-uploads", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == code


def test_presigned_urls_are_capped_at_50(chunked: SandboxServer) -> None:
    api = Client(chunked)
    upload_id = api.post(
        "/assets/multipart-uploads",
        json={"filename": "a.mp4", "type": "video", "total_size": 100 * CHUNK},
    ).json()["upload_id"]
    path = f"/assets/multipart-uploads/{upload_id}/presigned-urls"
    assert api.post(path, json={"start": 1, "count": 51}).json()["code"] == "parameter_invalid"
    assert api.post(path, json={"start": 0, "count": 5}).json()["code"] == "parameter_invalid"
    assert api.get("/assets/multipart-uploads/nope").status_code == 404


def test_direct_asset_upload_list_and_delete(api_v13: Client, video: Video, tmp_path: Path) -> None:
    api = api_v13
    clip = video("clip.mp4")
    with clip.open("rb") as fh:
        created = api.post("/assets", data={"method": "direct"}, files={"file": (clip.name, fh)})
    assert created.status_code == 201
    assert created.json()["status"] == "processing"
    asset_id = created.json()["_id"]
    assert api.wait(f"/assets/{asset_id}", asset_settled)["status"] == "ready"
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"nothing to see" * 100)
    with junk.open("rb") as fh:
        broken = api.post("/assets", data={"method": "direct"}, files={"file": (junk.name, fh)})
    failed = api.wait(f"/assets/{broken.json()['_id']}", asset_settled)
    assert failed["status"] == "failed"
    assert failed["error"]["message"]
    listed = api.get("/assets", params={"filename": "CLIP"}).json()
    assert [a["_id"] for a in listed["data"]] == [asset_id]
    assert api.post("/assets", data={"method": "ftp"}).json()["code"] == "parameter_invalid"
    assert api.delete(f"/assets/{asset_id}").status_code == 200
    assert api.get(f"/assets/{asset_id}").json()["code"] == "resource_not_exist"


def test_only_ready_assets_can_be_indexed_and_limits_apply(api_v13: Client, video: Video) -> None:
    api = api_v13
    index_id = api.index_id()
    missing = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": "0" * 24})
    assert missing.json()["code"] == "resource_not_exist"
    short = video("short.mp4", duration=2)
    with short.open("rb") as fh:
        asset_id = api.post(
            "/assets", data={"method": "direct"}, files={"file": (short.name, fh)}
        ).json()["_id"]
    too_soon = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset_id})
    assert too_soon.status_code == 400
    assert "must be ready" in too_soon.json()["message"]
    assert api.wait(f"/assets/{asset_id}", asset_settled)["status"] == "ready"  # a fine file
    item = api.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset_id})
    assert item.status_code == 202
    body = api.wait(f"/indexes/{index_id}/indexed-assets/{item.json()['_id']}", terminal)
    assert body["status"] == "failed"  # ... but too short for Marengo


@pytest.fixture
def api_v13(start_sandbox: StartSandbox) -> Client:
    """A sandbox whose assets take a moment to process (so "processing" can be seen)."""
    return Client(start_sandbox(speed=20.0))


def test_a_repeated_final_report_gets_the_url_again(chunked: SandboxServer) -> None:
    """A client whose answer to the final report was lost sends it again (vendor: duplicate
    reports are ignored)."""
    api = Client(chunked)
    data = b"q" * (2 * CHUNK)
    session = start_upload(api, len(data))
    report = put_chunks(data, session["upload_urls"])
    path = f"/assets/multipart-uploads/{session['upload_id']}"
    first = api.post(path, json={"completed_chunks": report})
    assert first.json()["processed_chunks"] == 2
    again = api.post(path, json={"completed_chunks": report})
    assert again.status_code == 200, again.text
    assert again.json() == {
        "asset_id": session["asset_id"],
        "processed_chunks": 0,
        "duplicate_chunks": 2,
        "total_completed": 2,
        "url": first.json()["url"],
    }


@pytest.mark.parametrize(("value", "hls"), [("false", False), ("true", True), (False, False)])
def test_multipart_flags_are_booleans_not_truthy_strings(
    chunked: SandboxServer, value: object, hls: bool
) -> None:
    api = Client(chunked)
    body = {"filename": "a.mp4", "type": "video", "total_size": 5, "enable_hls": value}
    asset_id = api.post("/assets/multipart-uploads", json=body).json()["asset_id"]
    assert ("hls" in api.get(f"/assets/{asset_id}").json()) is hls


@pytest.mark.parametrize("value", [5, "maybe", [True]])
def test_a_multipart_flag_that_is_no_boolean_is_400(chunked: SandboxServer, value: object) -> None:
    body = {"filename": "a.mp4", "type": "video", "total_size": 5, "enable_thumbnail": value}
    answer = Client(chunked).post("/assets/multipart-uploads", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "parameter_invalid"


def test_concurrent_final_reports_assemble_once(chunked: SandboxServer) -> None:
    api = Client(chunked)
    for trial in range(3):
        data = bytes([trial]) * (20 * CHUNK)
        session = start_upload(api, len(data), count=20)
        report = put_chunks(data, session["upload_urls"])
        path = f"/assets/multipart-uploads/{session['upload_id']}"
        answers = together(3, partial(api.post, path, json={"completed_chunks": report}))
        assert [a.status_code for a in answers] == [200, 200, 200], answers
        bodies = [a.json() for a in answers]
        assert sorted(b["processed_chunks"] for b in bodies) == [0, 0, 20]
        assert all(b["total_completed"] == 20 and "url" in b for b in bodies)
        assert api.get(path).json()["status"] == "completed"
        api.wait(f"/assets/{session['asset_id']}", lambda b: b["status"] != "processing")
        assert requests.get(bodies[0]["url"], timeout=10).content == data


def test_two_puts_on_one_presigned_url_store_one_body(chunked: SandboxServer) -> None:
    """The single-use nonce is claimed before the body is read, not after."""
    api = Client(chunked)
    session = start_upload(api, CHUNK, count=1)
    url = session["upload_urls"][0]["url"]
    put_path = "/_uploads/" + url.split("/_uploads/")[1].split("?")[0]

    def slow_body(fill: bytes) -> Iterator[bytes]:
        yield fill * (CHUNK // 2)
        # Both requests are in the server before either body is complete.
        deadline = time.monotonic() + 5
        while chunked.requests.count(("PUT", put_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        yield fill * (CHUNK // 2)

    fills = iter([b"a", b"b"])
    lock = threading.Lock()

    def put() -> tuple[int | str, str]:
        with lock:
            fill = next(fills)
        try:
            answer = requests.put(url, data=slow_body(fill), timeout=10)
        except requests.ConnectionError:
            return "refused mid-body", ""  # S3 may also hang up on a body it will not take
        return answer.status_code, answer.headers.get("ETag", "")

    outcomes = together(2, put)
    statuses = sorted(str(status) for status, _ in outcomes)
    assert statuses[0] == "200" and statuses[1] in ("403", "refused mid-body"), outcomes
    etag = next(tag for status, tag in outcomes if status == 200)
    proof = {"chunk_index": 1, "proof": etag.strip('"'), "proof_type": "etag", "chunk_size": CHUNK}
    reported = api.post(
        f"/assets/multipart-uploads/{session['upload_id']}", json={"completed_chunks": [proof]}
    )
    assert reported.json()["processed_chunks"] == 1  # the stored bytes are the winner's
