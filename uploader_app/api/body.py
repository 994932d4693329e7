"""Request bodies streamed from disk: multipart forms and raw file ranges.

Why not requests ``files=`` or requests-toolbelt: ``files=`` builds the whole body in memory
(twice the file), and a file-like body is sent by urllib3 in 16 KiB reads, which makes the
upload CPU-bound (docs/api-client.md, "Uploading from disk"). A body here is an *iterable with
a length*: requests sets an exact ``Content-Length`` from ``__len__`` and urllib3 hands every
chunk we yield straight to ``socket.sendall``, so the chunk size is ours to choose.

Iterating again starts over from the first byte (the file is re-opened), so a retried request
always re-sends the whole body with every form field.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from uploader_app.api.errors import CancelledError, FileChangedError
from uploader_app.models import UploadProgress

logger = logging.getLogger(__name__)

# 128 KiB reads: the buffer stays in the CPU cache between readinto and sendall. 1 MiB was as
# fast only in a warmed-up process; a first upload ran at 0.77x curl -F (docs/api-client.md).
CHUNK_SIZE = 128 * 1024

ProgressCallback = Callable[[UploadProgress], None]


@dataclass(frozen=True)
class FileStamp:
    """What a file looked like when its upload was planned: its size and modification time.

    A body's length is fixed when it is built; a file that grows or is rewritten in place
    afterwards would otherwise be sent cut or mixed without any error.
    """

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        return cls.from_stat(path.stat())

    @classmethod
    def from_stat(cls, st: os.stat_result) -> FileStamp:
        return cls(st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class FileRange:
    """``length`` bytes of ``path`` from ``offset``: read from the source, never copied.

    With a ``stamp`` the file must still match it when opened and after the last read, or
    the send stops with FileChangedError.
    """

    path: Path
    offset: int
    length: int
    stamp: FileStamp | None = None

    @classmethod
    def whole(cls, path: Path) -> FileRange:
        """All of ``path`` as it is now, stamped."""
        stamp = FileStamp.of(path)
        return cls(path, 0, stamp.size, stamp)


@dataclass(frozen=True)
class FilePart:
    """A file form field of a multipart body: a range of a file on disk, or small bytes
    made in memory (a JSON manifest)."""

    name: str
    source: FileRange | bytes
    filename: str
    content_type: str = "application/octet-stream"


class StreamingBody:
    """An iterable body of fixed length made of literal bytes and file ranges.

    ``progress`` receives the file bytes handed to the connection so far (a chunk counts once
    ``sendall`` has returned, i.e. when the next one is asked for); ``cancel`` is checked
    between chunks and stops the upload with :class:`CancelledError`.
    """

    def __init__(
        self,
        segments: Sequence[bytes | FileRange],
        *,
        content_type: str,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.segments = tuple(segments)
        self.content_type = content_type
        self.progress = progress
        self.cancel = cancel
        self.chunk_size = chunk_size
        # Progress counts the bytes of files (what the user knows the size of), not headers.
        self.file_bytes = sum(s.length for s in self.segments if isinstance(s, FileRange))
        self._length = sum(s.length if isinstance(s, FileRange) else len(s) for s in self.segments)
        # True once the last byte was sent: tells "lost before the server had it all" apart
        # from "the server had the whole request" when the connection fails (duplicates).
        self.completed = False

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes | memoryview]:
        self.completed = False
        sent = 0
        self._report(0)
        for segment in self.segments:
            if isinstance(segment, bytes):
                self._check_cancel()
                yield segment
                continue
            for chunk in self._read(segment):
                # Checked before each piece, never after the last one: a cancelled request
                # is always incomplete, so the service cannot act on it.
                self._check_cancel()
                yield chunk
                sent += len(chunk)
                self._report(sent)
        self.completed = True

    def _read(self, source: FileRange) -> Iterator[memoryview]:
        """The range in pieces; a file that vanished, shrank, cannot be read or (with a stamp)
        no longer has the size and mtime it had when the body was planned raises
        FileChangedError. An OSError here would be taken by urllib3 for a dropped connection
        and the request sent again."""
        # One buffer reused for every read: memory stays at chunk_size whatever the file size.
        # Safe because urllib3 finishes sendall() on a chunk before asking for the next one.
        buffer = memoryview(bytearray(min(self.chunk_size, max(source.length, 1))))
        remaining = source.length
        name = source.path.name
        try:
            fh = source.path.open("rb", buffering=0)
        except OSError as exc:
            raise FileChangedError(name, f"cannot open {name}: {exc.strerror}") from exc
        with fh:
            self._check_stamp(source, fh.fileno())
            fh.seek(source.offset)  # past the end is allowed: the first read then gives 0
            while remaining > 0:
                try:
                    n = fh.readinto(buffer[: min(len(buffer), remaining)])
                except OSError as exc:
                    raise FileChangedError(name, f"cannot read {name}: {exc.strerror}") from exc
                if not n:
                    raise FileChangedError(
                        name, f"{name} ended {remaining} bytes before the size it had"
                    )
                remaining -= n
                if not remaining:
                    # Before the last piece goes out, so a file written to while it was read
                    # never reaches the service as a complete request.
                    self._check_stamp(source, fh.fileno())
                yield buffer[:n]

    @staticmethod
    def _check_stamp(source: FileRange, fd: int) -> None:
        if source.stamp is None:
            return
        now = FileStamp.from_stat(os.fstat(fd))
        if now != source.stamp:
            name = source.path.name
            raise FileChangedError(
                name,
                f"{name} is now {now.size} bytes (mtime {now.mtime_ns} ns), "
                f"was {source.stamp.size} bytes (mtime {source.stamp.mtime_ns} ns)",
            )

    def _report(self, sent: int) -> None:
        if self.progress is not None:
            self.progress(UploadProgress(sent=sent, total=self.file_bytes))

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            logger.info("upload cancelled between chunks")
            raise CancelledError()


def multipart_body(
    fields: Mapping[str, str],
    files: Sequence[FilePart] = (),
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> StreamingBody:
    """A ``multipart/form-data`` body; part headers are rendered by urllib3's RequestField."""
    # urllib3 comes with the first upload, not with the app (docs/gui.md, "Start-up").
    from urllib3.fields import RequestField  # noqa: PLC0415
    from urllib3.filepost import choose_boundary  # noqa: PLC0415

    boundary = choose_boundary()
    delimiter = f"--{boundary}\r\n".encode("latin-1")
    segments: list[bytes | FileRange] = []
    for name, value in fields.items():
        field = RequestField(name=name, data=value)
        field.make_multipart()
        segments.append(delimiter + field.render_headers().encode() + value.encode() + b"\r\n")
    for part in files:
        field = RequestField(name=part.name, data=b"", filename=part.filename)
        field.make_multipart(content_type=part.content_type)
        segments += [delimiter + field.render_headers().encode(), part.source, b"\r\n"]
    segments.append(f"--{boundary}--\r\n".encode("latin-1"))
    return StreamingBody(
        segments,
        content_type=f"multipart/form-data; boundary={boundary}",
        progress=progress,
        cancel=cancel,
        chunk_size=chunk_size,
    )


def file_range_body(
    source: FileRange,
    *,
    content_type: str = "application/octet-stream",
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> StreamingBody:
    """A raw body (one multipart-upload chunk) read straight from the source file."""
    return StreamingBody(
        [source],
        content_type=content_type,
        progress=progress,
        cancel=cancel,
        chunk_size=chunk_size,
    )
