"""``uploader-app manifest check|build``: check a transfer manifest, or build one from S3.

Exit status: 0 valid (or built), 1 the manifest has errors (or nothing to build), 2 the command
could not run as asked (no such file, a bad argument, S3 or the account unreachable).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from uploader_app.keys import client_settings
from uploader_app.manifest.checks import (
    MAX_ROWS,
    BucketError,
    ObjectReader,
    Problem,
    Severity,
    check_document,
    is_valid,
)
from uploader_app.manifest.document import ManifestDocument
from uploader_app.manifest.uris import UriProblem, parse_s3_uri
from uploader_app.validation.messages import printable

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class CannotRunError(Exception):
    """The command cannot run as asked; the text is for the user."""


def run_manifest_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    path = Path(args.file)
    try:
        document = ManifestDocument.load(path)
        indexes = _account_indexes() if args.account else None
        objects = _s3_access(args.profile) if args.bucket else None
    except OSError as exc:
        print(f"Cannot open {path}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_USAGE
    except (CannotRunError, BucketError) as exc:
        print(_said(exc), file=sys.stderr)
        return EXIT_USAGE
    problems = check_document(document, indexes=indexes, objects=objects)
    rows = len(document.rows)
    if args.json:
        report = {
            "file": str(path),
            "valid": is_valid(problems),
            "rows": rows,
            "problems": [p.as_dict() for p in problems],
        }
        print(json.dumps(report, indent=2), file=stdout)
    else:
        for problem in problems:
            print(format_problem(problem), file=stdout)
        print(_summary(rows, problems), file=stdout)
    return EXIT_OK if is_valid(problems) else EXIT_INVALID


def format_problem(problem: Problem) -> str:
    line = f" (line {problem.line})" if problem.line is not None and problem.row else ""
    # A field name or value from the file may hold a line break or a direction override:
    # shown escaped, so each problem stays on its own line and reads left to right.
    said = printable(f"{problem.where}{line}: {problem.message} {problem.hint}")
    return f"{problem.severity.value:<7} {said}"


def _summary(rows: int, problems: Sequence[Problem]) -> str:
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if errors:
        return f"Not ready to send: {errors} error(s), {warnings} warning(s) in {rows} row(s)."
    return f"Ready to send: {rows} row(s), {warnings} warning(s)."


def _said(exc: Exception) -> str:
    if isinstance(exc, BucketError):
        return f"{exc.message} {exc.hint}"
    return str(exc)


def _account_indexes() -> set[str]:
    from uploader_app.api.client import ApiClient  # noqa: PLC0415
    from uploader_app.api.errors import ApiError  # noqa: PLC0415
    from uploader_app.api.retry import RetryPolicy  # noqa: PLC0415

    print("Reading the indexes of your account…", file=sys.stderr, flush=True)
    try:
        with ApiClient.from_settings(client_settings(), retry=RetryPolicy.interactive()) as client:
            return {index.id for index in client.iter_indexes()}
    except ApiError as exc:
        logger.debug("listing indexes failed: %r", exc)
        hint = f" {exc.hint}" if exc.hint else ""
        raise CannotRunError(f"Could not read your indexes: {exc.user_message}{hint}") from exc


def _s3_access(profile: str | None) -> ObjectReader:
    from uploader_app.manifest.bucket import S3Access  # noqa: PLC0415

    return S3Access(profile)


def run_manifest_build(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from uploader_app.manifest.bucket import S3Access  # noqa: PLC0415
    from uploader_app.manifest.build import build_from_bucket  # noqa: PLC0415

    stdout = out or sys.stdout
    place = _bucket_and_prefix(args.source)
    if isinstance(place, str):
        print(place, file=sys.stderr)
        return EXIT_USAGE
    bucket, prefix = place
    wrong = _option_problems(bucket, args.index, args.language)
    if wrong:
        print("\n".join(wrong), file=sys.stderr)
        return EXIT_USAGE
    try:
        access = S3Access(args.profile)
        result = build_from_bucket(
            access,
            bucket,
            prefix,
            args.index,
            args.language,
            on_progress=lambda n: print(f"Listed {n:,} objects…", file=sys.stderr, flush=True),
        )
    except BucketError as exc:
        print(_said(exc), file=sys.stderr)
        return EXIT_USAGE
    for note in result.notes:
        print(f"warning {note.message} {note.hint}", file=sys.stderr)
    if not result.rows:
        print(
            f"No videos under s3://{bucket}/{prefix} ({result.listed:,} objects listed). "
            "Check the bucket and prefix.",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        written = write_parts(result.rows, Path(args.output))
    except OSError as exc:
        print(
            f"The list could not be written to {args.output}: {exc.strerror or exc}. "
            "Choose a folder you can write to.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for path, count in written:
        print(f"Wrote {count:,} row(s) to {path}", file=stdout)
    print(
        f"{len(result.rows):,} video(s), {result.transcriptions:,} with a transcription, "
        f"{result.left_out:,} left out, from {result.listed:,} object(s).",
        file=stdout,
    )
    document = ManifestDocument.load(written[0][0])
    problems = check_document(document)
    for problem in problems:
        print(format_problem(problem), file=stdout)
    return EXIT_OK if is_valid(problems) else EXIT_INVALID


def _option_problems(bucket: str, index_id: str, language: str) -> list[str]:
    """What is wrong with --index and --language, by the checks every row gets: said once
    before the bucket is listed, not on each of thousands of rows after."""
    probe = {"index_id": index_id, "language": language, "object": f"s3://{bucket}/probe.mp4"}
    option = {"index_id": "--index", "language": "--language"}
    return [
        f"{option[p.field]}: {p.message} {p.hint}"
        for p in check_document(ManifestDocument.from_rows([probe]))
        if p.field in option
    ]


def write_parts(rows: Sequence[dict[str, str]], output: Path) -> list[tuple[Path, int]]:
    """One file, or ``name-1.json``, ``name-2.json``… of MAX_ROWS rows each when longer."""
    chunks = [rows[i : i + MAX_ROWS] for i in range(0, len(rows), MAX_ROWS)]
    written = []
    for number, chunk in enumerate(chunks, 1):
        path = output if len(chunks) == 1 else output.with_stem(f"{output.stem}-{number}")
        ManifestDocument.from_rows(chunk).save(path)
        written.append((path, len(chunk)))
    return written


def _bucket_and_prefix(text: str) -> tuple[str, str] | str:
    """(bucket, prefix) from ``s3://bucket`` or ``s3://bucket/prefix``, else what is wrong."""
    if not text.startswith("s3://"):
        return f"{text!r} is not a bucket address. Write it as s3://bucket or s3://bucket/folder/."
    bucket, _, prefix = text.removeprefix("s3://").partition("/")
    checked = parse_s3_uri(f"s3://{bucket}/x")  # the bucket-name rules, on any key
    if isinstance(checked, UriProblem):
        return f"{text!r} is not a bucket address: {checked.message} {checked.hint}"
    return bucket, prefix
