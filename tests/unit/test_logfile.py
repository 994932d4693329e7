"""The daily log file: where it is, what it keeps, and that no key ever reaches it."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from uploader_app import logfile
from uploader_app.keys import load_key, save_key
from uploader_app.logfile import DailyFileHandler, redact, setup_logging

KEY = "tlk_secret-key-for-the-log-test"


def _app_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "_uploader_app", False)]


def test_the_log_is_one_file_per_day_in_the_app_folder(tmp_path: Path) -> None:
    path = setup_logging()
    today = dt.date.today().isoformat()
    assert path == tmp_path / "app-home" / "logs" / f"uploader-app-{today}.log"
    logging.getLogger("uploader_app.test").info("started a batch of %d videos", 3)
    logging.getLogger("uploader_app.test").debug("only in verbose mode")
    text = path.read_text(encoding="utf-8")
    assert "INFO" in text
    assert "uploader_app.test: started a batch of 3 videos" in text
    assert "only in verbose mode" not in text
    # Set up twice (the window after a CLI call in one process): still one of each handler.
    setup_logging(verbose=True)
    assert len(_app_handlers()) == 2
    logging.getLogger("uploader_app.test").debug("now it is kept")
    assert "now it is kept" in path.read_text(encoding="utf-8")


def test_no_key_reaches_the_file_however_it_is_logged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", KEY)
    assert load_key().key == KEY  # reading the key registers it for redaction
    save_key("tlk_another-saved-key")
    path = setup_logging(verbose=True)
    log = logging.getLogger("uploader_app.test")
    log.info("key in the message: %s", KEY)
    log.warning("headers: %r", {"x-api-key": "tlk_never-registered-key", "accept": "*/*"})
    log.info("saved one: tlk_another-saved-key")
    try:
        raise RuntimeError(f"request failed with key {KEY}")
    except RuntimeError:
        log.exception("a traceback")
    text = path.read_text(encoding="utf-8")
    console = capsys.readouterr().err
    for where in (text, console):
        assert KEY not in where
        assert "tlk_never-registered-key" not in where
        assert "tlk_another-saved-key" not in where
        assert "[redacted]" in where
    assert "Traceback" in text
    assert "request failed with key [redacted]" in text


def test_short_values_are_not_treated_as_secrets() -> None:
    logfile.add_secret("ok")
    assert logfile.redact("ok, it works") == "ok, it works"


def test_the_handler_moves_to_a_new_file_at_midnight(tmp_path: Path) -> None:
    handler = DailyFileHandler(tmp_path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    yesterday = dt.date.today() - dt.timedelta(days=1)
    handler._day = yesterday
    handler.baseFilename = str(tmp_path / f"uploader-app-{yesterday.isoformat()}.log")
    handler.emit(logging.makeLogRecord({"msg": "after midnight"}))
    handler.close()
    assert handler.path.name == f"uploader-app-{dt.date.today().isoformat()}.log"
    assert handler.path.read_text(encoding="utf-8") == "after midnight\n"
    assert not (tmp_path / f"uploader-app-{yesterday.isoformat()}.log").exists()


def test_old_files_are_deleted_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "app-home" / "logs"
    folder.mkdir(parents=True)
    old = dt.date.today() - dt.timedelta(days=logfile.KEEP_DAYS + 1)
    recent = dt.date.today() - dt.timedelta(days=3)
    (folder / f"uploader-app-{old.isoformat()}.log").write_text("old\n")
    (folder / f"uploader-app-{recent.isoformat()}.log").write_text("recent\n")
    (folder / "notes.txt").write_text("not ours\n")
    setup_logging()
    names = sorted(p.name for p in folder.iterdir())
    assert f"uploader-app-{old.isoformat()}.log" not in names
    assert f"uploader-app-{recent.isoformat()}.log" in names
    assert "notes.txt" in names


def test_an_unwritable_folder_leaves_the_screen_log_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("UPLOADER_APP_HOME", str(blocker))
    path = setup_logging()
    assert not path.exists()
    assert "logging to the screen only" in capsys.readouterr().err
    assert len(_app_handlers()) == 1


def test_a_log_file_that_cannot_be_opened_never_breaks_logging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A folder that exists but where today's file cannot be opened (here a folder in its
    # place; for a person, a logs folder left behind by a run as another user).
    today = tmp_path / "app-home" / "logs" / f"uploader-app-{dt.date.today().isoformat()}.log"
    today.mkdir(parents=True)
    setup_logging()
    logging.getLogger("uploader_app.test").warning("still works")
    logging.getLogger("uploader_app.test").warning("and again")
    err = capsys.readouterr().err
    assert err.count("Cannot write the log file") == 1
    assert "still works" in err
    assert "and again" in err
    assert "Traceback" not in err


def test_a_new_day_whose_file_cannot_be_opened_is_said_once_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = DailyFileHandler(tmp_path)
    (tmp_path / f"uploader-app-{dt.date.today().isoformat()}.log").mkdir()
    handler._day = dt.date.today() - dt.timedelta(days=1)
    for n in range(3):
        handler.emit(logging.makeLogRecord({"msg": f"line {n}"}))
    handler.close()
    err = capsys.readouterr().err
    assert err.count("Cannot write the log file") == 1
    assert "Traceback" not in err
    assert "Logging error" not in err


def test_old_files_that_cannot_be_deleted_do_not_stop_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "app-home" / "logs"
    folder.mkdir(parents=True)
    old = dt.date.today() - dt.timedelta(days=logfile.KEEP_DAYS + 1)
    (folder / f"uploader-app-{old.isoformat()}.log").write_text("old\n")

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    with monkeypatch.context() as patched:
        patched.setattr(Path, "unlink", refuse)
        path = setup_logging()
    logging.getLogger("uploader_app.test").info("started")
    assert "started" in path.read_text(encoding="utf-8")


def test_aws_signing_secrets_are_cut_out() -> None:
    """botocore's signed headers and presigned links (regression: --verbose wrote the session
    token and the access key id into the daily log)."""
    token, key_id, signature = "FQoGZXIvYXdzToken0123", "AKIAEXAMPLE000", "0a1b2c3d4e5f"
    lines = [
        f"https://b.s3.amazonaws.com/v.mp4?X-Amz-Credential={key_id}%2F20261130%2Fus-west-2"
        f"&X-Amz-Security-Token={token}&X-Amz-Signature={signature}",
        f"headers={{'X-Amz-Security-Token': b'{token}', 'Authorization': b'AWS4-HMAC-SHA256 "
        f"Credential={key_id}/20261130/us-west-2/s3/aws4_request, SignedHeaders=host, "
        f"Signature={signature}'}}",
        f"x-amz-security-token:{token}",
    ]
    for line in lines:
        said = redact(line)
        assert token not in said and key_id not in said and signature not in said, said
        assert "[redacted]" in said
