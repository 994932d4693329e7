"""Where the app talks to and with which key: environment first, then defaults.

The key is read here and handed to the API client; nothing else stores or prints it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

APP_NAME = "uploader-app"
# The name people see, and the reverse-DNS id that ties the running window to its launcher
# (the .desktop file's name, the macOS bundle id, the Windows AppUserModelID), so the task
# switcher and notifications show the app's name and icon (docs/packaging.md).
APP_DISPLAY_NAME = "Video Indexing Uploader"
APP_ID = "io.twelvelabs.VideoIndexingUploader"
DEFAULT_BASE_URL = "https://api.twelvelabs.io/v1.3"
DEFAULT_API_VERSION = "v1.3"
SUPPORTED_VERSIONS = ("v1.2", "v1.3")
# The key the bundled sandbox accepts when started without --api-key. It is not a secret:
# it only opens the local demo server.
SANDBOX_DEMO_KEY = "sandbox-demo-key"

# How log lines look on stderr, in the app and in its probe worker processes alike.
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

ENV_BASE_URL = "TWELVELABS_BASE_URL"
ENV_API_KEY = "TWELVELABS_API_KEY"
ENV_HOME = "UPLOADER_APP_HOME"
# The proxy variable requests reads for https:// addresses (docs/network.md).
ENV_PROXY = "HTTPS_PROXY"
SETTINGS_FILE = "settings.toml"


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)

    @property
    def api_version(self) -> str:
        """The version the client will speak: the one the address names, else the default.

        An address naming a version the app does not speak is refused by the client.
        """
        return api_version_of(self.base_url) or DEFAULT_API_VERSION


_VERSION_SEGMENT = re.compile(r"v\d+(?:\.\d+)*", re.IGNORECASE)


def api_version_of(base_url: str) -> str | None:
    """The version named by the last path segment of the address (``…/v1.2``), if any."""
    try:
        path = urlsplit(base_url.rstrip("/")).path
    except ValueError:  # broken [brackets]: the client refuses the address (address_ok)
        return None
    segments = [s for s in path.split("/") if s]
    if segments and _VERSION_SEGMENT.fullmatch(segments[-1]):
        return segments[-1].lower()
    return None


def address_ok(url: str) -> bool:
    """False for an address that cannot be split, names a port out of range, or has a server
    name no lookup could find (an empty or over-long label: ``api..twelvelabs.io``).

    requests lets such typing mistakes through to urllib3, which raises ValueError instead of
    a connection error, so they are caught here, before anything is sent.
    """
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises for a port out of range or not a number
        (parts.hostname or "").encode("idna")  # the check urllib3 makes when connecting
    except ValueError:  # UnicodeError included
        return False
    return True


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): this computer only."""
    if host.lower() == "localhost":
        return True
    import ipaddress  # noqa: PLC0415 - a connection's first use, not every start

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_key_well_formed(key: str) -> bool:
    """Printable ASCII with no space or quote, as every Twelve Labs key is (``tlk_…``).

    Anything else was copied along with the key (curly quotes, a zero-width space) and would
    make http.client raise UnicodeEncodeError, since headers are Latin-1 (docs/settings.md).
    """
    return key.isascii() and key.isprintable() and not any(c in " \"'" for c in key)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The address and key named by the environment (or ``env``) alone.

    The app's callers want ``keys.client_settings()``, which adds the settings file and the OS
    keychain (docs/settings.md); this lowest layer never reaches up to them.
    """
    source = os.environ if env is None else env
    base_url = source.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
    api_key = source.get(ENV_API_KEY, "").strip() or None
    return Settings(base_url=base_url.rstrip("/"), api_key=api_key)


def app_home() -> Path:
    """The app's own folder: job store, logs and the sandbox's default state.

    ``UPLOADER_APP_HOME`` moves everything, settings included, into one folder (tests and
    portable installs); otherwise it is the per-user data folder of the OS (docs/settings.md).
    """
    override = os.environ.get(ENV_HOME, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The same folder as :func:`app_home` (the older name, kept for its callers)."""
    return app_home()


def store_path() -> Path:
    return app_home() / "jobs.sqlite3"


def logs_dir() -> Path:
    return app_home() / "logs"


def settings_path() -> Path:
    """The settings file: in the app's folder when ``UPLOADER_APP_HOME`` is set, else in the
    OS's per-user configuration folder, where people look for settings."""
    if os.environ.get(ENV_HOME, "").strip():
        return app_home() / SETTINGS_FILE
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / SETTINGS_FILE
