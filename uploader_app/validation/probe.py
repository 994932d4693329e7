"""Read what a file really contains: a content sniff first, then MediaInfo for media.

``probe_file`` never raises. A missing, unreadable or special file comes back as a
``ProbeResult`` with ``error`` set, so a folder scan and the sandbox can treat every file the
same way and the rules in :mod:`uploader_app.validation.rules` word the verdict.
"""

from __future__ import annotations

import logging
import math
import stat
from pathlib import Path
from typing import BinaryIO

from pymediainfo import MediaInfo

from uploader_app.models import ProbeResult
from uploader_app.validation.sniff import SNIFF_BYTES, Kind, Sniff, sniff

logger = logging.getLogger(__name__)

# MediaInfo reads headers and a sample of frames at 0.5 (its default). It is what detects a
# cut-off download (``IsTruncated``) and fills duration for streams without an index, so we keep
# it rather than trade correctness for the ~10 % a lower setting saves.
PARSE_SPEED = 0.5

# ``ProbeResult.error`` texts (completing "This file could not be read: …"). A scan tells the
# first two apart: a file that vanished or a pipe is skipped, a locked video is reported.
ERROR_MISSING = "the file is no longer there"
ERROR_SPECIAL = "it is a special system file, not a video"
ERROR_FOLDER = "it is a folder, not a file"
ERROR_PERMISSION = "you do not have permission to open it"
ERROR_CONTENT = "its content could not be read"


def probe_file(path: Path) -> ProbeResult:
    """Probe one file by content. Never raises; problems are reported in ``error``."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return ProbeResult(path=path, size=0, error=ERROR_MISSING)
    except PermissionError:
        return ProbeResult(path=path, size=0, error=ERROR_PERMISSION)
    except OSError as exc:
        return ProbeResult(path=path, size=0, error=_os_reason(exc))
    if stat.S_ISDIR(info.st_mode):
        return ProbeResult(path=path, size=0, error=ERROR_FOLDER)
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or a device could block forever or read endless data.
        return ProbeResult(path=path, size=0, error=ERROR_SPECIAL)
    size = info.st_size
    if size == 0:
        return ProbeResult(path=path, size=0, content="an empty file")
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except PermissionError:
        return ProbeResult(path=path, size=size, error=ERROR_PERMISSION)
    except OSError as exc:
        return ProbeResult(path=path, size=size, error=_os_reason(exc))
    sniffed = sniff(head)
    if not sniffed.needs_probe:
        return ProbeResult(
            path=path, size=size, is_image=sniffed.kind is Kind.IMAGE, content=sniffed.label
        )
    return _parse(path, size, sniffed)


def probe_stream(stream: BinaryIO, name: str, size: int) -> ProbeResult:
    """Probe media that is not a local file, such as a remote video read by range requests.

    ``stream`` must be seekable: MediaInfo asks only for the parts it needs (the header, the
    index at the end of an MP4), so a big remote file is judged from a few of its bytes.
    ``name`` becomes the result's ``path``. Never raises.
    """
    path = Path(name)
    if size == 0:
        return ProbeResult(path=path, size=0, content="an empty file")
    try:
        head = stream.read(SNIFF_BYTES)
        stream.seek(0)
    except OSError as exc:
        return ProbeResult(path=path, size=size, error=_os_reason(exc))
    sniffed = sniff(head)
    if not sniffed.needs_probe:
        return ProbeResult(
            path=path, size=size, is_image=sniffed.kind is Kind.IMAGE, content=sniffed.label
        )
    try:
        report = MediaInfo.parse(stream, output=_INFORM, parse_speed=PARSE_SPEED)
    except Exception as exc:  # libmediainfo, ctypes or stream errors: report, never raise
        logger.warning("MediaInfo could not parse %s: %s", name, exc)
        return ProbeResult(path=path, size=size, error=ERROR_CONTENT)
    return _result(path, size, sniffed, str(report))


def _parse(path: Path, size: int, sniffed: Sniff) -> ProbeResult:
    try:
        report = MediaInfo.parse(str(path), output=_INFORM, parse_speed=PARSE_SPEED)
    except Exception as exc:  # libmediainfo or ctypes errors: report, never crash a scan
        logger.warning("MediaInfo could not parse %s: %s", path, exc)
        return ProbeResult(path=path, size=size, error=ERROR_CONTENT)
    if not path.exists():
        # libmediainfo reports an empty result, not an error, for a file that vanished.
        return ProbeResult(path=path, size=size, error=ERROR_MISSING)
    return _result(path, size, sniffed, str(report))


def _result(path: Path, size: int, sniffed: Sniff, report: str) -> ProbeResult:
    tracks = _read_report(report)
    general = tracks.get("G", [{}])[0]
    videos, audio, images = tracks.get("V", []), tracks.get("A", []), tracks.get("I", [])
    container = general.get("Format") or None
    truncated = general.get("IsTruncated") == "Yes"
    general_duration = _seconds(_number(general.get("Duration")))
    audio_codec = audio[0].get("Format") or None if audio else None
    if not videos:
        return ProbeResult(
            path=path,
            size=size,
            container=container,
            duration=general_duration,
            audio_tracks=len(audio),
            audio_codec=audio_codec,
            is_truncated=truncated,
            is_image=bool(images) or sniffed.kind is Kind.IMAGE,
            content=_describe_non_video(container, bool(audio), bool(images)) or sniffed.label,
        )
    video = videos[0]
    width = _integer(video.get("Width"))
    height = _integer(video.get("Height"))
    rotation = _number(video.get("Rotation")) or 0.0
    aspect = _number(video.get("DisplayAspectRatio"))
    if aspect is None and width and height:
        aspect = width / height
    if round(rotation) % 180 == 90:
        # Phone video is stored landscape with a rotation flag; judge it as it is shown.
        width, height = height, width
        aspect = 1 / aspect if aspect else None
    # MKV and WebM video tracks often carry no duration of their own: use the container's.
    duration = _seconds(_number(video.get("Duration"))) or general_duration
    rate = _number(video.get("FrameRate"))
    frames = _number(video.get("FrameCount"))
    if rate is None and frames and duration:
        rate = frames / duration  # variable frame rate with no nominal rate: the average
    return ProbeResult(
        path=path,
        size=size,
        container=container,
        has_video=True,
        video_codec=video.get("Format") or None,
        width=width,
        height=height,
        rotation=rotation,
        display_aspect=aspect,
        duration=duration,
        frame_rate=rate,
        frame_rate_mode=video.get("FrameRate_Mode") or None,
        audio_tracks=len(audio),
        audio_codec=audio_codec,
        is_truncated=truncated,
    )


# MediaInfo's "Inform" template: one line per track with only the fields the rules need.
# Asking for these few fields instead of the full XML report (and parsing it into Track
# objects) makes a probe ~1.8x faster: 3.6 ms instead of 6.5 ms per clip, measured here.
_FIELDS: dict[str, tuple[str, ...]] = {
    "G": ("Format", "Duration", "IsTruncated"),
    "V": (
        "Format",
        "Width",
        "Height",
        "Rotation",
        "DisplayAspectRatio",
        "Duration",
        "FrameRate",
        "FrameRate_Mode",
        "FrameCount",
    ),
    "A": ("Format",),
    "I": ("Format",),
}
_SECTIONS = {"G": "General", "V": "Video", "A": "Audio", "I": "Image"}
_INFORM = "\n".join(
    f"{_SECTIONS[tag]};{tag}|" + "|".join(f"%{name}%" for name in names) + "\\n"
    for tag, names in _FIELDS.items()
)


def _read_report(report: str) -> dict[str, list[dict[str, str]]]:
    tracks: dict[str, list[dict[str, str]]] = {}
    for line in report.splitlines():
        tag, _, rest = line.partition("|")
        names = _FIELDS.get(tag)
        if names is None:
            continue
        values = rest.split("|")
        tracks.setdefault(tag, []).append(dict(zip(names, values, strict=False)))
    return tracks


def _describe_non_video(container: str | None, has_audio: bool, has_image: bool) -> str | None:
    if has_audio:
        return f"a sound file ({container})" if container else "a sound file"
    if has_image:
        return f"a {container} picture" if container else "a picture"
    return None


def _number(value: str | None) -> float | None:
    """A numeric field; MediaInfo may add words, as in ``'29.970 (30000/1001)'``."""
    if not value:
        return None
    try:
        number = float(value.split()[0])
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _integer(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else round(number)


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000.0


def _os_reason(exc: OSError) -> str:
    reason = (exc.strerror or str(exc)).lower()
    return f"the system refused to open it ({reason})"
