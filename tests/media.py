"""Test videos made on the fly with ffmpeg: tiny, fast, and cached per test session."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
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
    still reports its picture and length, so only the size rule can reject it.
    """
    shutil.copyfile(source, path)
    with path.open("r+b") as fh:
        fh.truncate(size)
    return path


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
