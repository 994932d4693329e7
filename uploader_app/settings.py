"""The settings file shared by the window and the command line (docs/settings.md).

A small TOML file people may open in an editor: read with the standard ``tomllib``, written with
``tomli_w`` through a temporary file and a rename, so a crash mid-save leaves the old file
whole. A file that cannot be read, or a value of the wrong kind, never stops the app: the
default is used and the problem is reported in plain words. The API key is never in it
(``keys.py`` keeps it in the OS keychain).
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from uploader_app.config import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    address_ok,
    api_version_of,
    settings_path,
)
from uploader_app.files import write_atomically

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPLOADS = 8
MAX_POLL_BUDGET = 600  # requests a minute; the service's own limits are per plan


@dataclass(frozen=True)
class AppSettings:
    """Every setting, with its default. Sizes in bytes, speeds in bytes a second."""

    base_url: str = DEFAULT_BASE_URL
    concurrent_uploads: int = 2
    bandwidth_cap: int | None = None  # None: no limit
    notifications: bool = True
    poll_budget_per_minute: int = 60
    multipart_over: int | None = None  # None: the engine's documented default
    last_index_id: str | None = None
    demo_mode: bool = False

    @property
    def api_version(self) -> str:
        """The version the address names (``…/v1.2``), else the default."""
        return api_version_of(self.base_url) or DEFAULT_API_VERSION


@dataclass(frozen=True)
class LoadedSettings:
    """The settings as read, and what was wrong with the file (sentences for the user)."""

    settings: AppSettings
    problems: tuple[str, ...]
    path: Path
    base_url_from_env: bool = False  # TWELVELABS_BASE_URL overrides the file's address


class SettingsError(Exception):
    """The settings could not be saved; the text says why and what to do."""


@dataclass(frozen=True)
class _Rule:
    accepts: Callable[[Any], bool]
    expected: str  # completes "must be …"


def _whole(low: int, high: int | None = None) -> Callable[[Any], bool]:
    # bool is an int in Python; "true" is no number of uploads.
    return lambda v: type(v) is int and v >= low and (high is None or v <= high)


def _is_web_address(value: Any) -> bool:
    if not isinstance(value, str) or not address_ok(value):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_RULES: dict[str, _Rule] = {
    "base_url": _Rule(_is_web_address, "a web address starting with https://"),
    "concurrent_uploads": _Rule(
        _whole(1, MAX_CONCURRENT_UPLOADS), f"a whole number from 1 to {MAX_CONCURRENT_UPLOADS}"
    ),
    "bandwidth_cap": _Rule(_whole(1), "a number of bytes a second above 0 (or left out)"),
    "notifications": _Rule(lambda v: type(v) is bool, "true or false"),
    "poll_budget_per_minute": _Rule(
        _whole(1, MAX_POLL_BUDGET), f"a whole number from 1 to {MAX_POLL_BUDGET}"
    ),
    "multipart_over": _Rule(_whole(1), "a number of bytes above 0 (or left out)"),
    "last_index_id": _Rule(lambda v: isinstance(v, str) and bool(v.strip()), "an index id"),
    "demo_mode": _Rule(lambda v: type(v) is bool, "true or false"),
}
_DEFAULTS = AppSettings()
# What the settings window calls each setting.
_LABELS = {
    "base_url": "The server address",
    "concurrent_uploads": "Uploads at a time",
    "bandwidth_cap": "The upload speed limit",
    "notifications": "Notifications",
    "poll_budget_per_minute": "Status checks a minute",
    "multipart_over": "The resumable-upload size",
    "last_index_id": "The index",
    "demo_mode": "Demo mode",
}


def read_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> LoadedSettings:
    """The settings from ``path`` (default: :func:`config.settings_path`), the environment's
    address override applied. Never raises: problems come back as sentences."""
    where = path or settings_path()
    source = os.environ if env is None else env
    table, problems = _read_table(where)
    values: dict[str, Any] = {}
    for name, value in table.items():
        rule = _RULES.get(name)
        if rule is None:
            # A newer version's setting, or a typo: harmless, and kept when saving.
            logger.info("ignoring unknown setting %r in %s", name, where)
        elif rule.accepts(value):
            values[name] = value.strip() if isinstance(value, str) else value
        else:
            shown = _shown(getattr(_DEFAULTS, name))
            problems.append(
                f"In the settings file {where}, {name} must be {rule.expected}. "
                f"The default ({shown}) is used until it is corrected."
            )
    settings = AppSettings(**values)
    override = source.get(ENV_BASE_URL, "").strip()
    if override:
        settings = replace(settings, base_url=override)
    settings = replace(settings, base_url=settings.base_url.rstrip("/"))
    return LoadedSettings(settings, tuple(problems), where, base_url_from_env=bool(override))


def setting_problem(name: str, value: object) -> str | None:
    """Why ``value`` cannot be used for setting ``name`` (a sentence for the settings window),
    or None when it can. None for a "none" value of a setting that may be left out."""
    rule = _RULES[name]
    if value is None and getattr(_DEFAULTS, name) is None:
        return None
    if rule.accepts(value):
        return None
    return f"{_LABELS[name]} must be {rule.expected}."


def load_settings_file() -> AppSettings:
    """The settings, with any problem in the file logged (use :func:`read_settings` to show
    them to the user)."""
    loaded = read_settings()
    for problem in loaded.problems:
        logger.warning("%s", problem)
    return loaded.settings


def save_settings_file(settings: AppSettings, path: Path | None = None) -> None:
    """Write ``settings`` atomically. Raises :class:`SettingsError` (plain words) on failure.

    Settings left at "none" are left out (TOML has no empty value). While
    ``TWELVELABS_BASE_URL`` overrides the address, the file keeps the address it had, so a
    one-off override is not saved by accident. Unknown keys (from a newer version) are kept.
    """
    where = path or settings_path()
    existing, _ = _read_table(where)
    table = {k: v for k, v in existing.items() if k not in _RULES}
    table.update({k: v for k, v in asdict(settings).items() if v is not None})
    if os.environ.get(ENV_BASE_URL, "").strip():
        kept = existing.get("base_url")
        if _is_web_address(kept):
            table["base_url"] = kept
        else:
            table.pop("base_url", None)
    import tomli_w  # noqa: PLC0415 - a save, not every start, needs the writer

    text = "# Settings of the Video Indexing Uploader (docs/settings.md).\n" + tomli_w.dumps(table)
    try:
        write_atomically(where, text.encode("utf-8"))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise SettingsError(
            f"The settings could not be saved in {where} ({reason}). "
            "Check that the folder exists and that you may write in it."
        ) from exc


def _shown(value: object) -> str:
    """A default as it would be written in the file."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_table(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The file's top-level table, or an empty one and a sentence saying why."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        return {}, [f"The settings file {path} could not be opened ({reason}). {_USING}"]
    try:
        # utf-8-sig: Windows editors may start the file with a byte order mark.
        return tomllib.loads(data.decode("utf-8-sig")), []
    except UnicodeDecodeError:
        return {}, [f"The settings file {path} is not a text file. {_FIX_OR_DELETE}"]
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"The settings file {path} could not be read: {exc}. {_FIX_OR_DELETE}"]


_USING = "The default settings are used."
_FIX_OR_DELETE = (
    "The default settings are used until it is corrected; saving the settings replaces it."
)
