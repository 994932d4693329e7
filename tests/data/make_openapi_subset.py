"""Cut the vendor's OpenAPI document down to what the sandbox emulates.

    python tests/data/make_openapi_subset.py OPENAPI_JSON

OPENAPI_JSON is the vendor's whole document, downloaded from
https://docs.twelvelabs.io/openapi.json (docs/api-notes.md §0 says which copy was used). It is
not kept in this repository (0.54 MB of prose the tests do not read), so it must be named.

writes ``tests/data/openapi-v1.3-subset.json``: the upload-related paths and every component
they reference (transitively), with prose descriptions dropped. The contract tests read only
this file, so a fresh clone runs them without the vendor's document.

The ranges the vendor states only in prose ("**Max**: `50`") are added as ``minimum`` and
``maximum``, each after checking that its sentence is still in the description.

It also writes ``uploader_app/sandbox/requests-v1.3.json``: the request side of the subset
(query parameters and bodies, references resolved, unknown fields forbidden), which the
sandbox checks every request against (``uploader_app/sandbox/spec.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = HERE / "openapi-v1.3-subset.json"
SANDBOX_TARGET = HERE.parents[1] / "uploader_app" / "sandbox" / "requests-v1.3.json"
PATHS = (
    "/indexes",
    "/indexes/{index-id}",
    "/indexes/{index-id}/indexed-assets",
    "/indexes/{index-id}/indexed-assets/{indexed-asset-id}",
    "/indexes/{index-id}/videos",
    "/indexes/{index-id}/videos/{video-id}",
    "/tasks",
    "/tasks/{task_id}",
    "/assets",
    "/assets/{asset_id}",
    "/assets/multipart-uploads",
    "/assets/multipart-uploads/{upload_id}",
    "/assets/multipart-uploads/{upload_id}/presigned-urls",
)
PROSE = ("description", "summary", "example", "examples")
METHODS = ("get", "post", "put", "patch", "delete")

# Ranges and choices stated in prose: (where, the vendor's words that state it, the schema
# keywords that say it).
# "param:NAME" is that query parameter on every operation; "schema:C.P" is property P of
# component C.
RANGES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("param:page", "A number that identifies the page", {"minimum": 1}),
    ("param:sort_by", "- `created_at`", {"enum": ["created_at", "updated_at"]}),
    ("param:sort_option", "- `asc`", {"enum": ["asc", "desc"]}),
    ("param:model_family", "`marengo` or `pegasus`", {"enum": ["marengo", "pegasus"]}),
    ("param:page_limit", "**Max**: `50`", {"minimum": 1, "maximum": 50}),
    ("schema:RequestAdditionalPresignedURLsRequest.start", "numbered from 1", {"minimum": 1}),
    (
        "schema:RequestAdditionalPresignedURLsRequest.count",
        "a maximum of 50 URLs",
        {"minimum": 1, "maximum": 50},
    ),
    ("schema:CompletedChunk.chunk_index", "numbered starting from 1", {"minimum": 1}),
    ("schema:CompletedChunk.chunk_size", "The number of bytes uploaded", {"minimum": 1}),
    ("schema:CreateAssetUploadRequest.total_size", "The total size of the file", {"minimum": 1}),
)


def strip_prose(node: Any, in_properties: bool = False) -> Any:
    """Drop prose keys, but keep properties that happen to be named like them."""
    if isinstance(node, dict):
        return {
            k: strip_prose(v, in_properties=k == "properties" and not in_properties)
            for k, v in node.items()
            if in_properties or k not in PROSE
        }
    if isinstance(node, list):
        return [strip_prose(v) for v in node]
    return node


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node)) if node else set()
    return set()


def operations(paths: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in paths.items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def add_ranges(document: dict[str, Any], paths: dict[str, Any], kept: dict[str, Any]) -> None:
    """Write the prose ranges into the subset, once the source still says them."""
    for where, words, bounds in RANGES:
        kind, _, name = where.partition(":")
        found = 0
        if kind == "param":
            for method, path, operation in operations(paths):
                source = document["paths"][path][method].get("parameters", [])
                for param, original in zip(operation.get("parameters", []), source, strict=True):
                    if param["name"] == name and param["in"] == "query":
                        if words not in original.get("description", ""):
                            raise SystemExit(f"{method} {path} {name}: {words!r} is gone")
                        param["schema"].update(bounds)
                        found += 1
        else:
            component, _, prop = name.partition(".")
            original = document["components"]["schemas"][component]["properties"][prop]
            if words not in original.get("description", ""):
                raise SystemExit(f"{component}.{prop}: {words!r} is gone")
            kept[component]["properties"][prop].update(bounds)
            found = 1
        if not found:
            raise SystemExit(f"{where}: not in the subset")


def resolve(node: Any, schemas: dict[str, Any]) -> Any:
    """Inline every ``$ref`` and forbid fields an object schema does not name."""
    if isinstance(node, dict):
        if "$ref" in node:
            return resolve(schemas[node["$ref"].rsplit("/", 1)[-1]], schemas)
        tight = {k: resolve(v, schemas) for k, v in node.items() if k != "title"}
        if "properties" in tight and "additionalProperties" not in tight:
            tight["additionalProperties"] = False
        return tight
    if isinstance(node, list):
        return [resolve(v, schemas) for v in node]
    return node


def request_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """The request side of a subset: per operation, its query and its body."""
    schemas = document["components"]["schemas"]
    table: dict[str, Any] = {}
    for method, path, operation in operations(document["paths"]):
        query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        entry: dict[str, Any] = {
            "query": {
                "type": "object",
                "properties": {p["name"]: resolve(p["schema"], schemas) for p in query},
                "required": [p["name"] for p in query if p.get("required")],
                "additionalProperties": False,
            }
        }
        body = operation.get("requestBody")
        if body is not None:
            [(media_type, content)] = body["content"].items()
            entry["body"] = {
                "media_type": media_type,
                "schema": resolve(content["schema"], schemas),
            }
        table[f"{method.upper()} {path}"] = entry
    return table


def subset(document: dict[str, Any]) -> dict[str, Any]:
    paths = {p: strip_prose(document["paths"][p]) for p in PATHS}
    schemas = document["components"]["schemas"]
    kept: dict[str, Any] = {}
    todo = refs(paths)
    while todo:
        name = todo.pop().rsplit("/", 1)[-1]
        if name not in kept:
            kept[name] = strip_prose(schemas[name])
            todo |= refs(kept[name])
    add_ranges(document, paths, kept)
    return {
        "openapi": document["openapi"],
        "info": {
            "title": document["info"].get("title", "Twelve Labs API"),
            "version": document["info"].get("version", "1.3"),
            "x-subset-of": "https://docs.twelvelabs.io/openapi.json (see docs/api-notes.md §0)",
        },
        "servers": document.get("servers", []),
        "paths": paths,
        "components": {
            "schemas": dict(sorted(kept.items())),
            "securitySchemes": document["components"].get("securitySchemes", {}),
        },
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "source",
        metavar="OPENAPI_JSON",
        type=Path,
        help="the vendor's whole OpenAPI document (https://docs.twelvelabs.io/openapi.json)",
    )
    parser.add_argument("--subset", type=Path, default=TARGET, help=f"default: {TARGET}")
    parser.add_argument(
        "--requests", type=Path, default=SANDBOX_TARGET, help=f"default: {SANDBOX_TARGET}"
    )
    args = parser.parse_args(argv)
    document = json.loads(args.source.read_text(encoding="utf-8"))
    made = subset(document)
    args.subset.write_text(json.dumps(made, indent=1, sort_keys=False) + "\n")
    args.requests.write_text(json.dumps(request_schemas(made), indent=1) + "\n")
    print(f"wrote {args.subset} and {args.requests} from {args.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
