"""How long a Matroska/WebM file's frames last, read from its first and last kilobytes.

A live recording (browser MediaRecorder, OBS-style recorders) writes no duration, and a
header's duration can promise more than the file holds. MediaInfo learns the real length only
by parsing the whole file, which for a big recording takes seconds and, in-process, holds up
every other probe (docs/validation.md, "Recordings and bare streams"). The Matroska layout
makes a shortcut possible: the header gives the time unit, and the last Cluster's Timecode
plus its blocks' own offsets give the last frame's time, so a few windows at the file's end
are enough.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

# Element ids (the Matroska specification, kept with their marker bits as written in files).
_EBML = 0x1A45DFA3
_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_NUMBER = 0xD7
_TRACK_TYPE = 0x83
_VIDEO_TYPE = 1
_DEFAULT_DURATION = 0x23E383
_CLUSTER = 0x1F43B675
_TIMECODE = 0xE7
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
_BLOCK_DURATION = 0x9B
_CRC32 = 0xBF
_VOID = 0xEC
_CLUSTER_BYTES = _CLUSTER.to_bytes(4, "big")
MAGIC = _EBML.to_bytes(4, "big")  # the first bytes of every Matroska/WebM file

# What may follow a Cluster's Timecode up to the end of the file: its other children, further
# Clusters, and the closing top-level elements a finished file has (Cues, Tags, ...). Anything
# else means the walk started on bytes that only looked like a Cluster.
_CLUSTER_CHILDREN = frozenset({0xA7, 0xAB, _VOID, _CRC32, 0x5854, 0xAF})
_TOP_LEVEL = frozenset(
    {0x1C53BB6B, 0x1254C367, 0x114D9B74, 0x1043A770, 0x1941A469, _INFO, _TRACKS, _VOID, _CRC32}
)

# The header (EBML header, SeekHead, Info, Tracks with codec setup) fits in this nearly always.
HEAD_BYTES = 64 * 1024
# Windows read at the end, growing until one holds the start of the last Cluster. Recorders
# start a Cluster at least every few seconds (FFmpeg: 5 s or 5 MB; browsers at each keyframe),
# so a bigger Cluster is not worth reading: the caller falls back to a full parse.
TAIL_WINDOWS = (64 * 1024, 1024 * 1024, 8 * 1024 * 1024)
# Where each track's first frame is looked for, from the first Cluster's start.
FIRST_FRAMES_BYTES = 8 * 1024
# A block's track number (at most 8 bytes), its time offset and flags: all a time needs.
_BLOCK_HEAD = 11
# An element's id (at most 4 bytes) and size (at most 8): fewer left means cut off.
_LONGEST_ID_AND_SIZE = 12
# Only so many Cluster look-alikes are tried in one window before giving up on it.
_MAX_CANDIDATES = 16
# Elements read to time one file, over all its windows. A real file's last Clusters hold a
# few thousand frames; a damaged or hostile one made of tiny elements would otherwise cost
# seconds to minutes (about 3 us an element): past this, the caller falls back to MediaInfo.
_MAX_ELEMENTS = 100_000

# Matroska's default time unit when the header does not state one: 1 ms.
_DEFAULT_SCALE = 1_000_000


@dataclass(frozen=True)
class Header:
    """What the start of a Matroska file says about time."""

    live: bool  # the Segment's size is "unknown": written live, never finished
    scale: int  # nanoseconds per timestamp tick
    duration: float | None  # seconds, as the header states it
    frame_ns: dict[int, int] = field(default_factory=dict)  # track -> DefaultDuration
    video: frozenset[int] = frozenset()  # the video tracks' numbers
    # Per track, its first frame's time (ticks) among the frames the header window holds.
    starts: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Timing:
    """The header and, per track number, where its last complete frame ends (seconds)."""

    header: Header
    ends: dict[int, float]

    def length(self, track: int | None = None) -> float | None:
        """From ``track``'s first frame to the end of its last one (all tracks when None).

        A track whose first frame the header window does not hold is timed from the earliest
        frame it does hold (recorders start every track at or near zero).
        """
        starts = self.header.starts
        if track is None:
            end = max(self.ends.values(), default=None)
            start = min(starts.values(), default=0)
        else:
            end = self.ends.get(track)
            start = starts.get(track, min(starts.values(), default=0))
        if end is None:
            return None
        return round(max(end - start * self.header.scale / 1e9, 0.0), 6)


def read_timing(fh: BinaryIO, size: int, track: int | None = None) -> Timing | None:
    """The header and last frames of the Matroska file open in ``fh``, or None.

    The windows at the end grow until they time ``track`` or, when it is None, any one video
    track. Not every video track: a cover picture is a video track whose one frame sits at the
    file's start, so waiting for it read every window (9.2 MB) for nothing. When the track the
    service indexes is not the one timed, the probe asks again for it (``probe.py``).

    None when the file is not Matroska, its header lies beyond :data:`HEAD_BYTES`, or no
    Cluster starts within the last :data:`TAIL_WINDOWS` bytes.
    """
    fh.seek(0)
    header = read_header(fh.read(HEAD_BYTES))
    if header is None:
        return None
    ends: dict[int, float] = {}
    budget = _Budget()
    for window in TAIL_WINDOWS:
        offset = max(size - window, 0)
        fh.seek(offset)
        ends = last_frames(fh.read(size - offset), header, budget, track) or ends
        # A window holding only sound at the end (the picture stopped first) reads on.
        wanted = _wanted(header, track)
        if (ends and (not wanted or not wanted.isdisjoint(ends))) or offset == 0:
            break
    return Timing(header, ends) if ends else None


def written_live(head: bytes) -> bool:
    """True for Matroska/WebM whose Segment has the "unknown" size recorders write live.

    Browsers (MediaRecorder) and OBS-style recorders stream the file and never go back to
    write its total size or duration, so MediaInfo calls it truncated although every frame is
    there. A file copied or downloaded in part keeps the size its writer put in the header.
    """
    segment = _segment(head)
    return segment is not None and segment[3] is None


def _segment(head: bytes) -> tuple[int, int, int, int | None] | None:
    element = _element(head, 0)
    if element is None or element[0] != _EBML:
        return None
    segment = _element(head, element[2])
    return segment if segment is not None and segment[0] == _SEGMENT else None


def read_header(head: bytes) -> Header | None:
    """Time unit, stated duration, tracks and first frames' times from the file's start."""
    segment = _segment(head)
    if segment is None:
        return None
    live = segment[3] is None
    scale, duration, frame_ns, starts = _DEFAULT_SCALE, None, {}, {}
    video: set[int] = set()
    seen_info = False
    position = segment[1]
    while (element := _element(head, position)) is not None:
        ident, data, end, length = element
        if ident == _CLUSTER:
            # Each track's first frame is near the Cluster's start: reading all the frames
            # the window holds would cost more than the rest of the probe.
            window = head[: position + FIRST_FRAMES_BYTES]
            blocks = _walk(window, position, _Budget(), keep_cut=True)
            if blocks:
                starts = {track: min(times) for track, times in blocks.times.items()}
            break
        if length is None or end > len(head):
            break  # a part of the header this window does not hold
        if ident == _INFO:
            seen_info = True
            fields = dict(_children(head, data, end))
            if _TIMECODE_SCALE in fields:
                stated_scale = _uint(fields[_TIMECODE_SCALE])
                if stated_scale is None:
                    return None  # a time unit no file can have: nothing can be timed
                scale = stated_scale or _DEFAULT_SCALE
            if _DURATION in fields:
                duration = _float(fields[_DURATION])
        elif ident == _TRACKS:
            for child, entry in _children(head, data, end):
                if child == _TRACK_ENTRY:
                    values = dict(_children(entry, 0, len(entry)))
                    number = _uint(values.get(_TRACK_NUMBER, b""))
                    if number is None:
                        continue
                    if _uint(values.get(_TRACK_TYPE, b"")) == _VIDEO_TYPE:
                        video.add(number)
                    frame = _uint(values.get(_DEFAULT_DURATION, b""))
                    if frame:
                        frame_ns[number] = frame
        position = end
    if not seen_info:
        return None  # without its time unit no timestamp can be read safely
    if duration is not None:
        duration = duration * scale / 1e9
        if not math.isfinite(duration):
            duration = None
    return Header(live, scale, duration, frame_ns, frozenset(video), starts)


def last_frames(
    tail: bytes, header: Header, budget: _Budget | None = None, track: int | None = None
) -> dict[int, float]:
    """Per track, the end of its last complete frame (seconds) in the Clusters ``tail`` holds.

    The last Cluster that starts in ``tail`` and reads cleanly to the end is used, or an
    earlier one when the last cannot time ``track`` (when None: the video tracks it holds
    frames of, at least one) (no frame of it: the sound outlasted the picture; or one frame
    with no stated duration); all Clusters from there on count. Empty when none is found, or
    when ``budget`` runs out.
    """
    budget = budget or _Budget()
    wanted = _wanted(header, track)
    found, start = _Blocks(), len(tail)
    position = len(tail)
    for _ in range(_MAX_CANDIDATES):
        position = tail.rfind(_CLUSTER_BYTES, 0, position)
        if position < 0:
            break
        # Reading back one Cluster at a time: a walk that reaches the Clusters already read
        # takes their frames rather than reading them again (else 16 candidates cost 16x).
        blocks = _walk(tail, position, budget, known=(start, found))
        if blocks:
            found, start = blocks, position
            # Each wanted picture these Clusters hold must be timed (one frame alone cannot
            # say how long it lasts); one absent is fine (a cover's frame is at the start).
            present = wanted & blocks.times.keys()
            if not wanted or (present and all(_timed(blocks, header, video) for video in present)):
                break
    return _ends(found, header)


def _wanted(header: Header, track: int | None) -> frozenset[int]:
    """The pictures to time: ``track``, or the video tracks (those the Clusters hold)."""
    return header.video if track is None else frozenset({track})


def _timed(blocks: _Blocks, header: Header, track: int) -> bool:
    """Whether ``blocks`` time ``track``'s last frame: its duration is stated, or a gap shows it."""
    times = set(blocks.times.get(track, ()))
    return len(times) >= 2 or (len(times) == 1 and track in header.frame_ns)


@dataclass
class _Blocks:
    """Timestamps (ticks) of each track's complete frames, and their stated durations."""

    times: dict[int, list[int]] = field(default_factory=dict)
    durations: dict[tuple[int, int], int] = field(default_factory=dict)

    def add(self, block: bytes, cluster: int, duration: int | None) -> None:
        track = _vint(block, 0)
        if track is None or len(block) < track[1] + 3:
            return
        number, width = track[0], track[1]
        (offset,) = struct.unpack_from(">h", block, width)
        time = cluster + offset
        self.times.setdefault(number, []).append(time)
        if duration is not None:
            self.durations[number, time] = duration

    def extend(self, other: _Blocks) -> None:
        for track, times in other.times.items():
            self.times.setdefault(track, []).extend(times)
        self.durations.update(other.durations)

    def __bool__(self) -> bool:
        return bool(self.times)


@dataclass
class _Budget:
    """How many more elements may be read for one file (:data:`_MAX_ELEMENTS`)."""

    left: int = _MAX_ELEMENTS


def _walk(
    tail: bytes,
    position: int,
    budget: _Budget,
    *,
    keep_cut: bool = False,
    known: tuple[int, _Blocks] | None = None,
) -> _Blocks | None:
    """Read Clusters from ``position`` to the end; None when it is not a real Cluster start.

    A frame cut off by the window's end counts only with ``keep_cut`` (the header window:
    a first keyframe is often larger than the window, but its time is in its first bytes).
    ``known`` is where Clusters already read cleanly to the end start, and their frames.
    None too when ``budget`` runs out.
    """
    cluster = _element(tail, position)
    if cluster is None or cluster[0] != _CLUSTER:
        return None
    first = _element(tail, cluster[1])
    if first is not None and first[0] == _CRC32:
        first = _element(tail, first[2])  # FFmpeg puts a checksum before the Timecode
    if first is None or first[0] != _TIMECODE or not 1 <= first[2] - first[1] <= 8:
        return None
    blocks = _Blocks()
    timecode = 0
    position = cluster[1]
    while position < len(tail):
        if known is not None and position == known[0]:
            blocks.extend(known[1])
            break
        budget.left -= 1
        if budget.left < 0:
            return None
        if not 1 <= 9 - tail[position].bit_length() <= 4:
            return None  # no element id starts with this byte: not a real Cluster
        element = _element(tail, position)
        if element is None:
            if len(tail) - position >= _LONGEST_ID_AND_SIZE:
                return None  # a size no element has: damaged bytes, not a real Cluster
            break  # cut inside an element's id or size: the end of what was written
        ident, data, end, length = element
        if ident == _CLUSTER:
            position = data  # walk into it: its size may be unknown (browsers write it so)
            continue
        if length is None or end > len(tail):
            if ident == _SIMPLE_BLOCK and keep_cut:
                blocks.add(tail[data : data + _BLOCK_HEAD], timecode, None)  # time comes first
            if ident in (_SIMPLE_BLOCK, _BLOCK_GROUP) or ident in _TOP_LEVEL:
                break  # a frame cut off where recording stopped, or the closing elements
            return None
        if ident == _TIMECODE:
            stated = _uint(tail[data:end])
            if stated is None:
                return None  # wider than any Timecode: not a real Cluster
            timecode = stated
        elif ident == _SIMPLE_BLOCK:
            blocks.add(tail[data : min(end, data + _BLOCK_HEAD)], timecode, None)
        elif ident == _BLOCK_GROUP:
            fields = dict(_children(tail, data, end))
            if _BLOCK in fields:
                duration = fields.get(_BLOCK_DURATION)
                stated = None if duration is None else _uint(duration)
                blocks.add(fields[_BLOCK], timecode, stated)
        elif ident not in _CLUSTER_CHILDREN and ident not in _TOP_LEVEL:
            return None
        position = end
    return blocks


def _ends(blocks: _Blocks, header: Header) -> dict[int, float]:
    ends: dict[int, float] = {}
    for track, times in blocks.times.items():
        last = max(times)
        frame = blocks.durations.get((track, last))
        if frame is None and track in header.frame_ns:
            frame = round(header.frame_ns[track] / header.scale)
        if frame is None:
            # No stated duration (variable frame rate, as browsers record): the shortest gap
            # between frames. Timestamps are sorted first: B-frames are stored out of order.
            ordered = sorted(set(times))
            gaps = [b - a for a, b in itertools.pairwise(ordered)]
            frame = min(gaps, default=0)
        ends[track] = (last + frame) * header.scale / 1e9
    return ends


def _element(data: bytes, position: int) -> tuple[int, int, int, int | None] | None:
    """(id, data start, data end, size or None when unknown) of the element at ``position``.

    None when the id or size does not fit in ``data``. An unknown size ends at ``len(data)``.
    """
    if position >= len(data):
        return None
    width = 9 - data[position].bit_length()
    if not 1 <= width <= 4 or position + width > len(data):
        return None
    ident = int.from_bytes(data[position : position + width], "big")
    size = _vint(data, position + width)
    if size is None:
        return None
    value, used, unknown = size
    start = position + width + used
    if unknown:
        return ident, start, len(data), None
    return ident, start, start + value, value


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """The complete (id, payload) children between ``start`` and ``end``."""
    position = start
    while position < end:
        element = _element(data, position)
        if element is None or element[3] is None or element[2] > end:
            return
        yield element[0], data[element[1] : element[2]]
        position = element[2]


def _vint(data: bytes, position: int) -> tuple[int, int, bool] | None:
    """An EBML variable-size integer at ``position``: (value, bytes used, all ones = unknown)."""
    if position >= len(data) or data[position] == 0:
        return None
    width = 9 - data[position].bit_length()  # the leading zero bits say how many bytes follow
    raw = data[position : position + width]
    if len(raw) < width:
        return None
    value = int.from_bytes(raw, "big") & ((1 << (7 * width)) - 1)
    return value, width, value == (1 << (7 * width)) - 1


def _uint(payload: bytes) -> int | None:
    """An unsigned integer element's value; None when wider than the 8 bytes Matroska allows
    (a damaged file: such a number would overflow every float it is turned into)."""
    return int.from_bytes(payload, "big") if len(payload) <= 8 else None


def _float(payload: bytes) -> float | None:
    if len(payload) not in (4, 8):
        return None
    (value,) = struct.unpack(">f" if len(payload) == 4 else ">d", payload)
    return float(value) if math.isfinite(value) and value > 0 else None
