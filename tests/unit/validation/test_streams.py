"""The one seekable read-only stream base, shared by the local probe's head of a file and the
URL check's range reader."""

from __future__ import annotations

import io
import os

import pytest

from uploader_app.jobs.urlcheck import RangeReader
from uploader_app.validation.streams import Head, SizedReader

DATA = bytes(range(256)) * 4


def test_head_reads_only_its_first_bytes() -> None:
    head = Head(io.BytesIO(DATA), 300)
    assert head.readable() and head.seekable()
    assert head.read() == DATA[:300]
    assert head.read() == b""
    assert head.seek(-10, os.SEEK_END) == 290
    assert head.read(50) == DATA[290:300]
    assert head.seek(5) == 5
    assert head.seek(7, os.SEEK_CUR) == 12
    assert head.read(3) == DATA[12:15]
    assert head.tell() == 15


@pytest.mark.parametrize(
    ("offset", "whence", "position"),
    [
        (-5, os.SEEK_SET, 0),
        (10_000, os.SEEK_SET, 300),
        (1, os.SEEK_END, 300),
        (-400, os.SEEK_END, 0),
    ],
)
def test_positions_stay_within_the_stream(offset: int, whence: int, position: int) -> None:
    head = Head(io.BytesIO(DATA), 300)
    assert head.seek(offset, whence) == position
    assert head.tell() == position


def test_a_buffered_head_is_what_mediainfo_reads() -> None:
    buffered = io.BufferedReader(Head(io.BytesIO(DATA), 700), 64)
    assert buffered.read(100) == DATA[:100]
    buffered.seek(650)
    assert buffered.read() == DATA[650:700]


def test_both_readers_share_one_copy_of_the_stream_methods() -> None:
    for reader in (Head, RangeReader):
        assert issubclass(reader, SizedReader)
        own = {"readable", "seekable", "tell", "seek", "readinto"} & set(vars(reader))
        assert not own, f"{reader.__name__} repeats {own}"
