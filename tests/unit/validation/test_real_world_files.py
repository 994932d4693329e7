"""The files people really have (issue 18): recordings, protected and exotic videos, extra
tracks, odd pixel shapes and lengths, partial files, and names other systems refuse.

Every case goes through ``uploader-app check --json`` as a user would run it: the expected
verdict and code, no traceback, and output that is valid UTF-8 JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymediainfo import MediaInfo

from tests.media import (
    VideoSpec,
    make_anamorphic,
    make_bare_stream,
    make_big_recording,
    make_fourcc_video,
    make_fragmented,
    make_late_start,
    make_overstated,
    make_padded,
    make_protected,
    make_raw_dv,
    make_recording,
    make_subtitles_only,
    make_truncated,
    make_unknown_codec,
    make_video,
    make_with_extra_track,
    make_zero_filled,
    refuse_to_open,
)
from uploader_app.cli import main
from uploader_app.models import Target
from uploader_app.validation import probe
from uploader_app.validation.scan import scan

SOUND = VideoSpec(duration=6.0, fps=10.0)


@dataclass(frozen=True)
class Case:
    """One file to make, and what ``check`` must say about it."""

    make: Callable[[Path, Path], Path]  # (session video cache, this test's folder) -> file
    verdict: str
    code: str | None
    says: str = ""  # a phrase the message must contain


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _cut(make: Callable[[Path], Path], keep: float) -> Callable[[Path, Path], Path]:
    return lambda cache, here: make_truncated(make(cache), here / "cut", keep=keep)


CASES: dict[str, Case] = {
    # Recordings made the way real recorders make them: no duration, no cues, unknown size.
    "browser screen recording (WebM to a pipe)": Case(
        lambda cache, here: make_recording(cache, "webm", 6.0), "ok", None
    ),
    "OBS-style live Matroska": Case(
        lambda cache, here: make_recording(cache, "mkv", 6.0), "ok", None
    ),
    "browser recording whose recorder stopped mid-cluster": Case(
        _cut(lambda cache: make_recording(cache, "webm", 12.0), 0.7), "ok", None
    ),
    "live Matroska cut by a crash": Case(
        _cut(lambda cache: make_recording(cache, "mkv", 12.0), 0.7), "ok", None
    ),
    "live-style fragmented MP4": Case(lambda cache, here: make_fragmented(cache, 6.0), "ok", None),
    # A file whose header promises more than it holds is still a cut-off download.
    "Matroska download cut in half": Case(
        _cut(lambda cache: make_video(cache, VideoSpec(duration=6.0, container="mkv")), 0.5),
        "rejected",
        "video_file_broken",
        "end of the file is missing",
    ),
    "MP4 download cut in half": Case(
        _cut(lambda cache: make_video(cache, VideoSpec(duration=6.0, faststart=True)), 0.5),
        "rejected",
        "video_file_broken",
    ),
    # A Matroska header that does not match its frames: judged on the frames, both named.
    "Matroska header promising 5 hours, 6 s of frames": Case(
        lambda cache, here: make_overstated(
            make_video(cache, VideoSpec(duration=6.0, container="mkv")), here / "o.mkv", 5 * 3600
        ),
        "ok",
        None,
        "Measured on its frames (6 seconds); the file's header says 5 hours.",
    ),
    "Matroska header promising 1 minute, 3 s of frames": Case(
        lambda cache, here: make_overstated(
            make_video(cache, VideoSpec(duration=3.0, container="mkv")), here / "o.mkv", 60
        ),
        "rejected",
        "video_duration_too_short",
        "Too short: 3 seconds. Videos must be at least 4 seconds long. Measured on its frames",
    ),
    # Frames that start 2 s late: the header counts from zero and is right, so the
    # two readings stand (a warning), not "the header is wrong" (a refusal on 3.6 s).
    "Matroska whose frames start 2 s late, 3.6 s of picture": Case(
        lambda cache, here: make_late_start(
            make_video(cache, VideoSpec(duration=3.6, container="mkv")), here / "l.mkv", 2.0
        ),
        "warning",
        "video_duration_too_short",
        "Maybe too short: 3.6 seconds",
    ),
    # Videos nothing at the service can decode.
    "DRM-encrypted MP4": Case(
        lambda cache, here: make_protected(cache), "rejected", "video_protected", "DRM"
    ),
    # MediaInfo not naming a format is no proof FFmpeg cannot decode it: a warning.
    "codec nobody knows": Case(
        lambda cache, here: make_unknown_codec(cache, b"qqqq"),
        "warning",
        "video_codec_unsupported",
        "qqqq",
    ),
    "FFV1 in AVI (MediaInfo names it by its code)": Case(
        lambda cache, here: make_fourcc_video(cache, "ffv1", "avi"), "ok", None
    ),
    # MediaInfo gives no description for FFV1 in MOV: a doubt, never a refusal.
    "FFV1 in MOV": Case(
        lambda cache, here: make_fourcc_video(cache, "ffv1", "mov"),
        "warning",
        "video_codec_unsupported",
        "FFV1",
    ),
    "Windows Media Video 8": Case(
        lambda cache, here: make_fourcc_video(cache, "wmv2", "wmv"), "ok", None
    ),
    "ProRes RAW": Case(
        lambda cache, here: make_unknown_codec(cache, b"aprn"),
        "rejected",
        "video_codec_unsupported",
        "ProRes RAW",
    ),
    # The track the service indexes, not the first one.
    "cover picture as the first video track": Case(
        lambda cache, here: make_with_extra_track(cache, "cover"),
        "ok",
        None,
        "video track 2 of 2 (640x360)",
    ),
    "small preview before the main video": Case(
        lambda cache, here: make_with_extra_track(cache, "preview"),
        "ok",
        None,
        "video track 2 of 2 (640x360)",
    ),
    # One reading of size: stored pixels, in the verdict and the message alike.
    "PAL widescreen (720x576 stored, shown 16:9)": Case(
        lambda cache, here: make_anamorphic(cache, 720, 576, "64:45"), "ok", None
    ),
    "half-width anamorphic (352x576 stored, shown 4:3)": Case(
        lambda cache, here: make_anamorphic(cache, 352, 576, "24:11"),
        "rejected",
        "video_resolution_too_low",
        "352x576",
    ),
    "stored too wide, shown narrower": Case(
        lambda cache, here: make_anamorphic(cache, 1000, 400, "1:2"),
        "rejected",
        "video_resolution_invalid_aspect_ratio",
        "2.5 to 1",
    ),
    # Lengths another reading would see differently: a warning with the reason.
    "sound outlasting a 3 s picture": Case(
        lambda cache, here: make_longer_sound(cache),
        "warning",
        "video_duration_too_short",
        "with its sound, lasts 6 seconds",
    ),
    "bare H.264 stream, 30 frames/s": Case(
        lambda cache, here: make_bare_stream(cache, "h264", 30, 6.0), "warning", "no_audio_track"
    ),
    "bare H.264 stream, 25 frames/s": Case(
        lambda cache, here: make_bare_stream(cache, "h264", 25, 6.0), "warning", "no_audio_track"
    ),
    "bare H.265 stream": Case(
        lambda cache, here: make_bare_stream(cache, "hevc", 30, 6.0), "warning", "no_audio_track"
    ),
    "bare H.264 stream too short": Case(
        lambda cache, here: make_bare_stream(cache, "h264", 30, 3.0),
        "warning",
        "video_duration_too_short",
        "bare video stream",
    ),
    # Partial files.
    "preallocated download, half filled": Case(
        lambda cache, here: make_zero_filled(
            make_video(cache, VideoSpec(duration=6.0, faststart=True)), here / "dl.mp4"
        ),
        "rejected",
        "video_file_broken",
        "only zero bytes",
    ),
    "preallocated download, index never written": Case(
        lambda cache, here: make_zero_filled(
            make_video(cache, VideoSpec(duration=6.0)), here / "dl.mp4", keep=0.9
        ),
        "rejected",
        "video_file_broken",
    ),
    # No video at all.
    "subtitles but no video": Case(
        lambda cache, here: make_subtitles_only(cache),
        "rejected",
        "no_video_track",
        "a subtitle file (Matroska), with no video",
    ),
    # Names Windows refuses: the service does not care, so these are warnings.
    "reserved device name": Case(
        lambda cache, here: _copy(make_video(cache, SOUND), here / "CON.mp4"),
        "warning",
        "windows_name",
        "“CON” is a name Windows keeps",
    ),
    "name ending with a dot": Case(
        lambda cache, here: _copy(make_video(cache, SOUND), here / "clip.mp4."),
        "warning",
        "windows_name",
        "ends with a dot",
    ),
    "colon in the name": Case(
        lambda cache, here: _copy(make_video(cache, SOUND), here / "10:30 meeting.mp4"),
        "warning",
        "windows_name",
        "the character :",
    ),
    "path over 260 characters": Case(
        lambda cache, here: _copy(
            make_video(cache, SOUND), _deep_folder(here, 280) / "interview.mp4"
        ),
        "warning",
        "windows_name",
        "full path is",
    ),
}


def make_longer_sound(cache: Path) -> Path:
    from tests.media import make_longer_sound as make

    return make(cache, picture=3.0, sound=6.0)


def _deep_folder(here: Path, length: int) -> Path:
    folder = here
    while len(str(folder)) < length:
        folder /= "a folder with a long descriptive name"
    folder.mkdir(parents=True)
    return folder


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[Any], str]:
    """Run ``check --json`` in-process: (exit status, rows, stderr); the JSON must be UTF-8."""
    status = main(["check", "--json", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    raw = captured.out.encode("utf-8")  # fails on a lone surrogate (bytes from a bad name)
    return status, json.loads(raw), captured.err


@pytest.mark.parametrize("name", list(CASES))
def test_real_world_file(
    name: str, video_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    path = case.make(video_dir, tmp_path)
    status, rows, _ = check_json(capsys, str(path))
    [row] = rows
    assert (row["verdict"], row["code"]) == (case.verdict, case.code), row["message"]
    assert case.says in row["message"]
    assert status == (1 if case.verdict == "rejected" else 0)


def test_live_recordings_keep_their_full_length(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    webm, mkv = make_recording(video_dir, "webm", 6.0), make_recording(video_dir, "mkv", 6.0)
    _, rows, _ = check_json(capsys, str(webm), str(mkv))
    assert [round(r["duration"], 1) for r in rows] == [6.0, 6.0]


def test_full_parses_beside_sampled_ones_keep_their_length(video_dir: Path) -> None:
    # libmediainfo cut full parses short when a sampled one ran at the same time (about one
    # in ten before the probe kept them apart).
    recordings = [make_recording(video_dir, "webm", 6.0), make_recording(video_dir, "mkv", 6.0)]
    clips = [make_video(video_dir, SOUND), make_video(video_dir, VideoSpec(duration=6.0, fps=5))]
    for path in (*recordings, *clips):
        os.utime(path, (1, 1))  # long finished: no second look, only the parses race
    for _ in range(15):
        found = list(scan([*recordings, *clips, *recordings], Target(), workers=4))
        assert [round(f.probe.duration or 0, 1) for f in found if f.probe] == [6.0] * 6


def test_bare_streams_get_their_real_length(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # MediaInfo alone reads a 6 s H.264 stream as 3 s (it counts fields, not frames).
    streams = [make_bare_stream(video_dir, "h264", fps, 6.0) for fps in (25, 30, 50)]
    _, rows, _ = check_json(capsys, *map(str, streams))
    assert [r["duration"] for r in rows] == [pytest.approx(6.0, abs=0.1)] * 3


def test_bare_streams_with_b_frames_get_their_real_length(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # x264's default preset writes B-frames: MediaInfo then reads about 1.1x the frame rate,
    # not 2x, and halving it made a 6 s stream 11 s long.
    streams = [make_bare_stream(video_dir, "h264", fps, 6.0, "medium") for fps in (15, 25, 30)]
    _, rows, _ = check_json(capsys, *map(str, streams))
    assert [r["duration"] for r in rows] == [pytest.approx(6.0, abs=0.1)] * 3


def test_raw_dv_is_not_taken_for_a_bare_stream(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # DV names itself the same in its container and its picture, like a bare H.264 stream,
    # but carries its own timing: a full parse counted 6 frames per frame (30 s for 5 s).
    _, [row], _ = check_json(capsys, str(make_raw_dv(video_dir, 5.0)))
    assert row["duration"] == pytest.approx(5.0, abs=0.05)
    assert (row["verdict"], row["code"]) == ("warning", "no_audio_track"), row["message"]


def test_the_row_reports_the_measured_track(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, [row], _ = check_json(capsys, str(make_with_extra_track(video_dir, "cover")))
    assert (row["width"], row["height"], row["video_track"], row["video_tracks"]) == (
        640,
        360,
        2,
        2,
    )
    assert row["duration"] == pytest.approx(6.0, abs=0.05)


def test_anamorphic_video_is_reported_as_judged(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, [row], _ = check_json(capsys, str(make_anamorphic(video_dir, 352, 576, "24:11")))
    assert (row["width"], row["height"]) == (352, 576)
    assert "352x576" in row["message"]


GROWING = {
    # OBS-style: clusters appended one after another.
    "live Matroska recording": lambda cache: make_recording(cache, "mkv", 12.0),
    # A camera or screen recorder writing MP4: the picture first, its index only at the end.
    "MP4 whose index is not written yet": lambda cache: make_video(
        cache, VideoSpec(duration=12.0, fps=30.0)
    ),
}


@pytest.fixture(params=list(GROWING))
def growing(request: pytest.FixtureRequest, video_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """A file still being written: a writer appends a piece every 50 ms meanwhile."""
    source = GROWING[request.param](video_dir).read_bytes()
    path = tmp_path / "recording"
    path.write_bytes(source[: len(source) // 3])
    stop = threading.Event()

    def writer() -> None:
        position = len(source) // 3
        with path.open("ab") as fh:
            while not stop.is_set() and position < len(source):
                fh.write(source[position : position + 2048])
                fh.flush()
                position += 2048
                time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    yield path
    stop.set()
    thread.join()


def test_a_file_still_being_written_says_wait(
    growing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, [row], _ = check_json(capsys, str(growing))
    assert (status, row["verdict"], row["code"]) == (1, "rejected", "video_still_writing")
    assert "still being written" in row["message"]
    assert "Wait until" in row["hint"]


def test_a_finished_recording_is_not_kept_waiting(
    video_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(make_recording(video_dir, "mkv", 6.0), tmp_path / "done.mkv")
    started = time.monotonic()
    _, [row], _ = check_json(capsys, str(path))
    # Written a moment ago, so it gets one short second look, and passes.
    assert row["verdict"] == "ok"
    assert time.monotonic() - started < 2.0


def test_a_clock_ahead_does_not_buy_every_recording_a_second_look(
    video_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A camera or card reader whose clock is ahead dates files in the future: "written a
    # moment ago" must not hold for them, or each recording in a drop waits half a second.
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    path = _copy(make_recording(video_dir, "webm", 6.0), tmp_path / "ahead.webm")
    ahead = time.time() + 3600
    os.utime(path, (ahead, ahead))
    assert probe.probe_file(path).duration == pytest.approx(6.0, abs=0.1)
    assert waits == []


def test_a_name_that_is_not_utf8_is_refused_as_upload_does_and_printed_as_utf8(
    video_dir: Path, tmp_path: Path
) -> None:
    folder = os.fsencode(tmp_path)
    name = folder + b"/r\xe9union \xe9t\xe9.mp4"  # Latin-1, as old archives hold
    with open(name, "wb") as fh:  # noqa: PTH123 (pathlib cannot take bytes)
        fh.write(make_video(video_dir, SOUND).read_bytes())
    command = [sys.executable, "-m", "uploader_app", "check", "--json", os.fsdecode(tmp_path)]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert b"Traceback" not in done.stderr
    [row] = json.loads(done.stdout.decode("utf-8"))  # strict: invalid UTF-8 raises
    # The upload refuses such a name (the store and the service need text): so does the check.
    assert (row["verdict"], row["code"]) == ("rejected", "name_not_text")
    assert "r\ufffdunion \ufffdt\ufffd.mp4" in row["message"]
    assert row["path"].endswith("r\ufffdunion \ufffdt\ufffd.mp4")
    plain = [c for c in command if c != "--json"]
    lines = subprocess.run(plain, capture_output=True, timeout=60, check=False)
    assert lines.stdout.decode("utf-8").startswith("rejected ")


def test_a_line_break_in_a_name_stays_on_one_line(
    video_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(make_video(video_dir, SOUND), tmp_path / "two\nlines.mp4")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2  # the file's line and the summary
    assert out[0].startswith(f"warning   {tmp_path}/two\\nlines.mp4: [windows_name]")
    # The reason names the line break, not the backslash of its escaped form.
    assert "a line break or control character" in out[0]
    assert "the character \\" not in out[0]
    _, [row], _ = check_json(capsys, str(path))
    assert row["path"] == str(path)  # JSON keeps the real name; it escapes the break itself


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_output_survives_a_console_that_cannot_show_the_name(
    encoding: str, video_dir: Path, tmp_path: Path
) -> None:
    # Windows writes redirected output in the ANSI code page (cp1252 in Western Europe),
    # which has no Japanese: the JSON must still be UTF-8, and the lines must not crash.
    path = _copy(make_video(video_dir, SOUND), tmp_path / "東京 café.mp4")
    command = [sys.executable, "-m", "uploader_app", "check", str(path)]
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"}
    shown = subprocess.run(
        [*command, "--json"], capture_output=True, env=env, timeout=60, check=False
    )
    assert b"Traceback" not in shown.stderr, shown.stderr.decode(errors="replace")
    [row] = json.loads(shown.stdout.decode("utf-8"))
    assert row["path"] == str(path)
    lines = subprocess.run(command, capture_output=True, env=env, timeout=60, check=False)
    assert b"Traceback" not in lines.stderr, lines.stderr.decode(errors="replace")
    assert lines.returncode == 0
    assert lines.stdout.startswith(b"ok ")


def test_a_name_longer_than_the_system_allows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ("v" * 300 + ".mp4")
    status, [row], _ = check_json(capsys, str(path))
    assert (status, row["verdict"], row["code"]) == (1, "rejected", "unreadable")
    assert "longer than this computer allows" in row["message"]
    # "Check that the file is still there" cannot help: say what can.
    assert "shorter name" in row["message"]
    assert row["size"] is None


def test_a_file_inside_a_folder_one_may_not_enter(
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = video("locked/clip.mp4")
    refuse_to_open(monkeypatch, path, "stat")
    status, [row], _ = check_json(capsys, str(path))
    assert (status, row["verdict"], row["code"]) == (1, "rejected", "unreadable")
    assert "permission" in row["message"]


def test_a_folder_given_by_name_that_cannot_be_opened_is_an_error(
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = video("private/clip.mp4").parent
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    status, [row], _ = check_json(capsys, str(folder))
    assert (status, row["verdict"], row["code"]) == (1, "rejected", "folder_unreadable")
    assert "you do not have permission" in row["message"]


def test_names_differing_only_in_case_are_flagged_in_one_drop(
    video_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in ("Interview.mp4", "interview.mp4", "other.mp4"):
        _copy(make_video(video_dir, SOUND), drop / name)
    _, rows, _ = check_json(capsys, str(drop))
    codes = {Path(r["path"]).name: r["code"] for r in rows}
    assert codes == {
        "Interview.mp4": "windows_name",
        "interview.mp4": "windows_name",
        "other.mp4": None,
    }
    clash = next(r for r in rows if r["path"].endswith("/interview.mp4"))
    assert "“Interview.mp4” in the same folder" in clash["message"]


@pytest.mark.parametrize("case", [("v1.3", None), ("v1.2", "near_filesize_limit")])
def test_near_two_gigabytes_warns_only_where_a_larger_file_is_refused(
    video_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, str | None],
) -> None:
    version, code = case  # on v1.3 a larger file goes by the multipart route instead
    source = make_video(video_dir, VideoSpec(duration=6.0, faststart=True))
    big = make_padded(source, tmp_path / "big.mp4", 1_950_000_000)
    monkeypatch.setenv("TWELVELABS_BASE_URL", f"http://127.0.0.1:9/{version}")
    _, [row], _ = check_json(capsys, str(big))
    assert row["code"] == code


def test_a_name_starting_with_a_dash_gets_the_way_to_pass_it(
    video: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clip = video("-clip.mp4")
    monkeypatch.chdir(clip.parent)
    assert main(["check", "-clip.mp4"]) == 2
    err = capsys.readouterr().err
    assert "uploader-app check -- -clip.mp4" in err
    assert main(["check", "--", "-clip.mp4"]) == 0


def test_a_big_live_recording_does_not_hold_up_other_probes(
    video_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its length used to take a full parse, which runs alone (see probe._ParseGate): every
    # other probe in the process waited for it (489 MiB: 4.8 s). Now its last clusters give
    # the length and MediaInfo reads only its start, so nothing waits.
    big = make_big_recording(video_dir, 5.0)  # ~52 MB
    clips = [make_video(video_dir, SOUND), make_video(video_dir, VideoSpec(duration=6.0, fps=5))]
    for path in (big, *clips):
        os.utime(path, (1, 1))  # long finished: no second look
    exclusive: list[Path] = []
    limits: list[int | None] = []
    real_full, real_mediainfo = probe._GATE.full, probe._mediainfo

    def full() -> Any:
        exclusive.append(big)
        return real_full()

    def mediainfo(path: Path, speed: float, limit: int | None = None) -> Any:
        if path == big:
            limits.append(limit)
        return real_mediainfo(path, speed, limit)

    monkeypatch.setattr(probe._GATE, "full", full)
    monkeypatch.setattr(probe, "_mediainfo", mediainfo)
    started = time.perf_counter()
    found = {f.path: f for f in scan([big, *clips, *clips], Target(), workers=2)}
    took = time.perf_counter() - started
    assert exclusive == []  # no parse ran alone
    assert limits == [probe.LIVE_HEAD_BYTES]  # MediaInfo read 4 MiB of its 52 MB
    checked = found[big].probe
    assert found[big].verdict.value == "ok"
    assert checked is not None
    assert checked.duration == pytest.approx(5.0, abs=0.05)
    # Reading the whole file once, as MediaInfo did before, takes longer than this scan.
    started = time.perf_counter()
    MediaInfo.parse(str(big), parse_speed=probe.FULL_PARSE_SPEED)
    assert took < time.perf_counter() - started


def test_frames_that_start_late_are_not_a_header_that_lies(
    video_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 6 s clip whose timestamps run from 10 s to 16 s: its header's 16 s are its last
    # frame's end, as FFmpeg writes and reads them; it used to be called a wrong header.
    clip = make_video(video_dir, VideoSpec(duration=6.0, container="mkv"))
    late = make_late_start(clip, tmp_path / "late.mkv", 10.0)
    _, [row], _ = check_json(capsys, str(late))
    assert row["verdict"] == "ok"
    assert "header" not in row["message"]


def test_a_header_giving_the_pictures_length_is_not_called_wrong(
    video_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Picture 6 s, sound 30 s, header 6 s: the header misses the sound, but the picture (what
    # is judged) matches it; the message used to say "measured on its frames (6 seconds); the
    # file's header says 6 seconds".
    from tests.media import make_longer_sound as make

    both = make_late_start(make(video_dir, 6.0, 30.0), tmp_path / "both.mkv", 0.0)
    _, [row], _ = check_json(capsys, str(make_overstated(both, tmp_path / "six.mkv", 6.0)))
    assert row["duration"] == pytest.approx(6.0, abs=0.1)
    assert "header" not in row["message"]
