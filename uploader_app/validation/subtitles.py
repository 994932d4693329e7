"""Transcription files beside a video: find ``clip.srt``/``clip.vtt`` and check them.

Parsing is left to maintained libraries (``srt`` and ``webvtt-py``); this module adds what
they let through: empty files, no cues, cues that end before they start, cues after the end of
the video. Each problem becomes one plain sentence for the ``transcription_invalid`` message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import srt

logger = logging.getLogger(__name__)

SUBTITLE_SUFFIXES = (".srt", ".vtt")
# A cue may start a moment after the last frame: players and the vendor round timestamps.
END_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class Cue:
    start: float
    end: float


@dataclass(frozen=True)
class SubtitleCheck:
    path: Path
    cues: int = 0
    problem: str | None = None  # plain words, e.g. "it is empty"

    @property
    def ok(self) -> bool:
        return self.problem is None


def is_subtitle(path: Path) -> bool:
    return path.suffix.lower() in SUBTITLE_SUFFIXES


def find_subtitle(video: Path, siblings: frozenset[str] | None = None) -> Path | None:
    """``clip.srt`` or ``clip.vtt`` beside ``clip.mp4`` (suffix case ignored), if any.

    ``siblings`` (the names in the video's folder, when a scan already listed it) saves a
    ``stat`` per candidate.
    """
    for suffix in SUBTITLE_SUFFIXES:
        for candidate in (video.with_suffix(suffix), video.with_suffix(suffix.upper())):
            found = candidate.name in siblings if siblings is not None else _is_file(candidate)
            if found:
                return candidate
    return None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long or a folder one may not enter: no subtitle to pair
        return False


def check_subtitle(path: Path, video_duration: float | None = None) -> SubtitleCheck:
    """Read and check one SRT or WebVTT file. Never raises."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        logger.info("cannot read subtitle %s: %s", path, exc)
        return SubtitleCheck(path, problem="it could not be opened")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return SubtitleCheck(path, problem="it is not saved as UTF-8 text")
    if not text.strip():
        return SubtitleCheck(path, problem="it is empty")
    if path.suffix.lower() == ".vtt":
        cues, problem = _parse_vtt(text)
    else:
        cues, problem = _parse_srt(text)
    if problem is None:
        problem = _timing_problem(cues, video_duration)
    return SubtitleCheck(path, cues=len(cues), problem=problem)


def _parse_srt(text: str) -> tuple[list[Cue], str | None]:
    try:
        parsed = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1  # where the unparsed text begins
        return [], f"line {line} is not in SRT format (number, times, text)"
    except srt.TimestampParseError:
        return [], "a time in it is not written as HH:MM:SS,mmm"
    cues = [Cue(s.start.total_seconds(), s.end.total_seconds()) for s in parsed]
    return cues, None if cues else "it contains no subtitles"


def _parse_vtt(text: str) -> tuple[list[Cue], str | None]:
    # Loaded with the first WebVTT file, not with the window (docs/gui.md, "Start-up").
    import webvtt  # noqa: PLC0415
    from webvtt.errors import MalformedCaptionError, MalformedFileError  # noqa: PLC0415

    try:
        captions = webvtt.from_string(text, strict=True).captions
    except MalformedFileError:
        return [], "it is not a WebVTT file (the first line must be WEBVTT)"
    except MalformedCaptionError as exc:
        # The library's text quotes the block as a Python list: the log keeps it, a person
        # gets the shape a cue must have.
        logger.info("WebVTT cue not understood: %s", exc)
        return [], (
            "a subtitle in it is not written as a start and end time then its text "
            "(00:00:01.000 --> 00:00:04.000)"
        )
    cues = [
        Cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000)
        for c in captions
    ]
    return cues, None if cues else "it contains no subtitles"


def _timing_problem(cues: list[Cue], video_duration: float | None) -> str | None:
    for number, cue in enumerate(cues, start=1):
        if cue.end <= cue.start:
            return (
                f"subtitle {number} ends before it starts "
                f"({_clock(cue.start)} to {_clock(cue.end)})"
            )
        if video_duration is not None and cue.start > video_duration + END_TOLERANCE_SECONDS:
            return (
                f"subtitle {number} starts at {_clock(cue.start)}, "
                f"after the video ends ({_clock(video_duration)})"
            )
    return None


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:06.3f}"
