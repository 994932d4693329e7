"""The vendor's OpenAPI schemas as checks on what crossed the wire.

Every sandbox the suite starts through ``start_sandbox`` logs each request in detail. After
the test, the requests the app's client sent (told by its User-Agent) are checked with plain
``jsonschema`` against the request schemas made from the vendor's OpenAPI document in
``tests/data`` (v1.2: the documented fields the sandbox carries, as v1.2 has no OpenAPI
document), and every v1.3 JSON answer of the sandbox against the vendor's response schemas,
tightened so that a field the vendor does not name fails too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import (  # type: ignore[import-untyped]  # no stubs installed
    Draft202012Validator,
    FormatChecker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.data.make_openapi_subset import request_schemas
from uploader_app.api.transport import USER_AGENT
from uploader_app.sandbox.app import RequestRecord
from uploader_app.sandbox.spec import read_text

SUBSET = Path(__file__).resolve().parent / "data" / "openapi-v1.3-subset.json"
# Statuses any operation may answer: a wrong key, the rate limit (the vendor's error-code page)
# and a crash of the sandbox itself, which a test provokes on purpose.
UNLISTED_STATUSES = frozenset({401, 429, 500})
BASE = "urn:twelvelabs:openapi-v1.3"

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


@cache
def vendor_registry() -> Registry:
    """The subset, tightened with ``strict``, under ``BASE`` for ``$ref`` by ``pointer``."""
    spec = strict(json.loads(SUBSET.read_text(encoding="utf-8")))
    registry: Registry = Registry().with_resource(BASE, Resource.from_contents(spec, DRAFT202012))
    return registry


def pointer(method: str, path: str, status: int) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    response = f"{BASE}#/paths/{escaped}/{method.lower()}/responses/{status}"
    return f"{response}/content/application~1json/schema"


@cache
def _tables() -> dict[str, dict[str, Any]]:
    v12 = resources.files("uploader_app.sandbox").joinpath("requests-v1.2.json")
    return {
        "v1.3": request_schemas(_subset()),
        "v1.2": json.loads(v12.read_text(encoding="utf-8")),
    }


def _template(record: RequestRecord) -> str | None:
    """The vendor's path for the request (``/indexes/{index-id}``), if it has one."""
    assert record.version is not None
    parts = record.path.split("/")[2:]  # without "", "v1.x"
    found: list[tuple[int, str]] = []
    for key in _tables()[record.version]:
        method, _, template = key.partition(" ")
        pattern = template.split("/")[1:]
        if method == record.method and len(pattern) == len(parts):
            fixed = [(p, a) for p, a in zip(pattern, parts, strict=True) if not p.startswith("{")]
            if all(p == a for p, a in fixed):
                found.append((len(fixed), template))
    # /assets/multipart-uploads is not /assets/{asset_id}: the most literal path wins.
    return max(found)[1] if found else None


def _operation(record: RequestRecord) -> dict[str, Any] | None:
    template = _template(record)
    assert record.version is not None
    return (
        None if template is None else dict(_tables()[record.version][f"{record.method} {template}"])
    )


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


@cache
def _subset() -> dict[str, Any]:
    # Read once: parsing the document for every answer took 40% of this check's time.
    subset: dict[str, Any] = json.loads(SUBSET.read_text(encoding="utf-8"))
    return subset


def _documented_statuses(method: str, template: str) -> dict[str, Any]:
    responses: dict[str, Any] = _subset()["paths"][template][method.lower()]["responses"]
    return responses


def answer_problems(records: Iterable[RequestRecord]) -> list[str]:
    """One line per v1.3 JSON answer the vendor's response schemas would refuse."""
    lines = []
    for record in records:
        if record.version != "v1.3" or record.answer is None:
            continue
        template = _template(record)
        if template is None:
            continue
        where = f"{record.method} {record.path} -> {record.status}"
        if str(record.status) not in _documented_statuses(record.method, template):
            if record.status not in UNLISTED_STATUSES:
                lines.append(f"{where}: a status the vendor does not list for it")
            continue
        validator = Draft202012Validator(
            {"$ref": pointer(record.method, template, record.status)},
            registry=vendor_registry(),
            format_checker=FORMATS,
        )
        for error in validator.iter_errors(record.answer):
            lines.append(f"{where}: {list(error.absolute_path)}: {error.message}")
    return lines
