"""The HTTP session the client uses, its timeouts, the API version of the base URL, and where
the API key may be sent."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from uploader_app.api.errors import ConfigError, InsecureUrlError
from uploader_app.config import (
    DEFAULT_API_VERSION,
    SUPPORTED_VERSIONS,
    address_ok,
    api_version_of,
    is_loopback,
)

if TYPE_CHECKING:
    import requests
    from requests.sessions import _Cert, _Settings, _TextMapping, _Verify  # stub names only

logger = logging.getLogger(__name__)

USER_AGENT = "uploader-app/0.1 (+requests)"


@dataclass(frozen=True)
class Timeouts:
    """Seconds; every request has a connect and a read timeout.

    ``connect`` also bounds each socket write while a body is sent (urllib3 applies the
    connect timeout until the request is out), so it must survive a slow uplink's stalls.
    ``upload_read`` is the wait for the answer once a whole video is sent: the service reads
    and checks it first (the vendor's own client uses 300 s for long uploads).
    """

    connect: float = 20.0
    read: float = 60.0
    upload_read: float = 300.0


@functools.cache
def _direct_to_loopback() -> type[requests.Session]:
    # requests (with urllib3, http and email) is loaded here, at the first session, rather
    # than when the app starts: the window shows sooner (docs/gui.md, "Start-up").
    import requests  # noqa: PLC0415

    class DirectToLoopbackSession(requests.Session):
        """requests' session, with proxies from the environment or the system settings
        (docs/network.md), except for addresses on this computer: a proxy elsewhere cannot reach
        the sandbox or a local file server, and the key would pass through it for nothing.

        requests bypasses a proxy only for the hosts ``NO_PROXY`` names, and sends even
        127.0.0.1 to ``HTTPS_PROXY`` when it is unset.
        """

        def merge_environment_settings(
            self,
            url: str | bytes | None,
            proxies: _TextMapping | None,
            stream: bool | None,
            verify: _Verify | None,
            cert: _Cert | None,
        ) -> _Settings:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            text = url.decode() if isinstance(url, bytes) else url or ""
            if is_loopback(urlsplit(text).hostname or ""):
                settings["proxies"] = {}
            return settings

    return DirectToLoopbackSession


def direct_session() -> requests.Session:
    """requests' session, with proxies from the environment or the system settings
    (docs/network.md), except for addresses on this computer."""
    return _direct_to_loopback()()


def make_session(pool_size: int = 4) -> requests.Session:
    """A session with keep-alive and no hidden retries: the client retries in one place."""
    from requests.adapters import HTTPAdapter  # noqa: PLC0415

    session = direct_session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def check_key_safe(url: str) -> None:
    """Refuse to send the key anywhere but HTTPS, or plain HTTP to this computer (sandbox).

    The address is read as urllib3 reads it when it connects: ``urlsplit`` differs on some
    (``http://elsewhere\\@127.0.0.1`` goes to ``elsewhere``), and its answer must not decide.
    """
    from urllib3.exceptions import LocationParseError  # noqa: PLC0415 (loaded with requests)
    from urllib3.util import parse_url  # noqa: PLC0415

    try:
        parts = parse_url(url)
        scheme, host = (parts.scheme or "").lower(), (parts.host or "").strip("[]")
    except LocationParseError:
        scheme, host = "", ""
    if scheme == "https":
        return
    if scheme == "http" and is_loopback(host):
        return
    raise InsecureUrlError(
        "insecure_url",
        f"refusing to send the API key to {scheme}://{host}: only HTTPS, or "
        "plain HTTP to this computer, is allowed",
    )


def versioned_base_url(base_url: str) -> tuple[str, str]:
    """``(base URL ending in its API version, that version)``.

    An address without a version (``https://api.twelvelabs.io``) gets ``/v1.3``: every path
    would otherwise 404. A version this app does not speak (v1.0, v1.1, v2…) is a ConfigError
    before anything is sent, not a silent v1.3.
    """
    url = base_url.rstrip("/")
    if not address_ok(url):
        raise ConfigError("address_invalid", f"{url} is not a usable web address")
    last = api_version_of(url)
    if last is not None:
        if last not in SUPPORTED_VERSIONS:
            spoken = " and ".join(SUPPORTED_VERSIONS)
            raise ConfigError(
                "api_version_unsupported",
                f"{url} names API {last}; supported: {', '.join(SUPPORTED_VERSIONS)}",
                user_message=f"This app speaks API {spoken}; the server address names {last}.",
            )
        return url, last
    logger.info("server address %s names no API version; using %s", url, DEFAULT_API_VERSION)
    return f"{url}/{DEFAULT_API_VERSION}", DEFAULT_API_VERSION
