"""Where the key may go, that it never shows in a repr or an error, and the base URL's
API version."""

from __future__ import annotations

import logging

import pytest
import requests

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError, AuthError, ConfigError, InsecureUrlError
from uploader_app.api.transport import check_key_safe, make_session
from uploader_app.config import Settings, is_loopback

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
        # urllib3 (so requests) ends the server name at the backslash and connects to
        # api.example.com; only urlsplit reads 127.0.0.1 there.
        "http://api.example.com\\@127.0.0.1:8123/v1.3",
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


@pytest.mark.parametrize("key", [None, ""])
def test_missing_key_says_no_key_is_set(key: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        ApiClient.from_settings(Settings("https://api.twelvelabs.io/v1.3", key))
    assert caught.value.code == "no_api_key"
    assert caught.value.user_message == "No API key is set."
    assert "TWELVELABS_API_KEY" in caught.value.hint
    assert "expire" not in caught.value.user_message  # not "the key was refused"
    with pytest.raises(AuthError, match="no_api_key"):
        ApiClient("https://api.twelvelabs.io/v1.3", "")


@pytest.mark.parametrize(
    "key",
    [
        f"\u201c{FAKE_KEY}\u201d",
        f"{FAKE_KEY}\u200b",
        f"{FAKE_KEY}\u0142",
        f"'{FAKE_KEY}'",
        "tlk FAKE",
    ],
)
def test_a_mangled_key_is_refused_in_words_before_anything_is_sent(key: str) -> None:
    # Copied along with quotes or an invisible character: HTTP headers are Latin-1, so
    # http.client raised UnicodeEncodeError at the first request.
    with pytest.raises(AuthError) as caught:
        ApiClient("https://api.twelvelabs.io/v1.3", key)
    assert caught.value.code == "api_key_malformed"
    assert "quotes" in caught.value.user_message
    assert "TWELVELABS_API_KEY" in caught.value.hint
    assert key not in str(caught.value)


@pytest.mark.parametrize("url", ["https://api.twelvelabs.io", "https://api.twelvelabs.io/"])
def test_base_url_without_a_version_gets_v13(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uploader_app.api.transport")
    client = ApiClient(url, FAKE_KEY)
    assert client.base_url == "https://api.twelvelabs.io/v1.3"
    assert client.version == "v1.3"
    assert "names no API version; using v1.3" in caplog.text


@pytest.mark.parametrize("version", ["v1.0", "v1.1", "v2", "v1.4"])
def test_unsupported_version_is_refused_before_sending(version: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiClient(f"https://api.twelvelabs.io/{version}", FAKE_KEY)
    error = caught.value
    assert isinstance(error, ApiError)
    assert error.code == "api_version_unsupported"
    assert error.user_message == (
        f"This app speaks API v1.2 and v1.3; the server address names {version}."
    )
    assert "TWELVELABS_BASE_URL" in error.hint


@pytest.mark.parametrize(
    "url", ["https://api..twelvelabs.io/v1.3", "https://[::1/v1.3", "https://api.twelvelabs.io:0x/"]
)
def test_a_malformed_address_is_a_config_error_before_sending(url: str) -> None:
    # requests hands these to urllib3, which raises ValueError, not a requests error.
    with pytest.raises(ConfigError) as caught:
        ApiClient(url, FAKE_KEY)
    assert caught.value.code == "address_invalid"
    assert "TWELVELABS_BASE_URL" in caught.value.hint


PROXY = "http://proxy.example:3128"


@pytest.mark.parametrize(
    ("url", "direct"),
    [
        ("http://127.0.0.1:4010/v1.3", True),
        ("https://LOCALHOST:4010/v1.3", True),
        ("http://[::1]:4010/v1.3", True),
        ("https://api.twelvelabs.io/v1.3", False),
        ("http://127.0.0.1.nip.io/v1.3", False),
        ("http://localhost.example.com/v1.3", False),
        ("http://api.example.com\\@127.0.0.1/v1.3", False),  # urllib3 goes to api.example.com
        ("http://127.0.0.1@api.example.com/v1.3", False),
    ],
)
def test_only_this_computer_bypasses_the_proxy(
    url: str, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loopback exception of docs/network.md, judged on the address requests sends to."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY"):
        monkeypatch.setenv(name, PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = make_session()
    prepared = session.prepare_request(requests.Request("GET", url))
    settings = session.merge_environment_settings(prepared.url, {}, None, None, None)
    assert (settings["proxies"] == {}) is direct, settings["proxies"]
