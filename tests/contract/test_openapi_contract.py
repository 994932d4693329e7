"""The sandbox's v1.3 answers validate against the vendor's own OpenAPI schemas.

The schemas come from ``tests/data/openapi-v1.3-subset.json`` (made by
``tests/data/make_openapi_subset.py``). The vendor's schemas allow any extra field, so they are
tightened here to ``additionalProperties: false``: a misspelt or invented field fails too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import (  # type: ignore[import-untyped]  # no stubs installed
    Draft202012Validator,
    FormatChecker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import TEST_API_KEY
from tests.media import VideoSpec, make_video
from tests.sandbox_http import Client, terminal
from uploader_app.sandbox.server import SandboxServer

SPEC_FILE = Path(__file__).resolve().parents[1] / "data" / "openapi-v1.3-subset.json"
BASE = "urn:twelvelabs:openapi-v1.3"
CHUNK = 8 * 1024

# (method, spec path, status) -> the bodies the sandbox sent for it
Seen = dict[tuple[str, str, int], list[Any]]

# jsonschema checks "date-time" and "uri" only with optional packages; check them here.
FORMATS = FormatChecker()
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _date_time(value: object) -> bool:
    return not isinstance(value, str) or RFC3339.fullmatch(value) is not None


def _uri(value: object) -> bool:
    return not isinstance(value, str) or re.match(r"https?://[^/\s]+/\S*$", value) is not None


FORMATS.checks("date-time")(_date_time)
FORMATS.checks("uri")(_uri)


def strict(node: Any) -> Any:
    """Forbid fields the vendor's schema does not name (objects with ``properties`` only)."""
    if isinstance(node, dict):
        tight = {k: strict(v) for k, v in node.items()}
        if "properties" in tight and "additionalProperties" not in tight:
            tight["additionalProperties"] = False
        return tight
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


@pytest.fixture(scope="module")
def registry() -> Registry:
    spec = strict(json.loads(SPEC_FILE.read_text(encoding="utf-8")))
    registry: Registry = Registry().with_resource(BASE, Resource.from_contents(spec, DRAFT202012))
    return registry


def pointer(method: str, path: str, status: int) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    response = f"{BASE}#/paths/{escaped}/{method.lower()}/responses/{status}"
    return f"{response}/content/application~1json/schema"


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seen]:
    """Drive every v1.3 endpoint once against a fresh sandbox and keep the answers."""
    folder = tmp_path_factory.mktemp("contract")
    clip = make_video(folder, VideoSpec(duration=5), "clip.mp4")
    short = make_video(folder, VideoSpec(duration=2), "short.mp4")
    server = SandboxServer(folder / "sb", api_key=TEST_API_KEY, speed=1000.0, chunk_size=CHUNK)
    server.start()
    try:
        yield _drive(Client(server), clip, short)
    finally:
        server.stop()


def _drive(api: Client, clip: Path, short: Path) -> Seen:
    got: Seen = {}

    def keep(method: str, spec_path: str, answer: requests.Response) -> Any:
        body = answer.json()
        got.setdefault((method, spec_path, answer.status_code), []).append(body)
        return body

    models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
    created = keep(
        "POST", "/indexes", api.post("/indexes", json={"index_name": "c", "models": models})
    )
    index_id = created["_id"]
    keep("POST", "/indexes", api.post("/indexes", json={"index_name": "c", "models": models}))
    keep("GET", "/indexes", api.get("/indexes"))
    keep("GET", "/indexes/{index-id}", api.get(f"/indexes/{index_id}"))
    keep("GET", "/indexes/{index-id}", api.get("/indexes/nope"))

    task = keep("POST", "/tasks", api.upload(index_id, clip))
    keep("POST", "/tasks", api.upload(index_id, short))
    keep("GET", "/tasks/{task_id}", api.get(f"/tasks/{task['_id']}"))
    api.wait(f"/tasks/{task['_id']}", terminal)
    keep("GET", "/tasks/{task_id}", api.get(f"/tasks/{task['_id']}"))
    keep("GET", "/tasks", api.get("/tasks", params={"status": ["ready", "indexing"]}))
    keep("GET", "/tasks", api.get("/tasks", params={"page_limit": 99}))
    keep("GET", "/indexes/{index-id}/videos", api.get(f"/indexes/{index_id}/videos"))
    keep(
        "GET",
        "/indexes/{index-id}/videos/{video-id}",
        api.get(f"/indexes/{index_id}/videos/{task['video_id']}"),
    )

    with clip.open("rb") as fh:
        asset = keep(
            "POST",
            "/assets",
            api.post(
                "/assets",
                data={"method": "direct", "user_metadata": '{"a": 1}'},
                files={"file": fh},
            ),
        )
    api.wait(f"/assets/{asset['_id']}", lambda b: b["status"] != "processing")
    keep("GET", "/assets/{asset_id}", api.get(f"/assets/{asset['_id']}"))
    keep("GET", "/assets", api.get("/assets"))

    data = clip.read_bytes()
    session = keep(
        "POST",
        "/assets/multipart-uploads",
        api.post(
            "/assets/multipart-uploads",
            json={"filename": "clip.mp4", "type": "video", "total_size": len(data)},
        ),
    )
    upload_id = session["upload_id"]
    keep("GET", "/assets/multipart-uploads", api.get("/assets/multipart-uploads"))
    urls = keep(
        "POST",
        "/assets/multipart-uploads/{upload_id}/presigned-urls",
        api.post(
            f"/assets/multipart-uploads/{upload_id}/presigned-urls",
            json={"start": 1, "count": session["total_chunks"]},
        ),
    )["upload_urls"]
    reports = []
    for item in urls:
        part = data[(item["chunk_index"] - 1) * CHUNK : item["chunk_index"] * CHUNK]
        etag = requests.put(item["url"], data=part, timeout=10).headers["ETag"]
        assert etag == f'"{hashlib.md5(part).hexdigest()}"'
        reports.append(
            {
                "chunk_index": item["chunk_index"],
                "proof": etag.strip('"'),
                "proof_type": "etag",
                "chunk_size": len(part),
            }
        )
    report_path = "/assets/multipart-uploads/{upload_id}"
    keep(
        "POST",
        report_path,
        api.post(f"/assets/multipart-uploads/{upload_id}", json={"completed_chunks": reports[:1]}),
    )
    keep("GET", report_path, api.get(f"/assets/multipart-uploads/{upload_id}"))
    keep(
        "POST",
        report_path,
        api.post(f"/assets/multipart-uploads/{upload_id}", json={"completed_chunks": reports}),
    )
    keep("GET", report_path, api.get(f"/assets/multipart-uploads/{upload_id}"))
    api.wait(f"/assets/{session['asset_id']}", lambda b: b["status"] != "processing")

    item_path = "/indexes/{index-id}/indexed-assets"
    item = keep(
        "POST",
        item_path,
        api.post(
            f"/indexes/{index_id}/indexed-assets",
            json={
                "asset_id": session["asset_id"],
                "enable_video_stream": True,
                "user_metadata": {"k": "v"},
            },
        ),
    )
    keep("POST", item_path, api.post(f"/indexes/{index_id}/indexed-assets", json={}))
    one = f"/indexes/{index_id}/indexed-assets/{item['_id']}"
    keep("GET", item_path + "/{indexed-asset-id}", api.get(one))
    api.wait(one, terminal)
    keep("GET", item_path + "/{indexed-asset-id}", api.get(one))
    keep("GET", item_path, api.get(f"/indexes/{index_id}/indexed-assets"))

    # Unknown ids: each answer must use a status the spec lists for that operation.
    video_path = "/indexes/{index-id}/videos"
    keep("GET", video_path, api.get("/indexes/nope/videos"))
    keep("GET", video_path + "/{video-id}", api.get(f"/indexes/{index_id}/videos/nope"))
    keep("DELETE", video_path + "/{video-id}", api.delete(f"/indexes/{index_id}/videos/nope"))
    keep("DELETE", video_path + "/{video-id}", api.delete("/indexes/nope/videos/nope"))
    keep("GET", item_path, api.get("/indexes/nope/indexed-assets"))
    keep("GET", item_path + "/{indexed-asset-id}", api.get(f"{one}x"))
    keep("DELETE", item_path + "/{indexed-asset-id}", api.delete(f"{one}x"))
    keep("DELETE", item_path + "/{indexed-asset-id}", api.delete("/indexes/nope/indexed-assets/x"))
    keep("POST", item_path, api.post("/indexes/nope/indexed-assets", json={"asset_id": "x"}))
    keep("GET", "/tasks/{task_id}", api.get("/tasks/nope"))
    keep("GET", "/assets/{asset_id}", api.get("/assets/nope"))
    keep("GET", report_path, api.get("/assets/multipart-uploads/nope"))
    return got


EXPECTED = [
    ("POST", "/indexes", 201),
    ("POST", "/indexes", 400),
    ("GET", "/indexes", 200),
    ("GET", "/indexes/{index-id}", 200),
    ("GET", "/indexes/{index-id}", 400),
    ("POST", "/tasks", 200),
    ("POST", "/tasks", 400),
    ("GET", "/tasks", 200),
    ("GET", "/tasks", 400),
    ("GET", "/tasks/{task_id}", 200),
    ("GET", "/indexes/{index-id}/videos", 200),
    ("GET", "/indexes/{index-id}/videos/{video-id}", 200),
    ("POST", "/assets", 201),
    ("GET", "/assets", 200),
    ("GET", "/assets/{asset_id}", 200),
    ("POST", "/assets/multipart-uploads", 201),
    ("GET", "/assets/multipart-uploads", 200),
    ("GET", "/assets/multipart-uploads/{upload_id}", 200),
    ("POST", "/assets/multipart-uploads/{upload_id}", 200),
    ("POST", "/assets/multipart-uploads/{upload_id}/presigned-urls", 200),
    ("POST", "/indexes/{index-id}/indexed-assets", 202),
    ("POST", "/indexes/{index-id}/indexed-assets", 400),
    ("GET", "/indexes/{index-id}/indexed-assets", 200),
    ("GET", "/indexes/{index-id}/indexed-assets/{indexed-asset-id}", 200),
    ("GET", "/indexes/{index-id}/videos", 400),
    ("DELETE", "/indexes/{index-id}/videos/{video-id}", 400),
    ("GET", "/indexes/{index-id}/indexed-assets", 400),
    ("DELETE", "/indexes/{index-id}/indexed-assets/{indexed-asset-id}", 400),
]


@pytest.mark.parametrize(("method", "path", "status"), EXPECTED)
def test_answers_match_the_vendor_schema(
    seen: Seen, registry: Registry, method: str, path: str, status: int
) -> None:
    bodies = seen.get((method, path, status))
    assert bodies, f"the sandbox never answered {method} {path} with {status}"
    validator = Draft202012Validator(
        {"$ref": pointer(method, path, status)},
        registry=registry,
        format_checker=FORMATS,
    )
    for body in bodies:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, f"{method} {path} {status}: {errors}\n{json.dumps(body)[:800]}"


def test_every_status_is_one_the_vendor_documents(seen: Seen) -> None:
    """A client written against the spec handles the statuses it lists, and no others."""
    paths = json.loads(SPEC_FILE.read_text(encoding="utf-8"))["paths"]
    undocumented = [
        f"{method} {path} -> {status}"
        for method, path, status in seen
        if str(status) not in paths[path][method.lower()]["responses"]
    ]
    assert not undocumented


def test_the_strict_schemas_do_catch_an_invented_field(registry: Registry) -> None:
    validator = Draft202012Validator(
        {"$ref": pointer("GET", "/tasks/{task_id}", 200)}, registry=registry
    )
    assert validator.is_valid({"_id": "x", "status": "ready"})
    assert not validator.is_valid({"_id": "x", "state": "ready"})
    assert not validator.is_valid({"_id": 5})
    dated = Draft202012Validator(
        {"$ref": pointer("GET", "/assets/{asset_id}", 200)},
        registry=registry,
        format_checker=FORMATS,
    )
    assert dated.is_valid({"created_at": "2026-11-25T09:12:44.153Z"})
    assert not dated.is_valid({"created_at": "2026-11-25 09:12"})


def test_error_answers_are_code_and_message(seen: Seen) -> None:
    errors = [b for (_, _, status), bodies in seen.items() if status >= 400 for b in bodies]
    assert errors
    for body in errors:
        assert set(body) == {"code", "message"}
        assert body["code"] and body["message"].endswith(".")


def test_the_subset_is_self_contained() -> None:
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    text = json.dumps(spec)
    names = set(spec["components"]["schemas"])
    referenced = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert referenced <= names
