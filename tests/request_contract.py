"""The app's client sends only what the vendor's request schemas allow.

Every sandbox the suite starts through ``start_sandbox`` logs each request in detail; after the
test, the requests the app's client sent (told by its User-Agent) are checked here with plain
``jsonschema`` against the schemas made from the vendor's OpenAPI document in ``tests/data``
(v1.2: the documented fields the sandbox carries, as v1.2 has no OpenAPI document).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs

from tests.data.make_openapi_subset import request_schemas
from uploader_app.api.transport import USER_AGENT
from uploader_app.sandbox.app import RequestRecord
from uploader_app.sandbox.spec import read_text

SUBSET = Path(__file__).resolve().parent / "data" / "openapi-v1.3-subset.json"


@cache
def _tables() -> dict[str, dict[str, Any]]:
    v12 = resources.files("uploader_app.sandbox").joinpath("requests-v1.2.json")
    return {
        "v1.3": request_schemas(json.loads(SUBSET.read_text(encoding="utf-8"))),
        "v1.2": json.loads(v12.read_text(encoding="utf-8")),
    }


def _operation(record: RequestRecord) -> dict[str, Any] | None:
    assert record.version is not None
    parts = record.path.split("/")[2:]  # without "", "v1.x"
    for key, operation in _tables()[record.version].items():
        method, _, template = key.partition(" ")
        pattern = template.split("/")[1:]
        if method == record.method and len(pattern) == len(parts):
            fixed = [(p, a) for p, a in zip(pattern, parts, strict=True) if not p.startswith("{")]
            if all(p == a for p, a in fixed):
                return dict(operation)
    return None


def _query(schema: dict[str, Any], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The query as JSON, each value read as the type its parameter names."""
    props: dict[str, Any] = schema["properties"]
    query: dict[str, Any] = {}
    for key, value in pairs:
        name, _, sub = key.rstrip("]").partition("[")
        prop = props.get(name, {})
        if sub:
            inner = prop.get("properties", {}).get(sub, {})
            query.setdefault(name, {})[sub] = read_text(value, inner)
        elif prop.get("type") == "array":
            query.setdefault(name, []).append(read_text(value, prop.get("items", {})))
        else:
            query[name] = read_text(value, prop) if name not in query else [query[name], value]
    return query


def _problems(record: RequestRecord) -> list[str]:
    operation = _operation(record)
    if operation is None:
        return ["no such operation in the vendor's document"]
    found = [
        e.message
        for e in Draft202012Validator(operation["query"]).iter_errors(
            _query(operation["query"], record.query)
        )
    ]
    body, sent = operation.get("body"), record.body or {}
    if body is not None and "json" in sent:
        found += [e.message for e in Draft202012Validator(body["schema"]).iter_errors(sent["json"])]
    if body is not None and "form" in sent:
        form = sent["form"]
        props = body["schema"]["properties"]
        instance = {k: read_text(v, props.get(k, {})) for k, v in form["fields"].items()}
        instance.update(dict.fromkeys(form["files"], "<file>"))
        found += [e.message for e in Draft202012Validator(body["schema"]).iter_errors(instance)]
        found += [
            f"{n} must be a file part" for n in form["fields"] if "binary" in str(props.get(n))
        ]
    return found


def client_request_problems(records: Iterable[RequestRecord]) -> list[str]:
    """One line per request of the app's client that the vendor's schemas would refuse."""
    lines = []
    for record in records:
        if record.user_agent != USER_AGENT or record.version is None:
            continue
        for problem in _problems(record):
            lines.append(f"{record.method} {record.path} {record.query}: {problem}")
    return lines
