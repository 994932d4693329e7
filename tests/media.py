"""Test videos made on the fly with ffmpeg: tiny, fast, and cached per test session."""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import pytest

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


@dataclass(frozen=True)
class VideoSpec:
    width: int = 640
    height: int = 360
    duration: float = 5.0
    fps: float = 10.0
    audio: bool = True
    video: bool = True
    container: str = "mp4"  # mp4, mov, mkv, webm, avi
    rotate: int | None = None  # display-matrix rotation in degrees (phone video)
    vfr: bool = False  # variable frame rate
    faststart: bool = False  # mp4/mov: index ("moov") first, as streaming-ready files have it


_CODECS = {
    "mp4": ("libx264", "aac"),
    "mov": ("libx264", "aac"),
    "mkv": ("libx264", "aac"),
    "webm": ("libvpx", "libvorbis"),
    "avi": ("mpeg4", "mp3"),
}


def make_video(directory: Path, spec: VideoSpec, name: str | None = None) -> Path:
    """Write a video matching ``spec`` into ``directory`` (cached by spec) and return it."""
    key = hashlib.sha1(repr(spec).encode()).hexdigest()[:12]
    cached = directory / ".cache" / f"{key}.{spec.container}"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        _encode(cached, spec)
    target = directory / (name or f"{key}.{spec.container}")
    if target != cached:
        if target.exists():
            target.unlink()
        try:
            target.hardlink_to(cached)
        except OSError:
            shutil.copyfile(cached, target)
    return target


def _encode(out: Path, spec: VideoSpec) -> None:
    vcodec, acodec = _CODECS[spec.container]
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y"]
    if spec.video:
        # A rational rate, so a long_spec() frame grid lands exactly on the asked duration.
        rate = Fraction(spec.fps).limit_denominator(1_000_000)
        cmd += ["-f", "lavfi", "-i", f"testsrc=size={spec.width}x{spec.height}:rate={rate}"]
    if spec.audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000"]
    cmd += ["-t", f"{spec.duration:.3f}"]
    if spec.video:
        cmd += ["-c:v", vcodec]
        if vcodec == "libx264":
            # 4:2:0 needs even sides; 4:4:4 lets tests use 359x360 (one pixel under a limit).
            odd = spec.width % 2 or spec.height % 2
            pix_fmt = "yuv444p" if odd else "yuv420p"
            cmd += ["-preset", "ultrafast", "-tune", "stillimage", "-pix_fmt", pix_fmt]
        elif vcodec == "libvpx":
            cmd += ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "100k"]
        if spec.vfr:
            # Drop every other frame in the first half so the frame rate really varies.
            cmd += [
                "-vf",
                f"select='gte(t,{spec.duration / 2})+not(mod(n,2))'",
                "-fps_mode",
                "vfr",
            ]
    else:
        cmd += ["-vn"]
    if spec.audio:
        cmd += ["-c:a", acodec, "-ac", "1"]
    else:
        cmd += ["-an"]
    if spec.faststart and spec.container in ("mp4", "mov"):
        cmd += ["-movflags", "+faststart"]
    if spec.rotate is not None and spec.container in ("mp4", "mov"):
        tmp = out.with_suffix(".norot." + spec.container)
        subprocess.run([*cmd, str(tmp)], check=True)
        subprocess.run(
            [
                FFMPEG,
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(tmp),
                "-c",
                "copy",
                "-metadata:s:v:0",
                f"rotate={spec.rotate}",
                *(["-movflags", "+faststart"] if spec.faststart else []),
                str(out),
            ],
            check=True,
        )
        tmp.unlink()
        return
    subprocess.run([*cmd, str(out)], check=True)


def make_fifo(path: Path) -> Path:
    """A named pipe at ``path``; the test is skipped where the OS has none (Windows)."""
    if sys.platform == "win32":
        pytest.skip("Windows has no named pipes in the file system")
    else:
        os.mkfifo(path)
        return path


def make_sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (for size-limit tests)."""
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def long_spec(duration: float, **fields: object) -> VideoSpec:
    """A long video that encodes in a fraction of a second: one still frame per ≤10 minutes.

    The frame rate is chosen so a whole number of frames spans ``duration`` exactly, so
    MediaInfo reports the asked length (7,200 s encodes in ~0.2 s). Sound is off by default:
    encoding two hours of audio costs seconds.
    """
    frames = max(1, math.ceil(duration / 600))
    base = VideoSpec(**{"audio": False, **fields})  # type: ignore[arg-type]
    return replace(base, duration=duration, fps=frames / duration)


def make_truncated(source: Path, path: Path, keep: float = 0.5) -> Path:
    """A cut-off download: the first ``keep`` fraction of ``source``'s bytes."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_padded(source: Path, path: Path, size: int) -> Path:
    """A real video grown to ``size`` bytes with a sparse (free) tail, for size-limit tests.

    Use a ``faststart`` source: MediaInfo then reads the video's index from the front and
    still reports its picture and length, so only the size rule can reject it. The last bytes
    are not zero, or the file would read as a partly filled download.
    """
    shutil.copyfile(source, path)
    original = path.stat().st_size
    # Only a long zero run reads as a partly filled download (the probe looks at the last
    # 64 KiB), and bytes after an MP4's last box read as a cut-off box: a short padding stays
    # zero, a long one ends in text.
    tail = _TAIL if size - original > 64 * 1024 else b""
    with path.open("r+b") as fh:
        fh.truncate(size)
        fh.seek(size - len(tail))
        fh.write(tail)
    return path


_TAIL = b"end of padding" * 8


def make_png(path: Path, side: int = 400) -> Path:
    """A real PNG picture (one frame), whatever ``path``'s extension says."""
    subprocess.run(
        [FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={side}x{side}",
         "-frames:v", "1", "-f", "image2", "-c:v", "png", str(path)],
        check=True,
    )  # fmt: skip
    return path


def refuse_to_open(
    monkeypatch: pytest.MonkeyPatch, path: Path, call: Literal["open", "stat"] = "open"
) -> None:
    """Make ``Path.open`` (or ``Path.stat``) of ``path`` fail as a file without permission does.

    Tests run as root here, where ``chmod 000`` blocks nothing; this refuses like the OS would,
    at the same call the probe makes, and leaves every other path alone.
    """
    real = getattr(Path, call)

    def refusing(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, call, refusing)


# Files as real recorders, cameras and downloads leave them (issue 18's corpus). Each is cached
# by its arguments in ``directory/.cache`` like make_video.
_QUIET = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y"]
_PICTURE = ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=30"]
_SOUND = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]


def _cached(directory: Path, key: str, suffix: str, build: Callable[[Path], None]) -> Path:
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    out = directory / ".cache" / f"{digest}.{suffix}"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f"{digest}.part.{suffix}")
        build(partial)
        partial.replace(out)
    return out


def make_recording(directory: Path, container: str, duration: float) -> Path:
    """A WebM or Matroska file written the way browsers and OBS-style recorders write them.

    The encoder streams into a pipe, so the file has no duration, no cues and a Segment of
    "unknown" size: nothing goes back to the start once recording ends.
    """
    fmt, codecs = {
        "webm": ("webm", ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
                          "-b:v", "200k", "-c:a", "libopus"]),
        "mkv": ("matroska", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    }[container]  # fmt: skip

    def build(out: Path) -> None:
        # NUT on the first pipe carries no length, so the second muxer cannot learn it either.
        encode = [*_QUIET, *_PICTURE, *_SOUND, "-t", f"{duration}", *codecs, "-f", "nut", "-"]
        remux = [*_QUIET, "-f", "nut", "-i", "-", "-c", "copy", "-f", fmt, "-"]
        with out.open("wb") as sink:
            first = subprocess.Popen(encode, stdout=subprocess.PIPE)
            subprocess.run(remux, stdin=first.stdout, stdout=sink, check=True)
            assert first.stdout is not None
            first.stdout.close()
            if first.wait() != 0:
                raise subprocess.CalledProcessError(first.returncode, encode)

    return _cached(directory, f"recording {container} {duration}", container, build)


def make_big_recording(directory: Path, seconds: float) -> Path:
    """A live Matroska recording of uncompressed 640x360 frames: 10 MB a second, made in a blink.

    Like :func:`make_recording` (no duration, no cues, unknown Segment size), big enough that
    reading it whole costs MediaInfo a noticeable time.
    """

    def build(out: Path) -> None:
        encode = [*_QUIET, *_PICTURE, *_SOUND, "-t", f"{seconds}", "-c:v", "rawvideo",
                  "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", "-f", "nut", "-"]  # fmt: skip
        remux = [*_QUIET, "-f", "nut", "-i", "-", "-c", "copy", "-f", "matroska", "-"]
        with out.open("wb") as sink:
            first = subprocess.Popen(encode, stdout=subprocess.PIPE)
            subprocess.run(remux, stdin=first.stdout, stdout=sink, check=True)
            assert first.stdout is not None
            first.stdout.close()
            if first.wait() != 0:
                raise subprocess.CalledProcessError(first.returncode, encode)

    return _cached(directory, f"big recording {seconds}", "mkv", build)


def make_fragmented(directory: Path, duration: float) -> Path:
    """A fragmented MP4 written live to a pipe (empty index up front, one fragment per GOP)."""

    def build(out: Path) -> None:
        cmd = [*_QUIET, *_PICTURE, *_SOUND, "-t", f"{duration}", "-c:v", "libx264",
               "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
               "-movflags", "frag_keyframe+empty_moov", "-f", "mp4", "-"]  # fmt: skip
        with out.open("wb") as sink:
            subprocess.run(cmd, stdout=sink, check=True)

    return _cached(directory, f"fragmented {duration}", "mp4", build)


def make_protected(directory: Path) -> Path:
    """An MP4 encrypted with Common Encryption (CENC), as DRM-protected downloads are."""

    def build(out: Path) -> None:
        subprocess.run(
            [*_QUIET, *_PICTURE, *_SOUND, "-t", "6", "-c:v", "libx264", "-preset", "ultrafast",
             "-c:a", "aac", "-encryption_scheme", "cenc-aes-ctr",
             "-encryption_key", "76a6c65c5ea762046bd749a2e632ccbb",
             "-encryption_kid", "a7e61c373e219033c21091fa607bf3b8", str(out)],
            check=True,
        )  # fmt: skip

    return _cached(directory, "protected", "mp4", build)


def make_unknown_codec(directory: Path, fourcc: bytes) -> Path:
    """A MOV whose picture is labelled with ``fourcc``, a codec FFmpeg has no decoder for."""

    def build(out: Path) -> None:
        plain = out.with_name("plain.mov")
        subprocess.run([*_QUIET, *_PICTURE, "-t", "6", "-c:v", "mjpeg", str(plain)], check=True)
        data = plain.read_bytes()
        entry = data.index(b"jpeg", data.index(b"stsd"))
        out.write_bytes(data[:entry] + fourcc + data[entry + 4 :])
        plain.unlink()

    return _cached(directory, f"codec {fourcc!r}", "mov", build)


def make_with_extra_track(
    directory: Path, extra: Literal["cover", "preview", "outlasting"], *, big: bool = False
) -> Path:
    """A 6 s 640x360 Matroska video whose FIRST video track is a cover picture or a preview.

    The cover is one MJPEG frame (as taggers store it); the preview a 160x90 half second
    ("outlasting": a 160x90 preview of 6 s beside a main picture that stops at 3 s).
    The main video is the second track and carries the default flag. ``big``: noise in the
    picture at a high quality, about 19 MB, larger than every window read at a file's end, in
    Clusters of about 0.5 MB (recorders start one at each keyframe; FFmpeg's own 5 MB would
    need the largest window whatever the tracks).
    """

    def build(out: Path) -> None:
        if extra == "cover":
            cover = make_png(out.with_name("cover.png"))
            first, codec = ["-i", str(cover)], "mjpeg"
        else:
            seconds = 6 if extra == "outlasting" else 0.5
            first = ["-f", "lavfi", "-i", f"testsrc=size=160x90:rate=30:duration={seconds}"]
            codec = "libx264"
        picture = _PICTURE
        if extra == "outlasting":
            picture = ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=30:duration=3"]
        quality: list[str] = []
        if big:
            picture = ["-f", "lavfi", "-i", "testsrc=size=640x360:rate=30,noise=alls=40:allf=t"]
            quality = ["-crf:v:1", "20", "-cluster_size_limit", "500000"]
        subprocess.run(
            [*_QUIET, *first, *picture, *_SOUND, "-map", "0:v", "-map", "1:v",
             "-map", "2:a", "-c:v:0", codec, "-c:v:1", "libx264", "-preset", "ultrafast",
             *quality, "-c:a", "aac", "-t", "6", "-disposition:v:0", "0",
             "-disposition:v:1", "default", str(out)],
            check=True,
        )  # fmt: skip
        if extra == "cover":
            cover.unlink()

    key = f"extra track {extra}" + (" big" if big else "")
    return _cached(directory, key, "mkv", build)


def make_anamorphic(directory: Path, width: int, height: int, sar: str) -> Path:
    """A video of ``width`` x ``height`` stored pixels, shown stretched by ``sar`` (e.g. 64:45)."""

    def build(out: Path) -> None:
        subprocess.run(
            [*_QUIET, "-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate=25", *_SOUND,
             "-t", "6", "-vf", f"setsar={sar.replace(':', '/')}", "-c:v", "libx264",
             "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)],
            check=True,
        )  # fmt: skip

    return _cached(directory, f"anamorphic {width} {height} {sar}", "mp4", build)


def make_longer_sound(directory: Path, picture: float, sound: float) -> Path:
    """An MP4 whose sound outlasts its picture (the container reports the longer one)."""

    def build(out: Path) -> None:
        video, audio = out.with_name("picture.mp4"), out.with_name("sound.m4a")
        subprocess.run(
            [*_QUIET, *_PICTURE, "-t", f"{picture}", "-c:v", "libx264", "-preset", "ultrafast",
             str(video)],
            check=True,
        )  # fmt: skip
        subprocess.run([*_QUIET, *_SOUND, "-t", f"{sound}", "-c:a", "aac", str(audio)], check=True)
        subprocess.run(
            [*_QUIET, "-i", str(video), "-i", str(audio), "-c", "copy", str(out)], check=True
        )
        video.unlink()
        audio.unlink()

    return _cached(directory, f"longer sound {picture} {sound}", "mp4", build)


def make_bare_stream(
    directory: Path,
    codec: Literal["h264", "hevc"],
    fps: int,
    seconds: float,
    preset: str = "ultrafast",
) -> Path:
    """A raw H.264 or H.265 stream with no container, as some cameras and DVRs export.

    The ``ultrafast`` preset writes no B-frames; ``medium`` (x264's default) does.
    """
    encoder = {"h264": "libx264", "hevc": "libx265"}[codec]
    quiet = ["-x265-params", "log-level=error"] if codec == "hevc" else []

    def build(out: Path) -> None:
        subprocess.run(
            [*_QUIET, "-f", "lavfi", "-i", f"testsrc=size=640x360:rate={fps}",
             "-t", f"{seconds}", "-c:v", encoder, "-preset", preset, *quiet,
             "-pix_fmt", "yuv420p", "-f", codec, str(out)],
            check=True,
        )  # fmt: skip

    key = f"bare {codec} {fps} {seconds}" + ("" if preset == "ultrafast" else f" {preset}")
    return _cached(directory, key, codec, build)


def make_subtitles_only(directory: Path) -> Path:
    """A Matroska file holding one subtitle track and nothing else."""

    def build(out: Path) -> None:
        source = out.with_name("lines.srt")
        source.write_text("1\n00:00:01,000 --> 00:00:05,000\nHello\n", encoding="utf-8")
        subprocess.run([*_QUIET, "-i", str(source), "-c:s", "srt", str(out)], check=True)
        source.unlink()

    return _cached(directory, "subtitles only", "mkv", build)


def make_zero_filled(source: Path, path: Path, keep: float = 0.5) -> Path:
    """A download preallocated to full size and filled only in part: the rest is zero bytes."""
    data = source.read_bytes()
    kept = int(len(data) * keep)
    path.write_bytes(data[:kept] + bytes(len(data) - kept))
    return path


def make_overstated(source: Path, path: Path, seconds: float) -> Path:
    """``source`` (Matroska from FFmpeg) with a header that says it lasts ``seconds``.

    An editor that cuts a file without rewriting its header, or a recorder that writes the
    planned length up front, leaves such files: the Info Duration and every track's DURATION
    tag state a length the frames do not have.
    """
    data = bytearray(source.read_bytes())
    at = data.find(b"\x44\x89\x88", 0, 64 * 1024)  # Info's Duration: a double, in ms
    assert at > 0, "no Duration in the header"
    data[at + 3 : at + 11] = struct.pack(">d", seconds * 1000)
    stamp = f"{int(seconds // 3600):02}:{int(seconds % 3600 // 60):02}:{seconds % 60:012.9f}"
    path.write_bytes(re.sub(rb"\d\d:\d\d:\d\d\.\d{9}", stamp.encode(), bytes(data)))
    return path


def make_late_start(source: Path, path: Path, seconds: float) -> Path:
    """``source`` remuxed to Matroska with every timestamp ``seconds`` later.

    What a remux that keeps a broadcast's or a stream's timestamps leaves: the first frame is
    not at zero, and the header's Duration (FFmpeg: the last frame's end) counts from zero.
    """
    subprocess.run([*_QUIET, "-i", str(source), "-c", "copy", "-output_ts_offset", f"{seconds}",
                    str(path)], check=True)  # fmt: skip
    return path


def make_fourcc_video(directory: Path, codec: Literal["ffv1", "wmv2"], container: str) -> Path:
    """A 6 s video in a codec FFmpeg decodes but MediaInfo names only by its code (FFV1, WMV2)."""

    def build(out: Path) -> None:
        subprocess.run(
            [*_QUIET, *_PICTURE, *_SOUND, "-t", "6", "-c:v", codec, "-c:a", "aac", str(out)],
            check=True,
        )

    return _cached(directory, f"fourcc {codec} {container}", container, build)


def make_raw_dv(directory: Path, seconds: float) -> Path:
    """A raw DV file (``.dv``) with no sound, as tape capture and some camcorders write it."""

    def build(out: Path) -> None:
        subprocess.run(
            [*_QUIET, "-f", "lavfi", "-i", "testsrc=size=720x576:rate=25",
             "-t", f"{seconds}", "-target", "pal-dv", "-an", "-f", "dv", str(out)],
            check=True,
        )  # fmt: skip

    return _cached(directory, f"raw dv {seconds}", "dv", build)
