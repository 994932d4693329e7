"""Every check on a manifest, each naming the row and field and saying how to fix it.

The list of checks and the assumptions behind the numbers are in docs/manifests.md. Checks
never send anything: the optional ``indexes`` (ids in the account) and ``objects`` (read access
to the bucket) let the caller add what only the account or the bucket can tell.
"""

from __future__ import annotations

import difflib
import logging
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from uploader_app.manifest.document import KNOWN_FIELDS, REQUIRED_FIELDS, ManifestDocument
from uploader_app.manifest.uris import S3Uri, UriProblem, parse_s3_uri
from uploader_app.models import UploadKind
from uploader_app.validation.limits import MAX_SIZE
from uploader_app.validation.scan import VIDEO_EXTENSIONS
from uploader_app.validation.subtitles import SUBTITLE_SUFFIXES, check_subtitle

logger = logging.getLogger(__name__)

# The vendor documents no cap on rows per transfer; one request carrying more than this is
# refused here so a mistake (a whole bucket of the wrong index) stays small. docs/manifests.md.
MAX_ROWS = 1000
# Transcriptions read for a content check: a subtitle file for a 2-hour video is well under this.
MAX_TRANSCRIPTION_BYTES = 5 * 1024 * 1024
INDEX_ID_LENGTH = 24
# A transfer is fetched by the service under the /tasks size cap (docs/manifests.md).
MAX_OBJECT_SIZE = MAX_SIZE[UploadKind.URL]


class Severity(StrEnum):
    ERROR = "error"  # the manifest cannot be sent
    WARNING = "warning"  # it can, but the user should look


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    hint: str
    row: int | None = None  # 1-based, as a person counts; None for the whole file
    field: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        """``Row 2, index_id`` / ``Line 3, column 5`` / ``The file``."""
        if self.row is not None:
            place = f"Row {self.row}"
            if self.field:
                place += f", {self.field}"
            return place
        if self.line is not None:
            return f"Line {self.line}" + (f", column {self.column}" if self.column else "")
        return "The file"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "row": self.row,
            "field": self.field,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


class BucketError(Exception):
    """S3 could not be read; ``message`` and ``hint`` are for the user."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ObjectReader(Protocol):
    """Read access to the objects a manifest names (``manifest.bucket.S3Access``)."""

    def size(self, uri: S3Uri) -> int | None:
        """The object's size in bytes, None when there is no such object."""

    def read(self, uri: S3Uri, limit: int) -> bytes:
        """The object's first ``limit`` bytes."""


def is_valid(problems: Collection[Problem]) -> bool:
    return not any(p.severity is Severity.ERROR for p in problems)


def check_document(
    document: ManifestDocument,
    *,
    indexes: Collection[str] | None = None,
    objects: ObjectReader | None = None,
) -> list[Problem]:
    """All problems, the file's first, then row by row in field order."""
    syntax = document.parsed.syntax
    if syntax is not None and not document.modified:
        return [
            Problem(
                "json_invalid",
                Severity.ERROR,
                syntax.message,
                syntax.hint,
                line=syntax.line,
                column=syntax.column,
            )
        ]
    if not document.readable and not document.modified:
        return [_not_a_list(document.parsed.value)]
    rows = document.rows
    if not rows:
        return [
            Problem(
                "empty",
                Severity.ERROR,
                "The list has no rows, so there is nothing to send.",
                "Add a row per video, or build the list from your bucket.",
            )
        ]
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, 1):
        found = _check_row(number, row, indexes, seen, document)
        if objects is not None and isinstance(row, dict):
            found += _check_objects(number, row, objects)
        line = document.row_line(number - 1)
        problems += [_with_line(p, line) for p in found]
    if len(rows) > MAX_ROWS:
        problems.append(
            Problem(
                "too_many_rows",
                Severity.ERROR,
                f"The list has {len(rows):,} rows; one transfer carries at most {MAX_ROWS:,}.",
                f"Split it into files of {MAX_ROWS:,} rows or fewer and send each one.",
                row=MAX_ROWS + 1,
            )
        )
    return problems


def _with_line(problem: Problem, line: int | None) -> Problem:
    return problem if line is None else replace(problem, line=line)


def _not_a_list(value: Any) -> Problem:
    what = _json_kind(value)
    hint = "The file must be a list of rows: [ {…}, {…} ]."
    if isinstance(value, dict):
        hint = "Put the row in a list: add [ before the first { and ] after the last }."
    return Problem(
        "not_a_list",
        Severity.ERROR,
        f"The file holds {what}, not a list of rows.",
        hint,
        line=1,
        column=1,
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a single object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _check_row(
    number: int,
    row: Any,
    indexes: Collection[str] | None,
    seen: dict[tuple[str, str], int],
    document: ManifestDocument,
) -> list[Problem]:
    def problem(code: str, field: str | None, message: str, hint: str, warn: bool = False) -> None:
        severity = Severity.WARNING if warn else Severity.ERROR
        found.append(Problem(code, severity, message, hint, number, field))

    found: list[Problem] = []
    if not isinstance(row, dict):
        problem(
            "row_not_object",
            None,
            f"This row is {_json_kind(row)}, not an entry with fields.",
            'Write it as { "index_id": "…", "language": "en", "object": "s3://…" }.',
        )
        return found
    if not document.modified:
        for key in document.parsed.repeated_keys.get(number - 1, []):
            problem(
                "field_repeated",
                key,
                f"{key} is written twice in this row; only the last one counts.",
                f"Keep one {key}.",
            )
    for key in row:
        if key in KNOWN_FIELDS:
            continue
        close = difflib.get_close_matches(key.lower(), KNOWN_FIELDS, n=1, cutoff=0.7)
        if close:
            problem(
                "field_misspelt",
                key,
                f"{key!r} is not a field the service knows; it looks like {close[0]!r}.",
                f"Rename it to {close[0]!r}.",
            )
        else:
            problem(
                "field_unknown",
                key,
                f"{key!r} is not a field the service knows; it is kept but ignored.",
                "Remove it if it was not meant for you.",
                warn=True,
            )
    for key in REQUIRED_FIELDS:
        if key not in row:
            problem("field_missing", key, f"{key} is missing.", _MISSING_HINTS[key])
    for key in KNOWN_FIELDS:
        if key in row and not isinstance(row[key], str):
            problem(
                "field_type",
                key,
                f"{key} is {_json_kind(row[key])}; it must be text in double quotes.",
                _MISSING_HINTS[key],
            )
    index_id = row.get("index_id")
    if isinstance(index_id, str):
        found += _check_index(number, index_id, indexes)
    language = row.get("language")
    if isinstance(language, str):
        found += _check_language(number, language)
    obj = row.get("object")
    uri = _check_object(number, obj, found) if isinstance(obj, str) else None
    transcription = row.get("transcription")
    if isinstance(transcription, str):
        _check_transcription(number, transcription, found)
    if uri is not None and isinstance(index_id, str):
        first = seen.setdefault((index_id, str(uri)), number)
        if first != number:
            problem(
                "duplicate_object",
                "object",
                f"Row {first} already sends this video to the same index.",
                "Remove one of the two rows.",
            )
    return found


_MISSING_HINTS = {
    "index_id": 'Add "index_id": "<the 24-character id of your index>".',
    "language": 'Add "language": "en" (the two-letter code of the language spoken).',
    "object": 'Add "object": "s3://bucket/path/video.mp4".',
    "transcription": 'Write "transcription": "s3://bucket/path/video.srt", or remove the field.',
}


def _check_index(number: int, index_id: str, indexes: Collection[str] | None) -> list[Problem]:
    hint = "Copy the index id from the Indexes list of your account (24 characters, 0-9 and a-f)."
    stripped = index_id.strip()
    if not stripped:
        message = "index_id is empty."
    elif stripped != index_id:
        message, hint = "index_id starts or ends with spaces.", f"Write it as {stripped!r}."
    elif len(index_id) != INDEX_ID_LENGTH:
        message = (
            f"index_id {index_id!r} has {len(index_id)} characters; an index id has "
            f"{INDEX_ID_LENGTH}."
        )
    elif any(ch not in "0123456789abcdef" for ch in index_id.lower()):
        bad = next(ch for ch in index_id.lower() if ch not in "0123456789abcdef")
        message = f"index_id {index_id!r} contains {bad!r}; an index id uses only 0-9 and a-f."
    elif indexes is not None and index_id not in indexes:
        message = f"There is no index {index_id} in your account."
        hint = "Pick one of your indexes (or create this one first), then set it on the row."
    else:
        return []
    return [Problem("index_id_invalid", Severity.ERROR, message, hint, number, "index_id")]


def _check_language(number: int, language: str) -> list[Problem]:
    # Loaded with the first manifest checked, not with the window (docs/gui.md, "Start-up").
    import pycountry  # noqa: PLC0415

    # pycountry matches codes in any case; the service takes them in lower case.
    if (
        len(language) == 2
        and language.islower()
        and pycountry.languages.get(alpha_2=language) is not None
    ):
        return []
    hint = "Write the two-letter ISO 639-1 code of the language spoken, such as en, fr or ko."
    found = pycountry.languages.get(alpha_2=language.strip().lower())
    if found is None:
        try:
            found = pycountry.languages.lookup(language.strip())
        except LookupError:
            found = None
    if found is not None and hasattr(found, "alpha_2"):
        hint = f"Write {found.alpha_2!r} ({found.name})."
    message = (
        "language is empty." if not language.strip() else f"{language!r} is not a language code."
    )
    return [Problem("language_invalid", Severity.ERROR, message, hint, number, "language")]


def _check_object(number: int, text: str, found: list[Problem]) -> S3Uri | None:
    parsed = parse_s3_uri(text)
    if isinstance(parsed, UriProblem):
        found.append(
            Problem(
                "object_invalid",
                Severity.ERROR,
                f"object: {parsed.message}",
                parsed.hint,
                number,
                "object",
            )
        )
        return None
    if parsed.suffix in SUBTITLE_SUFFIXES:
        found.append(
            Problem(
                "object_not_video",
                Severity.ERROR,
                f"{parsed.name} is a transcription, not a video.",
                "Put the video's address in object and this one in transcription.",
                number,
                "object",
            )
        )
    elif parsed.suffix not in VIDEO_EXTENSIONS:
        kind = f"a {parsed.suffix} file" if parsed.suffix else "a file with no extension"
        found.append(
            Problem(
                "object_not_video",
                Severity.ERROR,
                f"{parsed.name} is {kind}, not a video the service can index.",
                "Point object at a video file (.mp4, .mov, .mkv, …).",
                number,
                "object",
            )
        )
    return parsed


def _check_transcription(number: int, text: str, found: list[Problem]) -> None:
    parsed = parse_s3_uri(text)
    if isinstance(parsed, UriProblem):
        found.append(
            Problem(
                "transcription_invalid",
                Severity.ERROR,
                f"transcription: {parsed.message}",
                parsed.hint + " Or remove the field to send the video without one.",
                number,
                "transcription",
            )
        )
    elif parsed.suffix not in SUBTITLE_SUFFIXES:
        found.append(
            Problem(
                "transcription_format",
                Severity.ERROR,
                f"{parsed.name} is not an SRT or VTT file.",
                "Give an .srt or .vtt file, or remove the field.",
                number,
                "transcription",
            )
        )


def _check_objects(number: int, row: dict[str, Any], objects: ObjectReader) -> list[Problem]:
    """What only the bucket can tell: the object is there, not too large, and the
    transcription reads as SRT or VTT."""
    found: list[Problem] = []
    obj = parse_s3_uri(row["object"]) if isinstance(row.get("object"), str) else None
    if isinstance(obj, S3Uri):
        try:
            size = objects.size(obj)
        except BucketError as exc:
            found.append(_unreadable(number, "object", exc))
        else:
            if size is None:
                found.append(
                    Problem(
                        "object_missing",
                        Severity.ERROR,
                        f"There is no object {obj} in the bucket.",
                        "Check the spelling of the path (it is case-sensitive).",
                        number,
                        "object",
                    )
                )
            elif size > MAX_OBJECT_SIZE:
                found.append(
                    Problem(
                        "object_too_large",
                        Severity.ERROR,
                        f"{obj.name} is {size / 1e9:.1f} GB; the service takes at most "
                        f"{MAX_OBJECT_SIZE / 1e9:.0f} GB per video.",
                        "Split or compress the video, or upload it from your computer.",
                        number,
                        "object",
                    )
                )
    text = row.get("transcription")
    sub = parse_s3_uri(text) if isinstance(text, str) else None
    if isinstance(sub, S3Uri) and sub.suffix in SUBTITLE_SUFFIXES:
        found += _check_transcription_content(number, sub, objects)
    return found


def _check_transcription_content(number: int, uri: S3Uri, objects: ObjectReader) -> list[Problem]:
    try:
        size = objects.size(uri)
        if size is None:
            return [
                Problem(
                    "transcription_missing",
                    Severity.ERROR,
                    f"There is no object {uri} in the bucket.",
                    "Check the path of the transcription, or remove the field.",
                    number,
                    "transcription",
                )
            ]
        data = objects.read(uri, MAX_TRANSCRIPTION_BYTES)
    except BucketError as exc:
        return [_unreadable(number, "transcription", exc)]
    with tempfile.TemporaryDirectory(prefix="manifest-sub-") as folder:
        # The suffix picks the parser; the key's own name may be no valid local file name.
        local = Path(folder) / f"transcription{uri.suffix}"
        local.write_bytes(data)
        verdict = check_subtitle(local)
    if verdict.ok:
        return []
    return [
        Problem(
            "transcription_content",
            Severity.ERROR,
            f"{uri.name} cannot be used: {verdict.problem}.",
            "Fix the file in a subtitle editor and upload it again, or remove the field.",
            number,
            "transcription",
        )
    ]


def _unreadable(number: int, field: str, exc: BucketError) -> Problem:
    return Problem(f"{field}_unreadable", Severity.WARNING, exc.message, exc.hint, number, field)
