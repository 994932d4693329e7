"""``uploader-app login``, ``logout``, ``indexes`` and ``indexes create``.

Exit status: 0 done, 2 usage error (argparse), 3 a key or configuration problem (no key, key
refused, an address the app cannot use, no keychain to keep a key in), 1 anything else that
stopped it (no network, the service failed, a name already taken). Messages are plain words on
stderr; results on stdout (``--json`` for scripts).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError, AuthError, ConfigError, InsecureUrlError
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.types import MAX_PAGE_LIMIT
from uploader_app.config import ENV_API_KEY
from uploader_app.keys import (
    REFUSED,
    WHERE_TO_FIND,
    client_settings,
    delete_key,
    keychain_available,
    save_key,
    verify_key,
)
from uploader_app.models import Index, IndexModel
from uploader_app.settings import AppSettings, read_settings

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3

DEFAULT_OPTIONS = ("visual", "audio")
_ENV_STILL_SET = (
    f"{ENV_API_KEY} is set in this shell, and it is used before the saved key. "
    f"Remove it (unset {ENV_API_KEY}) to use the saved key."
)


def run_login(args: argparse.Namespace) -> int:
    """Ask for the key (hidden), test it against the service, then keep it in the keychain."""
    base_url = _settings().base_url
    if not keychain_available():
        _say(
            "No password store (keychain) is available on this computer, so a key entered here "
            "would be forgotten as soon as this command ends. "
            f"Set the {ENV_API_KEY} environment variable to your key instead."
        )
        return EXIT_CONFIG
    try:
        key = getpass.getpass("Twelve Labs API key (typing is hidden): ").strip()
    except (EOFError, KeyboardInterrupt):
        key = ""
    if not key:
        _say(f"No key entered; nothing changed. {WHERE_TO_FIND}")
        return EXIT_CONFIG
    _say("Checking the key with Twelve Labs…")
    problem = verify_key(base_url, key)
    if problem is not None:
        again = " Then run uploader-app login again." if problem.in_settings else ""
        _say(f"{problem.title}. {problem.message} {problem.hint}{again}")
        return EXIT_CONFIG if problem.in_settings else EXIT_FAILED
    info = save_key(key)
    if info.source != "keychain":
        _say(
            f"The key works, but it could not be saved. {info.where} "
            f"Set the {ENV_API_KEY} environment variable to your key instead."
        )
        return EXIT_CONFIG
    print(f"Signed in. {info.where}")
    if os.environ.get(ENV_API_KEY, "").strip():
        _say(_ENV_STILL_SET)
    return EXIT_OK


def run_logout(args: argparse.Namespace) -> int:
    """Forget the saved key. The environment variable is the shell's, so it is only named."""
    # Asked of the keychain itself: load_key() would name the variable and hide a saved key.
    removal = delete_key()
    if not removal.keychain_reached:
        # Not "no key was saved": one may well be there, and stays (docs/cli.md, "logout").
        _say(
            "The password store (keychain) could not be reached, so no key saved in it was "
            "removed. Unlock it (or run this in your desktop session), then run logout again."
        )
    elif removal.removed:
        print("Signed out: the saved API key was removed.")
    else:
        print("No API key was saved.")
    if os.environ.get(ENV_API_KEY, "").strip():
        _say(f"{ENV_API_KEY} is still set in this shell; unset it to stop using that key.")
    return EXIT_OK


def run_indexes(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    if args.indexes_command == "create":
        return _create(args, stdout)
    try:
        with _client() as client:
            indexes = list(client.iter_indexes(page_limit=MAX_PAGE_LIMIT))
    except ApiError as exc:
        return _failed("Could not list the indexes", exc)
    if args.json:
        json.dump([index_json(i) for i in indexes], stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    elif not indexes:
        print(
            "No indexes yet. Create one with: uploader-app indexes create NAME --model marengo3.0",
            file=stdout,
        )
    else:
        _print_table(indexes, stdout)
    return EXIT_OK


def _create(args: argparse.Namespace, stdout: TextIO) -> int:
    name = args.name.strip()
    if not name:
        _say("The index needs a name: uploader-app indexes create NAME --model marengo3.0")
        return EXIT_USAGE
    options = tuple(dict.fromkeys(args.option or DEFAULT_OPTIONS))
    models = [IndexModel(model, options) for model in dict.fromkeys(args.model)]
    try:
        with _client() as client:
            index = client.create_index(name, models)
    except ApiError as exc:
        return _failed(f"Could not create the index {name!r}", exc)
    if args.json:
        json.dump(index_json(index), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    else:
        print(f"Created index {index.name} ({index.id}): {_models_text(index)}.", file=stdout)
    return EXIT_OK


def index_json(index: Index) -> dict[str, Any]:
    return {
        "id": index.id,
        "name": index.name,
        "models": [{"name": m.name, "options": list(m.options)} for m in index.models],
        "addons": list(index.addons),
        "video_count": index.video_count,
        "total_duration": index.total_duration,
        "created_at": index.created_at,
        "expires_at": index.expires_at,
    }


def _print_table(indexes: Sequence[Index], out: TextIO) -> None:
    rows = [("ID", "NAME", "MODELS", "VIDEOS")] + [
        (i.id, i.name, _models_text(i), str(i.video_count)) for i in indexes
    ]
    widths = [max(len(row[col]) for row in rows) for col in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]), file=out)


def _models_text(index: Index) -> str:
    return ", ".join(
        f"{m.name} ({' and '.join(m.options)})" if m.options else m.name for m in index.models
    )


def _settings() -> AppSettings:
    """The settings, after saying on stderr what is wrong with the file, if anything."""
    loaded = read_settings()
    for problem in loaded.problems:
        _say(problem)
    return loaded.settings


def _client() -> ApiClient:
    # Someone waits at the terminal: one quick retry, not the patient upload policy.
    settings = client_settings(_settings())
    return ApiClient.from_settings(settings, retry=RetryPolicy.interactive())


def _failed(what: str, exc: ApiError) -> int:
    logger.info("%s: %r", what, exc)
    if isinstance(exc, AuthError):
        if exc.code == "no_api_key":
            _say(f"{what}: no API key is set. Run uploader-app login, or set {ENV_API_KEY}.")
        elif exc.code == "api_key_malformed":
            _say(f"{what}: {exc.user_message} {exc.hint}")
        else:
            _say(f"{what}: {REFUSED} {WHERE_TO_FIND} Then run uploader-app login.")
        return EXIT_CONFIG
    # The table's sentences may point at "the details below" (the window has such a
    # section): here the service's own words follow on the next line. Only an answer has
    # them; the text of a failure on our side (no connection) is connection internals, kept
    # in the log above.
    hint = f" {exc.hint}" if exc.hint else ""
    answered = exc.status is not None and exc.message
    details = f"\n  Details from Twelve Labs: {exc.message}" if answered else ""
    _say(f"{what}: {exc.user_message}{hint}{details}")
    return EXIT_CONFIG if isinstance(exc, (ConfigError, InsecureUrlError)) else EXIT_FAILED


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
