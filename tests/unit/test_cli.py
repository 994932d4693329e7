"""The CLI's own argument checks: usage errors exit 2 with a sentence, never a traceback."""

from __future__ import annotations

import pytest

from uploader_app.cli import main


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["sandbox", "--port", "70000"], "not a port"),
        (["sandbox", "--port", "-1"], "not a port"),
        (["sandbox", "--port", "http"], "not a port"),
        (["sandbox", "--speed", "0"], "not a speed"),
        (["sandbox", "--speed", "-3"], "not a speed"),
        (["sandbox", "--speed", "nan"], "not a speed"),
        (["check"], "PATH"),
        (["check", "--model", "gpt", "a.mp4"], "invalid choice"),
        (["check", "--index", "x", "--model", "marengo", "a.mp4"], "not allowed with"),
        (["upload-everything"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_a_reason(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "sandbox" in out
    assert "check" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "uploader-app" in capsys.readouterr().out
