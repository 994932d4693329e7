"""Where the app talks to and with which key: environment first, then defaults.

The key is read here and handed to the API client; nothing else stores or prints it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

APP_NAME = "uploader-app"
DEFAULT_BASE_URL = "https://api.twelvelabs.io/v1.3"
DEFAULT_API_VERSION = "v1.3"
SUPPORTED_VERSIONS = ("v1.2", "v1.3")
# The key the bundled sandbox accepts when started without --api-key. It is not a secret:
# it only opens the local demo server.
SANDBOX_DEMO_KEY = "sandbox-demo-key"

ENV_BASE_URL = "TWELVELABS_BASE_URL"
ENV_API_KEY = "TWELVELABS_API_KEY"


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)

    @property
    def api_version(self) -> str:
        return api_version_of(self.base_url)


def api_version_of(base_url: str) -> str:
    """The API version named by the last path segment of the base URL (``…/v1.2``)."""
    segments = [s for s in urlsplit(base_url).path.split("/") if s]
    if segments and segments[-1] in SUPPORTED_VERSIONS:
        return segments[-1]
    return DEFAULT_API_VERSION


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    source = os.environ if env is None else env
    base_url = source.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
    api_key = source.get(ENV_API_KEY, "").strip() or None
    return Settings(base_url=base_url.rstrip("/"), api_key=api_key)


def data_dir() -> Path:
    """Per-user folder for the task database, caches and the sandbox's default state."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
