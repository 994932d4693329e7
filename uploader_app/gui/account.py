"""The account a window works for, and the demo's bundled sandbox (no Qt).

Kept apart from the welcome screen so the main window's first frame loads neither the dialog
nor the sandbox (docs/gui.md, "Start-up").
"""

from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from uploader_app import config

if TYPE_CHECKING:
    from uploader_app.keys import KeychainRead
    from uploader_app.sandbox.server import SandboxServer

logger = logging.getLogger(__name__)

# Demo tasks move through the service's stages at this many times the real pace, so a demo
# upload is ready in seconds to a minute instead of 5-15 minutes (docs/gui.md, "Demo mode").
DEMO_SPEED = 30.0


@dataclass(frozen=True)
class Account:
    """Where the window sends videos and with which key.

    The key may still be in the keychain, read after the window's first frame
    (``keys.saved_key_read``): :attr:`key` then waits for the read, so it is taken only where
    the service is called, off the GUI thread (docs/gui.md, "Start-up").
    """

    base_url: str
    given_key: str | KeychainRead = field(repr=False)
    demo: bool = False
    key_note: str = ""  # said once, e.g. that the key is only kept until the app quits

    @property
    def key(self) -> str:
        """The API key; "" when the keychain no longer gave the one this app saved there."""
        if isinstance(self.given_key, str):
            return self.given_key
        return self.given_key.result() or ""

    @property
    def keychain_read(self) -> KeychainRead | None:
        """The keychain read this account's key comes from, when it comes from one."""
        return None if isinstance(self.given_key, str) else self.given_key


# Said when a key an earlier install left in the keychain replaces the welcome screen or the
# demo after their first frame (docs/gui.md, "Start-up"): the window changed by itself.
FOUND_KEY_NOTE = (
    "Using the API key saved in this computer's password store (keychain): videos go to your "
    "Twelve Labs account."
)


def demo_listener() -> socket.socket:
    """A free loopback port, open at once: the demo's address is known, and calls to it wait,
    while the sandbox itself loads after the window is shown (docs/gui.md, "Start-up")."""
    return socket.create_server(("127.0.0.1", 0))


def demo_base_url(listener: socket.socket) -> str:
    """The API address of the demo sandbox that will serve ``listener``."""
    host, port = listener.getsockname()[:2]
    return f"http://{host}:{port}/v1.3"


def start_demo_sandbox(
    speed: float = DEMO_SPEED, listener: socket.socket | None = None
) -> SandboxServer:
    """The sandbox on a free loopback port (or ``listener``) with the demo key (blocking: call
    it in a worker)."""
    # Imported here: the sandbox and its web toolkit cost 0.1 s of start-up that a window on a
    # real account never needs (docs/gui.md, "Start-up").
    from uploader_app.sandbox.server import SandboxServer  # noqa: PLC0415

    server = SandboxServer(
        data_dir=demo_folder(),
        api_key=config.SANDBOX_DEMO_KEY,
        speed=speed,
        host="127.0.0.1",
        port=0,
        listener=listener,
    )
    server.start()
    logger.info("demo sandbox listening at %s", server.url)
    return server


def demo_account(server: SandboxServer) -> Account:
    return Account(server.base_url("v1.3"), config.SANDBOX_DEMO_KEY, demo=True)


def demo_folder() -> Path:
    """Where the demo sandbox keeps its data (and the window its demo jobs)."""
    return config.app_home() / "demo-sandbox"


# Why the demo could not start, from what the system or SQLite said (docs/gui.md, "Welcome and
# demo mode"): each cause has its own fix, so the words say which one it was.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_PORT_ERRNOS = frozenset(
    {errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.ENETDOWN, errno.ENETUNREACH}
)
# A full disk under a demo folder made before: SQLite cannot grow its shared-memory file
# beside the sandbox's database, and says so as this I/O error, not as SQLITE_FULL.
_SQLITE_FULL = ("SQLITE_FULL", "SQLITE_IOERR_SHMSIZE")
SQLITE_DENIED = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")


def demo_failure_text(
    error: BaseException, folder: Path, log_file: Path | None, *, then: str
) -> str:
    """The demo's failure in plain words with its fix; ``then`` is the last step of the fix
    ("try again", "start the app again")."""
    import sqlite3  # noqa: PLC0415 - a failure's words, not the window's start

    name = getattr(error, "sqlite_errorname", "") or ""
    number = error.errno if isinstance(error, OSError) else None
    on_disk = isinstance(error, sqlite3.Error) or bool(getattr(error, "filename", None))
    if number in FULL_ERRNOS or name.startswith(_SQLITE_FULL):
        return (
            f"The demo could not start: the disk that holds {folder} is full. "
            f"Free some space on it, then {then}."
        )
    if number == errno.EROFS or name.startswith("SQLITE_READONLY"):
        return (
            f"The demo could not start: {folder} is on a disk that can only be read. "
            "Ask whoever looks after this computer to make it writable, or to start the app "
            f"with UPLOADER_APP_HOME naming a folder you can write to, then {then}."
        )
    if (number in _DENIED_ERRNOS and on_disk) or name.startswith(SQLITE_DENIED):
        return (
            f"The demo could not start: the app is not allowed to write in {folder}. "
            f"Give your user account permission to change that folder, then {then}."
        )
    if number in _PORT_ERRNOS or (number in _DENIED_ERRNOS and not on_disk):
        return (
            "The demo could not start: this computer did not let the app open a port on its "
            "own address (127.0.0.1), which the demo runs on. A firewall or security program "
            f"may block it: allow the app there, then {then}."
        )
    where = f"The log file {log_file} says why" if log_file else "The app's log file says why"
    return (
        f"The demo could not start. {where}. {then[:1].upper()}{then[1:]}, and if it fails "
        "once more, send that file to whoever helps you with the app."
    )
