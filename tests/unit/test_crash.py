"""Crash reports: written on an uncaught error, readable, keyless, pointed out once."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from uploader_app import crash, logfile

KEY = "tl-test-key-0123456789abcdef"

# A program that installs the hook the way the app does and then fails with the key in reach.
_CRASHING = textwrap.dedent(
    f"""
    import sys
    from pathlib import Path
    from uploader_app import crash

    crash.install(Path(sys.argv[1]))

    def send(headers):
        raise RuntimeError(f"refused with headers {{headers}}")

    send({{"x-api-key": "{KEY}", "Accept": "application/json"}})
    """
)


def _run_crashing(reports: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TWELVELABS_API_KEY": KEY,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
    }
    return subprocess.run(
        [sys.executable, "-c", _CRASHING, str(reports)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_uncaught_error_writes_a_report_without_the_key(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = _run_crashing(reports, tmp_path)

    assert done.returncode == 1
    [report] = list(reports.glob("crash-*.txt"))
    text = report.read_text(encoding="utf-8")
    assert text.startswith("Video Indexing Uploader ran into an unexpected problem.")
    assert "What happened: RuntimeError: refused with headers" in text
    assert "in send" in text  # the traceback is there, for the developers
    assert KEY not in text
    assert logfile.REDACTED in text
    # What the person sees: where the report is, in words, with no traceback and no key.
    assert str(report) in done.stderr
    assert "Traceback" not in done.stderr
    assert KEY not in done.stderr


def test_next_start_points_to_the_report_once(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _run_crashing(reports, tmp_path)
    [report] = list(reports.glob("crash-*.txt"))
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"

    with first.open("w") as out:
        assert crash.announce_pending(out, reports) == report
    with second.open("w") as out:
        assert crash.announce_pending(out, reports) is None

    assert str(report) in first.read_text()
    assert second.read_text() == ""


def test_a_newer_crash_is_pointed_out_again(tmp_path: Path) -> None:
    older = tmp_path / "crash-20260101-000000-1.txt"
    older.write_text("old")
    crash.mark_announced(older)
    assert crash.pending_report(tmp_path) is None

    newer = tmp_path / "crash-20260102-000000-1.txt"
    newer.write_text("new")
    assert crash.pending_report(tmp_path) == newer


def test_old_reports_are_pruned(tmp_path: Path) -> None:
    for day in range(1, crash.KEEP_REPORTS + 4):
        (tmp_path / f"crash-202601{day:02d}-000000-1.txt").write_text("x")
    try:
        raise ValueError("boom")
    except ValueError as exc:
        path = crash.write_report(ValueError, exc, exc.__traceback__, directory=tmp_path)
    assert path is not None
    kept = sorted(p.name for p in tmp_path.glob("crash-*.txt"))
    assert len(kept) == crash.KEEP_REPORTS
    assert path.name in kept  # the new one, not an old one, survives


def test_an_unusable_data_folder_falls_back_to_the_temporary_folder(tmp_path: Path) -> None:
    # A file where the folder should be: no one, root included, can create the folder there.
    blocked = tmp_path / "data"
    blocked.write_text("not a folder")
    try:
        raise ValueError("boom")
    except ValueError as exc:
        path = crash.write_report(ValueError, exc, exc.__traceback__, directory=blocked / "r")
    assert path is not None
    assert not path.is_relative_to(tmp_path)
    assert path.read_text(encoding="utf-8").startswith("Video Indexing Uploader ran into")
    shutil.rmtree(path.parent)


def test_a_non_utf8_file_name_on_the_command_line_still_gives_a_report(tmp_path: Path) -> None:
    # A name that is not UTF-8 reaches sys.argv as lone surrogates, which UTF-8 cannot encode.
    program = "import sys\nfrom pathlib import Path\nfrom uploader_app import crash\n"
    program += "crash.install(Path(sys.argv[1]))\nraise ValueError(f'cannot read {sys.argv[2]}')\n"
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-c", program, os.fsencode(reports), b"caf\xe9.mp4"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )

    assert "Error in sys.excepthook" not in done.stderr, done.stderr
    [report] = list(reports.glob("crash-*.txt"))
    text = report.read_text(encoding="utf-8")
    assert "cannot read caf\\udce9.mp4" in text
    assert not list(reports.glob("*.partial"))


def test_an_error_whose_message_cannot_be_made_still_gives_a_report(tmp_path: Path) -> None:
    class UnprintableError(Exception):
        def __str__(self) -> str:
            raise ValueError("no text")

    try:
        raise UnprintableError
    except UnprintableError as exc:
        path = crash.write_report(UnprintableError, exc, exc.__traceback__, directory=tmp_path)

    assert path is not None
    assert "What happened: UnprintableError" in path.read_text(encoding="utf-8")


def test_the_fallback_folder_is_private_to_this_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another user of the machine crashed first: the shared temporary folder holds their
    # folder under the app's name, which this user cannot write into.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "uploader-app").write_text("someone else's")
    blocked = tmp_path / "data"
    blocked.write_text("not a folder")
    try:
        raise ValueError("boom")
    except ValueError as exc:
        path = crash.write_report(ValueError, exc, exc.__traceback__, directory=blocked / "r")

    assert path is not None
    assert path.read_text(encoding="utf-8").startswith("Video Indexing Uploader ran into")
    if sys.platform != "win32":
        assert path.parent.stat().st_mode & 0o077 == 0


SANDBOX_KEY = "my-own-sandbox-key-42"


def test_a_report_for_a_command_line_with_a_key_holds_no_key(tmp_path: Path) -> None:
    """The sandbox's --api-key (whole, ``=``-joined or abbreviated as argparse allows) and an
    address's password never reach the report's command line."""
    program = "import sys\nfrom pathlib import Path\nfrom uploader_app import crash\n"
    program += "crash.install(Path(sys.argv.pop(1)))\nraise ValueError('boom')\n"
    reports = tmp_path / "reports"
    argv = [
        str(reports),
        "sandbox",
        "--api-key",
        SANDBOX_KEY,
        f"--api-key={SANDBOX_KEY}x",
        "--api",
        f"{SANDBOX_KEY}y",
        f"--s3-endpoint=http://ak:{SANDBOX_KEY}z@127.0.0.1:9000",
        f"https://user:{SANDBOX_KEY}w@example.com/v.mp4",
    ]
    done = subprocess.run(
        [sys.executable, "-c", program, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )

    [report] = list(reports.glob("crash-*.txt"))
    text = report.read_text(encoding="utf-8")
    assert SANDBOX_KEY not in text, text
    assert SANDBOX_KEY not in done.stderr
    [command] = [line for line in text.splitlines() if line.startswith("Command: ")]
    assert command == (
        "Command: -c sandbox --api-key [redacted] --api-key=[redacted] --api [redacted] "
        "--s3-endpoint=http://ak:***@127.0.0.1:9000 https://user:***@example.com/v.mp4"
    )


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["/usr/bin/uploader-app", "check", "a.mp4"], ["uploader-app", "check", "a.mp4"]),
        (["app", "--api-key"], ["app", "--api-key"]),
        (["app", "--a", "k"], ["app", "--a", "[redacted]"]),
        # Not a prefix of a secret option: left as typed.
        (["app", "--api-keys", "k"], ["app", "--api-keys", "k"]),
        (["app", "--", "--api-key"], ["app", "--", "--api-key"]),
        (["app", "--data-dir=a=b"], ["app", "--data-dir=a=b"]),
    ],
)
def test_the_command_line_keeps_what_is_not_secret(argv: list[str], shown: list[str]) -> None:
    assert crash._command_line(argv) == shown


def test_every_key_like_option_of_the_parser_is_a_secret_option() -> None:
    """An option added later that carries a key, token, password or AWS secret must be listed
    in SECRET_OPTIONS, or a crash report would show its value."""
    from uploader_app.cli import build_parser

    found: set[str] = set()
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
                continue
            if action.nargs == 0:  # a switch carries no value
                continue
            for option in action.option_strings:
                if re.search(r"key|secret|token|passw|credential", option, re.IGNORECASE):
                    found.add(option)
    assert found == set(crash.SECRET_OPTIONS)


def test_the_sandbox_key_is_cut_from_a_report_s_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A key given to the sandbox is registered like an account key, so an error text that
    quotes it is redacted in a report."""
    from uploader_app import cli

    key = "sandbox-key-registered-by-the-cli"
    # A fault plan that cannot be read: the command stops before serving anything.
    assert cli.main(["sandbox", "--api-key", key, "--faults", "{not json"]) == 2
    assert "Cannot use the fault plan" in capsys.readouterr().err
    report = crash.format_report(ValueError, ValueError(key), None)
    assert key in report  # before redaction: the "What happened" line and the traceback
    assert key not in logfile.redact(report)
