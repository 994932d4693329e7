from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from uploader_app.config import (
    DEFAULT_BASE_URL,
    api_version_of,
    app_home,
    data_dir,
    load_settings,
    logs_dir,
    settings_path,
    store_path,
)


def test_defaults_to_the_vendor_v13_endpoint_without_a_key() -> None:
    settings = load_settings({})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.api_version == "v1.3"
    assert settings.api_key is None


def test_environment_overrides_base_url_and_version() -> None:
    settings = load_settings(
        {"TWELVELABS_BASE_URL": "http://127.0.0.1:4010/v1.2/", "TWELVELABS_API_KEY": " k "}
    )
    assert settings.base_url == "http://127.0.0.1:4010/v1.2"
    assert settings.api_version == "v1.2"
    assert settings.api_key == "k"


def test_key_stays_out_of_repr() -> None:
    settings = load_settings({"TWELVELABS_API_KEY": "super-secret-value"})
    assert "super-secret-value" not in repr(settings)


def test_version_is_read_from_the_last_path_segment() -> None:
    assert api_version_of("https://example.test/proxy") is None
    assert api_version_of("https://api.twelvelabs.io/v1.2/") == "v1.2"
    assert api_version_of("https://api.twelvelabs.io/V1.1") == "v1.1"  # named, refused later
    assert load_settings({"TWELVELABS_BASE_URL": "https://example.test"}).api_version == "v1.3"


def test_app_home_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOADER_APP_HOME", str(tmp_path / "home"))
    assert app_home() == tmp_path / "home"
    assert data_dir() == app_home()
    assert store_path() == tmp_path / "home" / "jobs.sqlite3"
    assert logs_dir() == tmp_path / "home" / "logs"
    # One folder holds everything, settings included, so a portable copy carries them.
    assert settings_path() == tmp_path / "home" / "settings.toml"


def test_without_override_the_os_folders_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPLOADER_APP_HOME", raising=False)
    assert app_home() == Path(platformdirs.user_data_dir("uploader-app", appauthor=False))
    assert settings_path() == (
        Path(platformdirs.user_config_dir("uploader-app", appauthor=False)) / "settings.toml"
    )
