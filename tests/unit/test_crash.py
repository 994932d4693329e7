"""Crash reports: written on an uncaught error, readable, keyless, pointed out once."""

from __future__ import annotations

import os
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
