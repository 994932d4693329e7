"""The API key: the environment first, then the OS keychain (or this session's memory).

The key goes to the OS keychain through ``keyring`` and nowhere else: never the settings file,
the job store, manifests or logs (``logfile.py`` cuts it out of every line). With no keychain
(a bare Linux server, a locked keyring) it is kept in memory only, and the words say it will be
forgotten on quit. Precedence and places are in docs/settings.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Literal

from uploader_app.config import ENV_API_KEY, Settings, app_home
from uploader_app.files import write_atomically
from uploader_app.logfile import add_secret
from uploader_app.settings import AppSettings, load_settings_file

logger = logging.getLogger(__name__)

SERVICE = "uploader-app"
USERNAME = "twelvelabs-api-key"

# Where a key is found (docs.twelvelabs.io/docs/authentication, read 2026-11-30; copied into
# docs/settings.md): keys expire every 90 days and are regenerated on the same page.
WHERE_TO_FIND = (
    "Sign in at twelvelabs.io and copy your key from the API Key page (keys expire after "
    "90 days; the same page makes a new one)."
)
REFUSED = "Twelve Labs did not accept this API key: it may be mistyped, expired or revoked."

KeySource = Literal["env", "keychain", "memory", "none"]


@dataclass(frozen=True)
class KeyInfo:
    key: str | None = field(repr=False)
    source: KeySource

    @property
    def where(self) -> str:
        """Where the key is kept, in words for the settings window and ``login``."""
        return {
            "env": f"Using the key from the {ENV_API_KEY} environment variable.",
            "keychain": "The key is saved in this computer's password store (keychain).",
            "memory": "No password store (keychain) is available on this computer, so the key "
            "is kept in memory only and will be forgotten when the app quits.",
            "none": "No API key is set.",
        }[self.source]


@dataclass(frozen=True)
class KeyProblem:
    """Why a key cannot be used, for a person: a heading, what happened, what to do."""

    code: str
    title: str
    message: str
    hint: str
    # The key or the address must change (refused key, unsupported address), as opposed to
    # a passing problem such as no network: the CLI exits 3 for these.
    in_settings: bool = True


_lock = threading.Lock()
_memory_key: str | None = None

# Whether this app keeps a key in the keychain, learnt at each read, save and delete: a start
# without one then never loads keyring, whose import (package metadata, http.client, ssl) and
# round trip cost more than the rest of the window's start (docs/settings.md, "The keychain").
# No file: not known yet, the keychain is asked.
STATE_FILE = "keychain-state"
_SAVED, _NONE = "saved", "none"
# Held from a keychain call to its note: a read after the window's first frame may run while
# a key is saved (the welcome screen, the demo's Settings), and its "none", noted after the
# save's "saved", would hide the key at every later start.
_keychain_lock = threading.Lock()


# Keychain backends raise more than keyring's own errors (D-Bus, Secret Service and Windows
# errors pass through), and a broken keychain must never stop the app: these calls catch
# Exception, log it, and fall back to memory.
# keyring (and its backend discovery through package metadata) is imported by these calls,
# not with this module: a key from the environment never needs it, and the window or a CLI
# command that does not read the keychain starts without it (docs/gui.md, "Start-up").


def keychain_available() -> bool:
    """True when ``keyring`` found a real backend (not its "fail" or "null" stand-ins)."""
    import keyring  # noqa: PLC0415
    from keyring.backends import chainer, fail, null  # noqa: PLC0415

    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        logger.warning("no keychain: %s", exc)
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return not isinstance(backend, (fail.Keyring, null.Keyring))


class KeychainRead:
    """The keychain's key, read once on its own thread; :meth:`result` waits for it."""

    def __init__(self) -> None:
        self._value: str | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._read, name="keychain", daemon=True)

    def start(self) -> None:
        with _lock:
            if self._started.is_set():
                return
            self._started.set()
        self._thread.start()

    def _read(self) -> None:
        value = _keychain_get()
        if value:
            add_secret(value)
        self._value = value

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the read (started here if nobody started it);
        True once it is done. A keychain may wait for a person to unlock it: whoever waits in
        steps can give up (at quit) instead of hanging on :meth:`result`."""
        self.start()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self) -> str | None:
        """The key, or None when the keychain holds none or could not be read; started here
        if nobody started it. Blocks: never on the GUI thread before the read is done."""
        self.start()
        self._thread.join()
        return self._value


_early: KeychainRead | None = None


def read_keychain_early() -> None:
    """Start reading the keychain now, for the next :func:`load_key` (the window's start).

    keyring's import, its backend discovery and the keychain's answer (a D-Bus round trip on
    Linux) then overlap Qt's own loading instead of following it (docs/gui.md, "Start-up").
    Only when it is not known whether the keychain holds this app's key: with none there is
    nothing to read, and a key this app saved there is read after the window's first frame
    (:func:`saved_key_read`), as at the app's first start (:func:`first_start_read`). Nothing
    starts when the key comes from the environment.
    """
    global _early  # noqa: PLW0603
    if os.environ.get(ENV_API_KEY, "").strip() or _keychain_state() is not None:
        return
    if not app_home().exists():
        return  # a first start: read after its first frame (first_start_read)
    read = KeychainRead()
    with _lock:
        if _early is not None:
            return
        _early = read
    read.start()


def first_start_read() -> KeychainRead | None:
    """The read, not started, for the app's first start here (its folder is not made yet, so
    nothing is noted): the welcome screen or the demo opens at once, and the keychain is asked
    after their first frame, for a key an earlier install left there. None otherwise.

    Call it before anything makes the app's folder (the log file does).
    """
    if os.environ.get(ENV_API_KEY, "").strip() or app_home().exists():
        return None
    with _lock:
        if _memory_key or _early is not None:
            return None
    return KeychainRead()


def saved_key_read() -> KeychainRead | None:
    """The read, not started, of the key this app noted it saved in the keychain, when that is
    the key to use (none in the environment or in memory); None otherwise.

    The window then opens for the account at once and reads the key after its first frame:
    keyring's import alone costs about half of a bare window's start (docs/gui.md, "Start-up").
    """
    if os.environ.get(ENV_API_KEY, "").strip():
        return None
    with _lock:
        if _memory_key or _early is not None:
            return None
    return KeychainRead() if _keychain_state() == _SAVED else None


def load_key() -> KeyInfo:
    """The key to use now: ``TWELVELABS_API_KEY``, else the one kept in memory this session,
    else the keychain's. Never raises.

    A key is in memory only when the keychain refused to keep it (a successful save clears
    it), so it is newer than whatever the keychain still holds.
    """
    from_env = os.environ.get(ENV_API_KEY, "").strip()
    if from_env:
        return _known(KeyInfo(from_env, "env"))
    global _early  # taken once, by the first read after it started
    with _lock:
        remembered = _memory_key
        early, _early = _early, None
    if remembered:
        return _known(KeyInfo(remembered, "memory"))
    stored = early.result() if early is not None else _keychain_get()
    if stored:
        return _known(KeyInfo(stored, "keychain"))
    return KeyInfo(None, "none")


def save_key(key: str) -> KeyInfo:
    """Keep ``key`` in the keychain, or in memory when there is none (``where`` says which).

    The environment variable, when set, still wins at :func:`load_key`.
    """
    global _memory_key  # noqa: PLW0603 - the one session-wide fallback, guarded by _lock
    key = key.strip()
    if not key:
        raise ValueError("an empty key cannot be saved")
    add_secret(key)
    if keychain_available():
        import keyring  # noqa: PLC0415 - loaded by keychain_available()

        with _keychain_lock:
            try:
                keyring.set_password(SERVICE, USERNAME, key)
            except Exception as exc:
                # A locked or broken keychain: still usable this session, and the words say so.
                logger.warning("the keychain refused the key, keeping it in memory: %s", exc)
            else:
                with _lock:
                    _memory_key = None
                _remember_keychain(_SAVED)
                return KeyInfo(key, "keychain")
    with _lock:
        _memory_key = key
    return KeyInfo(key, "memory")


@dataclass(frozen=True)
class Removal:
    """What :func:`delete_key` did. ``removed``: a key was there (keychain or memory) and is
    gone; ``keychain_reached`` False: the keychain could not be asked, so one saved there stays."""

    removed: bool
    keychain_reached: bool = True


def delete_key() -> Removal:
    """Forget the key in the keychain and in memory. The environment variable is not ours to
    remove; callers tell the user when it is still set."""
    global _memory_key  # noqa: PLW0603
    with _lock:
        removed = _memory_key is not None
        _memory_key = None
    if not keychain_available():
        # Out of reach for this run only, maybe, like a locked one: it may still hold a key,
        # so noting "none" would hide that key at every later start (docs/settings.md).
        return Removal(removed, keychain_reached=False)
    import keyring.errors  # noqa: PLC0415 - loaded by keychain_available()

    with _keychain_lock:
        try:
            keyring.delete_password(SERVICE, USERNAME)
        except keyring.errors.PasswordDeleteError:
            _remember_keychain(_NONE)
            return Removal(removed)  # nothing was saved there
        except Exception as exc:
            logger.warning("the keychain could not delete the key: %s", exc)
            return Removal(removed, keychain_reached=False)
        _remember_keychain(_NONE)
    return Removal(removed=True)


def client_settings(settings: AppSettings | None = None) -> Settings:
    """The address (``settings``, else the settings file; ``TWELVELABS_BASE_URL`` overriding)
    and key (as :func:`load_key`) the API client should use."""
    chosen = settings or load_settings_file()
    return Settings(base_url=chosen.base_url, api_key=load_key().key)


def verify_key(base_url: str, key: str) -> KeyProblem | None:
    """Ask the service once (``GET /indexes``, one retry at most) whether ``key`` works.

    None when it does; otherwise what is wrong in plain words: a refused key says where to
    find a valid one, an unreachable service says to check the connection or the address.
    """
    # Imported here: reading or saving a key must not load the HTTP client.
    from uploader_app.api.client import ApiClient  # noqa: PLC0415
    from uploader_app.api.errors import (  # noqa: PLC0415
        ApiError,
        AuthError,
        ConfigError,
        InsecureUrlError,
    )
    from uploader_app.api.retry import RetryPolicy  # noqa: PLC0415

    if not key.strip():
        return KeyProblem("no_api_key", "No API key", "No API key was entered.", WHERE_TO_FIND)
    add_secret(key.strip())
    try:
        # A key with quotes or invisible characters is refused here, before anything is sent.
        with ApiClient(base_url, key.strip(), retry=RetryPolicy.interactive()) as client:
            client.list_indexes(page_limit=1)
    except AuthError as exc:
        logger.info("the key was refused: %r", exc)
        # The service never saw a malformed key, so "mistyped, expired or revoked" is wrong.
        said = exc.user_message if exc.code == "api_key_malformed" else REFUSED
        return KeyProblem(exc.code, "API key not accepted", said, WHERE_TO_FIND)
    except ApiError as exc:
        logger.info("checking the key failed: %r", exc)
        in_settings = isinstance(exc, (ConfigError, InsecureUrlError))
        return KeyProblem(exc.code, exc.title, exc.user_message, exc.hint, in_settings)
    return None


def _keychain_get() -> str | None:
    if _keychain_state() == _NONE:
        return None  # this app keeps no key there: keyring is not even loaded
    if not keychain_available():
        # Out of reach for this run only, maybe (a command over SSH, no Secret Service yet):
        # like a locked one, it teaches nothing about what it holds.
        return None
    import keyring  # noqa: PLC0415 - loaded by keychain_available()

    with _keychain_lock:
        try:
            value = keyring.get_password(SERVICE, USERNAME)
        except Exception as exc:
            # A locked keychain may hold the key: nothing is learnt, the next start asks again.
            logger.warning("the keychain could not be read: %s", exc)
            return None
        _remember_keychain(_SAVED if value else _NONE)
    return value


def _keychain_state() -> str | None:
    try:
        return (app_home() / STATE_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None  # not known yet (or unreadable): the keychain is asked


def _remember_keychain(state: str) -> None:
    if _keychain_state() == state:
        return
    path = app_home() / STATE_FILE
    try:
        write_atomically(path, state.encode("ascii"))
    except OSError as exc:
        # Only a shortcut is lost, once the old note is gone (a full disk still lets a file
        # be removed): a stale "none" would hide a key just saved, "not known" asks again.
        logger.info("could not note whether the keychain holds a key: %s", exc)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _known(info: KeyInfo) -> KeyInfo:
    if info.key:
        add_secret(info.key)
    return info
