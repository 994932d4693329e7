"""Tell what a file is from its first bytes, before paying for a full MediaInfo parse.

A full parse costs ~4 ms for a video and ~2 ms even for a text file; a folder of 10,000 office
files would take half a minute. Reading 1 KiB and matching a few signatures takes microseconds,
so only files that may be media reach MediaInfo. The extension is never consulted: a ``.mov``
that is really an MP4 is a video, a ``.mp4`` that is a PNG is not.

The rule is conservative: only a signature we positively know as "not a video" (a picture, a
document, an archive, plain text) skips the parse. Anything unknown is parsed, so an exotic
container is never turned away by this shortcut.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)

SNIFF_BYTES = 1024  # enough for two MPEG-TS packets (188 bytes each, 192 in M2TS)


class Kind(Enum):
    VIDEO = "video"  # a container that normally holds video: parse it
    AUDIO = "audio"  # a sound format: parse it (MediaInfo confirms there is no picture)
    UNKNOWN = "unknown"  # no signature we know: parse it to be safe
    IMAGE = "image"  # a still picture: not a video, no parse needed
    OTHER = "other"  # a document, archive, program or text: not a video, no parse needed


@dataclass(frozen=True)
class Sniff:
    kind: Kind
    label: str | None = None  # plain words: "a PNG picture"

    @property
    def needs_probe(self) -> bool:
        return self.kind in (Kind.VIDEO, Kind.AUDIO, Kind.UNKNOWN)


# ISO base media brands that mean a still picture (HEIF/AVIF photos from phones).
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# QuickTime files written without an ``ftyp`` box start straight with one of these atoms.
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# (offset, magic, kind, label), checked in order. Labels are only used for non-videos.
_SIGNATURES: tuple[tuple[int, bytes, Kind, str | None], ...] = (
    (0, b"\x1a\x45\xdf\xa3", Kind.VIDEO, None),  # EBML: Matroska, WebM
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", Kind.VIDEO, None),  # ASF: WMV
    (0, b"FLV\x01", Kind.VIDEO, None),
    (0, b"\x00\x00\x01\xba", Kind.VIDEO, None),  # MPEG program stream (VOB, MPG)
    (0, b"\x00\x00\x01\xb3", Kind.VIDEO, None),  # MPEG-1/2 video elementary stream
    (0, b"\x00\x00\x00\x01", Kind.VIDEO, None),  # H.264/H.265 Annex B elementary stream
    (0, b".RMF", Kind.VIDEO, None),  # RealMedia
    (0, b"\x06\x0e\x2b\x34", Kind.VIDEO, None),  # MXF
    (0, b"DKIF", Kind.VIDEO, None),  # IVF (raw VP8/VP9/AV1)
    (0, b"YUV4MPEG2", Kind.VIDEO, None),  # Y4M: a text header, so before the text test
    (0, b"OggS", Kind.UNKNOWN, None),  # Ogg holds Theora video or Vorbis/Opus sound
    (0, b"ID3", Kind.AUDIO, "a sound file (MP3)"),
    (0, b"fLaC", Kind.AUDIO, "a sound file (FLAC)"),
    (0, b"#!AMR", Kind.AUDIO, "a sound file (AMR)"),
    (0, b"\x89PNG\r\n\x1a\n", Kind.IMAGE, "a PNG picture"),
    (0, b"\xff\xd8\xff", Kind.IMAGE, "a JPEG picture"),
    (0, b"GIF87a", Kind.IMAGE, "a GIF picture"),
    (0, b"GIF89a", Kind.IMAGE, "a GIF picture"),
    (0, b"II*\x00", Kind.IMAGE, "a TIFF picture"),
    (0, b"MM\x00*", Kind.IMAGE, "a TIFF picture"),
    (0, b"8BPS", Kind.IMAGE, "a Photoshop picture"),
    (0, b"%PDF", Kind.OTHER, "a PDF document"),
    (0, b"PK\x03\x04", Kind.OTHER, "a ZIP archive or Office document"),
    (0, b"\x1f\x8b", Kind.OTHER, "a compressed (gzip) file"),
    (0, b"7z\xbc\xaf\x27\x1c", Kind.OTHER, "a compressed (7-Zip) file"),
    (0, b"Rar!\x1a\x07", Kind.OTHER, "a compressed (RAR) file"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Kind.OTHER, "an old-style Office document"),
    (0, b"SQLite format 3\x00", Kind.OTHER, "a database file"),
    (0, b"\x7fELF", Kind.OTHER, "a program"),
    (0, b"MZ", Kind.OTHER, "a Windows program"),
    (0, b"\xcf\xfa\xed\xfe", Kind.OTHER, "a program"),
)


def sniff(head: bytes) -> Sniff:
    """Classify a file from its first bytes (at least :data:`SNIFF_BYTES` when it has them)."""
    if not head:
        return Sniff(Kind.OTHER, "an empty file")
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return Sniff(Kind.IMAGE, "a HEIF/AVIF picture")
        return Sniff(Kind.VIDEO)  # MP4, MOV, 3GP, M4A: MediaInfo tells video from sound
    if box in _QT_ATOMS:
        return Sniff(Kind.VIDEO)
    if head.startswith(b"RIFF") and len(head) >= 12:
        form = head[8:12]
        if form.startswith(b"AVI"):
            return Sniff(Kind.VIDEO)
        if form == b"WAVE":
            return Sniff(Kind.AUDIO, "a sound file (WAV)")
        if form == b"WEBP":
            return Sniff(Kind.IMAGE, "a WebP picture")
        return Sniff(Kind.UNKNOWN)
    if _is_transport_stream(head):
        return Sniff(Kind.VIDEO)
    for offset, magic, kind, label in _SIGNATURES:
        if head.startswith(magic, offset):
            return Sniff(kind, label)
    if head[0] == 0xFF and head[1:2] and (head[1] & 0xE0) == 0xE0:
        return Sniff(Kind.AUDIO, "a sound file (MP3 or AAC)")  # MPEG audio frame sync
    if _looks_like_text(head):
        return Sniff(Kind.OTHER, "a text document")
    return Sniff(Kind.UNKNOWN)


def _is_transport_stream(head: bytes) -> bool:
    # A sync byte every 188 bytes (TS) or 192 bytes after a 4-byte time code (M2TS, AVCHD).
    ts = len(head) > 376 and head[0] == head[188] == head[376] == 0x47
    m2ts = len(head) > 388 and head[4] == head[196] == head[388] == 0x47
    return ts or m2ts


def _looks_like_text(head: bytes) -> bool:
    """True for UTF-8 or UTF-16 text: no control bytes other than whitespace."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    text = _decode_utf8(head)
    if text is None:
        return False
    return all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text.lstrip("\ufeff"))


def _decode_utf8(head: bytes) -> str | None:
    # The read may cut a multi-byte character at the end; allow up to 3 bytes of it.
    for cut in range(min(4, len(head))):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None
