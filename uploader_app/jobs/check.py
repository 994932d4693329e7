"""``uploader-app check``: check videos locally and print one verdict per file.

Lines (or JSON objects) are printed as each file is checked, so a big folder starts answering
at once. Exit status: 0 when nothing is rejected, 1 when a file is rejected, 2 when the check
could not run as asked (a usage error, or the index named by ``--index`` could not be read).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from uploader_app.config import load_settings
from uploader_app.models import Finding, Index, ModelFamily, Target, Verdict
from uploader_app.validation.scan import scan

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

_FAMILIES = {
    "marengo": frozenset({ModelFamily.MARENGO}),
    "pegasus": frozenset({ModelFamily.PEGASUS}),
    "both": frozenset({ModelFamily.MARENGO, ModelFamily.PEGASUS}),
}


class IndexUnavailableError(Exception):
    """The index named by ``--index`` could not be read; the text is for the user."""


def run_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    settings = load_settings()
    try:
        target = _target(args)
    except IndexUnavailableError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    findings = scan((Path(p) for p in args.paths), target, api_version=settings.api_version)
    counts = _print_json(findings, stdout) if args.json else _print_lines(findings, stdout)
    if not args.json:
        print(_summary(counts), file=stdout)
    return EXIT_REJECTED if counts[Verdict.REJECTED] else EXIT_OK


def _target(args: argparse.Namespace) -> Target:
    if args.index:
        target = Target.for_index(_read_index(args.index))
        return Target(
            kind=target.kind,
            families=target.families,
            require_audio=target.require_audio or args.audio,
        )
    return Target(families=_FAMILIES[args.model or "marengo"], require_audio=args.audio)


def _read_index(index_id: str) -> Index:
    # Imported here: `check` without --index must work with no network code loaded at all.
    from uploader_app.api.client import ApiClient  # noqa: PLC0415
    from uploader_app.api.errors import ApiError  # noqa: PLC0415

    try:
        with ApiClient.from_settings(load_settings()) as client:
            return client.get_index(index_id)
    except ApiError as exc:
        logger.debug("reading index %s failed: %r", index_id, exc)
        hint = f" {exc.hint}" if exc.hint else ""
        raise IndexUnavailableError(
            f"Could not read index {index_id}: {exc.user_message}{hint}"
        ) from exc


def _print_lines(findings: Iterable[Finding], out: TextIO) -> Counter[Verdict]:
    counts: Counter[Verdict] = Counter()
    for finding in findings:
        counts[finding.verdict] += 1
        code = f"[{finding.code}] " if finding.code else ""
        shows_hint = finding.verdict in (Verdict.REJECTED, Verdict.WARNING)
        hint = f" {finding.hint}" if finding.hint and shows_hint else ""
        print(
            f"{finding.verdict.value:<9} {finding.path}: {code}{finding.message}{hint}",
            file=out,
            flush=True,
        )
    return counts


def _print_json(findings: Iterable[Finding], out: TextIO) -> Counter[Verdict]:
    """A JSON array written one object at a time, so a long run streams too."""
    counts: Counter[Verdict] = Counter()
    out.write("[")
    for number, finding in enumerate(findings):
        counts[finding.verdict] += 1
        out.write(",\n" if number else "\n")
        out.write(json.dumps(as_json(finding), ensure_ascii=False))
        out.flush()
    out.write("\n]\n" if counts else "]\n")
    return counts


def as_json(finding: Finding) -> dict[str, Any]:
    probe = finding.probe
    return {
        "path": str(finding.path),
        "relative_path": finding.relative_path,
        "verdict": finding.verdict.value,
        "code": finding.code,
        "message": finding.message,
        "hint": finding.hint,
        "width": probe.width if probe else None,
        "height": probe.height if probe else None,
        "duration": probe.duration if probe else None,
        "size": probe.size if probe else None,
        "container": probe.container if probe else None,
        "audio_tracks": probe.audio_tracks if probe else None,
        "transcription": str(finding.transcription) if finding.transcription else None,
        "issues": [
            {"code": i.code, "verdict": i.verdict.value, "message": i.message}
            for i in finding.issues
        ],
    }


def _summary(counts: Counter[Verdict]) -> str:
    total = sum(counts.values())
    parts = [
        f"{counts[Verdict.OK]} ready",
        f"{counts[Verdict.WARNING]} with warnings",
        f"{counts[Verdict.REJECTED]} rejected",
        f"{counts[Verdict.SKIPPED]} skipped",
    ]
    noun = "file" if total == 1 else "files"
    return f"{total} {noun} checked: " + ", ".join(parts) + "."
