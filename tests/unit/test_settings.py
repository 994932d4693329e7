"""The settings file: round trip, env override, broken files, atomic saves."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

import pytest

from uploader_app import settings as settings_module
from uploader_app.settings import (
    AppSettings,
    SettingsError,
    load_settings_file,
    read_settings,
    save_settings_file,
    setting_problem,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    return tmp_path / "home"


def test_no_file_means_the_defaults(home: Path) -> None:
    loaded = read_settings()
    assert loaded.settings == AppSettings()
    assert loaded.problems == ()
    assert loaded.path == home / "settings.toml"
    assert AppSettings().base_url == "https://api.twelvelabs.io/v1.3"
    assert (AppSettings().concurrent_uploads, AppSettings().poll_budget_per_minute) == (2, 60)


def test_saved_settings_come_back_the_same(home: Path) -> None:
    chosen = AppSettings(
        base_url="http://127.0.0.1:4010/v1.2",
        concurrent_uploads=4,
        bandwidth_cap=5_000_000,
        notifications=False,
        poll_budget_per_minute=30,
        multipart_over=20_000_000,
        last_index_id="idx-1",
        demo_mode=True,
    )
    save_settings_file(chosen)
    assert load_settings_file() == chosen
    # None is left out (TOML has no empty value) and comes back as None.
    save_settings_file(AppSettings())
    text = (home / "settings.toml").read_text()
    assert "bandwidth_cap" not in text
    assert "last_index_id" not in text
    assert load_settings_file() == AppSettings()


def test_every_setting_has_a_rule_and_a_label() -> None:
    names = {f.name for f in dataclasses.fields(AppSettings)}
    assert set(settings_module._RULES) == names
    assert set(settings_module._LABELS) == names


def test_the_settings_window_can_check_one_value() -> None:
    assert setting_problem("concurrent_uploads", 4) is None
    assert setting_problem("concurrent_uploads", 9) == (
        "Uploads at a time must be a whole number from 1 to 8."
    )
    assert setting_problem("bandwidth_cap", None) is None  # no limit
    assert setting_problem("concurrent_uploads", None) is not None
    assert setting_problem("base_url", "ftp://x") == (
        "The server address must be a web address starting with https://."
    )
    assert setting_problem("notifications", "yes") is not None


def test_environment_overrides_the_address_but_is_never_saved(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_settings_file(AppSettings(base_url="https://proxy.example/v1.3"))
    monkeypatch.setenv("TWELVELABS_BASE_URL", "http://127.0.0.1:4010/v1.3/")
    loaded = read_settings()
    assert loaded.settings.base_url == "http://127.0.0.1:4010/v1.3"
    assert loaded.base_url_from_env
    # The window saves what it loaded, override included: the file keeps its own address.
    save_settings_file(dataclasses.replace(loaded.settings, concurrent_uploads=3))
    monkeypatch.delenv("TWELVELABS_BASE_URL")
    assert load_settings_file() == AppSettings(
        base_url="https://proxy.example/v1.3", concurrent_uploads=3
    )


def test_a_broken_file_gives_defaults_and_a_plain_sentence(home: Path) -> None:
    home.mkdir()
    (home / "settings.toml").write_text("concurrent_uploads = \nnotifications = true\n")
    loaded = read_settings()
    assert loaded.settings == AppSettings()
    [problem] = loaded.problems
    assert str(home / "settings.toml") in problem
    assert "could not be read" in problem
    assert "line 1" in problem
    assert "default settings are used" in problem

    (home / "settings.toml").write_bytes(b"\xff\xfe\x00garbage")
    [problem] = read_settings().problems
    assert "not a text file" in problem


def test_a_wrong_value_falls_back_for_that_setting_only(home: Path) -> None:
    home.mkdir()
    (home / "settings.toml").write_text(
        "\n".join(
            [
                "concurrent_uploads = 0",
                "notifications = 1",
                'base_url = "api.twelvelabs.io"',
                "poll_budget_per_minute = 30",
                "bandwidth_cap = true",
                'future_setting = "kept"',
            ]
        )
    )
    loaded = read_settings()
    assert loaded.settings == AppSettings(poll_budget_per_minute=30)
    words = "\n".join(loaded.problems)
    assert len(loaded.problems) == 4
    assert "concurrent_uploads must be a whole number from 1 to 8. The default (2)" in words
    assert "notifications must be true or false" in words
    assert "base_url must be a web address starting with https://" in words
    assert "bandwidth_cap must be a number of bytes a second above 0" in words
    assert "future_setting" not in words
    # Saving corrects the file and keeps what a newer version wrote.
    save_settings_file(loaded.settings)
    table = tomllib.loads((home / "settings.toml").read_text())
    assert table["future_setting"] == "kept"
    assert table["concurrent_uploads"] == 2
    assert read_settings().problems == ()


def test_load_logs_problems_instead_of_raising(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home.mkdir()
    (home / "settings.toml").write_text("[[[")
    assert load_settings_file() == AppSettings()
    assert "could not be read" in caplog.text


def test_a_failed_save_leaves_the_old_file_whole(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_settings_file(AppSettings(concurrent_uploads=3))
    before = (home / "settings.toml").read_bytes()

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(SettingsError, match=r"could not be saved.*no space left on device"):
        save_settings_file(AppSettings(concurrent_uploads=5))
    assert (home / "settings.toml").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["settings.toml"]


def test_an_unwritable_place_is_a_plain_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(SettingsError, match="Check that the folder exists"):
        save_settings_file(AppSettings(), blocker / "settings.toml")
