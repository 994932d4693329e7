"""Where the key may go, and that it never shows in a repr or an error."""

from __future__ import annotations

import pytest

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import AuthError, InsecureUrlError
from uploader_app.api.transport import check_key_safe, is_loopback
from uploader_app.config import Settings

FAKE_KEY = "tlk_FAKE0123456789"


@pytest.mark.parametrize(
    "url",
    [
        "https://api.twelvelabs.io/v1.3",
        "http://127.0.0.1:8123/v1.3",
        "http://127.5.6.7/v1.2",
        "http://localhost:9000/v1.3",
        "http://[::1]:9000/v1.3",
    ],
)
def test_key_allowed(url: str) -> None:
    check_key_safe(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.twelvelabs.io/v1.3",
        "http://192.168.1.10:8123/v1.3",
        "http://localhost.example.com/v1.3",
        "ftp://127.0.0.1/v1.3",
        "http://128.0.0.1/v1.3",
    ],
)
def test_key_refused_before_sending(url: str) -> None:
    with pytest.raises(InsecureUrlError) as caught:
        ApiClient(url, FAKE_KEY)
    assert caught.value.code == "insecure_url"
    assert "https://" in caught.value.hint
    assert FAKE_KEY not in str(caught.value) + repr(caught.value)


def test_is_loopback() -> None:
    assert is_loopback("LOCALHOST")
    assert not is_loopback("example.com")


def test_version_comes_from_the_base_url() -> None:
    assert ApiClient("https://api.twelvelabs.io/v1.2/", FAKE_KEY).version == "v1.2"
    client = ApiClient.from_settings(Settings("https://api.twelvelabs.io/v1.3", FAKE_KEY))
    assert client.version == "v1.3"
    assert client.base_url == "https://api.twelvelabs.io/v1.3"


def test_key_not_in_client_repr() -> None:
    client = ApiClient("https://api.twelvelabs.io/v1.3", FAKE_KEY)
    assert FAKE_KEY not in repr(client)
    assert FAKE_KEY not in str(client)


def test_missing_key_is_an_api_key_error() -> None:
    with pytest.raises(AuthError) as caught:
        ApiClient.from_settings(Settings("https://api.twelvelabs.io/v1.3", None))
    assert getattr(caught.value, "code", None) == "api_key_invalid"
