"""``uploader-app check``: lines, JSON, exit codes, model choice and index errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import long_spec, make_video
from uploader_app.cli import main

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
    assert main(["check", str(silent)]) == 0
    assert main(["check", "--audio", str(silent)]) == 1
    assert "[no_audio_track]" in capsys.readouterr().out


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
    assert captured.err.startswith("Could not read index 6500aa: ")
    assert "Traceback" not in captured.err
