"""Manifest documents: byte-for-byte round trip, layout kept after edits, edits and undo."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uploader_app.manifest.document import ManifestDocument

DATA = Path(__file__).resolve().parents[2] / "data" / "manifests"
INDEX = "6298d673f1090f1100476d4c"
OTHER = "6298d673f1090f1100476d4d"

# Odd but valid: unknown fields (nested), a key order of its own, 4-space indent, CRLF, a BOM,
# non-ASCII text, numbers that JSON could write differently (1.0, 1e3).
ODD = (
    "\ufeff[\r\n"
    "    {\r\n"
    '        "object": "s3://bucket-1/Vidéos/01.mp4",\r\n'
    '        "index_id": "6298d673f1090f1100476d4c",\r\n'
    '        "note": {"by": "Zoë", "tags": ["a", 1.0, 1e3, true, null]},\r\n'
    '        "language": "fr"\r\n'
    "    },\r\n"
    "    {\r\n"
    '        "index_id": "6298d673f1090f1100476d4c",\r\n'
    '        "language": "en",\r\n'
    '        "object": "s3://bucket-1/02.mp4",\r\n'
    '        "transcription": "s3://bucket-1/02.vtt",\r\n'
    '        "x-extra": 7\r\n'
    "    }\r\n"
    "]"
)


@pytest.mark.parametrize(
    "raw",
    [
        (DATA / "vendor-guide-example.json").read_bytes(),
        ODD.encode("utf-8"),
        b'[{"index_id":"6298d673f1090f1100476d4c","language":"en","object":"s3://b-1/a.mp4"}]',
        b"not json at all {",
        b"\xff\xfe broken",
    ],
    ids=["vendor", "odd", "compact", "broken", "binary"],
)
def test_unchanged_document_saves_byte_for_byte(raw: bytes, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_bytes(raw)
    document = ManifestDocument.load(source)
    assert not document.modified
    document.save(tmp_path / "out.json")
    assert (tmp_path / "out.json").read_bytes() == raw


def test_edit_then_undo_gives_the_original_bytes_back() -> None:
    raw = ODD.encode("utf-8")
    document = ManifestDocument(raw)
    document.set_field([0, 1], "language", "de")
    document.remove_rows([0])
    assert document.to_bytes() != raw
    document.undo()
    document.undo()
    assert not document.modified
    assert document.to_bytes() == raw


def test_an_edit_keeps_unknown_fields_order_and_layout() -> None:
    document = ManifestDocument(ODD.encode("utf-8"))
    document.set_field([1], "language", "ko")
    out = document.to_bytes()
    assert out.startswith(b"\xef\xbb\xbf[\r\n    {\r\n        ")  # BOM, CRLF, 4 spaces
    text = out.decode("utf-8-sig")
    rows = json.loads(text)
    assert list(rows[0]) == ["object", "index_id", "note", "language"]
    assert rows[0]["note"] == {"by": "Zoë", "tags": ["a", 1.0, 1e3, True, None]}
    assert rows[1]["x-extra"] == 7
    assert rows[1]["language"] == "ko"
    assert "Zoë" in text  # not escaped, as in the original
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")


def test_a_one_value_edit_is_a_one_line_change(tmp_path: Path) -> None:
    """For a file laid out as json.dumps(indent=2) writes it (the dashboard's download)."""
    original = (DATA / "vendor-guide-example.json").read_text()
    document = ManifestDocument(original.encode())
    document.set_field([0], "index_id", "629d807aa9e2a3a33a92c00b")
    document.save(tmp_path / "fixed.json")
    changed = [
        line
        for line in difflib.unified_diff(
            original.splitlines(), (tmp_path / "fixed.json").read_text().splitlines(), n=0
        )
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        '-    "index_id": "629d807aa9e2a3a33a92c00b1",',
        '+    "index_id": "629d807aa9e2a3a33a92c00b",',
    ]


@settings(max_examples=100, deadline=None, database=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.text(min_size=1, max_size=8),
            st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()),
            max_size=5,
        ),
        min_size=1,
        max_size=5,
    ),
    indent=st.sampled_from([None, 1, 2, 4, "\t"]),
    language=st.sampled_from(["en", "fr", "ja"]),
)
def test_round_trip_keeps_every_field_and_the_indent(
    rows: list[dict[str, Any]], indent: int | str | None, language: str
) -> None:
    raw = json.dumps(rows, indent=indent, ensure_ascii=False).encode("utf-8")
    document = ManifestDocument(raw)
    assert document.to_bytes() == raw
    document.set_field(range(len(rows)), "language", language)
    expected = [{**r, "language": language} for r in rows]
    out = document.to_bytes()
    assert json.loads(out) == expected
    assert [list(r) for r in json.loads(out)] == [list(r) for r in expected]  # key order
    assert out == json.dumps(expected, indent=indent, ensure_ascii=False).encode("utf-8")


def test_set_index_and_language_on_selected_rows_then_undo_redo() -> None:
    document = ManifestDocument((DATA / "vendor-guide-example.json").read_bytes())
    document.set_field([0, 1], "index_id", OTHER)
    document.set_field([1], "language", "fr")
    assert [r["index_id"] for r in document.rows] == [OTHER, OTHER]
    assert document.rows[1]["language"] == "fr"
    assert document.undo_label == "Set language"
    document.undo()
    assert document.rows[1]["language"] == "en"
    assert document.redo_label == "Set language"
    document.redo()
    assert document.rows[1]["language"] == "fr"
    document.undo()
    document.undo()
    assert not document.can_undo and document.can_redo
    assert [r["index_id"] for r in document.rows][1] == "629d807aa9e2a3a33a92c00b"


def test_add_and_remove_rows_with_undo() -> None:
    document = ManifestDocument((DATA / "vendor-guide-example.json").read_bytes())
    new = {"index_id": INDEX, "language": "en", "object": "s3://b-1/03.mp4"}
    document.add_rows([new], at=1)
    assert [r["object"] for r in document.rows] == [
        "s3://twelve-labs-docs/01.mp4",
        "s3://b-1/03.mp4",
        "s3://twelve-labs-docs/02.mp4",
    ]
    document.remove_rows([0, 2])
    assert [r["object"] for r in document.rows] == ["s3://b-1/03.mp4"]
    document.undo()
    assert len(document.rows) == 3
    document.undo()
    assert len(document.rows) == 2 and not document.modified


def test_a_new_edit_clears_redo_and_a_no_op_is_not_recorded() -> None:
    document = ManifestDocument((DATA / "vendor-guide-example.json").read_bytes())
    document.set_field([0], "language", "en")  # already en
    assert not document.can_undo
    document.set_field([0], "language", "fr")
    document.undo()
    document.set_field([0], "language", "de")
    assert not document.can_redo


def test_removing_a_field_and_rows_that_are_not_objects() -> None:
    document = ManifestDocument(b'[{"index_id": "x", "transcription": "s3://b-1/a.srt"}, 5]')
    document.set_field([0, 1], "transcription", None)
    assert document.rows == [{"index_id": "x"}, 5]


def test_save_marks_saved_and_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_bytes((DATA / "vendor-guide-example.json").read_bytes())
    document = ManifestDocument.load(path)
    document.set_field([0], "language", "fr")
    assert document.to_bytes() != path.read_bytes()
    document.save()
    assert not document.modified
    assert json.loads(path.read_text())[0]["language"] == "fr"
    assert [p.name for p in tmp_path.iterdir()] == ["list.json"]  # no temporary left behind
    assert ManifestDocument.load(path).to_bytes() == path.read_bytes()


def test_row_lines_follow_the_file_until_rows_move() -> None:
    document = ManifestDocument((DATA / "vendor-guide-example.json").read_bytes())
    assert [document.row_line(0), document.row_line(1)] == [2, 8]
    document.set_field([1], "language", "fr")
    assert document.row_line(0) == 2  # row 1 is unchanged, so its line still holds
    document.remove_rows([0])
    assert document.row_line(0) is None
