from __future__ import annotations

from uploader_app.config import DEFAULT_BASE_URL, api_version_of, load_settings


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
