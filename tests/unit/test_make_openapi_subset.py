"""tests/data/make_openapi_subset.py: reproduces the committed files from a document it is
given, and reads nothing outside the repository."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.data import make_openapi_subset as maker

REQUESTS = maker.SANDBOX_TARGET


def _with_prose(subset: dict[str, Any]) -> dict[str, Any]:
    """The committed subset with the vendor's sentences put back where RANGES looks for them,
    and a description on every path: a stand-in for the vendor's whole document."""
    document = copy.deepcopy(subset)
    for where, words, _ in maker.RANGES:
        kind, _, name = where.partition(":")
        if kind == "param":
            for _, _, operation in maker.operations(document["paths"]):
                for param in operation.get("parameters", []):
                    if param["name"] == name and param["in"] == "query":
                        param["description"] = f"The vendor says: {words}."
        else:
            component, _, prop = name.partition(".")
            schema = document["components"]["schemas"][component]["properties"][prop]
            schema["description"] = f"The vendor says: {words}."
    for item in document["paths"].values():
        item["summary"] = "prose the subset drops"
    return document


def test_the_committed_files_are_what_the_script_makes(tmp_path: Path) -> None:
    committed = json.loads(maker.TARGET.read_text(encoding="utf-8"))
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(_with_prose(committed)), encoding="utf-8")
    subset, requests = tmp_path / "subset.json", tmp_path / "requests.json"

    assert maker.main([str(source), "--subset", str(subset), "--requests", str(requests)]) == 0

    assert _read(subset) == committed
    assert _read(requests) == _read(REQUESTS)


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_vendor_sentence_gone_stops_the_script(tmp_path: Path) -> None:
    document = _with_prose(json.loads(maker.TARGET.read_text(encoding="utf-8")))
    document["components"]["schemas"]["CompletedChunk"]["properties"]["chunk_index"].pop(
        "description"
    )
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    out = ["--subset", str(tmp_path / "s.json"), "--requests", str(tmp_path / "r.json")]
    with pytest.raises(SystemExit, match="chunk_index"):
        maker.main([str(source), *out])
    assert not (tmp_path / "s.json").exists()


def test_the_vendor_document_must_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    """No default: the repository never reads a path outside itself."""
    with pytest.raises(SystemExit) as stopped:
        maker.main([])
    assert stopped.value.code == 2
    assert "OPENAPI_JSON" in capsys.readouterr().err
    repo = Path(__file__).resolve().parents[2]
    for name in ("TARGET", "SANDBOX_TARGET"):
        assert getattr(maker, name).is_relative_to(repo)
