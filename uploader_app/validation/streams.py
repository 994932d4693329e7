"""Read-only, seekable streams of a known size, which MediaInfo parses through pymediainfo's
buffer interface: the head of a local file (``probe.py``) and a remote file read by HTTP range
requests (``jobs/urlcheck.py``). One base, so both keep the same positioning rules."""

from __future__ import annotations

import io
import os
from abc import abstractmethod
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class SizedReader(io.RawIOBase):
    """``size`` bytes seen as a whole file; a subclass says how bytes at a place are read.

    Positions stay within 0 and ``size``: MediaInfo asks for a place past the end when a length
    field is damaged, and learns from ``tell`` that the file ends there.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        self._position = min(max(base + offset, 0), self._size)
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._read_at(self._position, wanted)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    @abstractmethod
    def _read_at(self, position: int, count: int) -> bytes:
        """Up to ``count`` bytes from ``position``; b"" reads as the end of the file."""


class Head(SizedReader):
    """The first ``limit`` bytes of an open file."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        super().__init__(limit)
        self._fh = fh

    def _read_at(self, position: int, count: int) -> bytes:
        self._fh.seek(position)
        return self._fh.read(count)
