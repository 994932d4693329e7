"""Timing a Matroska file from its first and last kilobytes, on hand-built element trees.

Real recordings are covered through ``check`` in test_real_world_files.py; these pin the
cases an encoder does not produce on demand: a Cluster look-alike inside a frame, sound-only
last Clusters, stated frame durations, B-frame order and another time unit.
"""

from __future__ import annotations

import io
import math
import os
import random
import struct
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from tests.media import make_with_extra_track
from uploader_app.validation import matroska
from uploader_app.validation.probe import ZERO_TAIL_BYTES, probe_file
from uploader_app.validation.sniff import SNIFF_BYTES

VIDEO, SOUND = 1, 2
UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def element(ident: int, payload: bytes = b"", *, unknown: bool = False) -> bytes:
    """One element with an 8-byte size (or the "unknown" size live recorders write)."""
    size = UNKNOWN if unknown else bytes([0x01]) + len(payload).to_bytes(7, "big")
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + size + payload


def uint(ident: int, value: int) -> bytes:
    return element(ident, value.to_bytes(4, "big"))


def block(track: int, offset: int, frame: bytes = b"\x00" * 20) -> bytes:
    return element(0xA3, bytes([0x80 | track]) + struct.pack(">hB", offset, 0x80) + frame)


def cluster(timecode: int, *blocks: bytes, unknown: bool = False) -> bytes:
    return element(0x1F43B675, uint(0xE7, timecode) + b"".join(blocks), unknown=unknown)


def track(number: int, kind: int, default_ns: int | None = None) -> bytes:
    fields = uint(0xD7, number) + uint(0x83, kind)
    if default_ns is not None:
        fields += uint(0x23E383, default_ns)
    return element(0xAE, fields)


def header(*, scale: int = 1_000_000, duration: float | None = None, video_ns: int | None = None,
           live: bool = True, body: bytes = b"") -> bytes:  # fmt: skip
    info = uint(0x2AD7B1, scale)
    if duration is not None:
        info += element(0x4489, struct.pack(">d", duration))
    tracks = element(0x1654AE6B, track(VIDEO, 1, video_ns) + track(SOUND, 2))
    segment = element(0x1549A966, info) + tracks + body
    return element(0x1A45DFA3, uint(0x4282, 1)) + element(0x18538067, segment, unknown=live)


def timing(data: bytes) -> matroska.Timing:
    found = matroska.read_timing(io.BytesIO(data), len(data))
    assert found is not None
    return found


def test_a_live_recording_is_timed_by_its_last_frame() -> None:
    body = cluster(0, block(VIDEO, 0), block(SOUND, 0), block(VIDEO, 40), unknown=True)
    body += cluster(80, block(VIDEO, 0), block(SOUND, 10), block(VIDEO, 40), unknown=True)
    found = timing(header(body=body))
    assert found.header.live
    # Video frames 40 ms apart: the last starts at 120 ms and lasts 40 ms.
    assert found.length(VIDEO) == pytest.approx(0.160)


def test_the_header_time_unit_and_stated_duration_are_used() -> None:
    # 0.1 ms ticks: offsets of 400 ticks are 40 ms; the header says 10 s (100,000 ticks).
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 400)) + cluster(800, block(VIDEO, 0))
    found = timing(header(scale=100_000, duration=100_000, live=False, body=body))
    assert found.header.duration == pytest.approx(10.0)
    assert found.length(VIDEO) == pytest.approx(0.120)


def test_a_stated_frame_duration_wins_over_the_gaps() -> None:
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40), block(VIDEO, 80))
    found = timing(header(video_ns=33_000_000, body=body))  # DefaultDuration: 33 ms
    assert found.length(VIDEO) == pytest.approx(0.113)


def test_frames_stored_out_of_order_are_sorted() -> None:
    # B-frames: stored I P B B (0, 120, 40, 80); the last shown frame is the P at 120 ms.
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 120), block(VIDEO, 40), block(VIDEO, 80))
    assert timing(header(body=body)).length(VIDEO) == pytest.approx(0.160)


def test_a_cluster_look_alike_inside_a_frame_is_not_taken() -> None:
    fake = cluster(90_000, block(VIDEO, 0))  # bytes of a Cluster inside the last frame
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40, frame=fake + b"\x00" * 4))
    assert timing(header(body=body)).length(VIDEO) == pytest.approx(0.080)


def test_sound_only_last_clusters_read_back_to_the_picture() -> None:
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40), block(SOUND, 0))
    body += cluster(100, block(SOUND, 0), block(SOUND, 20)) + cluster(140, block(SOUND, 0))
    found = timing(header(body=body))
    assert found.length(VIDEO) == pytest.approx(0.080)
    assert found.length() == pytest.approx(0.160)  # the sound lasts longer


def test_a_frame_cut_off_at_the_end_is_not_counted() -> None:
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40), block(VIDEO, 80), unknown=True)
    data = header(body=body)[:-5]  # the recorder died while writing the last frame
    assert timing(data).length(VIDEO) == pytest.approx(0.080)


def test_the_last_cluster_is_found_beyond_the_first_window() -> None:
    big = b"\x00" * (matroska.TAIL_WINDOWS[0] + 1000)
    body = cluster(0, block(VIDEO, 0)) + cluster(40, block(VIDEO, 0), block(VIDEO, 40, big))
    assert timing(header(body=body)).length(VIDEO) == pytest.approx(0.120)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x18ftypisom" + bytes(100),  # an MP4
        element(0x1A45DFA3, uint(0x4282, 1)),  # EBML with no Segment
        header(body=b"\xff" * 64),  # no Cluster anywhere
    ],
)
def test_files_without_readable_clusters_give_no_timing(data: bytes) -> None:
    assert matroska.read_timing(io.BytesIO(data), len(data)) is None


def test_written_live_reads_the_segment_size() -> None:
    assert matroska.written_live(header(live=True))
    assert not matroska.written_live(header(live=False))
    assert not matroska.written_live(b"\x1a\x45\xdf\xa3")


def test_damaged_bytes_never_raise() -> None:
    # probe_file never raises, and this runs before MediaInfo on every Matroska file: any
    # byte of the header or the Clusters may be wrong in a damaged file.
    body = cluster(0, block(VIDEO, 0), block(SOUND, 0), block(VIDEO, 40, b"\x1f\x43\xb6\x75"))
    body += element(0xA0, element(0xA1, block(VIDEO, 80)[9:]) + uint(0x9B, 40))
    original = header(duration=120.0, video_ns=40_000_000, body=body)
    generator = random.Random(18)
    for _ in range(2000):
        data = bytearray(original)
        for _ in range(generator.randint(1, 4)):
            data[generator.randrange(len(data))] = generator.randrange(256)
        data = data[: generator.randint(len(data) // 2, len(data))]
        found = matroska.read_timing(io.BytesIO(bytes(data)), len(data))
        assert found is None or all(math.isfinite(end) for end in found.ends.values())


def _overlong(ident: int) -> bytes:
    """An unsigned integer element 200 bytes wide (the specification allows at most 8)."""
    return element(ident, b"\x7f" * 200)


def _header_with(info: bytes, video_fields: bytes = b"", body: bytes = b"") -> bytes:
    tracks = element(0x1654AE6B, element(0xAE, uint(0xD7, VIDEO) + uint(0x83, 1) + video_fields))
    segment = element(0x1549A966, info) + tracks + body
    return element(0x1A45DFA3, uint(0x4282, 1)) + element(0x18538067, segment)


FRAMES = cluster(0, block(VIDEO, 0), block(VIDEO, 40))


@pytest.mark.parametrize(
    "data",
    [
        # A later Cluster's Timecode far wider than any number a float holds.
        header(body=FRAMES + element(0x1F43B675, _overlong(0xE7) + block(VIDEO, 0))),
        _header_with(_overlong(0x2AD7B1), body=FRAMES),  # TimecodeScale
        _header_with(uint(0x2AD7B1, 1_000_000), _overlong(0x23E383), FRAMES),  # DefaultDuration
        header(
            body=cluster(
                0,
                block(VIDEO, 0),
                element(0xA0, element(0xA1, block(VIDEO, 40)[9:]) + _overlong(0x9B)),
            )
        ),  # BlockDuration
    ],
    ids=["timecode", "timecode scale", "default duration", "block duration"],
)
def test_overlong_numbers_never_raise(data: bytes) -> None:
    # They used to raise OverflowError out of probe_file (which only catches OSError).
    found = matroska.read_timing(io.BytesIO(data), len(data))
    assert found is None or all(math.isfinite(end) for end in found.ends.values())


def test_a_stated_duration_beyond_a_float_is_not_kept() -> None:
    # 1e300 ticks of 2^63 ns: finite as read, infinite once in seconds.
    info = element(0x2AD7B1, (2**63).to_bytes(8, "big"))
    info += element(0x4489, struct.pack(">d", 1e300))
    found = matroska.read_header(_header_with(info, body=FRAMES))
    assert found is not None
    assert found.duration is None or math.isfinite(found.duration)


def test_probe_file_reports_rather_than_raises_on_an_overlong_time_unit(tmp_path: Path) -> None:
    path = tmp_path / "damaged.mkv"
    path.write_bytes(_header_with(_overlong(0x2AD7B1), body=FRAMES))
    os.utime(path, (1, 1))  # long finished: no second look
    probe_file(path)  # used to raise OverflowError: `check` printed a traceback


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the elements the reader looks at."""
    calls = [0]
    real = matroska._element

    def element(data: bytes, position: int) -> tuple[int, int, int, int | None] | None:
        calls[0] += 1
        return real(data, position)

    monkeypatch.setattr(matroska, "_element", element)
    return calls


def test_clusters_read_back_one_by_one_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The picture stopped 15 Clusters before the end: each earlier Cluster tried used to be
    # read again to the end with all the later ones (15 x the work).
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40))
    body += b"".join(
        cluster(100 + n * 2000, *(block(SOUND, i) for i in range(2000))) for n in range(15)
    )
    data = header(body=body)
    calls = _counting(monkeypatch)
    assert timing(data).length(VIDEO) == pytest.approx(0.080)
    assert calls[0] < 3 * 15 * 2000


def test_a_tail_of_tiny_elements_is_read_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # 7.8 MB of 13-byte frames (600,000 of them): reading them all took seconds per window.
    data = header(body=cluster(0, block(VIDEO, 0)) + cluster(100, block(SOUND, 5, b"") * 600_000))
    calls = _counting(monkeypatch)
    found = matroska.read_timing(io.BytesIO(data), len(data))
    assert found is None or VIDEO not in found.ends
    assert calls[0] < 1.2 * matroska._MAX_ELEMENTS


def test_a_damaged_size_in_the_last_cluster_is_not_taken_for_its_end() -> None:
    # A size starting with a zero byte is no size at all; the walk used to stop there as if
    # the recording had ended, timing the file at 40 ms instead of admitting it cannot.
    damaged = b"\xa3\x00" + b"\x00" * 30
    body = cluster(0, block(VIDEO, 0), damaged + block(VIDEO, 40) + block(VIDEO, 80))
    data = header(body=body)
    assert matroska.read_timing(io.BytesIO(data), len(data)) is None


def test_an_element_cut_inside_its_size_is_the_end_of_the_recording() -> None:
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40), unknown=True)
    data = header(body=body) + b"\xa3\x01\x00"  # the next frame's size, cut off
    assert timing(data).length(VIDEO) == pytest.approx(0.080)


COVER = 3


class _CountingReader(io.BytesIO):
    """An in-memory file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def _with_cover(body: bytes) -> bytes:
    """A finished file whose tracks are the picture, the sound and a cover (a video track)."""
    tracks = track(VIDEO, 1, 40_000_000) + track(SOUND, 2) + track(COVER, 1)
    segment = element(0x1549A966, uint(0x2AD7B1, 1_000_000)) + element(0x1654AE6B, tracks)
    return element(0x1A45DFA3, uint(0x4282, 1)) + element(0x18538067, segment + body)


def test_a_cover_picture_track_does_not_make_every_end_window_read() -> None:
    """The cover's one frame is at the start: the end is read only until the picture is timed
    (it used to read all three windows, 9.2 MB, waiting for the cover's frames)."""
    frame = b"\x00" * 60_000
    body = cluster(0, block(COVER, 0), block(VIDEO, 0, frame), block(SOUND, 0))
    body += b"".join(
        cluster(40 * n, block(VIDEO, 0, frame), block(SOUND, 0)) for n in range(1, 200)
    )
    data = _with_cover(body)
    assert len(data) > matroska.HEAD_BYTES + sum(matroska.TAIL_WINDOWS)

    reader = _CountingReader(data)
    found = matroska.read_timing(reader, len(data))
    assert found is not None
    assert found.length(VIDEO) == pytest.approx(8.0)  # 200 frames of 40 ms
    assert reader.read_bytes <= matroska.HEAD_BYTES + matroska.TAIL_WINDOWS[0]

    # Asked for the cover itself, every window is read: its frame is in none of them.
    reader = _CountingReader(data)
    found = matroska.read_timing(reader, len(data), COVER)
    assert found is not None and COVER not in found.ends
    assert reader.read_bytes == matroska.HEAD_BYTES + sum(matroska.TAIL_WINDOWS)


def test_a_named_track_is_read_back_to_where_it_stopped() -> None:
    """A second picture that outlasts the main one: asked for the main one by number, the
    windows grow until they hold its last frames."""
    big = b"\x00" * (matroska.TAIL_WINDOWS[0] + 1000)
    tracks = track(VIDEO, 1) + track(COVER, 1)
    segment = element(0x1549A966, uint(0x2AD7B1, 1_000_000)) + element(0x1654AE6B, tracks)
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 40), block(COVER, 0))
    body += cluster(1000, block(COVER, 0, big), block(COVER, 40))
    data = element(0x1A45DFA3, uint(0x4282, 1)) + element(0x18538067, segment + body)

    first = timing(data)
    assert COVER in first.ends and VIDEO not in first.ends
    named = matroska.read_timing(io.BytesIO(data), len(data), VIDEO)
    assert named is not None
    assert named.length(VIDEO) == pytest.approx(0.080)


class _CountingFile:
    """A file opened by the probe, counting the bytes Python reads from it (MediaInfo's own
    reads by path are its business)."""

    def __init__(self, fh: BinaryIO, total: list[int]) -> None:
        self._fh = fh
        self._total = total

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._total[0] += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def test_a_real_file_with_a_cover_track_is_probed_from_its_last_clusters(
    video_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ffmpeg's Matroska with a one-frame MJPEG cover as its first video track, 19 MB: the
    probe used to read every end window (9.6 MB in all) for the cover's frames."""
    path = make_with_extra_track(video_dir, "cover", big=True)
    assert path.stat().st_size > matroska.HEAD_BYTES + sum(matroska.TAIL_WINDOWS)
    total = [0]
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened = real_open(self, *args, **kwargs)
        return _CountingFile(opened, total) if self == path else opened

    monkeypatch.setattr(Path, "open", counting_open)
    result = probe_file(path)

    assert (result.width, result.height, result.video_track) == (640, 360, 2)
    assert result.duration == pytest.approx(6.0, abs=0.05)
    # The first bytes and the zero-tail look (sniff.py, probe.py), the header, then the end
    # windows up to the one holding the last Cluster's start.
    looks = SNIFF_BYTES + ZERO_TAIL_BYTES + matroska.HEAD_BYTES
    assert total[0] == looks + sum(matroska.TAIL_WINDOWS[:2])


def test_the_main_picture_is_timed_when_a_smaller_one_outlasts_it(
    video_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end windows first time the preview (it runs to the end); the probe then reads back
    for the main picture, which stopped at 3 s, rather than leave it untimed."""
    path = make_with_extra_track(video_dir, "outlasting")
    asked: list[int | None] = []
    real = matroska.read_timing

    def read_timing(fh: BinaryIO, size: int, track: int | None = None) -> matroska.Timing | None:
        asked.append(track)
        return real(fh, size, track)

    monkeypatch.setattr(matroska, "read_timing", read_timing)
    result = probe_file(path)

    assert asked == [None, 2]  # the second track is the main one (the larger picture)
    assert (result.width, result.video_track) == (640, 2)
    assert result.duration == pytest.approx(3.0, abs=0.05)


def test_a_picture_with_one_frame_in_the_last_cluster_is_timed_beside_a_timed_second_one() -> None:
    """Two moving pictures: the main one (no stated frame duration, as browsers record) has a
    single frame in the last Cluster, the second one two. One frame cannot say how long it
    lasts, so the read goes back a Cluster for the main one's frame gap rather than stop
    because the second picture is timed: the main one is not cut short by a frame."""
    preview = COVER
    tracks = track(VIDEO, 1) + track(preview, 1, 40_000_000)
    segment = element(0x1549A966, uint(0x2AD7B1, 1_000_000)) + element(0x1654AE6B, tracks)
    body = cluster(0, block(VIDEO, 0), block(VIDEO, 33), block(preview, 0))
    body += cluster(66, block(VIDEO, 0), block(preview, 0), block(preview, 40))
    data = element(0x1A45DFA3, uint(0x4282, 1)) + element(0x18538067, segment + body)

    found = timing(data)
    assert found.length(VIDEO) == pytest.approx(0.099)  # frames at 0, 33 and 66 ms
    assert found.length(preview) == pytest.approx(0.146)
