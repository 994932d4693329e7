"""The sandbox refuses what the vendor refuses, on every route it serves.

The cases are generated from the vendor's OpenAPI document (``tests/data``) for v1.3 and from
the documented v1.2 fields (``uploader_app/sandbox/requests-v1.2.json``, v1.2 has no OpenAPI):
for each query, form and JSON field, a wrong type and an out-of-range value get
``parameter_invalid``, an unknown extra field ``parameter_unknown`` and a missing required
one ``parameter_not_provided``. A route added to the sandbox gets its cases with no new test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEST_API_KEY, StartSandbox
from tests.data.make_openapi_subset import request_schemas
from tests.integration.client_support import MARENGO, make_client
from tests.sandbox_http import Client, start_upload
from tests.vendor_contract import answer_problems, client_request_problems
from uploader_app.api.transport import USER_AGENT
from uploader_app.sandbox.app import ROUTES
from uploader_app.sandbox.server import SandboxServer
from uploader_app.sandbox.spec import shape

SUBSET = Path(__file__).resolve().parents[1] / "data" / "openapi-v1.3-subset.json"
FAKE_ID = "0123456789abcdef01234567"
BOGUS = "bogus_field"


def _tables() -> dict[str, dict[str, Any]]:
    v12 = resources.files("uploader_app.sandbox").joinpath("requests-v1.2.json")
    return {
        "v1.3": request_schemas(json.loads(SUBSET.read_text(encoding="utf-8"))),
        "v1.2": json.loads(v12.read_text(encoding="utf-8")),
    }


TABLES = _tables()


@dataclass
class Case:
    """One request and the code it must get."""

    version: str
    method: str
    path: str
    code: str
    name: str  # the field the answer must name
    query: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.version} {self.method} {self.path} {self.name} -> {self.code}"


def _served() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(version, method, spec path, operation) of every API route the sandbox serves."""
    for route in ROUTES:
        if not route.api:
            continue
        for version in sorted(route.versions):
            table = TABLES[version]
            matches = [k for k in table if k.split(" ")[0] == route.method]
            [key] = [k for k in matches if shape(k.split(" ", 1)[1]) == shape(route.path)]
            yield version, route.method, key.split(" ", 1)[1], table[key]


def _valid(schema: dict[str, Any]) -> Any:
    """A value the schema accepts (its required fields only, for objects)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _valid(props[k]) for k in schema.get("required", [])}
    if kind == "array":
        return [_valid(schema.get("items", {}))]
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    return FAKE_ID


def _wrong_json(schema: dict[str, Any]) -> list[Any]:
    """JSON values of the wrong type for the schema (no bool for a number, no float for an
    integer, no number for a string)."""
    kind = schema.get("type")
    wrong: dict[str, list[Any]] = {
        "integer": ["1", 1.5, 1.0, True],
        "number": ["1", True],
        "boolean": ["true", 1],
        "string": [1, True],
        "array": ["x", {}],
        "object": ["x", []],
    }
    return wrong.get(str(kind), [])


def _wrong_text(schema: dict[str, Any]) -> list[str]:
    """Query or form text that does not read as the schema's type (Python's int() and float()
    also read digits of other scripts, "\u0663" as 3; a JSON number has ASCII digits only; and
    int() refuses more than 4300 digits)."""
    wrong = {
        "integer": ["abc", "1.5", "\u0663", "9" * 5000],
        "number": ["abc", "\u0661.\u0665"],
        "boolean": ["maybe"],
    }
    return wrong.get(str(schema.get("type")), [])


def _out_of_range(schema: dict[str, Any]) -> list[Any]:
    values: list[Any] = []
    if "minimum" in schema:
        values.append(schema["minimum"] - 1)
    if "maximum" in schema:
        values.append(schema["maximum"] + 1)
    if "enum" in schema:
        values.append("not-a-choice")
    return values


def _json_cases(base: Case, schema: dict[str, Any], at: list[str], body: Any) -> Iterator[Case]:
    """Cases for every field of a JSON object schema, recursing into objects and lists."""

    def variant(value: Any, where: list[str | int], code: str, name: str) -> Case:
        copy = json.loads(json.dumps(body))
        target = copy
        for step in where[:-1]:
            target = target[step]
        if value is _MISSING:
            del target[where[-1]]
        else:
            target[where[-1]] = value
        return Case(base.version, base.method, base.path, code, name, json=copy)

    props = schema.get("properties", {})
    yield variant(1, [*at, BOGUS], "parameter_unknown", BOGUS)
    for key in schema.get("required", []):
        yield variant(_MISSING, [*at, key], "parameter_not_provided", key)
    for key, prop in props.items():
        for value in [*_wrong_json(prop), *_out_of_range(prop)]:
            yield variant(value, [*at, key], "parameter_invalid", key)
        if prop.get("type") == "object" and "properties" in prop:
            inner = json.loads(json.dumps(body))
            _place(inner, [*at, key], _valid(prop))
            yield from _json_cases(base, prop, [*at, key], inner)
        items = prop.get("items", {})
        if prop.get("type") == "array" and items.get("type") == "object":
            inner = json.loads(json.dumps(body))
            _place(inner, [*at, key], [_valid(items)])
            yield from _json_cases(base, items, [*at, key, 0], inner)  # type: ignore[list-item]
        elif prop.get("type") == "array":
            for value in [*_wrong_json(items), *_out_of_range(items)]:
                yield variant([value], [*at, key], "parameter_invalid", key)


_MISSING = object()


def _place(body: Any, where: list[Any], value: Any) -> None:
    for step in where[:-1]:
        body = body[step]
    body[where[-1]] = value


def _query_cases(base: Case, schema: dict[str, Any]) -> Iterator[Case]:
    def with_query(extra: list[tuple[str, str]], code: str, name: str, drop: str = "") -> Case:
        kept = [(k, v) for k, v in base.query if k != drop]
        return Case(base.version, base.method, base.path, code, name, query=kept + extra)

    props: dict[str, Any] = schema["properties"]
    free_form = any(isinstance(p.get("additionalProperties"), dict) for p in props.values())
    # A bare unknown key is a user_metadata filter where the vendor documents one, so the
    # unknown field there is a sub-key that no parameter has.
    unknown = f"{BOGUS}[x]" if free_form else BOGUS
    yield with_query([(unknown, "1")], "parameter_unknown", unknown)
    for name in schema.get("required", []):
        yield with_query([], "parameter_not_provided", name, drop=name)
    for name, prop in props.items():
        if prop.get("type") == "object":
            for sub, inner in prop.get("properties", {}).items():
                for text in [*_wrong_text(inner), *map(str, _out_of_range(inner))]:
                    yield with_query([(f"{name}[{sub}]", text)], "parameter_invalid", name)
            if "properties" in prop:
                yield with_query([(name, "5")], "parameter_invalid", name)
                yield with_query([(f"{name}[{BOGUS}]", "1")], "parameter_unknown", BOGUS)
            continue
        target = prop.get("items", {}) if prop.get("type") == "array" else prop
        for text in [*_wrong_text(target), *map(str, _out_of_range(target))]:
            yield with_query([(name, text)], "parameter_invalid", name, drop=name)
        if prop.get("type") != "array":
            valid = str(_valid(prop)).lower()
            yield with_query([(name, valid), (name, valid)], "parameter_invalid", name, drop=name)


def _form_cases(base: Case, schema: dict[str, Any]) -> Iterator[Case]:
    def form(fields: dict[str, str], files: dict[str, bytes], code: str, name: str) -> Case:
        return Case(base.version, base.method, base.path, code, name, fields=fields, files=files)

    props: dict[str, Any] = schema["properties"]
    yield form({**base.fields, BOGUS: "1"}, base.files, "parameter_unknown", BOGUS)
    yield form(base.fields, {**base.files, BOGUS: b"x"}, "parameter_unknown", BOGUS)
    for name in schema.get("required", []):
        fields = {k: v for k, v in base.fields.items() if k != name}
        files = {k: v for k, v in base.files.items() if k != name}
        yield form(fields, files, "parameter_not_provided", name)
    for name, prop in props.items():
        if prop.get("format") == "binary":
            yield form({**base.fields, name: "text"}, base.files, "parameter_invalid", name)
            continue
        yield form(base.fields, {**base.files, name: b"x"}, "parameter_invalid", name)
        for text in [*_wrong_text(prop), *map(str, _out_of_range(prop))]:
            yield form({**base.fields, name: text}, base.files, "parameter_invalid", name)


def _cases() -> Iterator[Case]:
    for version, method, path, operation in _served():
        url_path = path.replace("{", "").replace("}", "")
        for part in {p for p in url_path.split("/") if p.endswith("id")}:
            url_path = url_path.replace(part, FAKE_ID)
        query_schema = operation["query"]
        base = Case(version, method, url_path, "", "")
        base.query = [
            (k, str(_valid(query_schema["properties"][k])))
            for k in query_schema.get("required", [])
        ]
        yield from _query_cases(base, query_schema)
        body = operation.get("body")
        if body is None:
            continue
        schema = body["schema"]
        if body["media_type"] == "application/json":
            yield from _json_cases(base, schema, [], _valid(schema))
            continue
        for name in schema.get("required", []):
            if schema["properties"][name].get("format") == "binary":
                base.files[name] = b"[]"
            else:
                base.fields[name] = str(_valid(schema["properties"][name]))
        yield from _form_cases(base, schema)


CASES = list(_cases())


def test_the_sandbox_serves_the_v13_schemas_made_from_the_vendor_document() -> None:
    packaged = resources.files("uploader_app.sandbox").joinpath("requests-v1.3.json")
    assert json.loads(packaged.read_text(encoding="utf-8")) == TABLES["v1.3"]


def test_every_api_route_has_cases() -> None:
    routes = {(v, m, shape(p)) for v, m, p, _ in _served()}
    covered = {(c.version, c.method, c.path) for c in CASES}  # one concrete path per route
    assert len(routes) == sum(len(r.versions) for r in ROUTES if r.api)
    assert len(covered) == len(routes)


@pytest.fixture(scope="module")
def strict_sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[requests.Session, str]]:
    """One sandbox for every case, and a session that keeps its connection."""
    folder = tmp_path_factory.mktemp("strict")
    server = SandboxServer(folder, api_key=TEST_API_KEY, speed=1000.0, rate_limit=100_000)
    server.start()
    session = requests.Session()
    session.headers["x-api-key"] = TEST_API_KEY
    try:
        yield session, server.url
        # Every refusal is an answer the vendor documents, in the vendor's error shape.
        assert not answer_problems(server.request_records)
    finally:
        session.close()
        server.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_the_sandbox_refuses_what_the_vendor_refuses(
    strict_sandbox: tuple[requests.Session, str], case: Case
) -> None:
    session, base = strict_sandbox
    url = f"{base}/{case.version}{case.path}"
    kwargs: dict[str, Any] = {"params": case.query, "timeout": 10}
    if case.json is not None:
        kwargs["json"] = case.json
    elif case.fields or case.files:
        # Every form goes as multipart, as the vendor's SDK sends it.
        kwargs["files"] = {
            **{k: (None, v) for k, v in case.fields.items()},
            **{k: (f"{k}.bin", v) for k, v in case.files.items()},
        }
    answer = session.request(case.method, url, **kwargs)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == case.code, answer.text
    assert case.name in answer.json()["message"]


def test_the_wire_hook_checks_client_requests_and_sandbox_answers(
    sandbox: SandboxServer, video: Callable[..., Path]
) -> None:
    client = make_client(sandbox)
    index_id = client.create_index("hook", [MARENGO]).id
    client.create_task_from_file(index_id, video(duration=5))
    client.list_tasks(index_id=index_id, status=["ready"])
    records = sandbox.request_records
    assert not client_request_problems(records)
    sent = {r.method: r for r in records}
    assert sent["GET"].query
    form = next(r.body for r in records if r.body and "form" in r.body)
    assert form is not None
    assert form["form"]["files"] == ["video_file"]
    forged = [
        sent["GET"]._replace(query=[*sent["GET"].query, ("status", "done")]),
        sent["GET"]._replace(query=[*sent["GET"].query, ("bogus", "1")]),
        next(r for r in records if r.body and "json" in r.body)._replace(
            body={"json": {"index_name": "x", "models": [], "bogus": 1}}
        ),
        records[-1]._replace(user_agent="curl/8"),  # not the app's: not checked
    ]
    problems = client_request_problems(forged)
    assert len(problems) == 3, problems
    assert not answer_problems(records)
    listed = sent["GET"]
    bad_answers = [
        listed._replace(answer={**listed.answer, "bogus": 1}),
        listed._replace(answer={"data": [{"_id": 5}], "page_info": listed.answer["page_info"]}),
        listed._replace(status=418),
    ]
    assert len(answer_problems(bad_answers)) == 3


def test_the_examples_of_the_issue_are_refused(start_sandbox: StartSandbox) -> None:
    server = start_sandbox(chunk_size=8 * 1024)
    api = Client(server)
    models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
    made = api.post("/indexes", json={"index_name": "x", "models": models, "bogus": True})
    assert made.json()["code"] == "parameter_unknown"
    assert not [i for i in api.get("/indexes").json()["data"] if i["index_name"] == "x"]
    upload_id = start_upload(api, 20 * 1024)["upload_id"]
    more = f"/assets/multipart-uploads/{upload_id}/presigned-urls"
    unknown = api.post(more, json={"start": 1, "count": 1, "bogus": 1})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "parameter_unknown")
    flags = api.post(more, json={"start": True, "count": True})
    assert (flags.status_code, flags.json()["code"]) == (400, "parameter_invalid")
    assert "start" in flags.json()["message"] and "count" in flags.json()["message"]
    assert api.post(more, json={"start": 1, "count": 1}).json()["start_index"] == 1


def test_the_wire_hook_sees_the_bodies_the_sandbox_refused(tmp_path: Path) -> None:
    """A client request that the sandbox refuses is still the client's bug: a test that
    expects some failure must not pass over it because the body went unrecorded."""
    server = SandboxServer(tmp_path, api_key=TEST_API_KEY, speed=1000.0)
    server.start()
    try:
        session = requests.Session()
        session.headers.update({"x-api-key": TEST_API_KEY, "User-Agent": USER_AGENT})
        base = server.base_url()
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        made = session.post(
            f"{base}/indexes", json={"index_name": "x", "models": models, BOGUS: 1}, timeout=10
        )
        form = {"index_id": (None, FAKE_ID), "video_url": (None, "https://e.com/a.mp4")}
        task = session.post(f"{base}/tasks", files={**form, BOGUS: (None, "1")}, timeout=10)
        assert [made.json()["code"], task.json()["code"]] == ["parameter_unknown"] * 2
        problems = client_request_problems(server.request_records)
    finally:
        server.stop()
    assert len(problems) == 2, problems
    assert all(BOGUS in problem for problem in problems), problems
