"""Streaming multipart/form-data parsing straight to disk.

File parts are written to the spool folder as they arrive, 256 KiB at a time, with werkzeug's
sans-IO ``MultipartDecoder``; a 1 GiB upload never sits in memory. (werkzeug's own form parser
reads in 64 KiB steps and buffers each part through a stream factory; driving the decoder
directly measured faster and lets us stop writing once a part passes its size cap while still
reading the request to the end, so the client gets the 400 instead of a reset connection.)
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from werkzeug.exceptions import ClientDisconnected
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wrappers import Request

from uploader_app.sandbox.errors import ApiError, parameter_invalid
from uploader_app.sandbox.spec import check_parsed_form

logger = logging.getLogger(__name__)

READ_SIZE = 256 * 1024
MAX_FIELD_SIZE = 1024 * 1024  # text fields (user_metadata, urls) are small


@dataclass
class UploadedFile:
    name: str  # the form field
    filename: str
    path: Path
    size: int = 0
    oversize: bool = False  # passed max_file_size; the bytes past the cap were dropped


@dataclass
class FormData:
    """The parsed form; use it as a context manager, so its spooled files are always deleted
    unless a handler took them over (``Sandbox.keep`` moves them away)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def __enter__(self) -> FormData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def discard(self) -> None:
        """Delete the spooled files that no handler took over."""
        for part in self.files.values():
            part.path.unlink(missing_ok=True)


class _Writer:
    """Writes blocks to a file from its own thread, so the disk write of one block overlaps
    the socket read and parsing of the next (file writes release the GIL). Measured on a
    1 GiB upload: about 1.5x the ingest rate of writing in the request thread."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=16)  # 4 MiB at most
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
        self._thread.start()

    def write(self, block: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._blocks.put(block)

    def close(self) -> None:
        self._blocks.put(None)
        self._thread.join()
        self._file.close()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            if self._error is None:
                try:
                    self._file.write(block)
                except OSError as exc:
                    self._error = exc


def parse_form(request: Request, spool: Path, max_file_size: int | None = None) -> FormData:
    """The request's fields and files; files are spooled under ``spool``.

    On an API route the form is then checked against the vendor's schema (``spec.py``). On
    any failure the spooled files are deleted before the error propagates.
    """
    if request.mimetype == "application/x-www-form-urlencoded":
        form = FormData(fields=dict(request.form.items()))
    elif request.mimetype != "multipart/form-data":
        form = FormData()
    else:
        boundary = request.mimetype_params.get("boundary", "").encode("latin-1")
        if not boundary:
            raise parameter_invalid(detail="The multipart body has no boundary.")
        form = FormData()
    try:
        if request.mimetype == "multipart/form-data":
            _decode(request.stream, boundary, spool, max_file_size, form)
        check_parsed_form(request.environ, form.fields, form.files)
    except BaseException:
        form.discard()
        raise
    return form


def _decode(
    stream: IO[bytes], boundary: bytes, spool: Path, cap: int | None, form: FormData
) -> None:
    decoder = MultipartDecoder(boundary, max_form_memory_size=MAX_FIELD_SIZE)
    field_name: str | None = None
    field_data: list[bytes] = []
    part: UploadedFile | None = None
    out: _Writer | None = None
    repeated: list[str] = []  # file parts sent twice: their data is read and dropped
    try:
        while True:
            chunk = stream.read(READ_SIZE)
            try:
                decoder.receive_data(chunk or None)
                event = decoder.next_event()
                while not isinstance(event, (NeedData, Epilogue)):
                    if isinstance(event, File) and event.name in form.files:
                        repeated.append(event.name)
                        field_name = None
                    elif isinstance(event, File):
                        part = UploadedFile(
                            event.name,
                            event.filename or "",
                            spool / f"{os.urandom(8).hex()}.part",
                        )
                        form.files[event.name] = part
                        out = _Writer(part.path)
                    elif isinstance(event, Field):
                        field_name, field_data = event.name, []
                    elif isinstance(event, Data):
                        if out is not None and part is not None:
                            _write_capped(out, part, event.data, cap)
                            if not event.more_data:
                                out.close()
                                out, part = None, None
                        elif field_name is not None:
                            field_data.append(event.data)
                            if not event.more_data:
                                form.fields.setdefault(
                                    field_name, b"".join(field_data).decode("utf-8", "replace")
                                )
                                field_name = None
                    event = decoder.next_event()
            except ValueError as exc:
                raise parameter_invalid(
                    detail=f"The multipart/form-data body is malformed ({exc})."
                ) from exc
            if isinstance(event, Epilogue) or not chunk:
                break
    except ClientDisconnected:
        logger.info("client went away during an upload")
        raise
    finally:
        if out is not None:
            out.close()
    if not isinstance(event, Epilogue):
        raise ApiError(400, "parameter_invalid", "The multipart/form-data body is incomplete.")
    if repeated:
        # Which copy would the vendor take? Refusing is the answer that cannot mislead.
        raise parameter_invalid(*dict.fromkeys(repeated), detail="Send each file part once.")


def _write_capped(out: _Writer, part: UploadedFile, data: bytes, cap: int | None) -> None:
    if cap is not None and part.size + len(data) > cap:
        keep = max(0, cap - part.size)
        if keep:
            out.write(data[:keep])
        part.oversize = True
    else:
        out.write(data)
    part.size += len(data)
