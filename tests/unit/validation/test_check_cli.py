"""``uploader-app check``: lines, JSON, exit codes, model choice and index errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import long_spec, make_fifo, make_video, refuse_to_open
from uploader_app.cli import main
from uploader_app.validation.messages import printable

Video = Callable[..., Path]


def test_lines_and_summary(
    video: Video, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = video("good.mp4")
    short = video("short clip.mp4", duration=2.1, audio=False)
    assert main(["check", str(good), str(short)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"ok        {good}: Ready to upload." in out
    assert (
        f"rejected  {short}: [video_duration_too_short] Too short: 2.1 seconds. "
        "Videos must be at least 4 seconds long. Use a longer clip."
    ) in out
    assert out[-1] == "2 files checked: 1 ready, 0 with warnings, 1 rejected, 0 skipped."


def test_exit_zero_when_nothing_is_rejected(
    video: Video, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video("folder/a.mp4")
    (tmp_path / "folder" / "readme.txt").write_text("hello\n", encoding="utf-8")
    assert main(["check", str(tmp_path / "folder")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "2 files checked: 1 ready, 0 with warnings, 0 rejected, 1 skipped."
    )


def test_json_output(video: Video, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = video("clip.mp4", width=1280, height=720)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n", encoding="utf-8")
    assert main(["check", "--json", str(clip), str(text)]) == 1
    rows = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert rows["clip.mp4"]["verdict"] == "ok"
    assert (rows["clip.mp4"]["width"], rows["clip.mp4"]["height"]) == (1280, 720)
    assert rows["clip.mp4"]["duration"] == pytest.approx(5.0)
    assert rows["clip.mp4"]["size"] == clip.stat().st_size
    assert rows["clip.mp4"]["code"] is None
    assert rows["notes.mp4"]["verdict"] == "rejected"
    assert rows["notes.mp4"]["code"] == "not_a_video"
    assert rows["notes.mp4"]["message"] == "Not a video: this file is a text document."


def test_json_of_nothing_is_an_empty_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_model_choice_changes_the_duration_limit(
    video_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ninety_minutes = make_video(video_dir, long_spec(5_400.0))
    assert main(["check", str(ninety_minutes)]) == 0
    assert main(["check", "--model", "pegasus", str(ninety_minutes)]) == 1
    assert main(["check", "--model", "both", str(ninety_minutes)]) == 1
    assert "Videos for Pegasus can be at most 1 hour long." in capsys.readouterr().out


def test_audio_flag(video: Video, capsys: pytest.CaptureFixture[str]) -> None:
    silent = video("silent.mp4", audio=False)
    # No --audio: the default model options (visual and audio) are assumed, so a silent video
    # is indexed by its picture only, which the user is told.
    assert main(["check", str(silent)]) == 0
    assert main(["check", "--model", "pegasus", str(silent)]) == 0
    out = capsys.readouterr().out.splitlines()
    warning = (
        f"warning   {silent}: [no_audio_track] No sound: this index also listens to speech and "
        "sound, so only the picture will be indexed."
    )
    assert sum(line.startswith(warning) for line in out) == 2
    # --audio on a Marengo (visual) check: sound is required, and the sentence must not claim
    # the index only listens.
    assert main(["check", "--audio", str(silent)]) == 1
    text = capsys.readouterr().out
    assert (
        f"rejected  {silent}: [no_audio_track] No sound: this video has no audio track, and this "
        "index needs sound."
    ) in text
    assert "only listens" not in text


def test_every_problem_is_listed_in_line_mode(
    video: Video, capsys: pytest.CaptureFixture[str]
) -> None:
    short_silent = video("short silent.mp4", duration=2.1, audio=False)
    assert main(["check", "--audio", str(short_silent)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"rejected  {short_silent}: [video_duration_too_short] Too short")
    assert out[1] == (
        "          also: [no_audio_track] No sound: this video has no audio track, and this "
        "index needs sound. Use a copy of the video with sound, or send it to an index that "
        "also uses the picture."
    )
    assert out[2].startswith("1 file checked: ")


def test_a_path_that_does_not_exist_is_a_usage_error(
    video: Video, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = video("good.mp4")
    typo, other = tmp_path / "goood.mp4", tmp_path / "Holliday"
    # Checked before anything is probed or the API is asked about the index.
    assert main(["check", "--index", "6500aa", str(typo), str(good), str(other)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"No file or folder at {typo}",
        f"No file or folder at {other}",
    ]
    broken_link = tmp_path / "link.mp4"
    broken_link.symlink_to(tmp_path / "nowhere.mp4")
    assert main(["check", "--json", str(broken_link)]) == 2
    assert capsys.readouterr().err == f"No file or folder at {broken_link}\n"


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_empty_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], json_flag: list[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"x")  # left out quietly, so still nothing to check
    assert main(["check", *json_flag, str(empty)]) == 0  # nothing was rejected
    assert capsys.readouterr().err == f"No files found in {empty}.\n"


def test_json_size_is_null_when_unknown(
    video: Video, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe.mp4"
    make_fifo(fifo)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert main(["check", "--json", str(fifo), str(empty)]) == 1
    rows = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["pipe.mp4"]["code"], rows["pipe.mp4"]["size"]) == ("unreadable", None)
    assert (rows["empty.mp4"]["code"], rows["empty.mp4"]["size"]) == ("not_a_video", 0)


def test_a_file_that_cannot_be_opened(
    video: Video, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = video("locked.mp4")
    refuse_to_open(monkeypatch, locked)
    assert main(["check", str(locked)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"rejected  {locked}: [unreadable] This file could not be read: you do not have "
        "permission to open it. Check that the file is still there and that you are allowed to "
        "open it, then try again."
    )
    assert main(["check", "--json", str(locked)]) == 1
    [row] = json.loads(capsys.readouterr().out)
    assert (row["verdict"], row["code"]) == ("rejected", "unreadable")
    assert row["size"] == locked.stat().st_size  # stat worked; only opening was refused


@pytest.mark.parametrize(
    "argv",
    [
        ["check"],
        ["check", "--model", "gemini", "x.mp4"],
        ["check", "--index", "i", "--model", "both", "x"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2


def test_index_that_cannot_be_read_is_a_plain_sentence(
    video: Video, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    assert main(["check", "--index", "6500aa", str(video("clip.mp4"))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    reading, error = captured.err.splitlines()
    assert reading == "Reading index 6500aa…"
    assert error.startswith("Could not read index 6500aa: ")
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("a\udce9b", "a\ufffdb"),  # a Linux name in an old code page
        ("a\ud800b", "a\ufffdb"),  # a Windows name with an unpaired UTF-16 half
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # line and paragraph separators
        ("a\nb", "a\\nb"),
        # An override would turn the rest of the line around: "clip4pm.png: Ready…".
        ("clip\u202egnp.mp4", "clip\\u202egnp.mp4"),
        ("a\u2067b\u2069", "a\\u2067b\\u2069"),
        ("café 東京 \u200f🙂", "café 東京 \u200f🙂"),  # real names are left alone
    ],
)
def test_names_are_shown_as_one_line_of_utf8(name: str, shown: str) -> None:
    assert printable(name) == shown
    printable(name).encode("utf-8")
