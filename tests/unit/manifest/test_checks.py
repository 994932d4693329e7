# ruff: noqa: E501  (the broken-manifest table reads best as one case per line)
"""Manifest checks: the vendor's own example, 40+ broken manifests, and a fuzzer over the JSON.

Every broken manifest must name the right row and field, and checking must never crash and
never open a connection (a socket guard fails the test if anything tries).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uploader_app.manifest.checks import MAX_ROWS, Problem, Severity, check_document, is_valid
from uploader_app.manifest.document import ManifestDocument

DATA = Path(__file__).resolve().parents[2] / "data" / "manifests"
INDEX = "6298d673f1090f1100476d4c"
GOOD_ROW = {
    "index_id": INDEX,
    "language": "en",
    "object": "s3://twelve-labs-docs/01.mp4",
    "transcription": "s3://twelve-labs-docs/01.srt",
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Checking a manifest sends nothing: any connection attempt fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a manifest check tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def check_text(text: str | bytes) -> list[Problem]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return check_document(ManifestDocument(raw))


def rows_text(*rows: Any) -> str:
    return json.dumps(list(rows), indent=2)


def row(**changes: Any) -> dict[str, Any]:
    """GOOD_ROW with fields changed; a value of ``...`` removes the field."""
    made = dict(GOOD_ROW)
    for key, value in changes.items():
        if value is ...:
            made.pop(key, None)
        else:
            made[key] = value
    return made


def test_the_vendor_guide_example_names_row_1_index_id() -> None:
    """The guide's example has a 25-character index id in row 1 (and 24 in row 2)."""
    problems = check_document(ManifestDocument.load(DATA / "vendor-guide-example.json"))
    assert [(p.row, p.field, p.code, p.line) for p in problems] == [
        (1, "index_id", "index_id_invalid", 2)
    ]
    assert "25 characters" in problems[0].message
    assert "24" in problems[0].message
    assert problems[0].hint


def test_the_vendor_example_with_the_id_fixed_is_valid() -> None:
    document = ManifestDocument.load(DATA / "vendor-guide-example.json")
    document.set_field([0], "index_id", "629d807aa9e2a3a33a92c00b")
    assert check_document(document) == []


def test_the_other_guide_format_one_line_with_spaces_is_valid() -> None:
    """The cloud-to-cloud guide prints the list on one line with spaces inside brackets."""
    text = (
        '[ { "index_id": "6298d673f1090f1100476d4c", "language": "en", "object": '
        '"s3://twelve-labs-docs/01.mp4", "transcription": "s3://twelve-labs-docs/01.srt" }, '
        '{ "index_id": "6298d673f1090f1100476d4c", "language": "en", "object": '
        '"s3://twelve-labs-docs/02.mp4", "transcription": "s3://twelve-labs-docs/02.srt" } ]'
    )
    assert check_text(text) == []


def test_the_vendor_text_copy_with_empty_transcription_keys() -> None:
    """The guide's plain-text copy lost the file names: "s3://twelve-labs-docs/"."""
    problems = check_text(rows_text(row(transcription="s3://twelve-labs-docs/")))
    assert [(p.row, p.field, p.code) for p in problems] == [
        (1, "transcription", "transcription_invalid")
    ]
    assert "no file" in problems[0].message


# (case name, manifest text, (row, field, code) of the problem it must report first)
BROKEN: list[tuple[str, str, tuple[int | None, str | None, str]]] = [
    ("empty file", "", (None, None, "json_invalid")),
    ("only spaces", "   \n", (None, None, "json_invalid")),
    ("truncated", rows_text(GOOD_ROW)[:-3], (None, None, "json_invalid")),
    ("missing comma", rows_text(GOOD_ROW, GOOD_ROW).replace("},", "}", 1), (None, None, "json_invalid")),
    ("trailing comma", rows_text(GOOD_ROW).replace('.srt"', '.srt",'), (None, None, "json_invalid")),
    ("single quotes", rows_text(GOOD_ROW).replace('"en"', "'en'"), (None, None, "json_invalid")),
    ("unquoted key", rows_text(GOOD_ROW).replace('"language"', "language"), (None, None, "json_invalid")),
    ("text after the list", rows_text(GOOD_ROW) + "\nextra", (None, None, "json_invalid")),
    ("two lists", rows_text(GOOD_ROW) + rows_text(GOOD_ROW), (None, None, "json_invalid")),
    ("comment", "// videos\n" + rows_text(GOOD_ROW), (None, None, "json_invalid")),
    ("object not a list", json.dumps(GOOD_ROW), (None, None, "not_a_list")),
    ("a string", '"s3://b/x.mp4"', (None, None, "not_a_list")),
    ("a number", "42", (None, None, "not_a_list")),
    ("null", "null", (None, None, "not_a_list")),
    ("empty list", "[]", (None, None, "empty")),
    ("row is a string", rows_text(GOOD_ROW, "s3://b/x.mp4"), (2, None, "row_not_object")),
    ("row is a list", rows_text([GOOD_ROW]), (1, None, "row_not_object")),
    ("row is null", rows_text(GOOD_ROW, row(object="s3://b-b/2.mp4"), None), (3, None, "row_not_object")),
    ("missing index_id", rows_text(GOOD_ROW, row(index_id=...)), (2, "index_id", "field_missing")),
    ("missing language", rows_text(row(language=...)), (1, "language", "field_missing")),
    ("missing object", rows_text(row(object=...)), (1, "object", "field_missing")),
    ("misspelt transcription", rows_text(row(transcription=..., transcripton="s3://b/x.srt")), (1, "transcripton", "field_misspelt")),
    ("misspelt index_id", rows_text(GOOD_ROW, row(index_id=..., index_Id=INDEX)), (2, "index_Id", "field_misspelt")),
    ("key written twice", rows_text(GOOD_ROW).replace('"language": "en"', '"language": "en", "language": "fr"'), (1, "language", "field_repeated")),
    ("index_id a number", rows_text(row(index_id=629807)), (1, "index_id", "field_type")),
    ("language null", rows_text(row(language=None)), (1, "language", "field_type")),
    ("object a list", rows_text(row(object=["s3://b/x.mp4"])), (1, "object", "field_type")),
    ("transcription true", rows_text(row(transcription=True)), (1, "transcription", "field_type")),
    ("index_id 25 chars", rows_text(row(index_id=INDEX + "1")), (1, "index_id", "index_id_invalid")),
    ("index_id 23 chars", rows_text(GOOD_ROW, row(index_id=INDEX[:-1])), (2, "index_id", "index_id_invalid")),
    ("index_id not hex", rows_text(row(index_id="6298d673f1090f1100476d4z")), (1, "index_id", "index_id_invalid")),
    ("index_id empty", rows_text(row(index_id="")), (1, "index_id", "index_id_invalid")),
    ("index_id padded", rows_text(row(index_id=f" {INDEX}")), (1, "index_id", "index_id_invalid")),
    ("index name instead of id", rows_text(row(index_id="Coding")), (1, "index_id", "index_id_invalid")),
    ("language upper case", rows_text(row(language="EN")), (1, "language", "language_invalid")),
    ("language a name", rows_text(row(language="English")), (1, "language", "language_invalid")),
    ("language three letters", rows_text(row(language="eng")), (1, "language", "language_invalid")),
    ("language empty", rows_text(row(language="")), (1, "language", "language_invalid")),
    ("language unknown code", rows_text(row(language="xx")), (1, "language", "language_invalid")),
    ("object https console link", rows_text(row(object="https://docs.s3.us-west-2.amazonaws.com/01.mp4")), (1, "object", "object_invalid")),
    ("object no scheme", rows_text(row(object="twelve-labs-docs/01.mp4")), (1, "object", "object_invalid")),
    ("object upper-case scheme", rows_text(row(object="S3://twelve-labs-docs/01.mp4")), (1, "object", "object_invalid")),
    ("object bucket only", rows_text(row(object="s3://twelve-labs-docs")), (1, "object", "object_invalid")),
    ("object a folder", rows_text(row(object="s3://twelve-labs-docs/videos/")), (1, "object", "object_invalid")),
    ("object bad bucket", rows_text(row(object="s3://Twelve_Labs/01.mp4")), (1, "object", "object_invalid")),
    ("object empty", rows_text(row(object="")), (1, "object", "object_invalid")),
    ("object a picture", rows_text(row(object="s3://twelve-labs-docs/01.jpg")), (1, "object", "object_not_video")),
    ("object a subtitle", rows_text(row(object="s3://twelve-labs-docs/01.srt")), (1, "object", "object_not_video")),
    ("object no extension", rows_text(row(object="s3://twelve-labs-docs/01")), (1, "object", "object_not_video")),
    ("transcription a txt", rows_text(row(transcription="s3://twelve-labs-docs/01.txt")), (1, "transcription", "transcription_format")),
    ("transcription a video", rows_text(row(transcription="s3://twelve-labs-docs/01.mp4")), (1, "transcription", "transcription_format")),
    ("transcription https", rows_text(row(transcription="https://example.com/01.srt")), (1, "transcription", "transcription_invalid")),
    ("transcription empty", rows_text(row(transcription="")), (1, "transcription", "transcription_invalid")),
    ("same object twice", rows_text(GOOD_ROW, row(transcription=...), GOOD_ROW), (2, "object", "duplicate_object")),
    ("too many rows", rows_text(*[row(object=f"s3://b-b/{n}.mp4", transcription=...) for n in range(MAX_ROWS + 1)]), (MAX_ROWS + 1, None, "too_many_rows")),
    ("not utf-8", "[{\"index_id\": \"caf\xe9\"}]", (None, None, "json_invalid")),
    ("NaN, which Python reads but JSON has not", rows_text(row(duration=1.5)).replace("1.5", "NaN"), (None, None, "json_invalid")),
    ("-Infinity", rows_text(row(duration=1.5)).replace("1.5", "-Infinity"), (None, None, "json_invalid")),
    ("half a character in a value", rows_text(row(object="s3://b-b/\ud800.mp4")), (None, None, "json_invalid")),
    ("half a character in a key", rows_text(row(**{"\udc80": "x"})), (None, None, "json_invalid")),
    ("nested too deeply", "[" * 100_000 + "]" * 100_000, (None, None, "json_invalid")),
    ("a row nested too deeply", "[" + rows_text(GOOD_ROW)[1:-1] + ", {\"a\": " + "[" * 100_000 + "]" * 100_000 + "}]", (None, None, "json_invalid")),
]  # fmt: skip


def _encode(name: str, text: str) -> bytes:
    return text.encode("latin-1") if name == "not utf-8" else text.encode("utf-8")


@pytest.mark.parametrize(("name", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_manifest_names_row_and_field(
    name: str, text: str, expected: tuple[int | None, str | None, str]
) -> None:
    problems = check_text(_encode(name, text))
    assert not is_valid(problems)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert (errors[0].row, errors[0].field, errors[0].code) == expected, problems
    for problem in problems:
        assert problem.message and problem.hint, problem  # every problem says what to do
        assert "Error" not in problem.message and "Traceback" not in problem.message
    if expected[0] is None and expected[2] == "json_invalid":
        assert errors[0].line is not None and errors[0].column is not None


def test_there_are_at_least_forty_broken_manifests() -> None:
    assert len(BROKEN) >= 40


def test_the_same_object_to_two_indexes_is_fine() -> None:
    """A file may live in several indexes; only the same object to the same index repeats."""
    other = "6298d673f1090f1100476d4d"
    assert check_text(rows_text(GOOD_ROW, row(index_id=other))) == []


def test_an_unknown_field_is_kept_and_only_warned_about() -> None:
    problems = check_text(rows_text(row(note="from the dashboard")))
    assert [(p.row, p.field, p.code, p.severity) for p in problems] == [
        (1, "note", "field_unknown", Severity.WARNING)
    ]
    assert is_valid(problems)


def test_syntax_problem_gives_line_and_column() -> None:
    text = '[\n  {\n    "index_id": "x",\n    "language" "en"\n  }\n]\n'
    (problem,) = check_text(text)
    assert (problem.line, problem.column) == (4, 16)
    assert "colon" in problem.message
    assert problem.where == "Line 4, column 16"


def test_what_python_reads_but_json_forbids_is_placed_exactly() -> None:
    """NaN and a lone \\ud800 escape are not JSON (the service refuses them, and half a
    character cannot even be saved or stored), though Python's json reads both."""
    text = '[\n  {"a": "NaN", "b": "\\\\ud800", "c": NaN}\n]\n'
    (problem,) = check_text(text)
    assert (problem.code, problem.line, problem.column) == ("json_invalid", 2, 37)
    assert "NaN" in problem.message
    text = '[\n  {"a": "\\ud83c\\udfac ok",\n   "b": "x\\ud800"}\n]\n'
    (problem,) = check_text(text)
    assert (problem.line, problem.column) == (3, 9)
    assert "half a character" in problem.message


def test_row_problems_carry_the_line_of_their_row() -> None:
    text = rows_text(*[row(object=f"s3://b-b/{n}.mp4") for n in range(2)], row(language="english"))
    (problem,) = check_text(text)
    assert problem.row == 3
    assert text.splitlines()[problem.line - 1].strip() == "{"  # type: ignore[operator]
    assert "'en' (English)" in problem.hint


def test_several_problems_in_one_row_are_all_reported() -> None:
    problems = check_text(rows_text(row(index_id="x", language="english", object="s3://b/a.txt")))
    assert [(p.row, p.field) for p in problems] == [
        (1, "index_id"),
        (1, "language"),
        (1, "object"),
    ]


def test_index_not_in_the_account() -> None:
    document = ManifestDocument(rows_text(GOOD_ROW).encode())
    problems = check_document(document, indexes={"6298d673f1090f1100476d4d"})
    assert [(p.row, p.field, p.code) for p in problems] == [(1, "index_id", "index_id_invalid")]
    assert "no index" in problems[0].message
    assert check_document(document, indexes={INDEX}) == []


# ---- property-based: any JSON-ish text is checked without a crash --------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
_field_values = st.one_of(
    _json_values,
    st.sampled_from(
        [INDEX, INDEX + "0", "en", "EN", "fr", "s3://b-b/x.mp4", "s3://b-b/x.srt", "s3://b", ""]
    ),
)
_rows = st.dictionaries(
    st.sampled_from([*GOOD_ROW.keys(), "transcripton", "extra", "Index_ID"]), _field_values
)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.one_of(_rows, _json_values), max_size=6))
def test_fuzz_rows_never_crash_and_always_name_a_row(rows: list[Any]) -> None:
    problems = check_text(json.dumps(rows))
    for problem in problems:
        assert problem.message and problem.hint
        if rows and problem.code not in ("too_many_rows",):
            assert problem.row is not None and 1 <= problem.row <= len(rows)
        if problem.field is not None and problem.code != "field_missing":
            assert problem.row is not None
            entry = rows[problem.row - 1]
            assert isinstance(entry, dict) and problem.field in entry


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzz_any_bytes_never_crash(raw: bytes) -> None:
    problems = check_text(raw)
    for problem in problems:
        assert problem.message and problem.hint


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet='[]{}",: \n0123456789abcdefs3:/.enil_obj', max_size=120))
def test_fuzz_json_like_text_never_crashes(text: str) -> None:
    for problem in check_text(text):
        assert problem.message and problem.hint
        if problem.code == "json_invalid":
            assert problem.line is not None


def test_a_full_list_is_checked_in_linear_time() -> None:
    """Regression: row lines and change tracking were once quadratic (27 s for 1,000 rows)."""
    rows = [row(object=f"s3://b-b/{n:05d}.mp4", transcription=...) for n in range(MAX_ROWS)]
    started = time.perf_counter()
    problems = check_text(rows_text(*rows))
    assert problems == []
    assert time.perf_counter() - started < 3.0  # about 0.1 s here; a slow shared machine aside


# ---- hostile values through the ``manifest check`` command, both outputs (issue 19) -----------

_hostile_text = st.lists(
    st.sampled_from(
        ["a", "/", ".", ":", " ", "s3://", "é", "\n", "\r", "\t", "\x00", "\x1b", "\u202e",
         "\u2028", "\u200f", "\ufeff", "\ud800", "%0A", '"', "\\", "🎬"]
    ),
    max_size=40,
).map("".join)  # fmt: skip
_hostile_rows = st.dictionaries(
    st.sampled_from([*GOOD_ROW.keys(), "bad\nkey", "\u202ekey"]),
    st.one_of(_field_values, _hostile_text, _hostile_text.map(lambda t: "s3://b-b/" + t)),
)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.one_of(_hostile_rows, _json_values), max_size=4), st.booleans())
def test_fuzz_hostile_values_keep_the_report_one_line_each_and_valid(
    rows: list[Any], as_json: bool
) -> None:
    import io
    import tempfile
    from argparse import Namespace

    from uploader_app.jobs.manifests import run_manifest_check

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.json"
        path.write_text(json.dumps(rows), encoding="utf-8", errors="surrogatepass")
        out = io.StringIO()
        args = Namespace(file=str(path), json=as_json, account=False, bucket=False, profile=None)
        code = run_manifest_check(args, out=out)
    text = out.getvalue()
    text.encode("utf-8")  # no lone surrogate reaches the output
    assert code in (0, 1)
    if as_json:
        report = json.loads(text)
        assert all(p["message"] and p["hint"] for p in report["problems"])
        return
    lines = text.split("\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert not any(ch in line for ch in "\r\x00\x1b\u2028\u202e"), repr(line)
