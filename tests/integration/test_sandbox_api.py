"""The sandbox over real HTTP: auth, indexes, tasks and their lifecycle, v1.2 extras."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StartSandbox
from tests.sandbox_http import Client, terminal
from uploader_app.models import UploadKind
from uploader_app.sandbox import store as store_module
from uploader_app.sandbox.records import MediaInfo, TaskRecord
from uploader_app.sandbox.server import SandboxServer
from uploader_app.validation import limits

Video = Callable[..., Path]


@pytest.fixture
def api(sandbox: SandboxServer) -> Client:
    return Client(sandbox)


@pytest.fixture
def slow_sandbox(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox whose tasks take seconds, to see them in flight."""
    return start_sandbox(speed=1.0)


# --- auth, errors, headers ----------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}])
def test_a_missing_or_wrong_key_is_401_api_key_invalid(
    sandbox: SandboxServer, headers: dict[str, str]
) -> None:
    client = Client(sandbox)
    client.session.headers.clear()
    answer = client.get("/indexes", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "api_key_invalid"
    assert "API Key is either invalid or expired" in answer.json()["message"]


def test_answers_carry_rate_limit_headers(api: Client) -> None:
    first = api.get("/indexes")
    second = api.get("/indexes")
    assert first.status_code == 200
    assert int(second.headers["X-Ratelimit-Used"]) == int(first.headers["X-Ratelimit-Used"]) + 1
    assert int(second.headers["X-Ratelimit-Remaining"]) < int(
        first.headers["X-Ratelimit-Remaining"]
    )
    assert int(first.headers["X-Ratelimit-Reset"]) > time.time()


def test_exceeding_the_rate_limit_is_429_with_retry_after(start_sandbox: StartSandbox) -> None:
    server = start_sandbox(rate_limit=2)
    api = Client(server)
    assert [api.get("/indexes").status_code for _ in range(2)] == [200, 200]
    refused = api.get("/indexes")
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Ratelimit-Remaining"] == "0"


def test_v13_only_endpoints_ask_v12_callers_to_upgrade(sandbox: SandboxServer) -> None:
    answer = Client(sandbox, "v1.2").get("/assets")
    assert answer.status_code == 400
    assert answer.json()["code"] == "api_upgrade_required"


def test_unknown_paths_are_404_and_v12_endpoints_are_gone_in_v13(api: Client) -> None:
    assert api.get("/nope").status_code == 404
    assert api.get("/tasks/status", params={"index_id": api.index_id()}).status_code == 404
    assert api.post("/tasks/transfers").status_code == 404


# --- indexes ------------------------------------------------------------------------------


def test_a_fresh_sandbox_has_a_demo_index_per_model_family(api: Client) -> None:
    names = {i["index_name"]: i["models"] for i in api.get("/indexes").json()["data"]}
    assert names["Demo - Marengo (search)"] == [
        {"model_name": "marengo3.0", "model_options": ["visual", "audio"]}
    ]
    assert names["Demo - Pegasus (analyze)"][0]["model_name"] == "pegasus1.2"


def test_index_create_rename_delete_v13(api: Client) -> None:
    models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
    created = api.post("/indexes", json={"index_name": "clips", "models": models})
    assert created.status_code == 201
    index_id = created.json()["_id"]
    again = api.post("/indexes", json={"index_name": "clips", "models": models})
    assert again.json()["code"] == "index_name_already_exists"
    before = api.get(f"/indexes/{index_id}").json()
    assert before["models"] == models
    assert before["video_count"] == 0
    time.sleep(0.002)
    assert api.put(f"/indexes/{index_id}", json={"index_name": "renamed"}).status_code == 200
    after = api.get(f"/indexes/{index_id}").json()
    assert after["index_name"] == "renamed"
    assert after["updated_at"] > before["updated_at"]
    assert api.delete(f"/indexes/{index_id}").status_code == 200
    gone = api.get(f"/indexes/{index_id}")
    assert gone.status_code == 400
    assert gone.json()["code"] == "resource_not_exist"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"index_name": "x"}, "parameter_not_provided"),
        (
            {"index_name": "x", "models": [{"model_name": "gpt", "model_options": ["visual"]}]},
            "parameter_invalid",
        ),
        (
            {
                "index_name": "x",
                "models": [{"model_name": "marengo3.0", "model_options": ["logo"]}],
            },
            "parameter_invalid",
        ),
    ],
)
def test_index_create_checks_its_body(api: Client, body: dict[str, object], code: str) -> None:
    answer = api.post("/indexes", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == code


def test_v12_indexes_use_engines(sandbox: SandboxServer) -> None:
    v12 = Client(sandbox, "v1.2")
    engines = [{"engine_name": "marengo2.6", "engine_options": ["visual", "conversation"]}]
    created = v12.post("/indexes", json={"index_name": "old", "engines": engines})
    assert created.status_code == 201
    index_id = created.json()["_id"]
    assert v12.get(f"/indexes/{index_id}").json()["engines"] == engines
    listed = v12.get("/indexes", params={"engine_family": "marengo", "index_name": "old"})
    assert [i["_id"] for i in listed.json()["data"]] == [index_id]
    assert (
        Client(sandbox).get(f"/indexes/{index_id}").json()["models"][0]["model_name"]
        == "marengo2.6"
    )


def test_paging_sorting_and_the_page_limit_cap(api: Client) -> None:
    models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
    for n in range(10):
        assert api.post("/indexes", json={"index_name": f"i{n}", "models": models}).ok
    page = api.get("/indexes", params={"page": 2, "page_limit": 5}).json()
    assert page["page_info"] == {
        "limit_per_page": 5,
        "page": 2,
        "total_page": 3,
        "total_results": 12,
    }
    assert len(page["data"]) == 5
    newest_first = [
        i["index_name"] for i in api.get("/indexes", params={"page_limit": 50}).json()["data"]
    ]
    oldest_first = api.get("/indexes", params={"page_limit": 50, "sort_option": "asc"}).json()
    assert [i["index_name"] for i in oldest_first["data"]] == newest_first[::-1]
    assert api.get("/indexes").json()["page_info"]["limit_per_page"] == 10
    for bad in ({"page_limit": 51}, {"page_limit": 0}, {"page": "x"}, {"sort_by": "name"}):
        answer = api.get("/indexes", params=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["code"] == "parameter_invalid"


# --- tasks --------------------------------------------------------------------------------


def test_a_task_goes_through_every_status_to_ready(
    video: Video, start_sandbox: StartSandbox
) -> None:
    server = start_sandbox(speed=25.0)
    api = Client(server)
    created = api.upload(api.index_id(), video("clip.mp4", duration=5))
    assert created.status_code == 200
    task_id = created.json()["_id"]
    assert created.json()["video_id"]
    seen: list[tuple[str, str]] = []

    def note(body: dict[str, Any]) -> bool:
        seen.append((body["status"], body["updated_at"]))
        return terminal(body)

    body = api.wait(f"/tasks/{task_id}", note)
    statuses = list(dict.fromkeys(s for s, _ in seen))
    assert statuses == ["validating", "pending", "queued", "indexing", "ready"]
    stamps = list(dict.fromkeys(u for _, u in seen))
    assert len(stamps) == 5 and stamps == sorted(stamps)  # updated_at moves with each status
    assert body["system_metadata"] == {
        "filename": "clip.mp4",
        "duration": 5.0,
        "width": 640,
        "height": 360,
    }


def test_ready_tasks_count_in_their_index_and_become_videos(api: Client, video: Video) -> None:
    index_id = api.index_id()
    task = api.upload(index_id, video("clip.mp4", duration=5)).json()
    api.wait(f"/tasks/{task['_id']}", terminal)
    index = api.get(f"/indexes/{index_id}").json()
    assert (index["video_count"], index["total_duration"]) == (1, 5.0)
    videos = api.get(f"/indexes/{index_id}/videos").json()["data"]
    assert [v["_id"] for v in videos] == [task["video_id"]]
    one = api.get(f"/indexes/{index_id}/videos/{task['video_id']}").json()
    assert one["system_metadata"]["filename"] == "clip.mp4"
    assert one["hls"]["status"] == "COMPLETE"


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, {"short.mp4", "long.mp4"}),
        ({"duration[gte]": "6"}, {"long.mp4"}),
        ({"duration[lte]": "5", "width[gte]": "640"}, {"short.mp4"}),
        ({"width[lte]": "639"}, set()),
        ({"size[gte]": "1"}, {"short.mp4", "long.mp4"}),
        ({"fps[gte]": "1", "fps[lte]": "120"}, {"short.mp4", "long.mp4"}),
        ({"fps[gte]": "121"}, set()),
        ({"category": "news"}, {"long.mp4"}),  # the vendor's "?category=recentlyAdded"
        ({"user_metadata[category]": "news"}, {"long.mp4"}),  # as the vendor's SDK sends it
        ({"needsReview": "TRUE", "batch": "5.0"}, {"short.mp4"}),
        ({"category": "nothing"}, set()),
        ({"filename": "short.mp4"}, {"short.mp4"}),
        ({"created_at": "2001-01-01T00:00:00Z"}, set()),
    ],
)
def test_videos_filter_by_media_ranges_and_user_metadata(
    api: Client, video: Video, query: dict[str, str], names: set[str]
) -> None:
    index_id = api.index_id()
    sent = [
        ("short.mp4", 5, {"needsReview": True, "batch": 5, "category": "sport"}),
        ("long.mp4", 8, {"category": "news"}),
    ]
    for name, seconds, metadata in sent:
        answer = api.upload(
            index_id, video(name, duration=seconds), user_metadata=json.dumps(metadata)
        )
        api.wait(f"/tasks/{answer.json()['_id']}", terminal)
    listed = api.get(f"/indexes/{index_id}/videos", params=query)
    assert listed.status_code == 200, listed.text
    found = {v["system_metadata"]["filename"] for v in listed.json()["data"]}
    assert found == names


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        ({"duration": 2}, "video_duration_too_short", "Current duration is 2.00 seconds"),
        (
            {"width": 320, "height": 240},
            "video_resolution_too_low",
            "Current resolution is 320x240",
        ),
        ({"width": 1280, "height": 360}, "video_resolution_invalid_aspect_ratio", "1280x360"),
    ],
)
def test_a_file_that_breaks_a_limit_is_rejected_at_once(
    api: Client, video: Video, spec: dict[str, int], code: str, words: str
) -> None:
    answer = api.upload(api.index_id(), video("bad.mp4", **spec))
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert words in answer.json()["message"]
    assert api.get("/tasks").json()["data"] == []  # no task was made


def test_a_file_that_is_not_a_video_is_video_file_broken(api: Client, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n" * 100)
    answer = api.upload(api.index_id(), notes)
    assert answer.status_code == 400
    assert answer.json()["code"] == "video_file_broken"


def test_the_size_cap_comes_from_the_limits_table(
    api: Client, video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(limits.MAX_SIZE, UploadKind.TASK_FILE, 1000)
    answer = api.upload(api.index_id(), video("clip.mp4"))
    assert answer.status_code == 400
    assert answer.json()["code"] == "video_filesize_too_large"


def test_an_audio_only_index_rejects_a_silent_video(api: Client, video: Video) -> None:
    models = [{"model_name": "marengo3.0", "model_options": ["audio"]}]
    index_id = api.post("/indexes", json={"index_name": "talk", "models": models}).json()["_id"]
    answer = api.upload(index_id, video("silent.mp4", audio=False))
    assert answer.status_code == 400
    assert answer.json()["code"] == "video_file_broken"
    assert "no audio track" in answer.json()["message"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "parameter_not_provided"),
        ({"index_id": "0" * 24, "video_url": "https://example.com/a.mp4"}, "resource_not_exist"),
        ({"video_url": "ftp://example.com/a.mp4"}, "parameter_invalid"),
        ({"video_url": "https://e.com/a.mp4", "user_metadata": "[1]"}, "parameter_invalid"),
        ({"video_url": "https://e.com/a.mp4", "enable_video_stream": "maybe"}, "parameter_invalid"),
    ],
)
def test_task_create_checks_its_fields(api: Client, data: dict[str, str], code: str) -> None:
    form = {"index_id": api.index_id(), **data} if data else {}
    answer = api.post("/tasks", files={k: (None, v) for k, v in form.items()})
    assert answer.status_code == 400
    assert answer.json()["code"] == code


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_that_json_has_not_are_refused(api: Client, number: str) -> None:
    """Python reads NaN and Infinity (and 1e400 as infinity); JSON has no such numbers, and
    the sandbox would send them back in answers that are not JSON either."""
    metadata = f'{{"score": {number}}}'
    body = f'{{"filename": "a.mp4", "type": "video", "total_size": 5, "user_metadata": {metadata}}}'
    sent = api.post(
        "/assets/multipart-uploads", data=body, headers={"Content-Type": "application/json"}
    )
    assert (sent.status_code, sent.json()["code"]) == (400, "parameter_invalid"), sent.text
    form = {"index_id": api.index_id(), "video_url": "https://e.com/a.mp4"}
    task = api.post(
        "/tasks", files={k: (None, v) for k, v in {**form, "user_metadata": metadata}.items()}
    )
    assert (task.status_code, task.json()["code"]) == (400, "parameter_invalid"), task.text
    assert not api.get("/assets").json()["data"]


def test_a_body_nested_too_deeply_to_read_is_parameter_invalid(api: Client) -> None:
    """Python's JSON reader gives up past about a thousand levels with a RecursionError,
    which is no ValueError: the sandbox answered 500 with a traceback."""
    deep = "[" * 100_000 + "]" * 100_000
    sent = api.post(
        "/assets/multipart-uploads",
        data=f'{{"filename": "a.mp4", "type": "video", "total_size": 5, "x": {deep}}}',
        headers={"Content-Type": "application/json"},
    )
    assert (sent.status_code, sent.json()["code"]) == (400, "parameter_invalid"), sent.text
    form = {"index_id": api.index_id(), "video_url": "https://e.com/a.mp4"}
    form["user_metadata"] = f'{{"a": {deep}}}'
    task = api.post("/tasks", files={k: (None, v) for k, v in form.items()})
    assert (task.status_code, task.json()["code"]) == (400, "parameter_invalid"), task.text


def test_tasks_filter_by_repeated_status_and_cannot_be_deleted_in_flight(
    slow_sandbox: SandboxServer, video: Video
) -> None:
    api = Client(slow_sandbox)
    index_id = api.index_id()
    task_id = api.upload(index_id, video("clip.mp4")).json()["_id"]

    def ids(**params: object) -> list[str]:
        answer = api.get("/tasks", params=params)
        assert answer.status_code == 200
        return [t["_id"] for t in answer.json()["data"]]

    assert ids(status="validating") == [task_id]
    assert ids(status="ready") == []
    assert ids(status=["ready", "validating"]) == [task_id]
    assert ids(index_id=index_id, filename="clip.mp4") == [task_id]
    assert ids(filename="other.mp4") == []
    assert api.get("/tasks", params={"status": "done"}).json()["code"] == "parameter_invalid"
    refused = api.delete(f"/tasks/{task_id}")
    assert refused.status_code == 400
    assert refused.json()["code"] == "task_cannot_be_deleted"


def test_a_ready_task_is_deleted_after_its_video(api: Client, video: Video) -> None:
    index_id = api.index_id()
    created = api.upload(index_id, video("clip.mp4")).json()
    task_id, video_id = created["_id"], created["video_id"]
    assert api.wait(f"/tasks/{task_id}", terminal)["status"] == "ready"
    refused = api.delete(f"/tasks/{task_id}")
    assert refused.status_code == 400
    assert refused.json()["code"] == "task_cannot_be_deleted"
    assert "Delete the video first" in refused.json()["message"]
    assert api.get(f"/indexes/{index_id}/videos/{video_id}").status_code == 200
    assert api.delete(f"/indexes/{index_id}/videos/{video_id}").status_code == 200
    assert api.get(f"/indexes/{index_id}/videos/{video_id}").status_code == 404
    assert api.delete(f"/tasks/{task_id}").status_code == 200
    assert api.get(f"/tasks/{task_id}").json()["code"] == "resource_not_exist"


def test_a_failed_task_can_be_deleted_at_once(api: Client, video: Video) -> None:
    bad_url = "http://127.0.0.1:9/missing.mp4"  # port 9 (discard) refuses: the fetch fails
    answer = api.post(
        "/tasks", files={"index_id": (None, api.index_id()), "video_url": (None, bad_url)}
    )
    task_id = answer.json()["_id"]
    assert api.wait(f"/tasks/{task_id}", terminal)["status"] == "failed"
    assert api.delete(f"/tasks/{task_id}").status_code == 200


def test_user_metadata_and_video_stream_flags_are_kept(api: Client, video: Video) -> None:
    answer = api.upload(
        api.index_id(),
        video("clip.mp4"),
        user_metadata=json.dumps({"batch": 5}),
        enable_video_stream="false",
    )
    body = api.wait(f"/tasks/{answer.json()['_id']}", terminal)
    assert "hls" not in body


# --- video_url tasks ----------------------------------------------------------------------


def test_a_url_task_is_fetched_and_indexed(
    api: Client, video: Video, web: tuple[str, Path]
) -> None:
    base, folder = web
    video("clip.mp4").replace(folder / "my clip.mp4")
    url = f"{base}/my%20clip.mp4?x=1"
    created = api.post("/tasks", data={"index_id": api.index_id(), "video_url": url})
    assert created.status_code == 200
    body = api.wait(f"/tasks/{created.json()['_id']}", terminal)
    assert body["status"] == "ready"
    # Named as the client names it (models.url_filename): the last segment, %-decoded.
    assert body["system_metadata"]["filename"] == "my clip.mp4"
    assert body["system_metadata"]["duration"] == 5.0


@pytest.mark.parametrize("name", ["missing.mp4", "short.mp4"])
def test_an_unreachable_or_rejected_url_task_fails(
    api: Client, video: Video, web: tuple[str, Path], name: str
) -> None:
    base, folder = web
    video("short.mp4", duration=2).replace(folder / "short.mp4")
    created = api.post("/tasks", data={"index_id": api.index_id(), "video_url": f"{base}/{name}"})
    assert created.status_code == 200
    assert api.wait(f"/tasks/{created.json()['_id']}", terminal)["status"] == "failed"


# --- v1.2 -----------------------------------------------------------------------------------


def test_v12_tasks_have_metadata_progress_and_status_counts(
    slow_sandbox: SandboxServer, video: Video
) -> None:
    v12 = Client(slow_sandbox, "v1.2")
    index_id = v12.index_id()
    created = v12.upload(index_id, video("clip.mp4"), language="en")
    assert created.status_code == 200
    assert list(created.json()) == ["_id"]
    task = v12.get(f"/tasks/{created.json()['_id']}").json()
    assert task["type"] == "index_task_info"
    assert task["metadata"]["filename"] == "clip.mp4"
    assert 0 <= task["process"]["percentage"] < 100
    assert task["process"]["remain_seconds"] > 0
    assert task["estimated_time"] > task["created_at"]
    counts = v12.get("/tasks/status", params={"index_id": index_id}).json()
    assert counts == {
        "index_id": index_id,
        "ready": 0,
        "validating": 1,
        "pending": 0,
        "failed": 0,
        "total_result": 1,
    }


def test_v12_takes_a_transcription_file(
    sandbox: SandboxServer, video: Video, tmp_path: Path
) -> None:
    v12 = Client(sandbox, "v1.2")
    subs = tmp_path / "clip.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    clip = video("clip.mp4")
    with clip.open("rb") as fh, subs.open("rb") as sub:
        answer = v12.post(
            "/tasks",
            data={"index_id": v12.index_id(), "provide_transcription": "true"},
            files={"video_file": (clip.name, fh), "transcription_file": (subs.name, sub)},
        )
    assert answer.status_code == 200
    with clip.open("rb") as fh:
        wrong = v12.post(
            "/tasks",
            data={"index_id": v12.index_id()},
            files={"video_file": (clip.name, fh), "transcription_file": ("x.txt", b"hi")},
        )
    assert wrong.json()["code"] == "parameter_invalid"


def _manifest(index_id: str) -> bytes:
    rows = [
        {"index_id": index_id, "language": "en", "object": "s3://bucket/dir/01.mp4"},
        {
            "index_id": index_id,
            "language": "en",
            "object": "s3://bucket/02.mp4",
            "transcription": "s3://bucket/02.srt",
        },
    ]
    return json.dumps(rows).encode()


def test_a_transfer_manifest_makes_one_task_per_row(sandbox: SandboxServer) -> None:
    v12 = Client(sandbox, "v1.2")
    index_id = v12.index_id()
    answer = v12.post("/tasks/transfers", files={"file": ("list.json", _manifest(index_id))})
    # The transfer guide's answer, typo included (docs/sandbox.md).
    assert answer.status_code == 200
    assert answer.json() == {
        "message": "Succesfully requested indexing task",
        "type": "index_task_create",
    }
    tasks = v12.get("/tasks", params={"index_id": index_id}).json()["data"]
    assert sorted(t["metadata"]["filename"] for t in tasks) == ["01.mp4", "02.mp4"]
    for task in tasks:
        assert v12.wait(f"/tasks/{task['_id']}", terminal)["status"] == "ready"
    again = v12.post("/tasks/transfers", files={"file": ("list.json", _manifest(index_id))})
    assert again.status_code == 200
    assert len(v12.get("/tasks").json()["data"]) == 2  # the same objects are not indexed twice


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"{}", "JSON array"),
        (b'[{"index_id": "x", "object": "https://a/b.mp4"}]', "Row 1: object must be an s3:// URI"),
        (b'[{"object": "s3://b/k.mp4"}]', "Row 1: index_id is missing"),
        (
            b'[{"index_id": "x", "object": "s3://b/k.mp4", "transcription": "s3://b/k.txt"}]',
            "SRT or VTT",
        ),
    ],
)
def test_a_malformed_manifest_is_400_with_the_reason(
    sandbox: SandboxServer, manifest: bytes, words: str
) -> None:
    v12 = Client(sandbox, "v1.2")
    answer = v12.post("/tasks/transfers", files={"file": ("list.json", manifest)})
    assert answer.status_code == 400
    assert answer.json()["code"] == "parameter_invalid"
    assert words in answer.json()["message"]
    assert v12.get("/tasks").json()["data"] == []


@pytest.mark.parametrize("word", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_a_manifest_with_nan_or_infinity_is_refused_like_a_json_body(
    sandbox: SandboxServer, word: bytes
) -> None:
    v12 = Client(sandbox, "v1.2")
    index_id = v12.index_id()
    row = f'{{"index_id": "{index_id}", "language": "en", "object": "s3://b/k.mp4", "x": '
    answer = v12.post(
        "/tasks/transfers", files={"file": ("l.json", b"[" + row.encode() + word + b"}]")}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "parameter_invalid"
    assert "not valid JSON" in answer.json()["message"]
    assert v12.get("/tasks").json()["data"] == []


def test_transfers_read_real_files_from_an_s3_folder(
    tmp_path: Path, video: Video, start_sandbox: StartSandbox
) -> None:
    s3 = tmp_path / "s3"
    (s3 / "bucket" / "dir").mkdir(parents=True)
    video("01.mp4", duration=2).replace(s3 / "bucket" / "dir" / "01.mp4")
    server = start_sandbox(s3_dir=s3)
    v12 = Client(server, "v1.2")
    index_id = v12.index_id()
    answer = v12.post("/tasks/transfers", files={"file": ("l.json", _manifest(index_id))})
    assert answer.status_code == 200
    done = {
        t["metadata"]["filename"]: v12.wait(f"/tasks/{t['_id']}", terminal)["status"]
        for t in v12.get("/tasks").json()["data"]
    }
    # 01.mp4 is real and too short; 02.mp4 is not in the folder, so it cannot be read.
    assert done == {"01.mp4": "failed", "02.mp4": "failed"}


def test_a_repeated_file_part_is_400_and_leaves_no_spool_file(
    sandbox: SandboxServer, api: Client, video: Video
) -> None:
    clip = video("clip.mp4").read_bytes()
    answer = api.post(
        "/tasks",
        data={"index_id": api.index_id()},
        files=[("video_file", ("a.mp4", clip)), ("video_file", ("b.mp4", clip))],
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "parameter_invalid"
    assert "video_file" in answer.json()["message"]
    assert list(sandbox.sandbox.spool.iterdir()) == []
    assert api.get("/tasks").json()["data"] == []


def test_v12_sees_v12_option_words_and_v13_sees_v13_words(sandbox: SandboxServer) -> None:
    v12, v13 = Client(sandbox, "v1.2"), Client(sandbox)
    demo = v12.get(f"/indexes/{v13.index_id()}").json()
    # engine_name stays the model's real name (docs/sandbox.md); the options are v1.2 words.
    assert demo["engines"] == [
        {"engine_name": "marengo3.0", "engine_options": ["visual", "conversation"]}
    ]
    found = v12.get("/indexes", params={"engine_options": "conversation"}).json()["data"]
    assert len(found) == 2  # both demo indexes
    assert v12.get("/indexes", params={"engine_options": "audio"}).json()["data"] == []

    engines = [{"engine_name": "marengo2.6", "engine_options": ["visual", "logo", "conversation"]}]
    old_id = v12.post("/indexes", json={"index_name": "old", "engines": engines}).json()["_id"]
    assert v12.get(f"/indexes/{old_id}").json()["engines"] == engines  # kept as made
    assert v13.get(f"/indexes/{old_id}").json()["models"] == [
        {"model_name": "marengo2.6", "model_options": ["visual", "audio"]}
    ]
    listed = v13.get("/indexes", params={"model_options": "audio", "index_name": "old"}).json()
    assert [i["_id"] for i in listed["data"]] == [old_id]


def test_a_transfer_key_cannot_climb_out_of_the_s3_folder(
    tmp_path: Path, video: Video, start_sandbox: StartSandbox
) -> None:
    s3 = tmp_path / "s3"
    (s3 / "bucket").mkdir(parents=True)
    video("outside.mp4")  # a valid video next to the s3 folder, not in it
    rows = [{"index_id": "", "language": "en", "object": "s3://bucket/../../outside.mp4"}]
    server = start_sandbox(s3_dir=s3)
    v12 = Client(server, "v1.2")
    rows[0]["index_id"] = v12.index_id()
    manifest = json.dumps(rows).encode()
    answer = v12.post("/tasks/transfers", files={"file": ("l.json", manifest)})
    assert answer.status_code == 200
    (task,) = v12.get("/tasks").json()["data"]
    done = v12.wait(f"/tasks/{task['_id']}", terminal)
    assert done["status"] == "failed"
    assert "duration" not in done["metadata"]  # the file outside was never probed


def test_polling_one_index_copies_only_the_page(
    sandbox: SandboxServer, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lists read the cached records in place and copy only what they answer with."""
    store = sandbox.sandbox.store
    marengo, pegasus = api.index_id("marengo"), api.index_id("pegasus")
    now = time.time()
    for n in range(120):
        index_id = marengo if n % 4 else pegasus
        store.put(
            TaskRecord(
                id=f"{n:024x}",
                index_id=index_id,
                video_id=f"{n + 1000:024x}",
                created=now + n,
                media=MediaInfo(filename=f"{n}.mp4", duration=60.0, width=640, height=360),
                phases={"validating": now - 10, "ready": now - 5},
                source="file",
            )
        )
    copies: list[object] = []
    real_copy = store_module._copy

    def counting_copy(record: Any) -> Any:
        copies.append(record)
        return real_copy(record)

    monkeypatch.setattr(store_module, "_copy", counting_copy)
    page = api.get("/tasks", params={"index_id": pegasus, "page_limit": 7}).json()
    assert page["page_info"]["total_results"] == 30
    assert [t["_id"] for t in page["data"]] == [f"{n:024x}" for n in range(116, 88, -4)]
    assert len(copies) <= 7 + 1  # the page, and the index looked up
    copies.clear()
    listed = api.get("/indexes").json()["data"]
    assert {i["_id"]: i["video_count"] for i in listed} == {marengo: 90, pegasus: 30}
    assert not any(isinstance(c, TaskRecord) for c in copies)  # stats copy no task
