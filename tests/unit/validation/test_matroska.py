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

import pytest

from uploader_app.validation import matroska
from uploader_app.validation.probe import probe_file

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
