"""Streaming bodies: exact bytes and length, re-iterable for retries, progress, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from urllib3.filepost import encode_multipart_formdata

from uploader_app.api.body import FilePart, FileRange, file_range_body, multipart_body
from uploader_app.api.errors import CancelledError, FileChangedError
from uploader_app.models import UploadProgress


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 1000 + b"tail")  # 256,004 bytes
    return path


def _boundary(content_type: str) -> str:
    return content_type.split("boundary=", 1)[1]


def test_multipart_body_matches_urllib3_encoding(data_file: Path) -> None:
    size = data_file.stat().st_size
    body = multipart_body(
        {"index_id": "idx-1", "user_metadata": '{"k": "é"}'},
        [FilePart("video_file", FileRange(data_file, 0, size), "clip.mp4", "video/mp4")],
        chunk_size=4096,
    )
    expected, content_type = encode_multipart_formdata(
        [
            ("index_id", "idx-1"),
            ("user_metadata", '{"k": "é"}'),
            ("video_file", ("clip.mp4", data_file.read_bytes(), "video/mp4")),
        ],
        boundary=_boundary(body.content_type),
    )
    sent = b"".join(bytes(chunk) for chunk in body)
    assert sent == expected
    assert len(body) == len(expected)  # Content-Length is exact
    assert body.content_type == content_type


def test_body_is_resent_whole_when_iterated_again(data_file: Path) -> None:
    size = data_file.stat().st_size
    body = multipart_body(
        {"index_id": "idx-1"},
        [FilePart("video_file", FileRange(data_file, 0, size), "clip.mp4")],
        chunk_size=10_000,
    )
    first = iter(body)
    next(first)
    next(first)  # a failed attempt that stopped part-way
    assert not body.completed
    again = b"".join(bytes(c) for c in body)
    assert again.count(b'name="index_id"') == 1
    assert data_file.read_bytes() in again
    assert body.completed


def test_chunks_are_bounded_and_progress_reaches_total(data_file: Path) -> None:
    seen: list[UploadProgress] = []
    body = file_range_body(
        FileRange(data_file, 1000, 100_000), chunk_size=8192, progress=seen.append
    )
    chunks = [bytes(c) for c in body]
    assert max(len(c) for c in chunks) == 8192
    assert b"".join(chunks) == data_file.read_bytes()[1000:101_000]
    assert seen[0] == UploadProgress(0, 100_000)
    assert seen[-1] == UploadProgress(100_000, 100_000)
    assert [p.sent for p in seen] == sorted(p.sent for p in seen)


def test_json_bytes_part_counts_no_file_progress() -> None:
    body = multipart_body({}, [FilePart("file", b"[]", "manifest.json", "application/json")])
    assert b'filename="manifest.json"' in b"".join(bytes(c) for c in body)
    assert body.file_bytes == 0


def test_cancel_stops_between_chunks(data_file: Path) -> None:
    cancel = threading.Event()
    body = file_range_body(FileRange(data_file, 0, 50_000), chunk_size=10_000, cancel=cancel)
    chunks = iter(body)
    next(chunks)
    cancel.set()
    with pytest.raises(CancelledError):
        next(chunks)
    assert not body.completed


def test_file_shrinking_while_sent_is_a_file_changed_error(data_file: Path) -> None:
    body = file_range_body(FileRange(data_file, 0, data_file.stat().st_size + 10))
    with pytest.raises(FileChangedError) as caught:
        b"".join(bytes(c) for c in body)
    # Not an OSError: urllib3 would call that a dropped connection and the client re-send.
    assert not isinstance(caught.value, OSError)
    assert not caught.value.retryable
    assert caught.value.code == "file_changed"
    assert caught.value.user_message.startswith("clip.mp4 changed while it was being sent")
    assert "completely copied or saved" in caught.value.hint


def test_file_gone_before_sent_is_a_file_changed_error(data_file: Path) -> None:
    body = file_range_body(FileRange(data_file, 0, data_file.stat().st_size))
    data_file.unlink()
    with pytest.raises(FileChangedError):
        b"".join(bytes(c) for c in body)
