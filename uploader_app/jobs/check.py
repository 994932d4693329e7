"""``uploader-app check``: check videos locally and print one verdict per file.

Lines (or JSON objects) are printed as each file is checked, so a big folder starts answering
at once. Exit status: 0 when nothing is rejected, 1 when a file is rejected, 2 when the check
could not run as asked (a usage error such as a path that does not exist, or the index named
by ``--index`` could not be read). Folders with no files in them are reported on stderr but
exit 0: nothing was rejected.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from uploader_app.models import Finding, Index, ModelFamily, ProbeResult, Target, Verdict
from uploader_app.settings import load_settings_file
from uploader_app.validation.messages import printable, valid_text
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
    stdout = out or _standard_output(json_output=args.json)
    paths = [Path(p) for p in args.paths]
    # A mistyped name is a usage error, not a vanished file: say so for every such path
    # before probing anything or asking the API about the index.
    missing = [p for p in paths if _missing(p)]
    if missing:
        for path in missing:
            print(f"No file or folder at {printable(str(path))}", file=sys.stderr)
        return EXIT_USAGE
    # The address (settings file, TWELVELABS_BASE_URL overriding) names the API version.
    settings = load_settings_file()
    try:
        target = _target(args)
    except IndexUnavailableError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    findings = scan(paths, target, api_version=settings.api_version)
    counts = _print_json(findings, stdout) if args.json else _print_lines(findings, stdout)
    if not args.json:
        print(_summary(counts), file=stdout)
    if not counts:
        # Every path exists, so each is a folder with nothing to check (hidden files and
        # system clutter are left out on purpose).
        for path in paths:
            print(f"No files found in {printable(str(path))}.", file=sys.stderr)
    return EXIT_REJECTED if counts[Verdict.REJECTED] else EXIT_OK


def _standard_output(*, json_output: bool) -> TextIO:
    """Standard output that no file name can break.

    Redirected output is written in the system's code page (cp1252 on a Western Windows),
    which cannot hold every name: JSON is then written as UTF-8, as JSON must be, and lines
    show what the code page lacks as "?" instead of ending in a traceback.
    """
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper):
        if json_output:
            stream.reconfigure(encoding="utf-8")
        else:
            stream.reconfigure(errors="replace")
    return stream


def dash_name_hint(arguments: Sequence[str]) -> str | None:
    """How to check a file whose name starts with "-", which the parser took for an option."""
    if "--" in arguments:
        return None
    for argument in arguments:
        if argument.startswith("-") and os.path.lexists(argument):
            name = printable(argument)
            return (
                f"{name} is a file, but names starting with '-' are read as options. "
                f"Put '--' before it (uploader-app check -- {name}) or write it as ./{name}."
            )
    return None


def _missing(path: Path) -> bool:
    """True when nothing is at ``path`` (a broken symlink included).

    Other errors (a parent folder that cannot be read) are left to the probe, which words them.
    """
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _target(args: argparse.Namespace) -> Target:
    if args.index:
        target = Target.for_index(_read_index(args.index))
        return replace(target, require_audio=target.require_audio or args.audio)
    # Without an index, assume its models use the default options (visual and audio): a
    # silent video then gets a warning, or is rejected when --audio says sound is required.
    return Target(
        families=_FAMILIES[args.model or "marengo"],
        require_audio=args.audio,
        listens_to_audio=True,
    )


def _read_index(index_id: str) -> Index:
    # Imported here: `check` without --index must work with no network code loaded at all.
    from uploader_app.api.client import ApiClient  # noqa: PLC0415
    from uploader_app.api.errors import ApiError  # noqa: PLC0415
    from uploader_app.api.retry import RetryPolicy  # noqa: PLC0415
    from uploader_app.keys import client_settings  # noqa: PLC0415

    # Someone is waiting at the terminal: say what is happening, and retry once, not four
    # times with growing waits, so an unreachable host is reported in seconds.
    print(f"Reading index {index_id}…", file=sys.stderr, flush=True)
    try:
        # The key: the environment, then the keychain (docs/settings.md).
        settings = client_settings()
        with ApiClient.from_settings(settings, retry=RetryPolicy.interactive()) as client:
            return client.get_index(index_id)
    except ApiError as exc:
        logger.debug("reading index %s failed: %r", index_id, exc)
        hint = f" {exc.hint}" if exc.hint else ""
        raise IndexUnavailableError(
            f"Could not read index {index_id}: {exc.user_message}{hint}"
        ) from exc


def _print_lines(findings: Iterable[Finding], out: TextIO) -> Counter[Verdict]:
    """One line per file, then one indented "also:" line per further problem."""
    counts: Counter[Verdict] = Counter()
    for finding in findings:
        counts[finding.verdict] += 1
        code = f"[{finding.code}] " if finding.code else ""
        shows_hint = finding.verdict in (Verdict.REJECTED, Verdict.WARNING)
        hint = f" {finding.hint}" if finding.hint and shows_hint else ""
        shown = printable(str(finding.path))
        lines = [f"{finding.verdict.value:<9} {shown}: {code}{finding.message}{hint}"]
        # issues[0] is the headline above; the user must see every other problem too, or
        # fixing the first one only leads to the next rejection.
        lines += [
            f"{'':<9} also: [{i.code}] {i.message}{f' {i.hint}' if i.hint else ''}"
            for i in finding.issues[1:]
        ]
        print("\n".join(lines), file=out, flush=True)
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
    """One file's row. Names are made valid UTF-8 (see ``printable``), so the output always is."""
    probe = finding.probe
    relative = finding.relative_path
    return {
        "path": valid_text(str(finding.path)),
        "relative_path": valid_text(relative) if relative is not None else None,
        "verdict": finding.verdict.value,
        "code": finding.code,
        "message": finding.message,
        "hint": finding.hint,
        "width": probe.width if probe else None,
        "height": probe.height if probe else None,
        "duration": probe.duration if probe else None,
        "size": _known_size(probe),
        "container": probe.container if probe else None,
        "audio_tracks": probe.audio_tracks if probe else None,
        "video_track": probe.video_track if probe else None,
        "video_tracks": probe.video_tracks if probe else None,
        "transcription": valid_text(str(finding.transcription)) if finding.transcription else None,
        "issues": [
            {"code": i.code, "verdict": i.verdict.value, "message": i.message}
            for i in finding.issues
        ],
    }


def _known_size(probe: ProbeResult | None) -> int | None:
    """The file's size, or None when it is unknown.

    The probe reports size 0 with an error exactly when ``stat`` failed or the path is no
    regular file; an empty file has no error, and a file that could not be opened has its
    real size.
    """
    if probe is None or (probe.error is not None and probe.size == 0):
        return None
    return probe.size


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
