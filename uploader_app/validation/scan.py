"""Check dropped files and folders, streaming one Finding per file as soon as it is known.

A folder is walked lazily (one directory listing at a time) and probed on the pool in
:mod:`uploader_app.validation.pool`, so the first results of a 10,000-file folder appear at
once. Hidden and system files are left out quietly; anything else that is not a video is
listed as skipped with the reason. Symlink loops, folders that cannot be opened and files that
vanish mid-scan are reported or skipped, never fatal.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path, PurePosixPath

from uploader_app.models import Finding, Issue, Target, Verdict
from uploader_app.validation.messages import issue, printable, undecodable_part
from uploader_app.validation.pool import imap_unordered
from uploader_app.validation.probe import (
    ERROR_CONTENT,
    ERROR_MISSING,
    ERROR_SPECIAL,
    os_reason,
    probe_file,
)
from uploader_app.validation.rules import NOT_VIDEO_CODES, evaluate, finding_of
from uploader_app.validation.subtitles import check_subtitle, find_subtitle, is_subtitle
from uploader_app.validation.winnames import case_clashes, path_problem

logger = logging.getLogger(__name__)

# Only used to word a non-video found in a folder: a ``.mp4`` that holds a picture is reported
# as rejected (the user expects it sent), a ``notes.txt`` is merely skipped. Content, never the
# extension, decides whether something is a video.
VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".qt",
        ".mkv",
        ".webm",
        ".avi",
        ".wmv",
        ".asf",
        ".flv",
        ".f4v",
        ".mpg",
        ".mpeg",
        ".m2v",
        ".vob",
        ".ts",
        ".mts",
        ".m2ts",
        ".3gp",
        ".3g2",
        ".mxf",
        ".ogv",
        ".dv",
        ".divx",
        ".xvid",
        ".rm",
        ".rmvb",
        ".y4m",
        ".ivf",
        ".hevc",
        ".h264",
        ".h265",
    }
)
# Operating-system clutter, compared in lower case. Hidden (dot) files are skipped as well.
SYSTEM_NAMES = frozenset(
    {
        "thumbs.db",
        "ehthumbs.db",
        "desktop.ini",
        "$recycle.bin",
        "system volume information",
        "@eadir",
        "__macosx",
        "icon\r",
    }
)


@dataclass(frozen=True)
class Candidate:
    """A file to probe, with where it was found."""

    path: Path
    relative_path: str  # POSIX-style, from the dropped item's parent: "Holiday/day 1/a.mp4"
    explicit: bool  # named by the user rather than found in a folder
    transcription: Path | None = None
    case_clash: str | None = None  # another name in the same folder differing only in case


def scan(
    paths: Iterable[Path],
    target: Target,
    *,
    api_version: str | None = None,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> Generator[Finding, None, None]:
    """One Finding per file under ``paths``, in the order they are ready (not sorted).

    With ``api_version``, a local file over the ``/tasks`` size cap is judged for the multipart
    route that version offers, as the uploader would send it.
    """
    # A module-level function with picklable arguments: big scans run it in worker processes
    # once the program's guarded entry point has called processes.enable_processes().
    work = partial(check_item, target=target, api_version=api_version)
    yield from imap_unordered(work, walk(paths, cancel), workers=workers, cancel=cancel)


def check_item(item: Candidate | Finding, target: Target, api_version: str | None) -> Finding:
    """What the pool runs for each item :func:`walk` yields (Findings are already final)."""
    if isinstance(item, Finding):
        return item
    return check_candidate(item, target, api_version)


def check_candidate(candidate: Candidate, target: Target, api_version: str | None) -> Finding:
    try:
        probe = probe_file(candidate.path)
        finding = evaluate(probe, target, api_version=api_version)
    except Exception:
        # probe_file and evaluate never raise by design; should a bug slip through, one file
        # gets a plain verdict (the details go to the log) instead of ending the whole scan.
        logger.exception("checking %s failed", candidate.path)
        unreadable = issue("unreadable", Verdict.REJECTED, reason=ERROR_CONTENT)
        finding = finding_of(candidate.path, [unreadable], None)
    finding = replace(finding, relative_path=candidate.relative_path)
    if not candidate.explicit and _skip_in_folder(finding):
        skipped = replace(finding, verdict=Verdict.SKIPPED, issues=())
        error = finding.probe.error if finding.probe is not None else None
        if error in (ERROR_MISSING, ERROR_SPECIAL):
            # "Check that you are allowed to open it" would send the user after a pipe.
            left = issue("unreadable", Verdict.SKIPPED, reason=error)
            skipped = replace(skipped, message=left.message, hint=left.hint)
        return skipped
    if candidate.transcription is not None and finding.verdict in (Verdict.OK, Verdict.WARNING):
        finding = _with_transcription(finding, candidate.transcription)
    problem = _windows_problem(candidate)
    if problem is not None:
        finding = _with_warning(finding, issue("windows_name", Verdict.WARNING, reason=problem))
    odd_part = undecodable_part(os.path.abspath(candidate.path))  # noqa: PTH100
    if odd_part is not None and finding.verdict is not Verdict.SKIPPED:
        # The uploader refuses it (jobs/engine.py): the check must not call it ready.
        finding = _with_refusal(finding, issue("name_not_text", Verdict.REJECTED, name=odd_part))
    return finding


def _windows_problem(candidate: Candidate) -> str | None:
    if candidate.case_clash is not None:
        other = printable(candidate.case_clash)
        return f"“{other}” in the same folder differs from it only in upper and lower case"
    # Judged on the real name (an escaped line break would read as a backslash), shown escaped.
    parts = PurePosixPath(candidate.relative_path).parts
    problem = path_problem(parts, len(os.path.abspath(candidate.path)))  # noqa: PTH100
    return None if problem is None else printable(problem)


def walk(
    paths: Iterable[Path], cancel: threading.Event | None = None
) -> Iterator[Candidate | Finding]:
    """Files to probe under ``paths``, and Findings for what is skipped without probing."""
    roots = list(paths)
    clashes = case_clashes([os.path.abspath(p) for p in roots])  # noqa: PTH100
    for root in roots:
        if cancel is not None and cancel.is_set():
            return
        try:
            is_folder = stat.S_ISDIR(root.stat().st_mode)
        except OSError:
            is_folder = False  # the probe words why it cannot be reached
        if is_folder:
            yield from _walk_folder(root, cancel)
        elif is_subtitle(root):
            yield _skipped(root, root.name, "subtitle_without_video")
        else:
            clash = clashes.get(os.path.abspath(root))  # noqa: PTH100
            yield Candidate(
                root,
                root.name,
                explicit=True,
                transcription=find_subtitle(root),
                case_clash=Path(clash).name if clash else None,
            )


def _walk_folder(root: Path, cancel: threading.Event | None) -> Iterator[Candidate | Finding]:
    # Relative paths start with the dropped folder's own name, found on the absolute path:
    # "." and ".." have no name of their own. abspath, not resolve(): a symlinked folder keeps
    # the name the user dropped. Paths found keep the form the caller gave.
    label = Path(os.path.abspath(root)).name  # noqa: PTH100
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        if cancel is not None and cancel.is_set():
            return
        folder = stack.pop()
        try:
            info = folder.stat()
            # A symlink loop leads back to a folder already listed: list each folder once.
            if (info.st_dev, info.st_ino) in seen:
                logger.info("skipping %s: already scanned (symlink loop)", folder)
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            logger.info("cannot list %s: %s", folder, exc)
            relative = _relative(folder, root, label)
            if folder is root:
                # The user named this folder: nothing in the drop was checked, so it is an
                # error they must see, not a quiet skip.
                refused = issue("folder_unreadable", Verdict.REJECTED, reason=os_reason(exc))
                yield replace(finding_of(folder, [refused], None), relative_path=relative)
            else:
                yield _skipped(folder, relative, "folder_unreadable", reason=os_reason(exc))
            continue
        names = frozenset(e.name for e in entries)
        clashes = case_clashes([e.name for e in entries if not _is_hidden(e.name)])
        video_stems = {Path(n).stem for n in names if not is_subtitle(Path(n))}
        subfolders = []
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            path = folder / entry.name
            try:
                is_folder = entry.is_dir()  # follows symlinks; the loop check is above
            except OSError:
                is_folder = False
            if is_folder:
                subfolders.append(path)
            elif is_subtitle(path):
                if path.stem not in video_stems:
                    yield _skipped(path, _relative(path, root, label), "subtitle_without_video")
                # A subtitle with a video of the same name is checked with that video.
            else:
                transcription = find_subtitle(path, names)
                relative = _relative(path, root, label)
                yield Candidate(path, relative, False, transcription, clashes.get(entry.name))
        stack.extend(reversed(subfolders))  # depth first, in name order


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "~$")) or name.lower() in SYSTEM_NAMES


def _relative(path: Path, root: Path, label: str) -> str:
    """``path`` from ``root``'s parent, POSIX-style: "Holiday/day 1/a.mp4"."""
    inside = path.relative_to(root).as_posix()
    if not label:  # the root of the file system has no name
        return inside
    return label if inside == "." else f"{label}/{inside}"


def _skip_in_folder(finding: Finding) -> bool:
    """A non-video found in a folder is skipped, not rejected, unless it is named like a video."""
    probe = finding.probe
    if probe is not None and probe.error in (ERROR_MISSING, ERROR_SPECIAL):
        return True  # vanished mid-scan, or a pipe/socket: nothing the user meant to send
    if finding.code in NOT_VIDEO_CODES:
        return finding.path.suffix.lower() not in VIDEO_EXTENSIONS
    return False


def _skipped(path: Path, relative: str, code: str, **values: object) -> Finding:
    found = finding_of(path, [issue(code, Verdict.SKIPPED, **values)], None)
    return replace(found, relative_path=relative)


def _with_transcription(finding: Finding, subtitle: Path) -> Finding:
    duration = finding.probe.duration if finding.probe is not None else None
    checked = check_subtitle(subtitle, duration)
    if checked.ok:
        return replace(finding, transcription=subtitle)
    problem: Issue = issue(
        "transcription_invalid",
        Verdict.WARNING,
        name=printable(subtitle.name),
        reason=checked.problem,
    )
    return _with_warning(finding, problem)


def _with_refusal(finding: Finding, problem: Issue) -> Finding:
    """``finding`` refused for ``problem`` too: the headline unless it was refused already."""
    if finding.verdict is Verdict.REJECTED:
        return replace(finding, issues=(*finding.issues, problem))
    return replace(
        finding,
        verdict=Verdict.REJECTED,
        code=problem.code,
        message=problem.message,
        hint=problem.hint,
        issues=(problem, *finding.issues),
    )


def _with_warning(finding: Finding, problem: Issue) -> Finding:
    """``finding`` with one more warning: the headline when the file was otherwise ready."""
    issues = (*finding.issues, problem)
    if finding.verdict is Verdict.OK:
        return replace(
            finding,
            verdict=Verdict.WARNING,
            code=problem.code,
            message=problem.message,
            hint=problem.hint,
            issues=issues,
        )
    return replace(finding, issues=issues)
