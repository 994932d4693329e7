"""Cut the vendor's OpenAPI document down to what the sandbox emulates.

    python tests/data/make_openapi_subset.py [../shared/api/openapi-v1.3.json]

writes ``tests/data/openapi-v1.3-subset.json``: the upload-related paths and every component
they reference (transitively), with prose descriptions dropped. The contract tests read only
this file, so a fresh clone runs them without the shared folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "api" / "openapi-v1.3.json"
TARGET = HERE / "openapi-v1.3-subset.json"
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
    return {
        "openapi": document["openapi"],
        "info": {
            "title": document["info"].get("title", "Twelve Labs API"),
            "version": document["info"].get("version", "1.3"),
            "x-subset-of": "https://docs.twelvelabs.io/openapi.json (see ../shared/api/README.md)",
        },
        "servers": document.get("servers", []),
        "paths": paths,
        "components": {
            "schemas": dict(sorted(kept.items())),
            "securitySchemes": document["components"].get("securitySchemes", {}),
        },
    }


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    document = json.loads(source.read_text(encoding="utf-8"))
    TARGET.write_text(json.dumps(subset(document), indent=1, sort_keys=False) + "\n")
    print(f"wrote {TARGET} from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
