"""A folder of hostile files, generated on the spot: what staff drop from their desktops.

Each entry is made by a real mechanism (ffmpeg through tests/media.py, ``os.mkfifo``, sparse
files through ``truncate``, symlinks to devices and to each other) and carries what the app
must do with it: ``sent`` (a video the service takes), ``refused`` (reported with a reason,
never sent) or ``skipped`` (left out of a folder quietly, with a reason).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from tests.media import (
    VideoSpec,
    make_fifo,
    make_padded,
    make_png,
    make_sparse,
    make_truncated,
    make_video,
    make_zero_filled,
)

# "unlisted": no row of its own (hidden files, a video's subtitles, a link back up a folder).
Fate = Literal["sent", "refused", "skipped", "unlisted"]
GB = 1024**3

# Words that would tell a person nothing, or leak the program's insides.
TECHNICAL = (
    "Traceback",
    "Error:",
    "Exception",
    "errno",
    "Errno",
    "None",
    "NoneType",
    "OSError",
    "HTTP ",
    "status code",
)


@dataclass(frozen=True)
class Entry:
    name: str  # the file's name as made (may hold any byte but "/" and NUL)
    fate: Fate
    what: str  # what it is, for the report and for failure messages


@dataclass(frozen=True)
class Corpus:
    folder: Path
    entries: tuple[Entry, ...]

    def fate(self, name: str) -> Fate:
        return next(e.fate for e in self.entries if e.name == name)


def build(folder: Path, cache: Path) -> Corpus:
    """Make every hostile input in ``folder`` (videos encoded once per session in ``cache``)."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []

    def add(name: str, fate: Fate, what: str, make: Callable[[Path], object]) -> None:
        make(folder / name)
        entries.append(Entry(name, fate, what))

    good = make_video(cache, VideoSpec(duration=6.0, faststart=True))
    mkv = make_video(cache, VideoSpec(duration=6.0, container="mkv"))
    webm = make_video(cache, VideoSpec(duration=6.0, container="webm"))
    avi = make_video(cache, VideoSpec(duration=6.0, container="avi"))
    mov = make_video(cache, VideoSpec(duration=6.0, container="mov"))
    copies = iter(range(1, 1000))

    def link(path: Path) -> None:
        # Each copy differs in its (ignored) last bytes: the service sees distinct videos.
        make_padded(good, path, good.stat().st_size + next(copies))

    # Good videos under hostile names: each must still be sent, once, under its own name.
    add("plain.mp4", "sent", "a good video", link)
    add("line\nbreak.mp4", "sent", "a line break in the name", link)
    add("carriage\rreturn.mp4", "sent", "a carriage return in the name", link)
    add("tab\there.mp4", "sent", "a tab in the name", link)
    add("rtl\u202egnp.mp4", "sent", "a right-to-left override hiding the extension", link)
    add("mark\u200fשלום.mp4", "sent", "a right-to-left mark and Hebrew", link)
    add("é" * 123 + "x.mp4", "sent", "a 255-byte name", link)
    add("zero\u200bwidth.mp4", "sent", "a zero-width space", link)
    add("emoji 🎬👨‍👩‍👧.mp4", "sent", "emoji and joiners", link)
    add("-starts-with-dash.mp4", "sent", "a name starting with a dash", link)
    add("   spaces   .mp4", "sent", "spaces around the name", link)
    add("back\\slash.mp4", "sent", "a backslash in the name", link)
    add("quote\"and'apostrophe.mp4", "sent", "quotes in the name", link)
    add("nfd-cafe\u0301.mp4", "sent", "a decomposed accent (NFD)", link)
    add("upper.MP4", "sent", "an upper-case extension", link)
    add("no extension", "sent", "a video with no extension", link)
    add("video.txt", "sent", "a video named .txt (content decides)", link)
    add("real.mkv.mp4", "sent", "a Matroska video named .mp4", _linker(mkv))
    add("webm.mov", "sent", "a WebM video named .mov", _linker(webm))
    add("avi.mkv", "sent", "an AVI video named .mkv", _linker(avi))
    add("mov.avi", "sent", "a MOV video named .avi", _linker(mov))
    # Names that are not UTF-8 (a USB stick from an old Windows or Mac): Linux only.
    if sys.platform.startswith("linux"):
        # The store and the service need text: a good video, refused with "rename it".
        add(os.fsdecode(b"latin1-caf\xe9.mp4"), "refused", "a Latin-1 name", link)
        add(os.fsdecode(b"broken-\xff\xfe-bytes.mp4"), "refused", "bytes that are no text", link)

    # Empty, cut off, damaged.
    for ext in ("mp4", "mov", "mkv", "webm", "avi"):
        add(f"empty.{ext}", "refused", f"a zero-byte .{ext}", lambda p: p.touch())
    for source, ext in ((good, "mp4"), (mkv, "mkv"), (mov, "mov"), (webm, "webm")):
        for keep in (0.001, 0.05, 0.3, 0.6, 0.95):
            add(
                f"cut-{keep}.{ext}",
                "refused",
                f"a .{ext} cut to {keep:.1%}",
                partial(_cut, source, keep),
            )
    add("half-zero.mp4", "refused", "a half-filled download", lambda p: make_zero_filled(good, p))
    add("random.mp4", "refused", "random bytes", lambda p: p.write_bytes(_noise(1, 300_000)))
    add("random.mkv", "refused", "random bytes", lambda p: p.write_bytes(_noise(2, 50_000)))
    add("one-byte.mp4", "refused", "a single byte", lambda p: p.write_bytes(b"\x00"))
    add("ftyp-only.mp4", "refused", "an MP4 header and nothing else", _ftyp_only)
    add("header-then-noise.mp4", "refused", "an MP4 header then noise", _header_then_noise(good))
    add("ebml-only.mkv", "refused", "a Matroska header alone", lambda p: p.write_bytes(_EBML_ONLY))
    add("nuls.mp4", "refused", "64 KiB of zero bytes", lambda p: p.write_bytes(bytes(65536)))
    add("flipped.mp4", "refused", "a video with its header bytes flipped", _flipped(good))
    add("mp4-in-mkv-name.mkv", "refused", "an MP4 cut in half named .mkv", partial(_cut, good, 0.5))

    # Not videos at all, some named like one.
    add("picture.mp4", "refused", "a PNG named .mp4", make_png)
    add("text.mp4", "refused", "text named .mp4", lambda p: p.write_text("hello\n" * 100))
    add("page.mp4", "refused", "a web page named .mp4", lambda p: p.write_text(_HTML))
    add(
        "doc.mov",
        "refused",
        "a PDF named .mov",
        lambda p: p.write_bytes(b"%PDF-1.7\n" + _noise(3, 5000)),
    )
    add("archive.mkv", "refused", "a zip archive named .mkv", _zip)
    add("program.mp4", "refused", "a program named .mp4", _linker(Path(sys.executable).resolve()))
    add("manifest.json", "skipped", "a JSON file in a folder", lambda p: p.write_text("[]"))
    add("notes.txt", "skipped", "a text file", lambda p: p.write_text("notes"))
    add("photo.png", "skipped", "a picture", make_png)
    add(".hidden.mp4", "unlisted", "a hidden file", link)
    add("Thumbs.db", "unlisted", "Windows clutter", lambda p: p.write_bytes(b"x"))

    # Huge and sparse: judged by size without being read.
    add(
        "sparse-50GB.mp4", "refused", "50 GB of nothing (sparse)", lambda p: make_sparse(p, 50 * GB)
    )
    add(
        "padded-50GB.mp4",
        "refused",
        "a real video padded to 50 GB (sparse)",
        lambda p: make_padded(good, p, 50 * GB),
    )

    # Special files named like videos: never opened, never read forever.
    add("fifo.mp4", "skipped", "a named pipe (FIFO)", make_fifo)
    add("zero.mp4", "skipped", "a symlink to /dev/zero", _symlink("/dev/zero"))
    add("null.mp4", "skipped", "a symlink to /dev/null", _symlink("/dev/null"))
    add("urandom.mp4", "skipped", "a symlink to /dev/urandom", _symlink("/dev/urandom"))
    add("tty.mp4", "skipped", "a symlink to /dev/tty", _symlink("/dev/tty"))
    add("socket.mp4", "skipped", "a UNIX socket", _socket)
    add("dangling.mp4", "skipped", "a symlink to nothing", _symlink("/no/such/file.mp4"))
    add("loop-a.mp4", "refused", "a symlink loop (a to b)", _symlink("loop-b.mp4"))
    add("loop-b.mp4", "refused", "a symlink loop (b to a)", _symlink("loop-a.mp4"))
    add("self.mp4", "refused", "a symlink to itself", _symlink("self.mp4"))
    # A folder link back up: its contents are listed once, never forever.
    add("up", "unlisted", "a folder symlink to its parent", _symlink("."))
    add("good-link.mp4", "sent", "a symlink to a good video", _symlink("plain.mp4"))

    # Subtitles beside good videos: the video is sent, a broken subtitle is a warning.
    for stem, text in SUBTITLES.items():
        add(f"{stem}.mp4", "sent", f"a video with subtitles that are {stem}", link)
        suffix = ".vtt" if stem.startswith("vtt") else ".srt"
        add(f"{stem}{suffix}", "unlisted", "its subtitles", _writer(text))
    add("orphan.srt", "skipped", "subtitles with no video", _writer(SUBTITLES["overlapping"]))
    # Too deep for the system to name (a path over PATH_MAX): reported, not fatal.
    entries.append(Entry(_deep(folder), "skipped", "a file 4,200 characters deep"))
    return Corpus(folder, tuple(entries))


# Subtitle files with timing a person could not have meant; each beside a video of its stem.
SUBTITLES: dict[str, bytes] = {
    # Two people speaking at once: both formats allow it, so the subtitles are used.
    "overlapping": (
        b"1\n00:00:01,000 --> 00:00:04,000\nOne\n\n2\n00:00:02,000 --> 00:00:03,000\nTwo\n"
    ),
    "negative": b"1\n-00:00:01,000 --> 00:00:02,000\nBefore the start\n",
    "backwards": b"1\n00:00:05,000 --> 00:00:01,000\nEnds first\n",
    "garbage": b"this is not a subtitle file at all\n\x00\x01\x02",
    "binary": bytes(range(256)) * 8,
    "utf16": "1\n00:00:01,000 --> 00:00:02,000\nHi\n".encode("utf-16"),
    "after-the-end": b"1\n01:00:00,000 --> 01:00:02,000\nLate\n",
    "bad-clock": b"1\n00:99:99,999 --> 00:00:02,000\nNo such time\n",
    "huge-number": b"99999999999999999999\n00:00:01,000 --> 00:00:02,000\nBig\n",
    "empty-sub": b"",
    "bom-only": b"\xef\xbb\xbf",
    "vtt-no-header": b"00:00:01.000 --> 00:00:02.000\nNo header\n",
    "vtt-backwards": b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nEnds first\n",
    "vtt-garbage-cue": b"WEBVTT\n\nnot --> a cue\nText\n",
}


def _linker(source: Path) -> Callable[[Path], object]:
    return lambda path: os.link(source, path)


def _symlink(target: str) -> Callable[[Path], object]:
    return lambda path: path.symlink_to(target)


def _writer(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def _noise(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _ftyp_only(path: Path) -> None:
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")


def _header_then_noise(source: Path) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(source.read_bytes()[:64] + _noise(4, 200_000))


def _flipped(source: Path) -> Callable[[Path], object]:
    def make(path: Path) -> None:
        data = bytearray(source.read_bytes())
        for i in range(0, min(len(data), 4096)):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))

    return make


def _cut(source: Path, keep: float, path: Path) -> None:
    make_truncated(source, path, keep=keep)


def _zip(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clip.mp4", b"not really")


def _socket(path: Path) -> None:
    # A bound socket leaves its node behind once closed; nothing listens on it.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))


def _deep(folder: Path) -> str:
    """A file under nested folders whose full path is longer than the system allows."""
    here = os.open(folder, os.O_RDONLY)
    name = "d" * 200
    try:
        for _ in range(21):
            os.mkdir(name, dir_fd=here)
            nxt = os.open(name, os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = nxt
        fd = os.open("deep.mp4", os.O_WRONLY | os.O_CREAT, dir_fd=here)
        os.write(fd, b"x")
        os.close(fd)
    finally:
        os.close(here)
    return name


_EBML_ONLY = bytes.fromhex("1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b61")
_HTML = "<!DOCTYPE html><html><head><title>video</title></head><body>watch</body></html>"


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, bytes, bytes]:
    """The real program in a child process, as a user runs it; raw bytes out (no decoding)."""
    proc = subprocess.run(
        [sys.executable, "-m", "uploader_app", *args],
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def strict_json(raw: bytes) -> Any:
    """``raw`` parsed as JSON after a strict UTF-8 decode (a lone surrogate fails here)."""
    return json.loads(raw.decode("utf-8", "strict"))
