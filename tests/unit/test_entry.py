"""Which arguments open the window and which run the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from uploader_app.__main__ import opens_window
from uploader_app.handover import split_handed_over


def test_no_arguments_open_the_window() -> None:
    assert opens_window([])


def test_existing_files_and_folders_open_the_window(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    assert opens_window([str(clip), str(tmp_path)])


@pytest.mark.parametrize(
    "args", [["check", "clip.mp4"], ["sandbox"], ["--version"], ["-v"], ["chek"]]
)
def test_commands_options_and_mistyped_commands_run_the_command_line(args: list[str]) -> None:
    assert not opens_window(args)


@pytest.mark.parametrize(
    "args", [["no-such-file.mp4"], ["/media/gone/clip.mov"], ["Holiday/day 1"]]
)
def test_files_that_are_gone_still_open_the_window(args: list[str]) -> None:
    """The window lists them as rejected rows with the reason; the command line's error would
    go nowhere when a launcher started the app."""
    assert opens_window(args)


@pytest.mark.parametrize(
    "args",
    [
        ["https://example.com/v.mp4"],
        ["https://example.com/a.mp4", "http://example.com/b"],
        ["HTTPS://example.com/a.mp4", "clip.mp4", "file:///media/clip.mov"],
    ],
)
def test_web_addresses_alone_or_with_files_open_the_window(args: list[str]) -> None:
    assert opens_window(args)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "https://example.com/v.mp4"],
        ["upload", "--index", "x", "https://example.com/v.mp4"],
        ["https://example.com/v.mp4", "--verbose"],
    ],
)
def test_commands_and_options_with_addresses_still_run_the_command_line(
    args: list[str],
) -> None:
    assert not opens_window(args)


def test_handed_over_arguments_split_into_files_and_web_addresses() -> None:
    paths, urls = split_handed_over(
        [
            "https://example.com/a.mp4",
            "Holiday/day 1.mp4",
            " HTTP://example.com/b?x=1 ",
            "file:///media/My%20Videos/c.mov",
            "ftp://example.com/d.mp4",  # not an address the URL tab checks: a file name
            "C:\\Videos\\e.mp4",
        ]
    )
    assert urls == ["https://example.com/a.mp4", "HTTP://example.com/b?x=1"]
    assert paths == [
        Path("Holiday/day 1.mp4"),
        Path("/media/My Videos/c.mov"),
        Path("ftp://example.com/d.mp4"),
        Path("C:\\Videos\\e.mp4"),
    ]


def test_a_subcommand_wins_over_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "check").write_text("")
    monkeypatch.chdir(tmp_path)
    assert not opens_window(["check"])


def test_without_a_display_it_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["UPLOADER_APP_HOME"] = str(tmp_path)
    if sys.platform.startswith(("win", "darwin")):
        pytest.skip("these platforms always have a display")
    done = subprocess.run(
        [sys.executable, "-m", "uploader_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No display" in lines[0] and "uploader-app --help" in lines[0]
    assert "Traceback" not in done.stderr


def test_the_entry_point_switches_on_the_os_trust_store_before_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once, before any connection (docs/network.md); recorded, not done: the real injection
    would change ``ssl`` for every later test in this process."""
    import truststore

    from uploader_app import __main__ as app_main
    from uploader_app import cli

    calls: list[str] = []

    def command(argv: list[str]) -> int:
        calls.append("command")
        return 0

    monkeypatch.setattr(truststore, "inject_into_ssl", lambda: calls.append("trust store"))
    monkeypatch.setattr(cli, "main", command)
    assert app_main.main(["check", "clip.mp4"]) == 0
    assert calls == ["trust store", "command"]


def test_a_window_first_frame_after_a_test_ends_leaves_ssl_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pytest-qt processes events once more after a test's fixtures are torn down: a window
    of that test drawn then switches truststore on (gui/startup.py). Done for real, it would
    change ``ssl`` for every later test in this process (boto3 then fails with a
    RecursionError), so the suite keeps it off for the whole session."""
    import ssl

    import truststore

    from uploader_app import network

    original = ssl.SSLContext
    monkeypatch.undo()  # this test's own patches gone, as in that last processing of events
    monkeypatch.setattr(network, "_done", False)
    try:
        network.use_system_trust_store()
        assert ssl.SSLContext is original
    finally:
        if ssl.SSLContext is not original:
            truststore.extract_from_ssl()  # never leave it on for the tests after this one


@pytest.mark.skipif(os.name == "nt", reason="POSIX file names are bytes; Windows' are text")
def test_a_file_address_of_a_name_that_is_not_utf8_finds_its_file(tmp_path: Path) -> None:
    """A launcher's ``%U`` escapes a Latin-1 name's bytes (``caf%E9.mp4``): they name the file
    as the system decodes it, not a name with a replacement character that is not there."""
    name = os.fsencode(tmp_path) + b"/caf\xe9.mp4"
    try:
        Path(os.fsdecode(name)).write_bytes(b"video")
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only UTF-8 names")
    paths, urls = split_handed_over([Path(os.fsdecode(name)).as_uri()])
    assert urls == []
    assert paths == [Path(os.fsdecode(name))] and paths[0].is_file()
